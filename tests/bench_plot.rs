//! `mq bench … --plot FILE.svg` and `mq bench plot A.json B.json -o FILE.svg`: real
//! runs against the embedded broker on port 0, the SVG parsed as XML and checked for
//! its parts (title, both panels' axis labels, percentile markers, legend entries);
//! the progress lines when stderr is not a terminal; and the one-line explanation
//! when messages are lost at QoS 0, against a fake broker that drops every other one.

mod common;

use bytes::{Bytes, BytesMut};
use common::{embedded_broker, one_mq_line, run_bench, stdout_json, text};
use mq::cmd::bench::stats::fmt_us;
use mq::protocol::{ConnAck, Packet, Properties, ProtocolVersion, ReasonCode, SubAck};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Every text of an SVG file, after checking that the file is well-formed XML whose
/// root is an `<svg>` element.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).expect("plot written");
    let doc = roxmltree::Document::parse(&svg).expect("the plot is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn has(texts: &[String], want: &str) -> bool {
    texts.iter().any(|t| t == want)
}

fn has_containing(texts: &[String], want: &str) -> bool {
    texts.iter().any(|t| t.contains(want))
}

/// `mq bench pubsub` against the embedded broker for a little over 2 s at a fixed
/// rate, with extra flags; returns (JSON summary, stderr).
fn pubsub_run(port: u16, extra: &[&str]) -> (serde_json::Value, String) {
    let port = port.to_string();
    let mut args = vec![
        "pubsub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "--rate",
        "200/s",
        "--duration",
        "2200ms",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = run_bench(&args, RUN_LIMIT);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    (stdout_json(&out), stderr)
}

#[test]
fn plot_of_one_run_has_its_title_both_panels_and_the_percentiles() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let handle = rt.block_on(embedded_broker());
    let port = handle.local_addr().port();
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = dir.path().join("run.svg");
    let (v, stderr) = pubsub_run(
        port,
        &[
            "--plot",
            svg.to_str().expect("UTF-8 path"),
            "--label",
            "embedded mq",
        ],
    );
    rt.block_on(handle.shutdown());

    // Not a terminal: the plain lines, one a second, and no acked= at QoS 0.
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(" sent=")).collect();
    assert!(lines.len() >= 2, "plain progress lines: {stderr}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" received=") && !l.contains("acked=")),
        "{stderr}"
    );

    // The JSON carries what the plot is drawn from.
    assert_eq!(v["label"], "embedded mq");
    let series = v["series"].as_array().expect("series");
    assert!(series.len() >= 2, "{series:?}");
    assert!(series.iter().all(|s| s["sent_per_s"].is_number()));
    let buckets = v["latency_histogram_us"].as_array().expect("histogram");
    let in_buckets: u64 = buckets.iter().filter_map(|b| b["count"].as_u64()).sum();
    assert_eq!(Some(in_buckets), v["latency_us"]["count"].as_u64());
    assert!(
        buckets
            .iter()
            .all(|b| b["from_us"].as_f64() < b["to_us"].as_f64())
    );

    let texts = svg_texts(&svg);
    assert!(has(&texts, "embedded mq: mq bench pubsub"), "{texts:?}");
    let what = format!(
        "mq bench pubsub against mqtt://127.0.0.1:{port}: MQTT 3.1.1, QoS 0, 1 publisher(s), 1 subscriber(s), 64 B payload, target 200 msg/s"
    );
    assert!(has_containing(&texts, &what), "{texts:?}");
    for label in [
        "End-to-end latency distribution",
        "latency (log scale)",
        "messages (%)",
        "Messages per second",
        "time (s)",
        "rate (msg/s)",
        "sent",
        "received",
    ] {
        assert!(has(&texts, label), "{label:?} missing from {texts:?}");
    }
    let l = &v["latency_us"];
    for (name, key) in [
        ("p50", "p50"),
        ("p90", "p90"),
        ("p99", "p99"),
        ("p99.9", "p999"),
        ("max", "max"),
    ] {
        let us = l[key].as_u64().expect("percentile");
        let marker = format!("{name} {}", fmt_us(us));
        assert!(has(&texts, &marker), "{marker:?} missing from {texts:?}");
    }
}

#[test]
fn bench_plot_draws_two_saved_runs_with_a_legend_naming_each() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let handle = rt.block_on(embedded_broker());
    let port = handle.local_addr().port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, _) = pubsub_run(port, &["--label", "mq at QoS 0"]);
    let (b, stderr_b) = pubsub_run(port, &["-q", "1"]);
    rt.block_on(handle.shutdown());
    assert!(
        stderr_b
            .lines()
            .filter(|l| l.contains(" sent="))
            .all(|l| l.contains(" acked=")),
        "acked= is shown at QoS 1: {stderr_b}"
    );
    let a_path = dir.path().join("first.json");
    let b_path = dir.path().join("second-run.json");
    std::fs::write(&a_path, a.to_string()).expect("write");
    std::fs::write(&b_path, b.to_string()).expect("write");
    let svg = dir.path().join("both.svg");
    let out = run_bench(
        &[
            "plot",
            a_path.to_str().expect("UTF-8"),
            b_path.to_str().expect("UTF-8"),
            "-o",
            svg.to_str().expect("UTF-8"),
        ],
        RUN_LIMIT,
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let texts = svg_texts(&svg);
    assert!(
        has(&texts, "mq bench: mq at QoS 0 vs second-run"),
        "{texts:?}"
    );
    // Named by --label, else by the file name.
    assert!(has_containing(
        &texts,
        "mq at QoS 0: mq bench pubsub against"
    ));
    assert!(has_containing(
        &texts,
        "second-run: mq bench pubsub against"
    ));
    assert!(has_containing(&texts, "QoS 1, 1 publisher(s)"));
    for entry in [
        "mq at QoS 0 sent",
        "mq at QoS 0 received",
        "second-run sent",
        "second-run received",
    ] {
        assert!(
            has(&texts, entry),
            "legend entry {entry:?} missing: {texts:?}"
        );
    }
    // Each run's p50 is marked.
    for v in [&a, &b] {
        let p50 = format!(
            "p50 {}",
            fmt_us(v["latency_us"]["p50"].as_u64().expect("p50"))
        );
        assert!(has(&texts, &p50), "{p50:?} missing: {texts:?}");
    }
}

#[test]
fn an_older_summary_without_series_or_histogram_still_plots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("old.json");
    std::fs::write(
        &old,
        r#"{"schema":"mq-bench/1","mode":"pubsub","broker":"mqtt://127.0.0.1:1883","protocol":"5.0","qos":1,"payload_bytes":64,"publishers":4,"subscribers":1,"target_rate_per_s":null,"duration_s":10.0,"stopped_by":"duration","connections":{"attempted":5,"succeeded":5,"failed":0,"per_s":0.0,"connect_us":null},"messages":{"sent":10,"acked":10,"received":10,"foreign":0},"rates":{"sent_per_s":1.0,"acked_per_s":1.0,"received_per_s":1.0},"delivery":null,"latency_us":{"count":10,"min":90,"mean":200.0,"p50":150,"p90":400,"p99":900,"p999":950,"max":1200},"ack_latency_us":null,"errors":{},"notes":[]}"#,
    )
    .expect("write");
    let svg = dir.path().join("old.svg");
    let out = run_bench(
        &[
            "plot",
            old.to_str().expect("UTF-8"),
            "-o",
            svg.to_str().expect("UTF-8"),
            "--title",
            "An old run",
        ],
        RUN_LIMIT,
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let texts = svg_texts(&svg);
    assert!(has(&texts, "An old run"), "{texts:?}");
    assert!(has_containing(&texts, "MQTT 5.0, QoS 1, 4 publisher(s)"));
    assert!(has_containing(&texts, "as fast as possible"));
    for marker in [
        "p50 150µs",
        "p90 400µs",
        "p99 900µs",
        "p99.9 950µs",
        "max 1.20ms",
    ] {
        assert!(has(&texts, marker), "{marker:?} missing: {texts:?}");
    }
    assert!(has_containing(&texts, "no per-second samples"), "{texts:?}");
}

#[test]
fn bad_plot_input_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = dir.path().join("out.svg");
    let svg = svg.to_str().expect("UTF-8");
    let missing = dir.path().join("missing.json");
    let not_json = dir.path().join("notes.json");
    std::fs::write(&not_json, "elapsed_s,connected\n1,2\n").expect("write");
    let other = dir.path().join("check.json");
    std::fs::write(
        &other,
        r#"{"schema":"mq-bench-check/1","broker":"x","ok":true}"#,
    )
    .expect("write");
    let cases = [
        (missing.clone(), "cannot read"),
        (not_json, "is not an `mq bench --json` summary"),
        (
            other,
            "schema \"mq-bench-check/1\", expected \"mq-bench/1\"",
        ),
    ];
    for (input, want) in cases {
        let out = run_bench(
            &["plot", input.to_str().expect("UTF-8"), "-o", svg],
            RUN_LIMIT,
        );
        assert_eq!(out.status.code(), Some(1), "{input:?}");
        let line = one_mq_line(&out.stderr);
        assert!(line.contains(want), "{input:?}: {line}");
    }
    assert!(!Path::new(svg).exists(), "nothing is written on an error");

    let out = run_bench(&["conn", "-p", "1", "--plot", svg], RUN_LIMIT);
    assert!(!out.status.success());
    let line = one_mq_line(&out.stderr);
    assert!(
        line.contains("--plot is not supported yet for bench conn"),
        "{line}"
    );
}

/// A fake broker that accepts every client and subscription and forwards only every
/// other QoS 0 PUBLISH to the subscribers: loss the bench must explain.
async fn dropping_broker() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let subscribers: Arc<Mutex<Vec<mpsc::Sender<Bytes>>>> = Arc::default();
    let published = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn(async move {
        // Bounded: the bench opens two connections.
        for _ in 0..16 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (subscribers, published) = (subscribers.clone(), published.clone());
            tokio::spawn(async move {
                let (mut rd, mut wr) = stream.into_split();
                let (tx, mut rx) = mpsc::channel::<Bytes>(100_000);
                tokio::spawn(async move {
                    while let Some(b) = rx.recv().await {
                        if wr.write_all(&b).await.is_err() {
                            return;
                        }
                    }
                });
                let mut version = ProtocolVersion::V311;
                let mut buf = BytesMut::new();
                loop {
                    let packet = match mq::protocol::decode(&mut buf, version, 0) {
                        Ok(Some(p)) => p,
                        Ok(None) => match rd.read_buf(&mut buf).await {
                            Ok(n) if n > 0 => continue,
                            _ => return,
                        },
                        Err(_) => return,
                    };
                    let reply = match packet {
                        Packet::Connect(c) => {
                            version = c.protocol;
                            Some(Packet::ConnAck(ConnAck::default()))
                        }
                        Packet::Subscribe(s) => {
                            if let Ok(mut subs) = subscribers.lock() {
                                subs.push(tx.clone());
                            }
                            Some(Packet::SubAck(SubAck {
                                packet_id: s.packet_id,
                                reason_codes: vec![ReasonCode::SUCCESS; s.filters.len()],
                                properties: Properties::default(),
                            }))
                        }
                        Packet::Publish(p) => {
                            if published.fetch_add(1, Ordering::Relaxed) % 2 == 0 {
                                let mut out = BytesMut::new();
                                mq::protocol::encode(&Packet::Publish(p), version, &mut out)
                                    .expect("encode");
                                let out = out.freeze();
                                let subs =
                                    subscribers.lock().map(|s| s.clone()).unwrap_or_default();
                                for s in subs {
                                    let _ = s.try_send(out.clone());
                                }
                            }
                            None
                        }
                        Packet::PingReq => Some(Packet::PingResp),
                        Packet::Disconnect(_) => return,
                        _ => None,
                    };
                    if let Some(r) = reply {
                        let mut out = BytesMut::new();
                        mq::protocol::encode(&r, version, &mut out).expect("encode");
                        if tx.send(out.freeze()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (port, task)
}

#[test]
fn qos_0_loss_is_explained_in_one_line_without_acked() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (port, broker) = rt.block_on(dropping_broker());
    let port = port.to_string();
    let out = run_bench(
        &[
            "pubsub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--rate",
            "400/s",
            "--limit",
            "200",
        ],
        RUN_LIMIT,
    );
    broker.abort();
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    assert!(stdout.contains("100 unique"), "{stdout}");
    assert!(stdout.contains("100 lost"), "{stdout}");
    let notes: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("lost at QoS 0"))
        .collect();
    assert_eq!(notes.len(), 1, "{stdout}");
    assert!(notes[0].trim_start().starts_with("note"), "{}", notes[0]);
    assert!(notes[0].contains("allows a broker to drop messages under overload"));
    assert!(
        notes[0].contains(&format!(
            "mq sub -h 127.0.0.1 -p {port} -t '$SYS/broker/publish/messages/dropped' -C 1"
        )),
        "{}",
        notes[0]
    );
    assert!(
        !stdout.lines().any(|l| l.trim_start().starts_with("acked")),
        "{stdout}"
    );
    assert!(!text(&out.stderr).contains("acked="));
}
