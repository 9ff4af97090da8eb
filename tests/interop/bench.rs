//! `mq bench` against a real mosquitto: every mode (`pubsub`, `pub` with a
//! concurrent `sub`, `conn`, `check`) must work against a broker that is not
//! `mq broker`, with short bounded runs. The counts in the `mq-bench/1` JSON summary
//! must be exact: mosquitto delivers each QoS 1/2 message once to each subscription
//! (sections 4.3.2 and 4.3.3), in the order each publisher sent them (ordered topics,
//! section 4.6).

use crate::common::{
    self, assert_success, mq_command, run_bench, stdout_json, text, wait_until_exit,
};
use crate::peers::{LoggedMosquitto, Mosquitto};
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;

/// Run `mq bench ARGS` to completion (at most 60 s) and parse its JSON summary.
fn bench_json(args: &[&str]) -> Value {
    common::bench_json(args, Duration::from_secs(60))
}

fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{path} missing or not an integer in {v}"))
}

/// The load-mode summary checks shared by every test: schema, stop reason, no errors.
fn assert_clean(v: &Value, mode: &str) {
    assert_eq!(v["schema"], "mq-bench/1", "{v}");
    assert_eq!(v["mode"], mode, "{v}");
    assert_eq!(v["errors"], serde_json::json!({}), "errors reported: {v}");
    assert_eq!(u(v, "/connections/failed"), 0, "{v}");
}

/// The delivery counts of a summary: `unique` messages, none duplicated, lost or out
/// of order.
fn assert_each_once_in_order(v: &Value, unique: u64) {
    assert_eq!(u(v, "/delivery/unique"), unique, "{v}");
    assert_eq!(u(v, "/delivery/duplicates"), 0, "{v}");
    assert_eq!(u(v, "/delivery/lost"), 0, "{v}");
    assert_eq!(u(v, "/delivery/reordered"), 0, "{v}");
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn pubsub_qos1_delivers_every_message_once() {
    // QoS 1 (section 4.3.2): every PUBLISH acknowledged and delivered, none lost.
    let broker = Mosquitto::start();
    let port = broker.port.to_string();
    let v = bench_json(&[
        "pubsub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-c",
        "2",
        "-q",
        "1",
        "--limit",
        "200",
        "--json",
        "--quiet",
    ]);
    assert_clean(&v, "pubsub");
    assert_eq!(v["stopped_by"], "limit", "{v}");
    assert_eq!(v["qos"], 1, "{v}");
    assert_eq!(u(&v, "/publishers"), 2);
    assert_eq!(u(&v, "/subscribers"), 1);
    assert_eq!(u(&v, "/connections/succeeded"), 3, "{v}");
    assert_eq!(u(&v, "/messages/sent"), 200, "{v}");
    assert_eq!(u(&v, "/messages/acked"), 200, "{v}");
    assert_eq!(u(&v, "/messages/received"), 200, "{v}");
    assert_eq!(u(&v, "/messages/foreign"), 0, "{v}");
    // Ordered topics (section 4.6): one publisher's messages arrive in order.
    assert_each_once_in_order(&v, 200);
    assert_eq!(u(&v, "/latency_us/count"), 200, "{v}");
    assert_eq!(u(&v, "/ack_latency_us/count"), 200, "{v}");
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn pubsub_v5_qos2_fan_out_delivers_exactly_once() {
    // QoS 2 (section 4.3.3) under MQTT 5.0, one publisher to three subscribers:
    // every subscriber gets every message exactly once.
    let broker = Mosquitto::start();
    let port = broker.port.to_string();
    let v = bench_json(&[
        "pubsub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-V",
        "5",
        "-c",
        "1",
        "--subscribers",
        "3",
        "-q",
        "2",
        "--limit",
        "100",
        "--json",
        "--quiet",
    ]);
    assert_clean(&v, "pubsub");
    assert_eq!(v["protocol"], "5.0", "{v}");
    assert_eq!(v["qos"], 2, "{v}");
    assert_eq!(u(&v, "/messages/sent"), 100, "{v}");
    assert_eq!(u(&v, "/messages/acked"), 100, "{v}");
    assert_eq!(u(&v, "/messages/received"), 300, "{v}");
    assert_each_once_in_order(&v, 300);
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn pub_and_a_concurrent_sub_finish_and_agree() {
    // Two `mq bench sub` clients on `bench/#` [MQTT-4.7.1-2], then three publishers
    // on `bench/%i` at QoS 1: 300 sent and acknowledged, and each subscriber
    // receives all 300 (600 in total), so `sub --limit 600` stops by itself.
    let broker = LoggedMosquitto::start("");
    let port = broker.port();
    let mut sub = mq_command()
        .args([
            "bench",
            "sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-c",
            "2",
            "-t",
            "bench/#",
            "-q",
            "1",
            "--limit",
            "600",
            "--json",
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mq bench sub");
    broker.wait_count("Sending SUBACK to", 2);

    let p = bench_json(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-c",
        "3",
        "-q",
        "1",
        "-t",
        "bench/%i",
        "--limit",
        "300",
        "--json",
        "--quiet",
    ]);
    assert_clean(&p, "pub");
    assert_eq!(p["stopped_by"], "limit", "{p}");
    assert_eq!(u(&p, "/publishers"), 3);
    assert_eq!(u(&p, "/messages/sent"), 300, "{p}");
    assert_eq!(u(&p, "/messages/acked"), 300, "{p}");
    assert_eq!(u(&p, "/ack_latency_us/count"), 300, "{p}");

    // The subscriber must stop by itself once it has counted its limit.
    if wait_until_exit(&mut sub, Duration::from_secs(20)).is_none() {
        let _ = sub.kill();
        let out = sub.wait_with_output().expect("sub output");
        panic!(
            "mq bench sub did not stop at --limit\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    let out = sub.wait_with_output().expect("sub output");
    assert_success(&out, "mq bench sub");
    let s = stdout_json(&out);
    assert_clean(&s, "sub");
    assert_eq!(s["stopped_by"], "limit", "{s}");
    assert_eq!(u(&s, "/subscribers"), 2);
    assert_eq!(u(&s, "/messages/received"), 600, "{s}");
    assert_eq!(u(&s, "/messages/foreign"), 0, "{s}");
    // Sequence numbers from 0 per publisher, seen by subscribers that joined first:
    // no gap, no duplicate, no reordering.
    assert_each_once_in_order(&s, 600);
    assert_eq!(u(&s, "/latency_us/count"), 600, "{s}");
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn conn_storm_connects_all_fifty() {
    // [MQTT-3.2.0-1] each CONNECT answered with a successful CONNACK.
    let broker = Mosquitto::start();
    let port = broker.port.to_string();
    let v = bench_json(&[
        "conn",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-c",
        "50",
        "--json",
        "--quiet",
    ]);
    assert_clean(&v, "conn");
    assert_eq!(v["stopped_by"], "completed", "{v}");
    assert_eq!(u(&v, "/connections/attempted"), 50, "{v}");
    assert_eq!(u(&v, "/connections/succeeded"), 50, "{v}");
    assert_eq!(u(&v, "/connections/connect_us/count"), 50, "{v}");
}

/// Run `mq bench check --json` against `port` and return its exit success and report.
fn check_json(port: u16) -> (bool, Value) {
    let port = port.to_string();
    let out = run_bench(
        &[
            "check",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-n",
            "5",
            "--max-payload",
            "65536",
            "--timeout",
            "3s",
            "--json",
        ],
        Duration::from_secs(90),
    );
    let v = stdout_json(&out);
    assert_eq!(v["schema"], "mq-bench-check/1", "{v}");
    (out.status.success(), v)
}

fn versions(v: &Value) -> &Vec<Value> {
    v["versions"].as_array().expect("versions array")
}

fn ok(v: &Value, test: &str) -> bool {
    v[test]["ok"].as_bool().unwrap_or(false)
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn check_reports_what_mosquitto_supports() {
    // mosquitto 2.0 accepts 3.1, 3.1.1 and 5.0, every QoS, retained messages,
    // wildcards and `$share` on every version [MQTT-4.8.2-1], and payloads up to
    // the 64 KiB probe.
    let broker = Mosquitto::start();
    let (success, v) = check_json(broker.port);
    assert!(success, "check failed: {v}");
    assert_eq!(v["ok"], true, "{v}");
    let names: Vec<_> = versions(&v)
        .iter()
        .map(|x| x["protocol"].as_str().unwrap_or("?").to_string())
        .collect();
    assert_eq!(names, ["3.1", "3.1.1", "5.0"], "{v}");
    for ver in versions(&v) {
        let p = &ver["protocol"];
        assert!(ok(ver, "connect"), "{p}: {ver}");
        let qos = ver["qos"].as_array().expect("qos array");
        assert_eq!(qos.len(), 3, "{p}: {ver}");
        for (i, q) in qos.iter().enumerate() {
            assert_eq!(q["qos"], i, "{p}: {q}");
            assert_eq!((u(q, "/sent"), u(q, "/received")), (5, 5), "{p}: {q}");
            assert_eq!(q["ok"], true, "{p}: {q}");
        }
        // [MQTT-3.3.1-6] a retained message goes to a later subscriber.
        assert!(ok(ver, "retained"), "{p}: {ver}");
        // [MQTT-4.7.1-2] `#`, [MQTT-4.7.1-3] `+`.
        assert!(ok(ver, "wildcards"), "{p}: {ver}");
        assert!(ok(ver, "shared_subscriptions"), "{p}: {ver}");
        assert_eq!(u(ver, "/payload/largest_ok"), 65536, "{p}: {ver}");
        assert!(ver["payload"]["first_failed"].is_null(), "{p}: {ver}");
    }
    // Only 5.0 has CONNACK properties (section 3.2.2.3); mosquitto announces its
    // inflight window as Receive Maximum and no QoS or packet size limit.
    for ver in &versions(&v)[..2] {
        assert!(ver["connack"].is_null(), "{ver}");
    }
    let c = &versions(&v)[2]["connack"];
    assert!(c["receive_maximum"].as_u64().is_some_and(|n| n > 0), "{c}");
    assert!(c["maximum_qos"].is_null(), "mosquitto allows QoS 2: {c}");
    assert!(c["maximum_packet_size"].is_null(), "{c}");
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn check_reports_a_restricted_mosquitto_as_announced() {
    // A mosquitto configured with limits: the 5.0 CONNACK carries them
    // (section 3.2.2.3), and the checks that hit them fail instead of passing.
    let broker = Mosquitto::start_with(
        "max_inflight_messages 7\nmax_topic_alias 3\nretain_available false\nmax_packet_size 10000\n",
    );
    let (success, v) = check_json(broker.port);
    assert!(!success, "a failed test must give exit status 1: {v}");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(versions(&v).len(), 3, "{v}");
    for ver in versions(&v) {
        let p = &ver["protocol"];
        assert!(ok(ver, "connect"), "{p}: {ver}");
        for q in ver["qos"].as_array().expect("qos array") {
            assert_eq!((u(q, "/sent"), u(q, "/received")), (5, 5), "{p}: {q}");
        }
        // Retained messages are refused: under 5.0 with a reason code, under 3.1.x
        // by closing the connection; the later checks then run on a fresh one.
        assert!(!ok(ver, "retained"), "{p}: {ver}");
        assert!(ok(ver, "wildcards"), "{p}: {ver}");
        assert!(ok(ver, "shared_subscriptions"), "{p}: {ver}");
    }
    let v5 = &versions(&v)[2];
    assert_eq!(v5["protocol"], "5.0");
    let c = &v5["connack"];
    assert_eq!(c["receive_maximum"], 7, "{c}");
    assert_eq!(c["topic_alias_maximum"], 3, "{c}");
    assert_eq!(c["maximum_packet_size"], 10000, "{c}");
    // Retain Available 0: the client must not send a retained PUBLISH
    // [MQTT-3.2.2-14]; the report gives the property's value.
    assert!(
        c["retain_available"] == 0 || c["retain_available"] == false,
        "{c}"
    );
    // Under 5.0 a refused retained PUBLISH does not cost the connection, so the
    // later tests still run and pass.
    assert!(ok(v5, "wildcards"), "{v5}");
    assert!(ok(v5, "shared_subscriptions"), "{v5}");
    // The payload probe (1 KiB x4) passes 4 KiB and stops at 16 KiB > 10000 bytes
    // [MQTT-3.2.2-15].
    assert_eq!(u(v5, "/payload/largest_ok"), 4096, "{v5}");
    assert_eq!(u(v5, "/payload/first_failed"), 16384, "{v5}");
}
