//! The `mq broker` command: the port line of `-p 0`, `-v` log lines in mosquitto's
//! words, `-c` configuration errors (file:line and a suggestion, "not supported
//! yet"), `-d` refused, and a clean exit 0 on SIGTERM.

mod common;

use assert_cmd::Command as AssertCommand;
use common::{MqBroker, mq_command, wait_until_exit};
use predicates::str::contains;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// How long a test waits for one log line.
const LOG_WAIT: Duration = Duration::from_secs(5);

/// A configuration file holding `text`, in a temporary directory kept while the
/// returned guard lives.
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("m.conf");
    std::fs::write(&conf, text).unwrap();
    (dir, conf)
}

/// `mq broker ARGS` run to its end (at most 10 s), for the cases where it refuses to
/// start.
fn refused_broker(args: &[&str]) -> assert_cmd::assert::Assert {
    AssertCommand::from_std(mq_command())
        .arg("broker")
        .args(args)
        .timeout(Duration::from_secs(10))
        .assert()
        .failure()
}

/// CONNECT (3.1.1, client id "cli-test", keep alive 60), PUBLISH QoS 1 on
/// "carpark/entry" with 3 bytes, DISCONNECT.
fn connect_publish_disconnect(port: u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut connect = vec![0x10, 20, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 8];
    connect.extend_from_slice(b"cli-test");
    s.write_all(&connect).unwrap();
    let mut ack = [0u8; 4];
    s.read_exact(&mut ack).unwrap();
    assert_eq!(ack, [0x20, 2, 0, 0]);
    let mut publish = vec![0x32, 20, 0, 13];
    publish.extend_from_slice(b"carpark/entry");
    publish.extend_from_slice(&[0, 1, b'a', b'b', b'c']);
    s.write_all(&publish).unwrap();
    let mut puback = [0u8; 4];
    s.read_exact(&mut puback).unwrap();
    assert_eq!(puback, [0x40, 2, 0, 1]);
    s.write_all(&[0xE0, 0]).unwrap();
}

#[test]
fn port_zero_prints_the_port_line_and_serves() {
    let b = MqBroker::start(&["-p", "0"]);
    assert!(b.port > 0);
    connect_publish_disconnect(b.port);
    // Without -v: connection messages only (mosquitto's default log types).
    b.wait_for("New client connected from 127.0.0.1:", LOG_WAIT);
    b.wait_for("Client cli-test disconnected.", LOG_WAIT);
}

#[test]
fn verbose_logs_in_mosquittos_words() {
    let b = MqBroker::start(&["-p", "0", "-v"]);
    connect_publish_disconnect(b.port);
    let line = b.wait_for("New connection from 127.0.0.1:", LOG_WAIT);
    assert!(line.ends_with(&format!(" on port {}.", b.port)), "{line}");
    let line = b.wait_for("New client connected from", LOG_WAIT);
    assert!(line.ends_with("as cli-test (p2, c1, k60)."), "{line}");
    // `<unix-seconds>: ` prefix.
    let (stamp, _) = line.split_once(": ").unwrap();
    assert!(stamp.parse::<u64>().is_ok(), "{line}");
    b.wait_for("No will message specified.", LOG_WAIT);
    b.wait_for("Sending CONNACK to cli-test (0, 0)", LOG_WAIT);
    b.wait_for(
        "Received PUBLISH from cli-test (d0, q1, r0, m1, 'carpark/entry', ... (3 bytes))",
        LOG_WAIT,
    );
    b.wait_for("Sending PUBACK to cli-test (m1, rc0)", LOG_WAIT);
    b.wait_for("Received DISCONNECT from cli-test", LOG_WAIT);
    b.wait_for("Client cli-test disconnected.", LOG_WAIT);
}

#[cfg(unix)]
#[test]
fn sigterm_exits_cleanly_with_code_0() {
    let mut b = MqBroker::start(&["-p", "0"]);
    let pid = b.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let code = wait_until_exit(&mut b.child, Duration::from_secs(5)).expect("broker did not exit");
    assert_eq!(code.code(), Some(0));
    b.wait_for("terminating", LOG_WAIT);
}

/// SIGHUP reloads the configuration (the defaults here) and the broker keeps
/// serving (a hang-up must not kill it).
#[cfg(unix)]
#[test]
fn sighup_is_answered_and_the_broker_keeps_serving() {
    let mut b = MqBroker::start(&["-p", "0"]);
    let pid = b.child.id().to_string();
    let status = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    assert!(status.success());
    b.wait_for("Reloading config.", LOG_WAIT);
    b.wait_for("Config reloaded", LOG_WAIT);
    connect_publish_disconnect(b.port);
    assert!(b.child.try_wait().unwrap().is_none(), "the broker exited");
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let code = wait_until_exit(&mut b.child, Duration::from_secs(5)).expect("broker did not exit");
    assert_eq!(code.code(), Some(0));
}

/// Send one packet and read the `expect` bytes that answer it.
fn exchange(s: &mut TcpStream, packet: &[u8], expect: &[u8]) {
    s.write_all(packet).unwrap();
    let mut got = vec![0u8; expect.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, expect);
}

/// A 3.1.1 CONNECT (clean session, keep alive 60) for `id`, and its CONNACK.
fn connect_as(port: u16, id: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut connect = vec![
        0x10,
        12 + id.len() as u8,
        0,
        4,
        b'M',
        b'Q',
        b'T',
        b'T',
        4,
        2,
        0,
        60,
    ];
    connect.extend_from_slice(&[0, id.len() as u8]);
    connect.extend_from_slice(id.as_bytes());
    exchange(&mut s, &connect, &[0x20, 2, 0, 0]);
    s
}

/// Like mosquitto, the broker says once when a client's queue starts dropping
/// messages (`max_queued_messages`).
#[test]
fn a_full_queue_logs_that_messages_are_dropped_like_mosquitto() {
    let (_dir, conf) = config_file(
        "listener 0 127.0.0.1\nallow_anonymous true\nmax_queued_messages 2\nmax_inflight_messages 1\n",
    );
    let b = MqBroker::start(&["-c", conf.to_str().unwrap()]);
    // A QoS 1 subscriber that never acknowledges: one message in flight, two queued.
    let mut sub = connect_as(b.port, "slow");
    exchange(
        &mut sub,
        &[0x82, 6, 0, 1, 0, 1, b'q', 1],
        &[0x90, 3, 0, 1, 1],
    );
    let mut publ = connect_as(b.port, "pub");
    for id in 1..=3u8 {
        exchange(
            &mut publ,
            &[0x32, 6, 0, 1, b'q', 0, id, b'x'],
            &[0x40, 2, 0, id],
        );
    }
    // The queue is full: a QoS 0 message is dropped, and that is logged.
    publ.write_all(&[0x30, 4, 0, 1, b'q', b'y']).unwrap();
    b.wait_for(
        "Outgoing messages are being dropped for client slow.",
        LOG_WAIT,
    );
    drop(sub);
}

#[test]
fn config_unknown_option_names_file_line_and_suggestion() {
    let (_dir, conf) = config_file("listener 0 127.0.0.1\nmax_conections 10\n");
    refused_broker(&["-c", conf.to_str().unwrap()])
        .stderr(contains("m.conf:2: unknown option 'max_conections'"))
        .stderr(contains("did you mean 'max_connections'"));
}

#[test]
fn config_not_supported_yet_option_is_named() {
    let (_dir, conf) = config_file("listener 0 127.0.0.1\ncrlfile /etc/crl.pem\n");
    refused_broker(&["-c", conf.to_str().unwrap()])
        .stderr(contains("option 'crlfile' is not supported yet"));
}

/// A TLS listener whose files cannot be read stops the broker at start, naming the
/// file; an OpenSSL-only option is refused by name.
#[test]
fn config_tls_file_missing_is_named() {
    let (dir, conf) = config_file("");
    let cert = dir.path().join("absent-cert.pem");
    std::fs::write(
        &conf,
        format!(
            "listener 0 127.0.0.1\ncertfile {}\nkeyfile {}\n",
            cert.display(),
            dir.path().join("absent.key").display()
        ),
    )
    .unwrap();
    refused_broker(&["-c", conf.to_str().unwrap()]).stderr(contains("absent-cert.pem"));
    let (_dir, conf) = config_file("listener 0 127.0.0.1\nciphers ECDHE-RSA-AES256-GCM-SHA384\n");
    refused_broker(&["-c", conf.to_str().unwrap()]).stderr(contains(
        "option 'ciphers' is not supported: rustls has no equivalent",
    ));
}

#[test]
fn config_file_listener_is_used() {
    let (_dir, conf) = config_file("listener 0 127.0.0.1\nallow_anonymous true\nsys_interval 1\n");
    let b = MqBroker::start(&["-c", conf.to_str().unwrap()]);
    connect_publish_disconnect(b.port);
    b.wait_for("Client cli-test disconnected.", LOG_WAIT);
}

#[test]
fn daemon_mode_is_refused() {
    refused_broker(&["-d"]).stderr(contains("daemon mode is not supported"));
}

/// A `listener PORT` line without an address serves IPv4 and IPv6 on the same port,
/// whatever the system's dual-stack default (the IPv6 socket is bound IPv6-only).
#[test]
fn listener_without_address_serves_ipv4_and_ipv6() {
    let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    let (_dir, conf) = config_file("listener 0\nallow_anonymous true\n");
    let b = MqBroker::start(&["-c", conf.to_str().unwrap()]);
    connect_publish_disconnect(b.port);
    if ipv6 {
        let line = b.wait_for("Opening ipv6 listen socket on port ", LOG_WAIT);
        assert!(line.ends_with(&format!("port {}.", b.port)), "{line}");
        let s = TcpStream::connect(("::1", b.port));
        assert!(s.is_ok(), "no IPv6 listener: {s:?}");
    } else {
        eprintln!("no IPv6 loopback on this machine: only IPv4 checked");
    }
}

/// Logging never blocks the broker: with `-v` and a stderr pipe that nobody reads
/// (full after 64 KB), SUBSCRIBE with 65,535-level filters (each logged twice, 128 KB
/// a time, more than the 1 MiB log queue in all) still gets its SUBACK, PINGREQ its
/// PINGRESP, and SIGTERM still stops the broker. The lines that do not fit are dropped and counted, and said once the
/// output is read again.
#[test]
fn log_output_never_read_does_not_stall_the_broker() {
    use mq::protocol::{Packet, ProtocolVersion, Subscribe, SubscribeFilter};
    use std::io::BufRead;
    let mut child = common::KillOnDrop(
        mq_command()
            .args(["broker", "-v", "-p", "0"])
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = std::io::BufReader::new(child.0.stderr.take().unwrap());
    let mut port = None;
    for _ in 0..20 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(p) = line.split("Opening ipv4 listen socket on port ").nth(1) {
            port = p.trim().trim_end_matches('.').parse::<u16>().ok();
            break;
        }
    }
    let port = port.expect("the port line");
    // From here on, nobody reads the broker's stderr (kept open in `stderr`).
    let mut s = connect_as(port, "log-test");
    for id in 1..=12u16 {
        let subscribe = Packet::Subscribe(Subscribe {
            packet_id: id,
            filters: vec![SubscribeFilter {
                filter: "/".repeat(65_534),
                options: Default::default(),
            }],
            properties: Default::default(),
        });
        let mut out = bytes::BytesMut::new();
        mq::protocol::encode(&subscribe, ProtocolVersion::V311, &mut out).unwrap();
        let [hi, lo] = id.to_be_bytes();
        exchange(&mut s, &out, &[0x90, 0x03, hi, lo, 0x00]);
    }
    exchange(&mut s, &[0xC0, 0x00], &[0xD0, 0x00]);
    // Once the output is read again, one line says how many lines were dropped.
    let lines = common::lines_of(stderr);
    exchange(&mut s, &[0xC0, 0x00], &[0xD0, 0x00]);
    let line = common::wait_for_line(&lines, "log lines were dropped", LOG_WAIT);
    assert!(line.contains(": the log output did not keep up."), "{line}");
    #[cfg(unix)]
    {
        let pid = child.0.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let code =
            wait_until_exit(&mut child.0, Duration::from_secs(5)).expect("the broker did not exit");
        assert_eq!(code.code(), Some(0));
    }
}

/// SIGHUP reads the password and ACL files again: a user added and one removed, an
/// ACL changed, all in force at once; a broken file is reported with its line and
/// the files in force stay; a connected client is not disturbed.
#[cfg(unix)]
#[test]
fn sighup_reloads_password_and_acl_files() {
    use mq::broker::security::password::{HashKind, PasswordFile};
    let (dir, conf) = config_file("");
    let (pw, acl) = (dir.path().join("passwords"), dir.path().join("acl"));
    let users = |names: &[(&str, &str)]| {
        let mut f = PasswordFile::default();
        for (u, p) in names {
            f.set(u, p.as_bytes(), HashKind::Pbkdf2Sha512, [9; 12]);
        }
        std::fs::write(&pw, f.to_text()).unwrap();
    };
    users(&[("alice", "a-pw")]);
    std::fs::write(&acl, "user alice\ntopic readwrite a/#\n").unwrap();
    std::fs::write(
        &conf,
        format!(
            "listener 0 127.0.0.1\nallow_anonymous true\npassword_file {}\nacl_file {}\n",
            pw.display(),
            acl.display()
        ),
    )
    .unwrap();
    let mut b = MqBroker::start(&["-c", conf.to_str().unwrap()]);
    let publish = |user: &str, password: &str| {
        b.command("pub")
            .args(["-V", "5", "-q", "1", "-t", "a/x", "-m", "x"])
            .args(["-u", user, "-P", password])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(publish("alice", "a-pw"), Some(0));
    assert_ne!(publish("bob", "b-pw"), Some(0), "bob is not a user yet");
    let mut idle = connect_as(b.port, "idle");
    let pid = b.child.id().to_string();
    let hup = || {
        assert!(
            Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .unwrap()
                .success()
        )
    };

    users(&[("bob", "b-pw")]);
    std::fs::write(&acl, "user bob\ntopic readwrite a/#\n").unwrap();
    hup();
    b.wait_for("Config reloaded", LOG_WAIT);
    assert_ne!(publish("alice", "a-pw"), Some(0), "alice was removed");
    assert_eq!(publish("bob", "b-pw"), Some(0), "bob was added");

    std::fs::write(&acl, "user bob\ntopic read a/#\n").unwrap();
    hup();
    b.wait_for("Config reloaded", LOG_WAIT);
    assert_ne!(publish("bob", "b-pw"), Some(0), "bob may only read now");

    std::fs::write(&acl, "user bob\ntopic read a/#/x\n").unwrap();
    hup();
    let line = b.wait_for("keeping the configuration in force", LOG_WAIT);
    assert!(line.contains("acl:2:"), "{line}");
    assert_ne!(publish("bob", "b-pw"), Some(0), "the ACL in force stayed");
    exchange(&mut idle, &[0xC0, 0x00], &[0xD0, 0x00]);
    assert!(b.child.try_wait().unwrap().is_none(), "the broker exited");
}

/// A failed TLS handshake is one log line with the client's address and the cause.
#[test]
fn failed_tls_handshake_is_logged_with_address_and_cause() {
    let pki = common::TestPki::new(&["localhost"]);
    let (_dir, conf) = config_file(&format!(
        "listener 0 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\n",
        pki.path("server.pem").display(),
        pki.path("server.key").display()
    ));
    let b = MqBroker::start(&["-c", conf.to_str().unwrap()]);
    // A plain MQTT CONNECT where a TLS ClientHello is expected.
    let mut s = TcpStream::connect(("127.0.0.1", b.port)).unwrap();
    s.write_all(&[0x10, 0x0C, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 0])
        .unwrap();
    let line = b.wait_for(
        "Client connection from 127.0.0.1 failed: TLS handshake",
        LOG_WAIT,
    );
    assert!(line.trim_end().ends_with('.'), "{line}");
    assert!(line.len() > "Client connection from 127.0.0.1 failed: TLS handshake: .".len());
}

/// The port of an "Opening websockets listen socket on port N." line.
fn port_of(line: &str) -> u16 {
    line.rsplit("port ")
        .next()
        .and_then(|p| p.trim().trim_end_matches('.').parse().ok())
        .unwrap_or_else(|| panic!("no port number in {line:?}"))
}

/// `mq pub` with `args` and a 5 s wait for the broker, to its end.
fn mq_pub_ok(args: &[&str]) {
    let out = mq_command()
        .arg("pub")
        .args(args)
        .args(["-t", "shortcut/t", "-m", "hello", "-q", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mq pub {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ws_shortcut_adds_a_websocket_listener_next_to_the_local_one() {
    let b = MqBroker::start(&["-p", "0", "--ws", "0"]);
    let ws = port_of(&b.wait_for("Opening websockets listen socket on port ", LOG_WAIT));
    assert_ne!(ws, b.port);
    // Anonymous access as in local-only mode, over both listeners.
    mq_pub_ok(&["-h", "127.0.0.1", "-p", &b.port.to_string()]);
    mq_pub_ok(&["-L", &format!("ws://127.0.0.1:{ws}/shortcut/t")]);
    b.wait_for("New client connected from 127.0.0.1:", LOG_WAIT);
}

#[test]
fn tls_shortcut_makes_the_local_listener_speak_tls() {
    let pki = common::TestPki::new(&["localhost", "127.0.0.1"]);
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let b = MqBroker::start(&[
        "-p",
        "0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let ca = pki.path("ca.pem");
    mq_pub_ok(&[
        "-h",
        "localhost",
        "-p",
        &b.port.to_string(),
        "--cafile",
        ca.to_str().unwrap(),
    ]);
    // Plain MQTT is not spoken there any more.
    let out = mq_command()
        .args(["pub", "-h", "127.0.0.1", "-p", &b.port.to_string()])
        .args(["-t", "t", "-m", "x", "-W", "3"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn tls_shortcut_needs_both_files() {
    mq_command()
        .args(["broker", "--tls-cert", "c.pem"])
        .output()
        .map(|out| {
            // A usage error, as for every other flag.
            assert_eq!(out.status.code(), Some(1));
            assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key <FILE>"));
        })
        .unwrap();
}

/// A 5.0 client that sends more unacknowledged QoS 2 messages than the broker's
/// Receive Maximum is disconnected with 0x93 [MQTT-3.3.4-9], and the log names the
/// cause instead of a bare "protocol error".
#[test]
fn receive_maximum_exceeded_is_named_in_the_log() {
    use mq::protocol::{self, Connect, Packet, ProtocolVersion, Publish, QoS};
    let (_dir, conf) =
        config_file("listener 0 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 2\n");
    let b = MqBroker::start(&["-c", conf.to_str().unwrap()]);
    let mut s = TcpStream::connect(("127.0.0.1", b.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut out = common::encoded_connect(Connect {
        protocol: ProtocolVersion::V5,
        client_id: "eager".into(),
        keep_alive: 60,
        ..Connect::default()
    });
    // Three QoS 2 messages, never released: one more than the Receive Maximum of 2.
    for id in 1..=3u16 {
        let p = Publish {
            topic: "a/b".into(),
            payload: bytes::Bytes::from_static(b"x"),
            qos: QoS::ExactlyOnce,
            packet_id: id,
            ..Publish::default()
        };
        protocol::encode(&Packet::Publish(p), ProtocolVersion::V5, &mut out).unwrap();
    }
    s.write_all(&out).unwrap();
    b.wait_for(
        "Client eager disconnected due to Receive Maximum exceeded (too many unacknowledged QoS 2 messages).",
        LOG_WAIT,
    );
}

/// The local-only start-up warnings point to mq's own documentation (the README's
/// section on remote access and passwords), not to mosquitto's.
#[test]
fn local_only_banner_points_to_mqs_readme() {
    let mut child = mq_command()
        .args(["broker", "-p", "0"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = common::lines_of(child.stderr.take().unwrap());
    let _guard = common::KillOnDrop(child);
    let line = common::wait_for_line(&lines, "For more details see", LOG_WAIT);
    assert!(
        line.ends_with("\"Securing your broker\" in mq's README (README.md#securing-your-broker)."),
        "{line}"
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("\n### Securing your broker\n"));
}

/// `--threads 1`: the broker runs one worker thread, and serves.
#[test]
fn threads_sets_the_worker_threads() {
    let b = MqBroker::start(&["-p", "0", "--threads", "1"]);
    connect_publish_disconnect(b.port);
    b.wait_for("Client cli-test disconnected.", LOG_WAIT);
    #[cfg(target_os = "linux")]
    {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", b.child.id())).unwrap();
        let workers = tasks
            .filter_map(|t| std::fs::read_to_string(t.unwrap().path().join("comm")).ok())
            .filter(|name| name.trim() == "tokio-rt-worker")
            .count();
        assert_eq!(workers, 1);
    }
}

#[test]
fn threads_zero_is_refused() {
    refused_broker(&["--threads", "0"]).stderr(contains("--threads"));
}
