//! Interop: `mq broker --http`'s `/metrics` read by Python's `prometheus_client`
//! text-format parser (`tests/interop/prometheus_parse.py`), the parser Prometheus'
//! own Python client uses: the families and their types are what the README
//! documents, and the counters move after real traffic.

use crate::common::{MqBroker, text};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const STEP: Duration = Duration::from_secs(10);

/// The families of `/metrics` as the parser sees them.
fn parsed(http_port: u16) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/prometheus_parse.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(http_port.to_string())
        .output()
        .expect("python3 with prometheus_client");
    assert!(
        out.status.success(),
        "the parser refused /metrics: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script's JSON")
}

fn family<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["families"]
        .as_array()
        .expect("families")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no family {name} in {doc}"))
}

/// The value of the sample `sample` of family `name` whose labels include `labels`.
fn value(doc: &Value, name: &str, sample: &str, labels: &[(&str, &str)]) -> f64 {
    family(doc, name)["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .find(|s| s[0] == sample && labels.iter().all(|(k, v)| s[1][*k] == *v))
        .and_then(|s| s[2].as_f64())
        .unwrap_or_else(|| panic!("no sample {sample} {labels:?} in family {name}"))
}

#[test]
#[ignore = "needs python3 prometheus_client; run by .ci/run"]
fn prometheus_client_parses_metrics_and_counters_move() {
    let b = MqBroker::start(&["-p", "0", "--http", "0"]);
    let line = b.wait_for("Opening http listen socket on port ", STEP);
    let http_port: u16 = line
        .rsplit("port ")
        .next()
        .and_then(|p| p.trim().trim_end_matches('.').parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));

    let before = parsed(http_port);
    assert!(
        before["content_type"]
            .as_str()
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{}",
        before["content_type"]
    );
    for (name, kind) in [
        ("mq_publish_received", "counter"),
        ("mq_publish_sent", "counter"),
        ("mq_connections", "counter"),
        ("mq_auth_failures", "counter"),
        ("mq_dropped_messages", "counter"),
        ("mq_listener_connections_accepted", "counter"),
        ("mq_clients_connected", "gauge"),
        ("mq_queued_messages", "gauge"),
        ("mq_listener_connections", "gauge"),
        ("mq_delivery_latency_seconds", "histogram"),
    ] {
        assert_eq!(family(&before, name)["type"], kind, "type of {name}");
    }
    let received =
        |doc: &Value| value(doc, "mq_publish_received", "mq_publish_received_total", &[]);
    let listener = format!("{}/127.0.0.1/mqtt", b.port);
    let accepted = |doc: &Value| {
        value(
            doc,
            "mq_listener_connections_accepted",
            "mq_listener_connections_accepted_total",
            &[("listener", listener.as_str())],
        )
    };
    assert_eq!(received(&before), 0.0);

    for i in 0..3 {
        let out = b
            .command("pub")
            .args(["-t", "figures/x", "-q", "1", "-m", &format!("m{i}")])
            .output()
            .expect("mq pub");
        assert!(out.status.success(), "mq pub: {}", text(&out.stderr));
    }

    let after = parsed(http_port);
    assert_eq!(received(&after), 3.0, "three PUBLISH received");
    assert_eq!(
        accepted(&after) - accepted(&before),
        3.0,
        "three connections"
    );
    assert_eq!(
        value(
            &after,
            "mq_delivery_latency_seconds",
            "mq_delivery_latency_seconds_bucket",
            &[("le", "+Inf")]
        ),
        value(
            &after,
            "mq_delivery_latency_seconds",
            "mq_delivery_latency_seconds_count",
            &[]
        ),
        "the +Inf bucket holds every observation"
    );
    assert_eq!(
        value(
            &after,
            "mq_dropped_messages",
            "mq_dropped_messages_total",
            &[("reason", "queue_full")]
        ),
        0.0,
        "nothing dropped"
    );
}
