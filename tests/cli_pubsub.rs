//! Black-box tests of `mq pub` and `mq sub` against the embedded broker (`mq broker
//! -p 0`, port read back from its `Opening ipv4 listen socket on port <PORT>.` line):
//! round trips at QoS 0, 1 and 2 under MQTT 3.1.1 and 5.0, and the flags that shape
//! what `mq sub` prints and when it exits.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MQ: &str = env!("CARGO_BIN_EXE_mq");

/// The `mq` binary with the `MQ_*` environment defaults cleared.
fn mq_cmd() -> Command {
    let mut c = Command::new(MQ);
    for var in ["MQ_HOST", "MQ_PORT", "MQ_URL", "MQ_USERNAME", "MQ_PASSWORD"] {
        c.env_remove(var);
    }
    c
}

/// `mq broker -p 0 -v`, killed (by PID) on drop; its log lines after the port line
/// are readable with [`Broker::wait_log`].
struct Broker {
    child: Child,
    port: u16,
    log_rx: mpsc::Receiver<String>,
}

impl Broker {
    fn start() -> Broker {
        Broker::start_on(0)
    }

    /// `mq broker -p <port>` (0 = a free port).
    fn start_on(port: u16) -> Broker {
        let mut child = mq_cmd()
            .args(["broker", "-v", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mq broker");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let (log_tx, log_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(rest) = line.split("Opening ipv4 listen socket on port ").nth(1)
                        && let Ok(port) = rest.trim_end_matches('.').trim().parse::<u16>()
                    {
                        let _ = tx.send(port);
                        sent = true;
                    }
                } else {
                    let _ = log_tx.send(line);
                }
                // Keep draining so the broker never blocks on a full pipe.
            }
        });
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(port) => Broker {
                child,
                port,
                log_rx,
            },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("mq broker -p {port} did not print its port");
            }
        }
    }

    fn port(&self) -> String {
        self.port.to_string()
    }

    /// Wait (bounded) for a broker log line containing `text`.
    fn wait_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log_rx.recv_timeout(left) {
                Ok(line) if line.contains(text) => return,
                Ok(_) => {}
                Err(_) => panic!("the broker never logged {text:?}"),
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `mq sub`, returned once the broker sent its SUBACK.
struct Sub {
    child: Child,
    stderr_rx: mpsc::Receiver<String>,
}

fn start_sub(broker: &Broker, args: &[&str]) -> Sub {
    let mut child = mq_cmd()
        .args(["sub", "-h", "127.0.0.1", "-p", &broker.port()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mq sub");
    let stderr: ChildStderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    broker.wait_log("Sending SUBACK to");
    Sub {
        child,
        stderr_rx: rx,
    }
}

impl Sub {
    /// Wait (bounded) for the process to exit; returns (code, stdout, stderr lines).
    fn finish(mut self) -> (Option<i32>, Vec<u8>, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("mq sub did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = Vec::new();
        if let Some(mut o) = self.child.stdout.take() {
            o.read_to_end(&mut out).expect("read stdout");
        }
        let err: Vec<String> = self.stderr_rx.try_iter().collect();
        (status.code(), out, err)
    }
}

impl Drop for Sub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `mq pub` to the broker and assert it succeeds.
fn publish(broker: &Broker, args: &[&str]) -> Output {
    let out = mq_cmd()
        .args(["pub", "-h", "127.0.0.1", "-p", &broker.port()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run mq pub");
    assert!(
        out.status.success(),
        "mq pub {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Run `mq pub` with `input` on stdin.
fn publish_stdin(broker: &Broker, args: &[&str], input: &[u8]) {
    let mut child = mq_cmd()
        .args(["pub", "-h", "127.0.0.1", "-p", &broker.port()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mq pub");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait mq pub");
    assert!(
        out.status.success(),
        "mq pub {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn round_trip(version: &str) {
    let broker = Broker::start();
    let sub = start_sub(
        &broker,
        &[
            "-t", "a/#", "-v", "-C", "3", "-q", "2", "-V", version, "-W", "20",
        ],
    );
    for qos in ["0", "1", "2"] {
        let topic = format!("a/q{qos}");
        let payload = format!("Grüße 🚗 qos {qos}");
        publish(
            &broker,
            &["-t", &topic, "-m", &payload, "-q", qos, "-V", version],
        );
    }
    let (code, out, err) = sub.finish();
    assert_eq!(code, Some(0), "stderr: {err:?}");
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "a/q0 Grüße 🚗 qos 0\na/q1 Grüße 🚗 qos 1\na/q2 Grüße 🚗 qos 2\n"
    );
}

#[test]
fn round_trip_qos_0_1_2_v311() {
    round_trip("311");
}

#[test]
fn round_trip_qos_0_1_2_v5() {
    round_trip("5");
}

#[test]
fn round_trip_v31() {
    let broker = Broker::start();
    let sub = start_sub(&broker, &["-t", "x", "-C", "1", "-q", "1", "-V", "31"]);
    publish(
        &broker,
        &["-t", "x", "-m", "old", "-q", "1", "-V", "mqttv31"],
    );
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(0), b"old\n".to_vec()));
}

#[test]
fn sub_timeout_exits_27_with_timed_out() {
    let broker = Broker::start();
    let sub = start_sub(&broker, &["-t", "nothing/here", "-W", "1"]);
    let (code, out, err) = sub.finish();
    assert_eq!(code, Some(27));
    assert!(out.is_empty());
    assert!(err.iter().any(|l| l == "Timed out"), "{err:?}");
}

#[test]
fn sub_count_stops_after_n_messages() {
    let broker = Broker::start();
    let sub = start_sub(&broker, &["-t", "c", "-C", "2", "-q", "1"]);
    for m in ["one", "two", "three"] {
        publish(&broker, &["-t", "c", "-m", m, "-q", "1"]);
    }
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(0), b"one\ntwo\n".to_vec()));
}

#[test]
fn null_message_prints_like_mosquitto_sub() {
    // With -v an empty payload prints `topic (null)`; without -v it prints nothing.
    let broker = Broker::start();
    let verbose = start_sub(&broker, &["-t", "n", "-v", "-C", "2"]);
    let plain = start_sub(&broker, &["-t", "n", "-C", "2"]);
    publish(&broker, &["-t", "n", "-n"]);
    publish(&broker, &["-t", "n", "-m", "after"]);
    assert_eq!(verbose.finish().1, b"n (null)\nn after\n");
    assert_eq!(plain.finish().1, b"after\n");
}

#[test]
fn retained_message_is_delivered_to_a_late_subscriber() {
    let broker = Broker::start();
    publish(&broker, &["-t", "r/1", "-m", "kept", "-r", "-q", "1"]);
    let sub = start_sub(&broker, &["-t", "r/#", "-C", "1", "-F", "%t %p %r"]);
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(0), b"r/1 kept 1\n".to_vec()));

    // -R hides retained (stale) messages.
    let sub = start_sub(&broker, &["-t", "r/#", "-R", "-W", "1"]);
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(27), Vec::new()));

    // --retained-only prints the retained ones and exits on the first fresh one.
    let sub = start_sub(&broker, &["-t", "r/#", "--retained-only", "-v", "-W", "10"]);
    publish(&broker, &["-t", "r/2", "-m", "fresh"]);
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(0), b"r/1 kept\n".to_vec()));

    // --remove-retained clears it: a later subscriber gets nothing.
    let sub = start_sub(&broker, &["-t", "r/#", "--remove-retained", "-C", "1"]);
    assert_eq!(sub.finish().0, Some(0));
    let sub = start_sub(&broker, &["-t", "r/#", "-W", "1"]);
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(27), Vec::new()));
}

#[test]
fn filter_out_and_no_newline() {
    let broker = Broker::start();
    let sub = start_sub(&broker, &["-t", "f/#", "-T", "f/skip/#", "-N", "-C", "2"]);
    publish(&broker, &["-t", "f/skip/x", "-m", "hidden"]);
    publish(&broker, &["-t", "f/a", "-m", "A"]);
    publish(&broker, &["-t", "f/b", "-m", "B"]);
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(0), b"AB".to_vec()));
}

#[test]
fn format_string_and_hex() {
    let broker = Broker::start();
    let sub = start_sub(
        &broker,
        &[
            "-t",
            "fmt",
            "-C",
            "1",
            "-q",
            "1",
            "-F",
            "%t|%l|%q|%x|%X|%-6p|\\t@@",
        ],
    );
    publish(&broker, &["-t", "fmt", "-m", "\u{1}az", "-q", "1"]);
    let (code, out, _) = sub.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "fmt|3|1|01617a|01617A|\u{1}az   |\t@\n"
    );
}

#[test]
fn json_output_is_one_object_per_message() {
    let broker = Broker::start();
    let sub = start_sub(&broker, &["-t", "j/#", "-C", "2", "--json", "-V", "5"]);
    publish(
        &broker,
        &[
            "-t",
            "j/text",
            "-m",
            "héllo",
            "-V",
            "5",
            "-D",
            "publish",
            "user-property",
            "k",
            "v",
        ],
    );
    publish_stdin(&broker, &["-t", "j/bin", "-s"], b"\xff\x00\x01");
    let (code, out, _) = sub.finish();
    assert_eq!(code, Some(0));
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with(r#"{"topic":"j/text","payload":"héllo","qos":0,"retain":false,"dup":false,"mid":0,"properties":{"user-properties":{"k":"v"}}"#), "{}", lines[0]);
    assert!(
        lines[1].starts_with(
            r#"{"topic":"j/bin","payload":"/wAB","payload_encoding":"base64","qos":0"#
        ),
        "{}",
        lines[1]
    );
}

#[test]
fn pub_json_replays_sub_json() {
    let broker = Broker::start();
    let recorder = start_sub(
        &broker,
        &["-t", "rec/#", "-C", "2", "--json", "-q", "1", "-V", "5"],
    );
    publish(
        &broker,
        &["-t", "rec/a", "-m", "first", "-q", "1", "-V", "5"],
    );
    publish_stdin(
        &broker,
        &[
            "-t",
            "rec/b",
            "-s",
            "-V",
            "5",
            "-D",
            "publish",
            "user-property",
            "k",
            "v",
        ],
        b"\x00\x01bin",
    );
    let (_, recorded, _) = recorder.finish();
    let replay = start_sub(
        &broker,
        &[
            "-t",
            "rec/#",
            "-C",
            "2",
            "-q",
            "2",
            "-V",
            "5",
            "-F",
            "%t %x %q %P",
        ],
    );
    publish_stdin(&broker, &["--json", "-V", "5"], &recorded);
    let (code, out, _) = replay.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "rec/a 6669727374 1 \nrec/b 000162696e 0 k:v\n"
    );
}

#[test]
fn pub_input_modes() {
    let broker = Broker::start();
    let sub = start_sub(&broker, &["-t", "in", "-C", "8", "-q", "2"]);
    // -l: one message per line (an empty line is an empty message: counted by -C,
    // not printed).
    publish_stdin(
        &broker,
        &["-t", "in", "-l", "-q", "1"],
        b"line 1\nline 2\n\nline 3\n",
    );
    // -s: all of stdin as one message.
    publish_stdin(&broker, &["-t", "in", "-s", "-q", "2"], b"whole\ninput");
    // -f: a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("msg.txt");
    std::fs::write(&file, b"from file").unwrap();
    publish(&broker, &["-t", "in", "-f", file.to_str().unwrap()]);
    // --repeat.
    publish(
        &broker,
        &[
            "-t",
            "in",
            "-m",
            "again",
            "--repeat",
            "2",
            "--repeat-delay",
            "0.01",
        ],
    );
    let (code, out, _) = sub.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "line 1\nline 2\nline 3\nwhole\ninput\nfrom file\nagain\nagain\n"
    );
}

#[test]
fn exit_after_subscribe() {
    let broker = Broker::start();
    let out = mq_cmd()
        .args([
            "sub",
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port(),
            "-t",
            "e",
            "-E",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn url_and_environment_defaults() {
    let broker = Broker::start();
    let sub = start_sub(&broker, &["-t", "u/#", "-v", "-C", "2"]);
    publish(
        &broker,
        &[
            "-L",
            &format!("mqtt://127.0.0.1:{}/u/url", broker.port),
            "-m",
            "by url",
        ],
    );
    let out = mq_cmd()
        .args(["pub", "-t", "u/env", "-m", "by env"])
        .env("MQ_HOST", "127.0.0.1")
        .env("MQ_PORT", broker.port())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, out, _) = sub.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "u/url by url\nu/env by env\n"
    );
}

#[test]
fn debug_trace_goes_to_stdout_like_mosquitto_pub() {
    let broker = Broker::start();
    let out = publish(&broker, &["-t", "d", "-m", "x", "-q", "1", "-d"]);
    assert!(out.stderr.is_empty());
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("sending CONNECT"), "{err}");
    assert!(err.contains("received CONNACK (0)"), "{err}");
    assert!(err.contains("received PUBACK"), "{err}");
    assert!(err.contains("sending DISCONNECT"), "{err}");
}

#[test]
fn unsubscribe_after_subscribe() {
    let broker = Broker::start();
    let sub = start_sub(
        &broker,
        &["-t", "keep", "-t", "drop", "-U", "drop", "-C", "1", "-v"],
    );
    broker.wait_log("Sending UNSUBACK to");
    publish(&broker, &["-t", "drop", "-m", "gone"]);
    publish(&broker, &["-t", "keep", "-m", "kept"]);
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(0), b"keep kept\n".to_vec()));
}

#[test]
fn color_only_when_asked_or_on_a_terminal() {
    let broker = Broker::start();
    let always = start_sub(
        &broker,
        &["-t", "col", "-v", "-C", "1", "-q", "1", "--color", "always"],
    );
    let auto = start_sub(&broker, &["-t", "col", "-v", "-C", "1", "-q", "1"]);
    publish(&broker, &["-t", "col", "-m", "x", "-q", "1", "-r"]);
    let colored = String::from_utf8(always.finish().1).unwrap();
    assert!(colored.contains("\x1b[36mcol\x1b[0m"), "{colored:?}");
    assert!(colored.ends_with(" x\n"), "{colored:?}");
    // stdout is a pipe here: no colour by default.
    assert_eq!(auto.finish().1, b"col x\n");
}

#[test]
fn request_response_prints_the_matching_reply() {
    let broker = Broker::start();
    // A watcher sees the request (with its MQTT 5 Response Topic) before we reply.
    let watcher = start_sub(
        &broker,
        &["-t", "svc/req", "-C", "1", "-V", "5", "-F", "%R %p"],
    );
    let rr = mq_cmd()
        .args([
            "rr",
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port(),
            "-t",
            "svc/req",
            "-e",
            "svc/resp",
        ])
        .args(["-m", "ping", "-W", "10", "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mq rr");
    let (code, seen, _) = watcher.finish();
    assert_eq!((code, seen), (Some(0), b"svc/resp ping\n".to_vec()));
    // A reply with foreign correlation data is ignored; one without any is taken.
    publish(
        &broker,
        &[
            "-t",
            "svc/resp",
            "-m",
            "stale",
            "-V",
            "5",
            "-D",
            "publish",
            "correlation-data",
            "other",
        ],
    );
    publish(&broker, &["-t", "svc/resp", "-m", "pong", "-V", "5"]);
    let out = rr.wait_with_output().expect("mq rr");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"svc/resp pong\n");
}

#[test]
fn request_response_times_out_with_27() {
    let broker = Broker::start();
    let out = mq_cmd()
        .args([
            "rr",
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port(),
            "-t",
            "nobody",
            "-e",
            "never",
        ])
        .args(["-m", "hello?", "-W", "1"])
        .output()
        .expect("mq rr");
    assert_eq!(out.status.code(), Some(27));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Timed out\n");
}

#[test]
fn will_is_published_when_a_client_dies() {
    let broker = Broker::start();
    let watcher = start_sub(&broker, &["-t", "wills/#", "-v", "-C", "1", "-q", "1"]);
    let mut doomed = start_sub(
        &broker,
        &[
            "-t",
            "x",
            "--will-topic",
            "wills/doomed",
            "--will-payload",
            "bye",
            "--will-qos",
            "1",
        ],
    );
    // Killed without a DISCONNECT: the broker publishes the will [MQTT-3.1.2-8].
    doomed.child.kill().expect("kill");
    let (code, out, _) = watcher.finish();
    assert_eq!((code, out), (Some(0), b"wills/doomed bye\n".to_vec()));
}

#[test]
fn durable_session_keeps_messages_while_offline() {
    let broker = Broker::start();
    for v in ["311", "5"] {
        let id = format!("durable-{v}");
        let topic = format!("dur/{v}");
        // -c -E: create the session and its subscription, then leave.
        let out = mq_cmd()
            .args(["sub", "-h", "127.0.0.1", "-p", &broker.port(), "-V", v])
            .args(["-t", &topic, "-q", "1", "-c", "-i", &id, "-E"])
            .output()
            .expect("mq sub -E");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        publish(&broker, &["-t", &topic, "-m", "while away", "-q", "1"]);
        let sub = start_sub(
            &broker,
            &["-t", &topic, "-q", "1", "-c", "-i", &id, "-C", "1", "-V", v],
        );
        let (code, out, _) = sub.finish();
        assert_eq!((code, out), (Some(0), b"while away\n".to_vec()), "-V {v}");
    }
}

#[test]
fn password_from_stdin() {
    // `-P -` reads the password from stdin, so it never shows in `ps`.
    let broker = Broker::start();
    let sub = start_sub(&broker, &["-t", "pw", "-C", "1"]);
    publish_stdin(
        &broker,
        &["-t", "pw", "-m", "ok", "-u", "me", "-P", "-"],
        b"secret\n",
    );
    assert_eq!(sub.finish().1, b"ok\n");
}

#[test]
fn sub_reconnects_after_the_broker_restarts() {
    // mosquitto_sub keeps running across a broker restart and subscribes again.
    let broker = Broker::start();
    let port = broker.port;
    let sub = start_sub(&broker, &["-t", "back", "-C", "1", "-W", "20"]);
    drop(broker);
    let broker = Broker::start_on(port);
    broker.wait_log("Sending SUBACK to");
    publish(&broker, &["-t", "back", "-m", "again"]);
    let (code, out, err) = sub.finish();
    assert_eq!((code, out), (Some(0), b"again\n".to_vec()), "{err:?}");
}

#[test]
fn id_prefix_and_explicit_id() {
    let broker = Broker::start();
    let out = publish(&broker, &["-t", "i", "-m", "x", "-I", "pfx-", "-d"]);
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("Client pfx-"), "{err}");
    let out = publish(
        &broker,
        &["-t", "i", "-m", "x", "-i", "exact-id", "-d", "-V", "5"],
    );
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("Client exact-id sending CONNECT"), "{err}");
    // Without -i under 3.1.1 the client sends its own `mq-pub-<random>` identifier.
    let out = publish(&broker, &["-t", "i", "-m", "x", "-d"]);
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("Client mq-pub-"), "{err}");
}

#[test]
fn will_retain_keeps_the_will_for_a_late_subscriber() {
    let broker = Broker::start();
    let mut doomed = start_sub(
        &broker,
        &[
            "-t",
            "x",
            "--will-topic",
            "wills/kept",
            "--will-payload",
            "gone",
            "--will-retain",
        ],
    );
    // Killed without a DISCONNECT: the will is published, retained [MQTT-3.1.2-17].
    doomed.child.kill().expect("kill");
    broker.wait_log("Client mq-sub");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let late = start_sub(
            &broker,
            &["-t", "wills/#", "-C", "1", "-W", "1", "-F", "%t %p %r"],
        );
        let (code, out, _) = late.finish();
        if code == Some(0) {
            assert_eq!(out, b"wills/kept gone 1\n".to_vec());
            break;
        }
        assert!(Instant::now() < deadline, "the retained will never arrived");
    }
}

#[test]
fn retain_as_published_keeps_the_retain_flag_v5() {
    // [MQTT-3.3.1-12]: with Retain As Published the forwarded message keeps RETAIN=1;
    // without it the broker clears the flag on normal forwarding [MQTT-3.3.1-13].
    let broker = Broker::start();
    let rap = start_sub(
        &broker,
        &[
            "-V",
            "5",
            "-t",
            "rap/#",
            "--retain-as-published",
            "-C",
            "1",
            "-F",
            "%p %r",
        ],
    );
    let plain = start_sub(
        &broker,
        &["-V", "5", "-t", "rap/#", "-C", "1", "-F", "%p %r"],
    );
    publish(&broker, &["-V", "5", "-t", "rap/x", "-m", "m", "-r"]);
    assert_eq!(rap.finish().1, b"m 1\n".to_vec());
    assert_eq!(plain.finish().1, b"m 0\n".to_vec());
}
