//! `mq pub`/`mq sub` transport and debug flags against a real mosquitto: `--unix` on
//! mosquitto's Unix socket listener, and the `-d` trace line for line as
//! mosquitto_pub prints it (client ids aside) for QoS 0, 1 and 2.

mod common;
#[path = "interop/peers.rs"]
mod peers;

use common::{MQ, mq_command, text};
use peers::Mosquitto;
use std::process::{Command, Output};

/// Run `mq ARGS` to its end.
fn mq(args: &[&str]) -> Output {
    mq_command().args(args).output().expect("run mq")
}

#[cfg(unix)]
#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn unix_socket_round_trip_through_mosquitto() {
    use std::os::unix::fs::PermissionsExt;
    // mosquitto started as root drops to its own user before binding the socket: the
    // directory must be reachable and writable for it.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let open = dir.path().join("open");
    std::fs::create_dir(&open).expect("mkdir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let sock = open.join("mosquitto.sock");
    let sock_s = sock.to_string_lossy().into_owned();
    let m = Mosquitto::start_with(&format!("listener 0 {sock_s}\n"));
    let port = m.port.to_string();
    // Wait (bounded) for the socket file.
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut sub = mq_command()
        .args([
            "sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "unix/t",
            "-C",
            "1",
            "-W",
            "10",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn mq sub");
    // Publish over the Unix socket until the subscriber (over TCP) has it.
    let mut done = None;
    for _ in 0..50 {
        let out = mq(&["pub", "--unix", &sock_s, "-t", "unix/t", "-m", "via unix"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        if let Ok(Some(_)) = sub.try_wait() {
            done = Some(());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = sub.wait_with_output().expect("sub output");
    assert!(done.is_some() || out.status.success());
    assert_eq!(text(&out.stdout), "via unix\n");
}

/// The `-d` lines of `mq pub` and `mosquitto_pub` with the client id normalised.
fn debug_lines(program: &str, port: &str, qos: &str) -> Vec<String> {
    let mut c = Command::new(program);
    if program == MQ {
        c.arg("pub");
    }
    let out = c
        .args([
            "-d",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-i",
            "same-id",
            "-t",
            "dbg/t",
            "-m",
            "hello",
            "-q",
            qos,
        ])
        .output()
        .expect("run publisher");
    assert!(out.status.success(), "{program}: {}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn debug_trace_matches_mosquitto_pub() {
    let m = Mosquitto::start();
    let port = m.port.to_string();
    for qos in ["0", "1", "2"] {
        let ours = debug_lines(MQ, &port, qos);
        let theirs = debug_lines("mosquitto_pub", &port, qos);
        assert_eq!(ours, theirs, "QoS {qos}");
    }
}
