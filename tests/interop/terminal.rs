//! `mq sub` on a terminal prints what `mosquitto_sub` prints there, byte for byte:
//! both run under a pseudo-terminal (util-linux `script`) against one mosquitto. With
//! `NO_COLOR` set the bytes are identical; with colour, `mq sub` only adds SGR escape
//! sequences around the same text (no `retained`/`q1` words).

use crate::common::{MQ, mq_pub, wait_until_exit};
use crate::peers::Mosquitto;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Run `program ARGS` under a pseudo-terminal with `script -qec` and return what it
/// wrote on that terminal (`\r\n` line ends, as a terminal shows them).
fn on_a_terminal(program: &str, args: &[&str], no_color: bool) -> Vec<u8> {
    let line: Vec<String> = std::iter::once(program)
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("TZ", "UTC");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let mut child = crate::common::KillOnDrop(cmd.spawn().expect("spawn script (util-linux)"));
    let status = wait_until_exit(&mut child, Duration::from_secs(20)).expect("script did not exit");
    let mut out = Vec::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_end(&mut out).expect("stdout");
    }
    assert!(
        status.success(),
        "{program} {args:?} under script: {status:?}"
    );
    out
}

/// Remove ANSI SGR sequences (`ESC [ digits ; ... m`); any other escape fails.
fn strip_sgr(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != 0x1b {
            out.push(b[i]);
            i += 1;
            continue;
        }
        assert_eq!(b.get(i + 1), Some(&b'['), "a non-CSI escape in {b:?}");
        let len = b[i + 2..]
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == b';'))
            .expect("an unterminated escape");
        assert_eq!(b[i + 2 + len], b'm', "a non-SGR escape in {b:?}");
        i += 3 + len;
    }
    out
}

#[test]
#[ignore = "needs mosquitto and util-linux script; run by .ci/run"]
fn sub_on_a_terminal_prints_what_mosquitto_sub_prints() {
    let m = Mosquitto::start();
    mq_pub(
        m.port,
        &["-t", "hello/retained", "-m", "still here", "-r"],
        None,
    );
    mq_pub(
        m.port,
        &["-t", "hello/q1", "-m", "{\"free\":3}", "-r", "-q", "1"],
        None,
    );
    let port = m.port.to_string();
    for flags in [
        &["-t", "hello/#", "-v", "-C", "2", "-q", "1"][..],
        &["-t", "hello/#", "-C", "2", "-q", "1"],
        &["-t", "hello/#", "-v", "-C", "2"],
    ] {
        let mut args = vec!["-h", "127.0.0.1", "-p", &port];
        args.extend_from_slice(flags);
        let theirs = on_a_terminal("mosquitto_sub", &args, true);
        let mut sub = vec!["sub"];
        sub.extend_from_slice(&args);
        let ours = on_a_terminal(MQ, &sub, true);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
            "NO_COLOR terminal output differs for {flags:?}"
        );
        assert!(
            String::from_utf8_lossy(&theirs).contains("still here"),
            "{theirs:?}"
        );
        let coloured = on_a_terminal(MQ, &sub, false);
        assert_eq!(
            String::from_utf8_lossy(&strip_sgr(&coloured)),
            String::from_utf8_lossy(&theirs),
            "colour added more than SGR codes for {flags:?}"
        );
    }
}

/// Ctrl-C in an interactive car-park role (here a gate waiting for Enter) ends the
/// line the terminal echoed `^C` on, so the shell's prompt is not glued to it.
#[test]
#[ignore = "needs util-linux script; run by .ci/run"]
fn ctrl_c_ends_the_echoed_line() {
    use std::io::Write;
    use std::sync::mpsc;
    use std::time::Instant;
    let broker = crate::common::MqBroker::start(&["-p", "0"]);
    // `exec`, and a known shell: the gate must be the terminal's only process, or a
    // shell that does not exec its one command would take the SIGINT too and die of
    // it (exit 130), whatever the gate does.
    let line = format!(
        "exec '{MQ}' carpark entry --gate g -h 127.0.0.1 -p {}",
        broker.port
    );
    let mut child = crate::common::KillOnDrop(
        Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn script (util-linux)"),
    );
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut chunk) {
            if n == 0 || tx.send(chunk[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&seen).contains("q to quit") {
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("no prompt from the gate in 10 s");
        seen.extend(rx.recv_timeout(left).expect("no prompt from the gate"));
    }
    // ^C typed on the terminal: the line discipline echoes it and sends SIGINT.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"\x03").expect("write ^C");
    let status = wait_until_exit(&mut child, Duration::from_secs(10)).expect("no exit");
    drop(stdin);
    while let Ok(more) = rx.recv_timeout(Duration::from_secs(2)) {
        seen.extend(more);
    }
    assert!(
        status.success(),
        "{status:?}: {:?}",
        String::from_utf8_lossy(&seen)
    );
    assert!(
        seen.ends_with(b"^C\r\n"),
        "{:?}",
        String::from_utf8_lossy(&seen)
    );
}
