//! Black-box tests of `mq carpark ...` over real sockets: the `mq` binary against the
//! embedded broker on a free loopback port. The display's text (`--once`, piped), the
//! will that marks a killed controller `offline`, its kept session, gates and sensor
//! from the command line, and `mq carpark demo` with a summary that adds up.

mod common;

use bytes::Bytes;
use common::{embedded_broker, mq_command, next_message, watcher};
use mq::broker::BrokerHandle;
use mq::client::{Client, Events};
use mq::protocol::{Publish, QoS};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const STEP: Duration = Duration::from_secs(10);

/// `mq carpark <ARGS>` (environment defaults cleared), killed if dropped.
fn carpark(args: &[&str]) -> Command {
    let mut c = Command::from(mq_command());
    c.arg("carpark")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

/// `mq carpark <role> <args> -h 127.0.0.1 -p PORT`, in UTC (log lines are in local
/// time).
fn mq(b: &BrokerHandle, role: &str, args: &[&str]) -> Command {
    let mut c = carpark(&[role]);
    c.args(args)
        .args(["-h", "127.0.0.1", "-p", &b.local_addr().port().to_string()])
        .env("TZ", "UTC");
    c
}

/// Run `cmd` to its end and assert that it exits 0.
async fn run_ok(mut cmd: Command) -> Output {
    let out = cmd.output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn retain(client: &Client, topic: &str, payload: &str) {
    let p = Publish {
        qos: QoS::AtLeastOnce,
        retain: true,
        topic: topic.into(),
        payload: Bytes::copy_from_slice(payload.as_bytes()),
        ..Publish::default()
    };
    client.publish(p).await.expect("publish");
}

fn display_json(capacity: u32, occupied: u32, temperature: &str) -> String {
    format!(
        r#"{{"capacity":{capacity},"occupied":{occupied},"free":{},"full":{},"temperature":{temperature},"updated":"2026-11-24T21:27:09.000+00:00"}}"#,
        capacity - occupied,
        occupied == capacity
    )
}

/// True if `line` is `<prefix> | HH:MM:SS UTC` (the clock is whatever time it is).
fn has_clock_after(line: &str, prefix: &str) -> bool {
    let Some(rest) = line.strip_prefix(prefix) else {
        return false;
    };
    let Some(hms) = rest
        .strip_prefix(" | ")
        .and_then(|r| r.strip_suffix(" UTC"))
    else {
        return false;
    };
    hms.len() == 8
        && hms.bytes().enumerate().all(|(i, c)| {
            if i == 2 || i == 5 {
                c == b':'
            } else {
                c.is_ascii_digit()
            }
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn display_once_prints_the_retained_state() {
    let b = embedded_broker().await;
    let (test, _events) = watcher(&b, &[]).await;
    retain(&test, "carpark/display", &display_json(120, 79, "18.5")).await;
    let out = run_ok(mq(&b, "display", &["--once", "--name", "Level 1"])).await;
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.trim_end_matches('\n');
    assert!(!line.contains('\n') && !line.contains('\u{1b}'), "{text:?}");
    assert!(
        has_clock_after(line, "Level 1 | 41 free of 120 | 18.5 °C"),
        "{line:?}"
    );

    retain(&test, "carpark/display", &display_json(10, 10, "null")).await;
    retain(&test, "carpark/controller/status", "offline").await;
    let out = mq(&b, "display", &["--once"]).output().await.unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Car park | FULL (0 free of 10) | -- °C | "),
        "{text:?}"
    );
    // The retained status arrives before the display state [MQTT-3.3.1-6].
    assert!(text.ends_with(" UTC | controller offline\n"), "{text:?}");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn display_once_exits_1_without_a_controller() {
    let b = embedded_broker().await;
    let started = std::time::Instant::now();
    let out = mq(&b, "display", &["--once", "-W", "1"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no controller state on carpark/display within 1 s"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_display_prints_one_plain_line_per_update() {
    let b = embedded_broker().await;
    let (test, _events) = watcher(&b, &[]).await;
    let mut child = mq(
        &b,
        "display",
        &["--name", "L2", "--prefix", "carpark/level2"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Wait until the display is subscribed: the retained state arrives at once.
    retain(&test, "carpark/level2/display", &display_json(3, 1, "null")).await;
    let next = async |lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>| {
        tokio::time::timeout(STEP, lines.next_line())
            .await
            .expect("a line in time")
            .unwrap()
            .expect("a line")
    };
    let line = next(&mut lines).await;
    assert!(
        has_clock_after(&line, "L2 | 2 free of 3 | -- °C"),
        "{line:?}"
    );
    retain(&test, "carpark/level2/display", &display_json(3, 3, "4.5")).await;
    let line = next(&mut lines).await;
    assert!(
        has_clock_after(&line, "L2 | FULL (0 free of 3) | 4.5 °C"),
        "{line:?}"
    );
    assert!(!line.contains('\u{1b}'), "no colours when piped: {line:?}");
    retain(&test, "carpark/level2/controller/status", "offline").await;
    let line = next(&mut lines).await;
    assert!(line.ends_with(" UTC | controller offline"), "{line:?}");
    child.kill().await.unwrap();
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_sets_status_offline_when_the_controller_is_killed() {
    // The will is published when the connection closes without DISCONNECT
    // [MQTT-3.1.2-8]; it is retained, so later subscribers see it too.
    let b = embedded_broker().await;
    let (_test, mut events) = watcher(&b, &["carpark/controller/status"]).await;
    let mut child = mq(&b, "controller", &["--reset", "--quiet", "--capacity", "5"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let p = next_message(&mut events, STEP).await;
    assert_eq!(&p.payload[..], b"online");
    child.kill().await.unwrap(); // by PID, no DISCONNECT sent
    let p = next_message(&mut events, STEP).await;
    assert_eq!(&p.payload[..], b"offline");
    let (_late, mut late) = watcher(&b, &["carpark/controller/status"]).await;
    let p = next_message(&mut late, STEP).await;
    assert_eq!((&p.payload[..], p.retain), (&b"offline"[..], true));
    b.shutdown().await;
}

/// The next line of a controller's log (bounded wait).
async fn next_line(log: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> String {
    tokio::time::timeout(STEP, log.next_line())
        .await
        .expect("a line in time")
        .expect("read")
        .expect("a line")
}

/// Start a controller with `args` and wait for its `online` (it has subscribed by then).
async fn controller_online(
    b: &BrokerHandle,
    args: &[&str],
) -> (
    tokio::process::Child,
    tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) {
    let (_watch, mut status) = watcher(b, &["carpark/controller/status"]).await;
    let mut child = mq(b, "controller", args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let log = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let p = next_message(&mut status, STEP).await;
        if !p.retain && &p.payload[..] == b"online" {
            return (child, log);
        }
    }
}

/// The controller keeps its session under a stable client id: killed, then started
/// again, it resumes the session and counts the cars sent while it was away;
/// `--session-expiry 0` is a clean session, as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_resumes_its_session_from_the_command_line() {
    let b = embedded_broker().await;
    let (mut first, mut log) = controller_online(&b, &["--reset", "--capacity", "5"]).await;
    let line = next_line(&mut log).await;
    assert!(
        line.contains(
            "0 of 5 taken, 5 free (prefix carpark, times in UTC, new session mq-carpark-controller-carpark)"
        ),
        "{line}"
    );
    first.kill().await.unwrap();
    run_ok(mq(&b, "entry", &["--gate", "north", "--count", "2"])).await;
    let (mut second, mut log) = controller_online(&b, &["--capacity", "5"]).await;
    let line = next_line(&mut log).await;
    assert!(
        line.contains(
            "(prefix carpark, times in UTC, session mq-carpark-controller-carpark resumed)"
        ),
        "{line}"
    );
    assert!(
        next_line(&mut log)
            .await
            .ends_with(": 1 of 5 taken, 4 free")
    );
    assert!(
        next_line(&mut log)
            .await
            .ends_with(": 2 of 5 taken, 3 free")
    );
    // Killed once the state that counts them is out (else the clean session below
    // would not see them: they would wait, unacknowledged, in the kept one).
    let (_watch, mut display) = watcher(&b, &["carpark/display"]).await;
    while !next_message(&mut display, STEP)
        .await
        .payload
        .starts_with(br#"{"capacity":5,"occupied":2,"#)
    {}
    second.kill().await.unwrap();
    let (mut clean, mut log) =
        controller_online(&b, &["--capacity", "5", "--session-expiry", "0"]).await;
    let line = next_line(&mut log).await;
    assert!(
        line.ends_with("2 of 5 taken, 3 free (prefix carpark, times in UTC)"),
        "{line}"
    );
    clean.kill().await.unwrap();
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gates_and_sensor_from_the_command_line() {
    let b = embedded_broker().await;
    let (_test, mut events) = watcher(&b, &["carpark/display"]).await;
    let mut controller = mq(&b, "controller", &["--reset", "--capacity", "4"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(controller.stdout.take().unwrap()).lines();
    let free = async |events: &mut Events| {
        let p = next_message(events, STEP).await;
        let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
        (v["occupied"].as_u64().unwrap(), v["temperature"].as_f64())
    };
    assert_eq!(free(&mut events).await, (0, None));
    let out = run_ok(mq(
        &b,
        "entry",
        &["--gate", "north", "--count", "3", "--seed", "1"],
    ))
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches(" in (")
            .count(),
        3
    );
    for n in 1..=3 {
        assert_eq!(free(&mut events).await.0, n);
    }
    run_ok(mq(&b, "exit", &["--gate", "south", "--count", "1"])).await;
    assert_eq!(free(&mut events).await.0, 2);
    run_ok(mq(&b, "sensor", &["--value", "-2.5", "--count", "1"])).await;
    assert_eq!(free(&mut events).await, (2, Some(-2.5)));
    // The controller logs each car.
    let first = tokio::time::timeout(STEP, log.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        first.contains("controller online: 0 of 4 taken, 4 free"),
        "{first}"
    );
    let second = tokio::time::timeout(STEP, log.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        second.contains("entry north (") && second.ends_with(": 1 of 4 taken, 3 free"),
        "{second}"
    );
    controller.kill().await.unwrap();
    b.shutdown().await;
}

/// The gate prints what the controller did with each car: counted (with the
/// display's numbers), turned away at a FULL display, refused by the controller
/// (an alert naming the car), or only sent when no controller answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gates_print_the_controllers_answer_not_just_in() {
    let b = embedded_broker().await;
    let (_test, mut events) = watcher(&b, &["carpark/controller/status"]).await;
    let mut controller = mq(&b, "controller", &["--reset", "--capacity", "2"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let p = next_message(&mut events, STEP).await;
    assert_eq!(&p.payload[..], b"online");
    let out = run_ok(mq(&b, "entry", &["--gate", "north", "--count", "3"])).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].ends_with(" in (1 of 2 taken, 1 free)"), "{text}");
    assert!(lines[1].ends_with(" in (2 of 2 taken, 0 free)"), "{text}");
    assert!(
        lines[2].contains("car park FULL,") && lines[2].ends_with(" turned away"),
        "{text}"
    );
    let out = run_ok(mq(&b, "exit", &["--gate", "south", "--count", "3"])).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].ends_with(" out (1 of 2 taken, 1 free)"), "{text}");
    assert!(lines[1].ends_with(" out (0 of 2 taken, 2 free)"), "{text}");
    assert!(
        lines[2].ends_with("refused by the controller: the car park is empty"),
        "{text}"
    );
    assert!(lines[2].contains("exit south: "), "{text}");
    controller.kill().await.unwrap();
    // The killed controller's will: no one answers now, and the gate says so
    // without waiting long for every car.
    let started = std::time::Instant::now();
    let out = run_ok(mq(&b, "entry", &["--gate", "west", "--count", "3"])).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        text.matches("sent (no answer from the controller").count(),
        3,
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(8), "{text}");
    b.shutdown().await;
}

/// A second controller, or a demo joining the broker, refuses to start beside a
/// live controller on the same prefix; another prefix is fine, and `--take-over`
/// starts anyway. Another controller's `offline` (its will) does not hide one that
/// still runs: it announces itself again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_live_controller_per_prefix() {
    let b = embedded_broker().await;
    let (mut first, _log) = controller_online(&b, &["--reset", "--capacity", "5"]).await;
    for (role, args) in [
        ("controller", &["--capacity", "9"][..]),
        ("demo", &["--duration", "1s"]),
    ] {
        let out = mq(&b, role, args).output().await.unwrap();
        assert_eq!(out.status.code(), Some(1), "{role}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("another controller is already running on prefix carpark")
                && err.contains("--take-over"),
            "{role}: {err}"
        );
    }
    // Nothing was counted or published by them: the display is still the first's.
    let (_d, mut display) = watcher(&b, &["carpark/display"]).await;
    let p = next_message(&mut display, STEP).await;
    let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
    assert_eq!(v["capacity"], 5, "{v}");
    // Another prefix has no controller yet.
    let mut other = mq(&b, "controller", &["--prefix", "level2", "--quiet"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // A stray `offline` (as another controller's will would publish) while the
    // first still runs: it says `online` again.
    let (_s, mut status) = watcher(&b, &["carpark/controller/status"]).await;
    assert_eq!(
        &next_message(&mut status, STEP).await.payload[..],
        b"online"
    );
    let (stray, _events) = Client::connect(common::client_options(&b)).await.unwrap();
    retain(&stray, "carpark/controller/status", "offline").await;
    assert_eq!(
        &next_message(&mut status, STEP).await.payload[..],
        b"offline"
    );
    let p = next_message(&mut status, STEP).await;
    assert_eq!(&p.payload[..], b"online");
    // --take-over starts beside it.
    let (mut second, mut log) =
        controller_online(&b, &["--take-over", "--capacity", "5", "-V", "5"]).await;
    let line = next_line(&mut log).await;
    assert!(line.contains("taking over"), "{line}");
    for child in [&mut first, &mut second, &mut other] {
        child.kill().await.unwrap();
    }
    b.shutdown().await;
}

/// A TZif (RFC 8536, version 1) file for a fixed zone `name` at `offset` seconds
/// east of UTC, with no transitions.
#[cfg(unix)]
fn fixed_zone(name: &str, offset: i32) -> Vec<u8> {
    let mut z = b"TZif".to_vec();
    z.push(0); // version 1
    z.extend_from_slice(&[0; 15]);
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    for n in [0u32, 0, 0, 0, 1, name.len() as u32 + 1] {
        z.extend_from_slice(&n.to_be_bytes());
    }
    z.extend_from_slice(&offset.to_be_bytes());
    z.extend_from_slice(&[0, 0]); // not DST, designation at 0
    z.extend_from_slice(name.as_bytes());
    z.push(0);
    z
}

/// Car-park log lines are in the local time zone (`TZ`, as `mq sub -F` prints
/// times), and the controller's first line names that zone.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_are_in_local_time() {
    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("plus0530");
    std::fs::write(&zone, fixed_zone("IST", 5 * 3600 + 1800)).unwrap();
    let b = embedded_broker().await;
    let (_watch, mut status) = watcher(&b, &["carpark/controller/status"]).await;
    let mut child = mq(&b, "controller", &["--reset", "--capacity", "5"])
        .env("TZ", &zone)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = next_line(&mut log).await;
    let utc = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(line.contains("times in IST"), "{line}");
    let hms: Vec<u64> = line[..8].split(':').map(|p| p.parse().unwrap()).collect();
    let shown = hms[0] * 3600 + hms[1] * 60 + hms[2];
    let expected = (utc + 5 * 3600 + 1800) % 86_400;
    let diff = (shown + 86_400 - expected) % 86_400;
    assert!(
        diff <= 5 || diff >= 86_400 - 5,
        "{line}: expected about {expected} s"
    );
    assert_eq!(
        &next_message(&mut status, STEP).await.payload[..],
        b"online"
    );
    child.kill().await.unwrap();
    b.shutdown().await;
}

/// The number after `label` in the summary.
fn summary_number(text: &str, label: &str) -> i64 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} in {text}"));
    line.trim_start()[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_and_its_summary_adds_up() {
    let out = carpark(&["demo", "--duration", "3s", "--seed", "1"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("embedded MQTT broker listening on 127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("mq sub -h 127.0.0.1 -p "), "{text}");
    assert!(text.contains(" -t 'carpark/#' -v"), "{text}");
    let cars_in = summary_number(&text, "cars in:");
    let cars_out = summary_number(&text, "cars out:");
    let occupied = summary_number(&text, "occupied:");
    assert!(cars_in > 0, "{text}");
    assert_eq!(cars_in - cars_out, occupied, "{text}");
    assert!((0..=20).contains(&occupied), "{text}");
    assert!(
        summary_number(&text, "messages:") > cars_in + cars_out,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensor_reads_one_temperature_per_stdin_line() {
    use tokio::io::AsyncWriteExt;
    let b = embedded_broker().await;
    let (_test, mut events) = watcher(&b, &["carpark/temperature/+"]).await;
    let mut sensor = mq(&b, "sensor", &["--stdin", "--sensor", "roof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = sensor.stdin.take().unwrap();
    stdin
        .write_all(b"18.5\nwarm\n{\"celsius\": 3}\n")
        .await
        .unwrap();
    drop(stdin);
    let out = tokio::time::timeout(STEP, sensor.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipping \"warm\""), "{err}");
    for expected in ["18.5", "3"] {
        let p = next_message(&mut events, STEP).await;
        assert_eq!(&*p.topic, "carpark/temperature/roof");
        assert_eq!(std::str::from_utf8(&p.payload).unwrap(), expected);
    }
    b.shutdown().await;
}

#[tokio::test]
async fn zero_intervals_are_refused_with_the_flag_named() {
    for (role, flag) in [
        ("demo", "--sensor-interval"),
        ("sensor", "--interval"),
        ("controller", "--clock-interval"),
    ] {
        let out = carpark(&[role, flag, "0s", "-p", "1"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{role} {flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{flag} must be above 0")), "{err}");
    }
}
