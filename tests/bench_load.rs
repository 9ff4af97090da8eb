//! `mq bench pub/sub/pubsub` against the embedded broker on port 0: it stops at
//! `--limit` and `--duration`, counts what it sends and receives exactly, and prints
//! the documented `--json` summary (schema `mq-bench/1`).

mod common;

use common::{
    bench_json, bench_target, embedded_broker, run_bench, stdout_json, text, unused_port,
};
use mq::broker::BrokerHandle;
use mq::cmd::bench::{BenchPlan, LoadPlan, Target, run_load};
use mq::cmd::bench_args::{BenchArgs, Mode};
use mq::protocol::{ProtocolVersion, QoS};
use std::time::{Duration, Instant};

fn plan(handle: &BrokerHandle, mode: &'static str, qos: QoS, version: ProtocolVersion) -> LoadPlan {
    LoadPlan {
        mode,
        target: bench_target(handle.local_addr(), version, &format!("bench-{mode}-")),
        publishers: 2,
        subscribers: if mode == "pub" { 0 } else { 1 },
        topic: "bench/%i".into(),
        sub_filter: "bench/+".into(),
        qos,
        retain: false,
        size: 64,
        interval: None,
        target_rate: None,
        inflight: 16,
        limit: None,
        duration: None,
        conn_rate: None,
        drain: Duration::from_secs(5),
        quiet: true,
        ready: None,
    }
}

#[tokio::test]
async fn pubsub_limit_delivers_every_message_once_at_each_qos() {
    let handle = embedded_broker().await;
    for (qos, version) in [
        (QoS::AtMostOnce, ProtocolVersion::V311),
        (QoS::AtLeastOnce, ProtocolVersion::V5),
        (QoS::ExactlyOnce, ProtocolVersion::V311),
    ] {
        let mut p = plan(&handle, "pubsub", qos, version);
        p.limit = Some(2_000);
        let (s, _) =
            tokio::time::timeout(Duration::from_secs(20), run_load(p, std::future::pending()))
                .await
                .expect("stops at --limit")
                .expect("runs");
        assert_eq!(s.stopped_by, "limit", "{qos:?}");
        assert_eq!(s.messages.sent, 2_000, "{qos:?}");
        assert_eq!(
            s.messages.acked, 2_000,
            "{qos:?}: every QoS 1/2 message acknowledged"
        );
        let d = s.delivery.expect("pubsub reports delivery");
        assert_eq!(
            d.unique + d.lost,
            2_000,
            "{qos:?}: every message is received or lost"
        );
        assert_eq!(d.duplicates, 0, "{qos:?}");
        assert_eq!(s.messages.received, d.unique, "{qos:?}");
        assert_eq!(s.latency_us.map(|l| l.count), Some(d.unique));
        if qos != QoS::AtMostOnce {
            // QoS 1/2 are never dropped by a broker; QoS 0 may be when a subscriber's
            // queue is full under a burst, and then it shows as lost.
            assert_eq!(d.lost, 0, "{qos:?}");
        }
        assert_eq!(s.ack_latency_us.is_some(), qos != QoS::AtMostOnce);
        assert_eq!(s.connections.succeeded, 3);
        assert!(s.errors.is_empty(), "{qos:?}: {:?}", s.errors);
    }
    handle.shutdown().await;
}

#[tokio::test]
async fn duration_stops_a_paced_publisher_on_time() {
    let handle = embedded_broker().await;
    let mut p = plan(&handle, "pub", QoS::AtMostOnce, ProtocolVersion::V311);
    p.duration = Some(Duration::from_millis(600));
    // 2 publishers, 500 msg/s in total: 2 ms per publisher... 4 ms interval each.
    p.interval = Some(Duration::from_millis(4));
    p.target_rate = Some(500.0);
    let started = Instant::now();
    let (s, _) = tokio::time::timeout(Duration::from_secs(10), run_load(p, std::future::pending()))
        .await
        .expect("stops at --duration")
        .expect("runs");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(s.stopped_by, "duration");
    assert!(
        (0.55..1.5).contains(&s.duration_s),
        "duration {}",
        s.duration_s
    );
    // 500/s for 0.6 s = 300 messages, give or take the ramp.
    assert!(
        (200..=330).contains(&s.messages.sent),
        "sent {}",
        s.messages.sent
    );
    assert!(s.delivery.is_none());
    handle.shutdown().await;
}

#[tokio::test]
async fn interrupt_still_produces_a_summary() {
    let handle = embedded_broker().await;
    let p = plan(&handle, "pubsub", QoS::AtMostOnce, ProtocolVersion::V311);
    let ctrl_c = tokio::time::sleep(Duration::from_millis(300));
    let (s, _) = tokio::time::timeout(Duration::from_secs(15), run_load(p, ctrl_c))
        .await
        .expect("stops on interrupt")
        .expect("runs");
    assert_eq!(s.stopped_by, "interrupt");
    assert!(s.messages.sent > 0);
    let d = s.delivery.expect("delivery");
    assert_eq!(
        d.lost + d.unique,
        s.messages.sent,
        "every sent message is either received or lost"
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn sub_limit_stops_the_subscriber() {
    let handle = embedded_broker().await;
    let mut sub = plan(&handle, "sub", QoS::AtMostOnce, ProtocolVersion::V311);
    sub.publishers = 0;
    sub.limit = Some(500);
    let ready = std::sync::Arc::new(tokio::sync::Notify::new());
    sub.ready = Some(ready.clone());
    let bench = tokio::spawn(run_load(sub, std::future::pending()));
    ready.notified().await;
    let mut publ = plan(&handle, "pub", QoS::AtLeastOnce, ProtocolVersion::V311);
    publ.limit = Some(1_000);
    let (p, _) = run_load(publ, std::future::pending())
        .await
        .expect("pub runs");
    assert_eq!(p.messages.sent, 1_000);
    let (s, _) = tokio::time::timeout(Duration::from_secs(10), bench)
        .await
        .expect("sub stops at --limit")
        .expect("task")
        .expect("runs");
    assert_eq!(s.stopped_by, "limit");
    assert!(s.messages.received >= 500);
    handle.shutdown().await;
}

/// The load plan the flags of `a` lower into.
fn plan_from(a: BenchArgs) -> anyhow::Result<LoadPlan> {
    match a.into_options()? {
        BenchPlan::Load { plan, .. } => Ok(plan),
        other => anyhow::bail!("not a load mode: {other:?}"),
    }
}

fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
    use clap::Parser;
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        bench: BenchArgs,
    }
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    Wrapper::try_parse_from(all).map(|w| w.bench)
}

#[test]
fn command_line_shapes() {
    let a = parse(&[
        "pubsub",
        "-h",
        "127.0.0.1",
        "-p",
        "1",
        "-c",
        "4",
        "-q",
        "1",
        "-s",
        "100",
        "-t",
        "x/%i",
        "--rate",
        "1000/s",
        "--duration",
        "1.5s",
    ])
    .expect("parses");
    let p = plan_from(a).expect("plan");
    assert_eq!(
        (p.publishers, p.subscribers, p.size, p.qos),
        (4, 1, 100, QoS::AtLeastOnce)
    );
    assert_eq!(p.sub_filter, "x/+");
    assert_eq!(
        p.interval,
        Some(Duration::from_millis(4)),
        "1000/s over 4 publishers"
    );
    assert_eq!(p.duration, Some(Duration::from_millis(1500)));
    let a = parse(&["pub", "-I", "10", "-c", "2"]).expect("parses");
    assert!(matches!(a.mode, Mode::Pub(_)));
    assert!(
        parse(&["pub", "-I", "10", "--rate", "5/s"]).is_err(),
        "-I and --rate conflict"
    );
    assert!(parse(&["pub", "-q", "3"]).is_err());
    assert!(parse(&["sub", "-c", "0"]).is_err(), "at least one client");
    assert!(parse(&["pub", "--duration", "10 parsecs"]).is_err());
    let Err(help) = parse(&["conn", "--help"]) else {
        panic!("--help stops parsing");
    };
    assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
    let wss = parse(&["pub", "-L", "wss://127.0.0.1:1/mqtt"]).expect("parses");
    let Ok(plan) = plan_from(wss) else {
        panic!("WebSocket over TLS load is accepted");
    };
    let transport = plan
        .target
        .transport
        .as_ref()
        .expect("wss uses the client transport");
    assert!(transport.scheme.is_tls() && transport.scheme.is_websocket());
    assert_eq!(plan.target.display(), "wss://127.0.0.1:1/mqtt");
    let tcp = parse(&["pub", "-L", "mqtt://127.0.0.1:1"]).expect("parses");
    let plan = plan_from(tcp).expect("plain TCP");
    assert!(
        plan.target.transport.is_none(),
        "plain mqtt:// takes the bare TCP path"
    );
}

#[test]
fn json_summary_schema_from_the_binary() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let handle = rt.block_on(embedded_broker());
    let port = handle.local_addr().port().to_string();
    let v = bench_json(
        &[
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
            "300",
            "--json",
            "--quiet",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(v["schema"], "mq-bench/1");
    assert_eq!(v["mode"], "pubsub");
    assert_eq!(v["broker"], format!("mqtt://127.0.0.1:{port}"));
    assert_eq!(v["protocol"], "3.1.1");
    assert_eq!(v["qos"], 1);
    assert_eq!(v["payload_bytes"], 64);
    assert_eq!(v["publishers"], 2);
    assert_eq!(v["subscribers"], 1);
    assert!(v["target_rate_per_s"].is_null());
    assert!(v["duration_s"].is_f64());
    assert_eq!(v["stopped_by"], "limit");
    for k in ["attempted", "succeeded", "failed"] {
        assert!(v["connections"][k].is_u64(), "connections.{k}");
    }
    assert!(v["connections"]["per_s"].is_number());
    assert_eq!(v["messages"]["sent"], 300);
    assert_eq!(v["messages"]["acked"], 300);
    assert_eq!(v["messages"]["received"], 300);
    assert_eq!(v["messages"]["foreign"], 0);
    for k in ["sent_per_s", "acked_per_s", "received_per_s"] {
        assert!(v["rates"][k].is_number(), "rates.{k}");
    }
    for k in ["unique", "duplicates", "reordered", "lost"] {
        assert!(v["delivery"][k].is_u64(), "delivery.{k}");
    }
    assert_eq!(v["delivery"]["lost"], 0);
    for l in ["latency_us", "ack_latency_us", "connections"] {
        let obj = if l == "connections" {
            &v[l]["connect_us"]
        } else {
            &v[l]
        };
        for k in ["count", "min", "p50", "p90", "p99", "p999", "max"] {
            assert!(obj[k].is_u64(), "{l}.{k}");
        }
        assert!(obj["mean"].is_number(), "{l}.mean");
    }
    assert!(v["errors"].as_object().is_some_and(|e| e.is_empty()));
    assert!(v["notes"].is_array());
    rt.block_on(handle.shutdown());
}

#[test]
fn csv_series_has_a_header_and_one_row_per_second() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let handle = rt.block_on(embedded_broker());
    let port = handle.local_addr().port().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("series.csv");
    let out = run_bench(
        &[
            "pubsub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--rate",
            "200/s",
            "--duration",
            "2200ms",
            "--csv",
            csv.to_str().expect("UTF-8 path"),
        ],
        Duration::from_secs(30),
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(
        stderr.lines().filter(|l| l.contains("sent=")).count() >= 2,
        "plain progress lines: {stderr}"
    );
    let text = std::fs::read_to_string(&csv).expect("csv written");
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("elapsed_s,connected,sent,"))
    );
    assert!(lines.count() >= 2);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("stopped by duration"), "{stdout}");
    rt.block_on(handle.shutdown());
}

#[tokio::test]
async fn conn_storm_connects_every_client_and_reports_connect_times() {
    use mq::cmd::bench::{ConnPlan, run_conn};
    let handle = embedded_broker().await;
    let plan = ConnPlan {
        target: bench_target(handle.local_addr(), ProtocolVersion::V5, "storm-"),
        clients: 200,
        conn_rate: Some(2_000.0),
        hold: Duration::from_millis(200),
        quiet: true,
    };
    let (s, _) = tokio::time::timeout(
        Duration::from_secs(20),
        run_conn(plan, std::future::pending()),
    )
    .await
    .expect("storm finishes");
    assert_eq!(s.mode, "conn");
    assert_eq!(s.stopped_by, "completed");
    assert_eq!(
        (
            s.connections.attempted,
            s.connections.succeeded,
            s.connections.failed
        ),
        (200, 200, 0)
    );
    assert_eq!(s.connections.connect_us.map(|l| l.count), Some(200));
    assert!(s.connections.per_s > 0.0);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    handle.shutdown().await;
}

#[test]
fn conn_to_a_closed_port_counts_failures_by_reason() {
    let port = unused_port().to_string();
    let out = run_bench(
        &[
            "conn",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-c",
            "5",
            "--json",
            "--quiet",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1), "no connection succeeded");
    let v = stdout_json(&out);
    assert_eq!(v["stopped_by"], "failed");
    assert_eq!(v["connections"]["failed"], 5);
    assert_eq!(v["errors"]["io: connection refused"], 5);
}

#[tokio::test]
async fn sub_without_a_broker_ends_as_failed_instead_of_waiting_forever() {
    let nobody = ([127, 0, 0, 1], unused_port()).into();
    let p = LoadPlan {
        mode: "sub",
        target: Target {
            connect_timeout: Duration::from_secs(2),
            ..bench_target(nobody, ProtocolVersion::V311, "nobody-")
        },
        publishers: 0,
        subscribers: 2,
        topic: "bench".into(),
        sub_filter: "bench/#".into(),
        qos: QoS::AtMostOnce,
        retain: false,
        size: 0,
        interval: None,
        target_rate: None,
        inflight: 1,
        limit: None,
        duration: None,
        conn_rate: None,
        drain: Duration::ZERO,
        quiet: true,
        ready: None,
    };
    let (s, _) = tokio::time::timeout(Duration::from_secs(10), run_load(p, std::future::pending()))
        .await
        .expect("ends by itself")
        .expect("runs");
    assert_eq!(s.stopped_by, "failed");
    assert_eq!(s.connections.failed, 2);
    assert_eq!(s.errors.get("io: connection refused"), Some(&2));
}
