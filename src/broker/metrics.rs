//! `/metrics`: a [`Snapshot`] in the Prometheus text exposition format 0.0.4 —
//! `# HELP` and `# TYPE` before each family, counters named `..._total`, gauges,
//! and histograms as cumulative `_bucket{le="..."}` series with `_sum` and
//! `_count`. Every name starts with `mq_`.

use super::stats::{DropReason, HistogramSnapshot, LATENCY_BUCKETS_US, ListenerFigures, Snapshot};
use std::fmt::Write;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Render `snap`.
pub fn render(snap: &Snapshot) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let c = &snap.counters;
    let gauges: [(&str, &str, f64); 14] = [
        (
            "mq_uptime_seconds",
            "Seconds since the broker started.",
            snap.uptime.as_secs_f64(),
        ),
        (
            "mq_clients_connected",
            "Clients connected now ($SYS clients/connected).",
            c.clients_connected as f64,
        ),
        (
            "mq_clients_disconnected",
            "Sessions kept for clients that are not connected ($SYS clients/disconnected).",
            snap.disconnected() as f64,
        ),
        (
            "mq_clients_maximum",
            "Most clients connected at once ($SYS clients/maximum).",
            c.clients_maximum as f64,
        ),
        (
            "mq_sessions",
            "Sessions, connected or not ($SYS clients/total).",
            snap.sessions as f64,
        ),
        (
            "mq_subscriptions",
            "Subscriptions ($SYS subscriptions/count).",
            snap.subscriptions as f64,
        ),
        (
            "mq_shared_subscriptions",
            "Shared subscriptions ($SYS shared_subscriptions/count).",
            snap.shared_subscriptions as f64,
        ),
        (
            "mq_retained_messages",
            "Retained messages ($SYS retained messages/count).",
            snap.retained as f64,
        ),
        (
            "mq_retained_bytes",
            "Payload bytes of the retained messages.",
            snap.retained_bytes as f64,
        ),
        (
            "mq_stored_messages",
            "Messages queued, in flight or retained ($SYS store/messages/count).",
            (snap.stored + snap.retained) as f64,
        ),
        (
            "mq_stored_bytes",
            "Payload bytes of the stored messages ($SYS store/messages/bytes).",
            (snap.stored_bytes + snap.retained_bytes) as f64,
        ),
        (
            "mq_queued_messages",
            "Messages waiting in the sessions' queues (queue depth, every session).",
            snap.queued as f64,
        ),
        (
            "mq_inflight_messages",
            "Outgoing QoS 1 and 2 messages awaiting acknowledgement, every session.",
            snap.inflight as f64,
        ),
        (
            "mq_store_enabled",
            "1 with persistence (the store commit histogram is then present), else 0.",
            f64::from(u8::from(snap.store_commits.is_some())),
        ),
    ];
    for (name, help, value) in gauges {
        family(&mut out, name, help, "gauge");
        let _ = writeln!(out, "{name} {value}");
    }
    let counters: [(&str, &str, u64); 12] = [
        (
            "mq_connections_total",
            "Connections accepted ($SYS load/connections counts them).",
            c.connections,
        ),
        (
            "mq_clients_expired_total",
            "Sessions expired ($SYS clients/expired).",
            c.clients_expired,
        ),
        (
            "mq_messages_received_total",
            "Packets received, of every type ($SYS messages/received).",
            c.messages_received,
        ),
        (
            "mq_messages_sent_total",
            "Packets sent, of every type ($SYS messages/sent).",
            c.messages_sent,
        ),
        (
            "mq_publish_received_total",
            "PUBLISH packets received ($SYS publish/messages/received).",
            c.publish_received,
        ),
        (
            "mq_publish_sent_total",
            "PUBLISH packets sent ($SYS publish/messages/sent).",
            c.publish_sent,
        ),
        (
            "mq_publish_dropped_total",
            "Messages dropped at a subscriber's queue ($SYS publish/messages/dropped).",
            c.publish_dropped,
        ),
        (
            "mq_publish_received_bytes_total",
            "PUBLISH payload bytes received ($SYS publish/bytes/received).",
            c.publish_bytes_received,
        ),
        (
            "mq_publish_sent_bytes_total",
            "PUBLISH payload bytes sent ($SYS publish/bytes/sent).",
            c.publish_bytes_sent,
        ),
        (
            "mq_received_bytes_total",
            "Bytes read from clients ($SYS bytes/received).",
            c.bytes_received,
        ),
        (
            "mq_sent_bytes_total",
            "Bytes written to clients ($SYS bytes/sent).",
            c.bytes_sent,
        ),
        (
            "mq_auth_failures_total",
            "CONNECTs refused for an unknown user name or a wrong password.",
            c.auth_failures,
        ),
    ];
    for (name, help, value) in counters {
        family(&mut out, name, help, "counter");
        let _ = writeln!(out, "{name} {value}");
    }
    family(
        &mut out,
        "mq_dropped_messages_total",
        "Messages not delivered to a subscriber, by reason.",
        "counter",
    );
    for (reason, n) in DropReason::ALL.iter().zip(snap.drops) {
        let _ = writeln!(
            out,
            "mq_dropped_messages_total{{reason=\"{}\"}} {n}",
            reason.label()
        );
    }
    listeners(&mut out, snap);
    histogram(
        &mut out,
        "mq_delivery_latency_seconds",
        "Time from routing a PUBLISH to writing it to the subscriber's socket.",
        &snap.delivery_latency,
    );
    if let Some(commits) = &snap.store_commits {
        histogram(
            &mut out,
            "mq_store_commit_seconds",
            "Time one store commit takes (a transaction and its fsync, for many changes).",
            commits,
        );
    }
    out
}

fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One figure of a listener.
type ListenerValue = fn(&ListenerFigures) -> u64;

fn listeners(out: &mut String, snap: &Snapshot) {
    let series: [(&str, &str, &str, ListenerValue); 3] = [
        (
            "mq_listener_connections",
            "Connections open on a listening socket (port/address/protocol).",
            "gauge",
            |l| l.open,
        ),
        (
            "mq_listener_connections_accepted_total",
            "Connections accepted on a listening socket.",
            "counter",
            |l| l.accepted,
        ),
        (
            "mq_listener_connections_refused_total",
            "Connections refused by max_connections on a listening socket.",
            "counter",
            |l| l.refused,
        ),
    ];
    for (name, help, kind, value) in series {
        family(out, name, help, kind);
        for l in &snap.listeners {
            let _ = writeln!(
                out,
                "{name}{{listener=\"{}\"}} {}",
                escape_label(&l.label),
                value(l)
            );
        }
    }
}

fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    family(out, name, help, "histogram");
    let mut cumulative = 0u64;
    for (bound, n) in LATENCY_BUCKETS_US.iter().zip(&h.counts) {
        cumulative += n;
        let le = *bound as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    let count = h.count();
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(out, "{name}_sum {}", h.sum_us as f64 / 1e6);
    let _ = writeln!(out, "{name}_count {count}");
}

/// A label value: backslash, double quote and line feed escaped.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A help text: backslash and line feed escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
