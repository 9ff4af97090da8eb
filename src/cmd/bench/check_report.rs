//! The report of `mq bench check`: what was found for each protocol version, printed
//! as an indented text report (after HiveMQ's `mqtt test`) or as one JSON object
//! (schema `mq-bench-check/1`, described in `check.rs` and docs/bench.md).

use super::stats::fmt_us;
use crate::protocol::Properties;
use serde::Serialize;

/// Pass or fail with a reason.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// Whether it worked.
    pub ok: bool,
    /// What happened, in words.
    pub detail: String,
}

/// The connection attempt.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectOutcome {
    /// CONNACK with success.
    pub ok: bool,
    /// What happened.
    pub detail: String,
    /// TCP connect to CONNACK, µs.
    pub time_us: u64,
}

/// One QoS round trip.
#[derive(Clone, Debug, Serialize)]
pub struct RoundTrip {
    /// QoS of the subscription and the publishes.
    pub qos: u8,
    /// Messages published.
    pub sent: u32,
    /// Messages received back.
    pub received: u32,
    /// First publish to last receipt, µs.
    pub time_us: u64,
    /// All came back.
    pub ok: bool,
}

/// The payload size probe.
#[derive(Clone, Debug, Serialize)]
pub struct PayloadProbe {
    /// Largest payload that made the round trip (0 = none).
    pub largest_ok: usize,
    /// Smallest size tried that failed, if any.
    pub first_failed: Option<usize>,
    /// Why it failed, or the limit of the probe.
    pub detail: String,
}

/// The MQTT 5.0 CONNACK properties that limit a client, as announced (None = absent).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ConnackLimits {
    /// Absent = 65535 [MQTT-3.2.2.3.3].
    pub receive_maximum: Option<u16>,
    /// Absent = 2.
    pub maximum_qos: Option<u8>,
    /// Absent = 1 (available).
    pub retain_available: Option<u8>,
    /// Absent = no limit beyond the protocol's.
    pub maximum_packet_size: Option<u32>,
    /// Absent = 0 (no aliases).
    pub topic_alias_maximum: Option<u16>,
    /// Absent = 1.
    pub wildcard_subscription_available: Option<u8>,
    /// Absent = 1.
    pub subscription_identifier_available: Option<u8>,
    /// Absent = 1.
    pub shared_subscription_available: Option<u8>,
    /// Absent = the client's keep alive is used.
    pub server_keep_alive: Option<u16>,
    /// Absent = the client's value is used.
    pub session_expiry_interval: Option<u32>,
    /// Whether the server assigned a client identifier.
    pub assigned_client_identifier: Option<String>,
}

impl ConnackLimits {
    pub(super) fn from_properties(p: &Properties) -> ConnackLimits {
        ConnackLimits {
            receive_maximum: p.receive_maximum,
            maximum_qos: p.maximum_qos,
            retain_available: p.retain_available,
            maximum_packet_size: p.maximum_packet_size,
            topic_alias_maximum: p.topic_alias_maximum,
            wildcard_subscription_available: p.wildcard_subscription_available,
            subscription_identifier_available: p.subscription_identifier_available,
            shared_subscription_available: p.shared_subscription_available,
            server_keep_alive: p.server_keep_alive,
            session_expiry_interval: p.session_expiry_interval,
            assigned_client_identifier: p.assigned_client_identifier.clone(),
        }
    }
}

/// Everything checked for one protocol version.
#[derive(Clone, Debug, Serialize)]
pub struct VersionReport {
    /// `3.1`, `3.1.1` or `5.0`.
    pub protocol: &'static str,
    /// The CONNECT.
    pub connect: ConnectOutcome,
    /// QoS 0, 1, 2 round trips.
    pub qos: Vec<RoundTrip>,
    /// Retained message delivered to a later subscriber.
    pub retained: Option<Outcome>,
    /// `+` and `#` filters.
    pub wildcards: Option<Outcome>,
    /// `$share/<group>/<filter>`.
    pub shared_subscriptions: Option<Outcome>,
    /// Largest payload.
    pub payload: Option<PayloadProbe>,
    /// 5.0 CONNACK limits.
    pub connack: Option<ConnackLimits>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Always `mq-bench-check/1`.
    pub schema: &'static str,
    /// `mqtt://host:port` (or mqtts://, ws://...).
    pub broker: String,
    /// At least one version connected and every test that ran passed.
    pub ok: bool,
    /// One entry per version tried.
    pub versions: Vec<VersionReport>,
}

impl CheckReport {
    /// Whether the broker passed.
    pub fn ok(&self) -> bool {
        self.ok
    }

    /// One JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The indented text report.
    pub fn to_text(&self) -> String {
        let mut o = format!("Broker {}\n", self.broker);
        let yes = |b: bool| if b { "OK" } else { "FAILED" };
        for v in &self.versions {
            if !v.connect.ok {
                o.push_str(&format!(
                    "MQTT {}: FAILED ({})\n",
                    v.protocol, v.connect.detail
                ));
                continue;
            }
            o.push_str(&format!(
                "MQTT {}: OK (connected in {})\n",
                v.protocol,
                fmt_us(v.connect.time_us)
            ));
            for q in &v.qos {
                o.push_str(&format!(
                    "    - QoS {}: received {}/{} publishes in {}{}\n",
                    q.qos,
                    q.received,
                    q.sent,
                    fmt_us(q.time_us),
                    if q.ok { "" } else { " (FAILED)" }
                ));
            }
            for (name, f) in [
                ("Retain", &v.retained),
                ("Wildcard subscriptions", &v.wildcards),
                ("Shared subscriptions", &v.shared_subscriptions),
            ] {
                if let Some(f) = f {
                    o.push_str(&format!("    - {name}: {} ({})\n", yes(f.ok), f.detail));
                }
            }
            if let Some(p) = &v.payload {
                let s = match p.first_failed {
                    None => format!(">= {} bytes ({})", p.largest_ok, p.detail),
                    Some(f) => format!("{} bytes; {} bytes failed: {}", p.largest_ok, f, p.detail),
                };
                o.push_str(&format!("    - Payload size: {s}\n"));
            }
            if let Some(c) = &v.connack {
                o.push_str("    - Connect restrictions:\n");
                let opt = |v: Option<String>, default: &str| {
                    v.unwrap_or_else(|| format!("{default} (not sent, default)"))
                };
                let flag = |v: Option<u8>| {
                    v.map_or("yes (not sent, default)".to_string(), |b| {
                        if b == 1 { "yes".into() } else { "no".into() }
                    })
                };
                let lines = [
                    (
                        "Receive maximum",
                        opt(c.receive_maximum.map(|v| v.to_string()), "65535"),
                    ),
                    (
                        "Maximum QoS",
                        opt(c.maximum_qos.map(|v| v.to_string()), "2"),
                    ),
                    ("Retain available", flag(c.retain_available)),
                    (
                        "Maximum packet size",
                        opt(
                            c.maximum_packet_size.map(|v| format!("{v} bytes")),
                            "no limit",
                        ),
                    ),
                    (
                        "Topic alias maximum",
                        opt(c.topic_alias_maximum.map(|v| v.to_string()), "0"),
                    ),
                    (
                        "Wildcard subscriptions",
                        flag(c.wildcard_subscription_available),
                    ),
                    (
                        "Subscription identifiers",
                        flag(c.subscription_identifier_available),
                    ),
                    (
                        "Shared subscriptions",
                        flag(c.shared_subscription_available),
                    ),
                    (
                        "Server keep alive",
                        opt(
                            c.server_keep_alive.map(|v| format!("{v} s")),
                            "client's value",
                        ),
                    ),
                    (
                        "Session expiry interval",
                        opt(
                            c.session_expiry_interval.map(|v| format!("{v} s")),
                            "client-based",
                        ),
                    ),
                ];
                for (k, v) in lines {
                    o.push_str(&format!("        > {k}: {v}\n"));
                }
            }
        }
        o
    }
}
