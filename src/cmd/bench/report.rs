//! What a bench run reports: the live counters the progress display reads
//! (`progress.rs`), the per-second series for `--csv`, and the final summary as text or
//! as one JSON object (schema `mq-bench/1`, documented in the module doc of
//! `mq::cmd::bench` and in docs/bench.md).

use super::stats::{Delivery, Latency, LatencyBucket, LatencySummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Version tag of the JSON summary; bumped only on an incompatible change.
pub const SCHEMA: &str = "mq-bench/1";

/// Counters shared by every worker, read once per second by the progress reporter.
/// Workers add in batches (once per socket read or write burst), not per message.
#[derive(Default)]
pub struct Live {
    /// Connections currently established.
    pub connected: AtomicU64,
    /// PUBLISH packets written.
    pub sent: AtomicU64,
    /// PUBACK/PUBCOMP received.
    pub acked: AtomicU64,
    /// Bench messages received by subscribers.
    pub received: AtomicU64,
    /// Errors of any kind.
    pub errors: AtomicU64,
    /// Latencies recorded since the last sample (for the per-second series).
    pub interval_latency: Mutex<Latency>,
}

impl Live {
    /// Add to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// One second of the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the start of the load.
    pub elapsed_s: f64,
    /// Connections established at that moment.
    pub connected: u64,
    /// Totals so far.
    pub sent: u64,
    /// Totals so far.
    pub acked: u64,
    /// Totals so far.
    pub received: u64,
    /// Totals so far.
    pub errors: u64,
    /// Rates over the last interval.
    pub sent_per_s: f64,
    /// Rates over the last interval.
    pub acked_per_s: f64,
    /// Rates over the last interval.
    pub received_per_s: f64,
    /// Latency percentiles over the last interval (µs), 0 when no message arrived.
    pub latency_p50_us: u64,
    /// Latency percentiles over the last interval (µs).
    pub latency_p99_us: u64,
    /// Latency percentiles over the last interval (µs).
    pub latency_max_us: u64,
}

/// Write the per-second series as CSV.
pub fn write_csv(path: &Path, samples: &[Sample]) -> std::io::Result<()> {
    let mut out = String::from(
        "elapsed_s,connected,sent,acked,received,errors,sent_per_s,acked_per_s,received_per_s,latency_p50_us,latency_p99_us,latency_max_us\n",
    );
    for s in samples {
        out.push_str(&format!(
            "{:.3},{},{},{},{},{},{:.1},{:.1},{:.1},{},{},{}\n",
            s.elapsed_s,
            s.connected,
            s.sent,
            s.acked,
            s.received,
            s.errors,
            s.sent_per_s,
            s.acked_per_s,
            s.received_per_s,
            s.latency_p50_us,
            s.latency_p99_us,
            s.latency_max_us
        ));
    }
    std::fs::write(path, out)
}

/// Connection figures of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Connections {
    /// Connections tried.
    pub attempted: u64,
    /// CONNACK with success received.
    pub succeeded: u64,
    /// Failed (refused, timed out, socket error).
    pub failed: u64,
    /// Connections established per second during the ramp (`conn` mode; 0 otherwise).
    pub per_s: f64,
    /// Connect (TCP, plus any TLS / WebSocket handshake) to CONNACK, µs.
    pub connect_us: Option<LatencySummary>,
}

/// Message counts of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Messages {
    /// PUBLISH packets written by the publishers.
    pub sent: u64,
    /// Acknowledged (PUBACK at QoS 1, PUBCOMP at QoS 2); equals `sent` at QoS 0.
    pub acked: u64,
    /// Bench messages received by the subscribers (every copy).
    pub received: u64,
    /// Received messages without a bench header, or (pubsub) from another run.
    pub foreign: u64,
}

/// Mean rates over the run, per second.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Rates {
    /// `messages.sent / duration_s`.
    pub sent_per_s: f64,
    /// `messages.acked / duration_s`.
    pub acked_per_s: f64,
    /// `messages.received` over the time from the start to the last message received.
    pub received_per_s: f64,
}

/// The final summary: printed as text, or as one JSON object with `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// `pub`, `sub`, `pubsub` or `conn`.
    pub mode: &'static str,
    /// `mqtt://host:port`, or the URL of another transport (`mqtts://`, `ws://...`).
    pub broker: String,
    /// `3.1`, `3.1.1` or `5.0`.
    pub protocol: &'static str,
    /// QoS of the publishes / subscriptions (null for `conn`).
    pub qos: Option<u8>,
    /// Payload size in bytes (null for `sub` and `conn`).
    pub payload_bytes: Option<usize>,
    /// Publishing connections.
    pub publishers: u64,
    /// Subscribing connections (for `conn`: 0).
    pub subscribers: u64,
    /// Target total publish rate (null = as fast as possible).
    pub target_rate_per_s: Option<f64>,
    /// Seconds from the start of the load to the stop.
    pub duration_s: f64,
    /// `limit`, `duration`, `interrupt`, `completed` or `failed`.
    pub stopped_by: &'static str,
    /// Connection figures.
    pub connections: Connections,
    /// Message counts.
    pub messages: Messages,
    /// Mean rates.
    pub rates: Rates,
    /// Loss, duplicates and reordering (null when nothing subscribes).
    pub delivery: Option<Delivery>,
    /// End-to-end latency, µs (null when nothing was received).
    pub latency_us: Option<LatencySummary>,
    /// PUBLISH to PUBACK/PUBCOMP, µs (null at QoS 0).
    pub ack_latency_us: Option<LatencySummary>,
    /// Errors by kind.
    pub errors: BTreeMap<String, u64>,
    /// Remarks that qualify the figures (e.g. the open-file limit).
    pub notes: Vec<String>,
    /// `--label`: what ran, in the user's words (e.g. the broker's name and version);
    /// null when not given.
    pub label: Option<String>,
    /// End-to-end latency distribution in logarithmic buckets (null when nothing was
    /// received).
    pub latency_histogram_us: Option<Vec<LatencyBucket>>,
    /// The per-second series (the rows of `--csv`).
    pub series: Vec<Sample>,
}

/// The one-line explanation of QoS 0 loss, with the command that shows the broker's
/// own count of what it dropped (`$SYS/broker/publish/messages/dropped`, published by
/// mosquitto and `mq broker`).
pub fn qos0_loss_note(lost: u64, host: &str, port: u16) -> String {
    format!(
        "{lost} message(s) lost at QoS 0, which allows a broker to drop messages under overload (at most once delivery); the broker's own count: mq sub -h {host} -p {port} -t '$SYS/broker/publish/messages/dropped' -C 1"
    )
}

impl Summary {
    /// The summary as one JSON line.
    pub fn to_json(&self) -> String {
        // Invariant: every field is a plain number, string, map or list; serializing
        // cannot fail (non-finite floats become null).
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The human-readable summary.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let mut line = |k: &str, v: String| o.push_str(&format!("  {k:<13}{v}\n"));
        if let Some(l) = &self.label {
            line("label", l.clone());
        }
        line(
            "broker",
            format!("{} (MQTT {})", self.broker, self.protocol),
        );
        let mut shape = Vec::new();
        if self.publishers > 0 {
            shape.push(format!("{} publisher(s)", self.publishers));
        }
        if self.subscribers > 0 {
            shape.push(format!("{} subscriber(s)", self.subscribers));
        }
        if let Some(q) = self.qos {
            shape.push(format!("QoS {q}"));
        }
        if let Some(b) = self.payload_bytes {
            shape.push(format!("{b} B payload"));
        }
        if let Some(r) = self.target_rate_per_s {
            let unit = if self.mode == "conn" {
                "connections"
            } else {
                "msg"
            };
            shape.push(format!("target {r:.0} {unit}/s"));
        }
        if !shape.is_empty() {
            line("load", shape.join(", "));
        }
        line(
            "duration",
            format!("{:.2} s (stopped by {})", self.duration_s, self.stopped_by),
        );
        let c = &self.connections;
        line(
            "connections",
            if self.mode == "conn" {
                format!(
                    "{} of {} ok, {} failed, {:.0}/s established",
                    c.succeeded, c.attempted, c.failed, c.per_s
                )
            } else {
                format!("{} of {} ok, {} failed", c.succeeded, c.attempted, c.failed)
            },
        );
        if let Some(l) = &c.connect_us {
            line("connect time", l.line());
        }
        if self.publishers > 0 {
            line(
                "sent",
                format!(
                    "{} ({:.0} msg/s)",
                    self.messages.sent, self.rates.sent_per_s
                ),
            );
            if self.qos.unwrap_or(0) > 0 {
                line(
                    "acked",
                    format!(
                        "{} ({:.0} msg/s)",
                        self.messages.acked, self.rates.acked_per_s
                    ),
                );
            }
        }
        if self.subscribers > 0 {
            line(
                "received",
                format!(
                    "{} ({:.0} msg/s){}",
                    self.messages.received,
                    self.rates.received_per_s,
                    if self.messages.foreign > 0 {
                        format!(", {} foreign", self.messages.foreign)
                    } else {
                        String::new()
                    }
                ),
            );
        }
        if let Some(d) = &self.delivery {
            line(
                "delivery",
                format!(
                    "{} unique, {} lost, {} duplicates, {} reordered",
                    d.unique, d.lost, d.duplicates, d.reordered
                ),
            );
        }
        if let Some(l) = &self.latency_us {
            line("latency", l.line());
        }
        if let Some(l) = &self.ack_latency_us {
            line("ack latency", l.line());
        }
        if self.errors.is_empty() {
            line("errors", "none".to_string());
        } else {
            let list: Vec<String> = self
                .errors
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            line("errors", list.join(", "));
        }
        for n in &self.notes {
            line("note", n.clone());
        }
        format!("mq bench {}\n{o}", self.mode)
    }

    /// Print to stdout (JSON or text).
    pub fn print(&self, json: bool) {
        let text = if json { self.to_json() } else { self.to_text() };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", text.trim_end());
        let _ = out.flush();
    }
}

/// The protocol version as the summary spells it.
pub fn version_name(v: crate::protocol::ProtocolVersion) -> &'static str {
    use crate::protocol::ProtocolVersion::*;
    match v {
        V31 => "3.1",
        V311 => "3.1.1",
        V5 => "5.0",
    }
}
