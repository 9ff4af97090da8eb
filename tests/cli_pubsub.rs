//! Black-box tests of `mq pub` and `mq sub` against the embedded broker (`mq broker
//! -p 0`, port read back from its `Opening ipv4 listen socket on port <PORT>.` line):
//! round trips at QoS 0, 1 and 2 under MQTT 3.1.1 and 5.0, and the flags that shape
//! what `mq sub` prints and when it exits.

mod common;

use common::{KillOnDrop, MqBroker, lines_of, mq_command, mq_pub, wait_until_exit};
use std::io::Read;
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a test waits for one broker log line: `mq sub` reconnects after a broker
/// restart with a backoff of 1, 2 and 4 s.
const LOG_WAIT: Duration = Duration::from_secs(10);

/// `mq broker -v -p <port>` (0 = a free port): `-v` logs the SUBACKs that
/// [`start_sub`] waits for.
fn start_broker_on(port: u16) -> MqBroker {
    MqBroker::start(&["-v", "-p", &port.to_string()])
}

fn start_broker() -> MqBroker {
    start_broker_on(0)
}

/// A running `mq sub`, returned once the broker sent its SUBACK.
struct Sub {
    child: KillOnDrop,
    stderr: mpsc::Receiver<String>,
}

fn start_sub(broker: &MqBroker, args: &[&str]) -> Sub {
    let mut child = broker
        .command("sub")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mq sub");
    let stderr = lines_of(child.stderr.take().expect("stderr"));
    let child = KillOnDrop(child);
    broker.wait_for("Sending SUBACK to", LOG_WAIT);
    Sub { child, stderr }
}

impl Sub {
    /// Wait (bounded) for the process to exit; returns (code, stdout, stderr lines).
    fn finish(mut self) -> (Option<i32>, Vec<u8>, Vec<String>) {
        let status =
            wait_until_exit(&mut self.child, Duration::from_secs(15)).expect("mq sub did not exit");
        let mut out = Vec::new();
        if let Some(mut o) = self.child.stdout.take() {
            o.read_to_end(&mut out).expect("read stdout");
        }
        let err: Vec<String> = self.stderr.try_iter().collect();
        (status.code(), out, err)
    }

    /// Wait for the process and assert that it exited 0 having printed `expected`.
    fn assert_prints(self, expected: &str) {
        let (code, out, err) = self.finish();
        assert_eq!(
            (code, String::from_utf8_lossy(&out).into_owned()),
            (Some(0), expected.to_string()),
            "stderr: {err:?}"
        );
    }
}

/// Run `mq pub` to the broker and assert it succeeds.
fn publish(broker: &MqBroker, args: &[&str]) -> Output {
    mq_pub(broker.port, args, None)
}

/// Run `mq pub` with `input` on stdin and assert it succeeds.
fn publish_stdin(broker: &MqBroker, args: &[&str], input: &[u8]) {
    mq_pub(broker.port, args, Some(input));
}

fn round_trip(version: &str) {
    let broker = start_broker();
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
    sub.assert_prints("a/q0 Grüße 🚗 qos 0\na/q1 Grüße 🚗 qos 1\na/q2 Grüße 🚗 qos 2\n");
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
    let broker = start_broker();
    let sub = start_sub(&broker, &["-t", "x", "-C", "1", "-q", "1", "-V", "31"]);
    publish(
        &broker,
        &["-t", "x", "-m", "old", "-q", "1", "-V", "mqttv31"],
    );
    sub.assert_prints("old\n");
}

#[test]
fn sub_timeout_exits_27_with_timed_out() {
    let broker = start_broker();
    let sub = start_sub(&broker, &["-t", "nothing/here", "-W", "1"]);
    let (code, out, err) = sub.finish();
    assert_eq!(code, Some(27));
    assert!(out.is_empty());
    assert!(err.iter().any(|l| l == "Timed out"), "{err:?}");
}

#[test]
fn sub_count_stops_after_n_messages() {
    let broker = start_broker();
    let sub = start_sub(&broker, &["-t", "c", "-C", "2", "-q", "1"]);
    for m in ["one", "two", "three"] {
        publish(&broker, &["-t", "c", "-m", m, "-q", "1"]);
    }
    sub.assert_prints("one\ntwo\n");
}

#[test]
fn null_message_prints_like_mosquitto_sub() {
    // With -v an empty payload prints `topic (null)`; without -v it prints nothing.
    let broker = start_broker();
    let verbose = start_sub(&broker, &["-t", "n", "-v", "-C", "2"]);
    let plain = start_sub(&broker, &["-t", "n", "-C", "2"]);
    publish(&broker, &["-t", "n", "-n"]);
    publish(&broker, &["-t", "n", "-m", "after"]);
    assert_eq!(verbose.finish().1, b"n (null)\nn after\n");
    assert_eq!(plain.finish().1, b"after\n");
}

#[test]
fn retained_message_is_delivered_to_a_late_subscriber() {
    let broker = start_broker();
    publish(&broker, &["-t", "r/1", "-m", "kept", "-r", "-q", "1"]);
    let sub = start_sub(&broker, &["-t", "r/#", "-C", "1", "-F", "%t %p %r"]);
    sub.assert_prints("r/1 kept 1\n");

    // -R hides retained (stale) messages.
    let sub = start_sub(&broker, &["-t", "r/#", "-R", "-W", "1"]);
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(27), Vec::new()));

    // --retained-only prints the retained ones and exits on the first fresh one.
    let sub = start_sub(&broker, &["-t", "r/#", "--retained-only", "-v", "-W", "10"]);
    publish(&broker, &["-t", "r/2", "-m", "fresh"]);
    sub.assert_prints("r/1 kept\n");

    // --remove-retained clears it: a later subscriber gets nothing.
    let sub = start_sub(&broker, &["-t", "r/#", "--remove-retained", "-C", "1"]);
    assert_eq!(sub.finish().0, Some(0));
    let sub = start_sub(&broker, &["-t", "r/#", "-W", "1"]);
    let (code, out, _) = sub.finish();
    assert_eq!((code, out), (Some(27), Vec::new()));
}

#[test]
fn filter_out_and_no_newline() {
    let broker = start_broker();
    let sub = start_sub(&broker, &["-t", "f/#", "-T", "f/skip/#", "-N", "-C", "2"]);
    publish(&broker, &["-t", "f/skip/x", "-m", "hidden"]);
    publish(&broker, &["-t", "f/a", "-m", "A"]);
    publish(&broker, &["-t", "f/b", "-m", "B"]);
    sub.assert_prints("AB");
}

#[test]
fn format_string_and_hex() {
    let broker = start_broker();
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
    sub.assert_prints("fmt|3|1|01617a|01617A|\u{1}az   |\t@\n");
}

#[test]
fn json_output_is_one_object_per_message() {
    let broker = start_broker();
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
    let broker = start_broker();
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
    replay.assert_prints("rec/a 6669727374 1 \nrec/b 000162696e 0 k:v\n");
}

#[test]
fn pub_input_modes() {
    let broker = start_broker();
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
    sub.assert_prints("line 1\nline 2\nline 3\nwhole\ninput\nfrom file\nagain\nagain\n");
}

#[test]
fn exit_after_subscribe() {
    let broker = start_broker();
    let out = broker
        .command("sub")
        .args(["-t", "e", "-E"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn url_and_environment_defaults() {
    let broker = start_broker();
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
    let out = mq_command()
        .args(["pub", "-t", "u/env", "-m", "by env"])
        .env("MQ_HOST", "127.0.0.1")
        .env("MQ_PORT", broker.port.to_string())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sub.assert_prints("u/url by url\nu/env by env\n");
}

#[test]
fn debug_trace_goes_to_stdout_like_mosquitto_pub() {
    let broker = start_broker();
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
    let broker = start_broker();
    let sub = start_sub(
        &broker,
        &["-t", "keep", "-t", "drop", "-U", "drop", "-C", "1", "-v"],
    );
    broker.wait_for("Sending UNSUBACK to", LOG_WAIT);
    publish(&broker, &["-t", "drop", "-m", "gone"]);
    publish(&broker, &["-t", "keep", "-m", "kept"]);
    sub.assert_prints("keep kept\n");
}

#[test]
fn color_only_when_asked_or_on_a_terminal() {
    let broker = start_broker();
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
    let broker = start_broker();
    // A watcher sees the request (with its MQTT 5 Response Topic) before we reply.
    let watcher = start_sub(
        &broker,
        &["-t", "svc/req", "-C", "1", "-V", "5", "-F", "%R %p"],
    );
    let rr = broker
        .command("rr")
        .args(["-t", "svc/req", "-e", "svc/resp"])
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
    let broker = start_broker();
    let out = broker
        .command("rr")
        .args(["-t", "nobody", "-e", "never"])
        .args(["-m", "hello?", "-W", "1"])
        .output()
        .expect("mq rr");
    assert_eq!(out.status.code(), Some(27));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Timed out\n");
}

#[test]
fn will_is_published_when_a_client_dies() {
    let broker = start_broker();
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
    watcher.assert_prints("wills/doomed bye\n");
}

#[test]
fn durable_session_keeps_messages_while_offline() {
    let broker = start_broker();
    for v in ["311", "5"] {
        let id = format!("durable-{v}");
        let topic = format!("dur/{v}");
        // -c -E: create the session and its subscription, then leave.
        let out = broker
            .command("sub")
            .args(["-V", v])
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
    let broker = start_broker();
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
    let broker = start_broker();
    let port = broker.port;
    let sub = start_sub(&broker, &["-t", "back", "-C", "1", "-W", "20"]);
    drop(broker);
    let broker = start_broker_on(port);
    broker.wait_for("Sending SUBACK to", LOG_WAIT);
    publish(&broker, &["-t", "back", "-m", "again"]);
    sub.assert_prints("again\n");
}

#[test]
fn id_prefix_and_explicit_id() {
    let broker = start_broker();
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
    let broker = start_broker();
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
    broker.wait_for("Client mq-sub", LOG_WAIT);
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
    let broker = start_broker();
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
