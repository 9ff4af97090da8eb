//! The broker's logs for collectors: `--log-format json` (every line one JSON
//! object with the documented fields), `log_dest file` (appended to, with the
//! `log_timestamp_format` time), several destinations at once, syslog datagrams
//! (Unix), and clear errors for bad `log_*` values.

mod common;

use assert_cmd::Command as AssertCommand;
use common::{KillOnDrop, MqBroker, lines_of, mq_command, mq_pub, wait_for_line};
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long a test waits for one log line.
const LOG_WAIT: Duration = Duration::from_secs(10);

/// A configuration file holding `text`, in a temporary directory kept while the
/// returned guard lives.
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("m.conf");
    std::fs::write(&conf, text).unwrap();
    (dir, conf)
}

/// The documented fields of a JSON log line: `ts` (RFC 3339, UTC, milliseconds),
/// `unix` (seconds), `level` (a mosquitto log type) and `msg`; nothing else.
fn check_json_line(line: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
    let o = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {line}"));
    let keys: Vec<&str> = o.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4, "{line}");
    let ts = o["ts"].as_str().unwrap_or_else(|| panic!("ts: {line}"));
    // 2026-12-03T09:10:57.123Z
    let b = ts.as_bytes();
    assert_eq!(b.len(), 24, "{ts}");
    for (i, c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-', "{ts}"),
            10 => assert_eq!(*c, b'T', "{ts}"),
            13 | 16 => assert_eq!(*c, b':', "{ts}"),
            19 => assert_eq!(*c, b'.', "{ts}"),
            23 => assert_eq!(*c, b'Z', "{ts}"),
            _ => assert!(c.is_ascii_digit(), "{ts}"),
        }
    }
    let unix = o["unix"].as_f64().unwrap_or_else(|| panic!("unix: {line}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - unix).abs() < 600.0, "{line}");
    let level = o["level"]
        .as_str()
        .unwrap_or_else(|| panic!("level: {line}"));
    assert!(
        [
            "error",
            "warning",
            "notice",
            "information",
            "debug",
            "subscribe",
            "unsubscribe"
        ]
        .contains(&level),
        "{line}"
    );
    assert!(o["msg"].is_string(), "{line}");
    v
}

/// `--log-format json -v`: from the start line to a client's packets, every
/// stderr line is one JSON object with the documented fields, in mosquitto's
/// words and log types.
#[test]
fn json_log_lines_parse_and_have_the_documented_fields() {
    let mut child = mq_command()
        .args(["broker", "-p", "0", "-v", "--log-format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = lines_of(child.stderr.take().unwrap());
    let _child = KillOnDrop(child);
    let mut seen = Vec::new();
    let deadline = Instant::now() + LOG_WAIT;
    let port = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).expect("no listen line");
        let v = check_json_line(&line);
        seen.push(v.clone());
        let msg = v["msg"].as_str().unwrap();
        if let Some(p) = msg.strip_prefix("Opening ipv4 listen socket on port ") {
            break p.trim_end_matches('.').parse::<u16>().unwrap();
        }
    };
    let out = mq_pub(
        port,
        &["-t", "logs/json", "-m", "x", "-i", "json-pub"],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let deadline = Instant::now() + LOG_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no DISCONNECT line in {seen:#?}"));
        let v = check_json_line(&line);
        seen.push(v.clone());
        if v["msg"] == "Received DISCONNECT from json-pub" {
            break;
        }
    }
    let level_of = |prefix: &str| {
        seen.iter()
            .find(|v| v["msg"].as_str().unwrap().starts_with(prefix))
            .map(|v| v["level"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {prefix:?} line in {seen:#?}"))
    };
    assert_eq!(level_of("mq version"), "information");
    assert_eq!(level_of("Starting in local only mode"), "warning");
    assert_eq!(level_of("New client connected from"), "notice");
    assert_eq!(level_of("Received PUBLISH from json-pub"), "debug");
}

/// Wait (bounded) until the file holds a line containing `needle`, and return
/// the file's lines.
fn wait_for_file_line(path: &Path, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + LOG_WAIT;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text.lines().map(str::to_string).collect();
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in {}: {text:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `line` starts with a `%Y-%m-%dT%H:%M:%S: ` time.
fn has_iso_time(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 21
        && b.iter().take(19).enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
        && &line[19..21] == ": "
}

/// `log_dest file` appends to the file (what was there stays), next to
/// `log_dest stderr` (each line adds a destination), both with the
/// `log_timestamp_format` time.
#[test]
fn log_dest_file_appends_with_the_timestamp_format() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mq.log");
    std::fs::write(&log, "an older line\n").unwrap();
    let (_d, conf) = config_file(&format!(
        "listener 0 127.0.0.1\nallow_anonymous true\nlog_type all\nlog_dest file {}\n\
         log_dest stderr\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\n",
        log.display()
    ));
    let b = MqBroker::start(&["-c", conf.to_str().unwrap()]);
    let line = b.wait_for("mq version", LOG_WAIT);
    assert!(has_iso_time(&line), "{line}");
    let out = mq_pub(
        b.port,
        &["-t", "logs/file", "-m", "x", "-i", "file-pub"],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let lines = wait_for_file_line(&log, "Received DISCONNECT from file-pub");
    assert_eq!(lines[0], "an older line");
    assert!(lines[1].contains("mq version"), "{lines:#?}");
    assert!(lines[1..].iter().all(|l| has_iso_time(l)), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("New client connected from")),
        "{lines:#?}"
    );
}

/// `log_timestamp false` drops the time, also with a format.
#[test]
fn log_timestamp_false_has_no_time() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mq.log");
    let (_d, conf) = config_file(&format!(
        "listener 0 127.0.0.1\nlog_dest file {}\nlog_dest stderr\nlog_timestamp false\n\
         log_timestamp_format %H\n",
        log.display()
    ));
    let _b = MqBroker::start(&["-c", conf.to_str().unwrap()]);
    let lines = wait_for_file_line(&log, "running");
    assert!(lines[0].starts_with("mq version"), "{lines:#?}");
}

/// Bad `log_*` values stop the broker with the file, the line and what is wrong;
/// a log file that cannot be opened is named.
#[test]
fn bad_log_options_are_refused_clearly() {
    for (text, expected) in [
        (
            "log_format yaml\n",
            "m.conf:1: log_format 'yaml' is not one of text, json",
        ),
        (
            "log_dest carrier-pigeon\n",
            "m.conf:1: log_dest 'carrier-pigeon' is not one of stderr, stdout, file PATH, syslog, none",
        ),
        ("log_dest file\n", "m.conf:1: log_dest file needs a path"),
        (
            "log_dest topic\n",
            "m.conf:1: log_dest topic is not supported yet",
        ),
        (
            "log_facility 9\n",
            "m.conf:1: log_facility must be 0 to 7 (local0 to local7), not 9",
        ),
        (
            "log_dest stderr now\n",
            "m.conf:1: log_dest stderr takes no argument",
        ),
    ] {
        let (_d, conf) = config_file(text);
        AssertCommand::from_std(mq_command())
            .args(["broker", "-c", conf.to_str().unwrap()])
            .timeout(Duration::from_secs(10))
            .assert()
            .failure()
            .stderr(contains("mq: "))
            .stderr(contains(expected));
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("mq.log");
    let (_d, conf) = config_file(&format!("log_dest file {}\n", missing.display()));
    AssertCommand::from_std(mq_command())
        .args(["broker", "-p", "0", "-c", conf.to_str().unwrap()])
        .timeout(Duration::from_secs(10))
        .assert()
        .failure()
        .stderr(contains(format!(
            "mq: cannot open log file {}",
            missing.display()
        )));
}

/// `log_dest syslog`: one RFC 3164 datagram a line on the syslog socket, with the
/// priority of `log_facility` and the log type, tagged `mq[PID]`.
#[cfg(unix)]
#[tokio::test]
async fn syslog_datagrams_carry_facility_severity_and_tag() {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("log");
    let syslog = UnixDatagram::bind(&socket_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut config =
        mq::broker::Config::parse("log_dest syslog\nlog_facility 2\n", "m.conf").unwrap();
    config.syslog_socket = socket_path.clone();
    let handle = mq::broker::Broker::builder()
        .config(config)
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while !got.iter().any(|l: &String| l.contains("running")) && got.len() < 20 {
        let n = syslog.recv(&mut buf).expect("a syslog datagram");
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    handle.shutdown().await;
    let tag = format!(" mq[{}]: ", std::process::id());
    // local2 = 18, information = 6: 18 * 8 + 6.
    let start = got
        .iter()
        .find(|l| l.contains("mq version") && l.contains("starting"))
        .unwrap_or_else(|| panic!("{got:#?}"));
    assert!(start.starts_with("<150>"), "{start}");
    assert!(start.contains(&tag), "{start}");
    assert!(!start.ends_with('\n'), "{start:?}");
    // `<PRI>Mmm dd hh:mm:ss `
    let stamp = &start[5..21];
    assert_eq!(stamp.as_bytes()[3], b' ', "{start}");
    assert_eq!(&stamp[9..10], ":", "{start}");
}

/// A syslog socket that is not there is named, and the broker does not start.
#[cfg(unix)]
#[tokio::test]
async fn a_missing_syslog_socket_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = mq::broker::Config::parse("log_dest syslog\n", "m.conf").unwrap();
    config.syslog_socket = dir.path().join("nothing-here");
    let e = mq::broker::Broker::builder()
        .config(config)
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("cannot send to syslog at ") && text.contains("nothing-here"),
        "{text}"
    );
}

/// The start line of a JSON log is on stdout with `log_dest stdout`, and nothing
/// is on stderr.
#[test]
fn json_log_on_stdout() {
    let (_d, conf) = config_file("log_dest stdout\nlog_format json\n");
    let mut child = mq_command()
        .args(["broker", "-p", "0", "-c", conf.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    let _child = KillOnDrop(child);
    let line = wait_for_line(&out, "listen socket on port", LOG_WAIT);
    check_json_line(&line);
    assert!(err.try_recv().is_err(), "nothing on stderr");
}
