//! The `$SYS/broker/...` topics, published (retained) every `sys_interval` like
//! mosquitto's: version, uptime, clients, messages, bytes, subscriptions, retained
//! messages, stored messages and 1/5/15-minute load averages, rendered from the
//! broker's [`Snapshot`] (the figures `/metrics` shows too).

use super::message::Message;
use super::state::State;
use super::stats::{Detail, Snapshot};
use crate::protocol::{ByteStr, Properties, QoS};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// The counters, kept in [`super::stats`] (named here as they always were).
pub use super::stats::Stats;

/// 1, 5 and 15-minute moving averages of a counter, per minute (mosquitto's formula).
#[derive(Debug, Default)]
struct Load {
    last: u64,
    avg: [f64; 3],
}

impl Load {
    fn update(&mut self, value: u64, interval: f64) {
        let delta = value.saturating_sub(self.last) as f64;
        self.last = value;
        for (avg, minutes) in self.avg.iter_mut().zip([1.0f64, 5.0, 15.0]) {
            let exponent = (-interval / (minutes * 60.0)).exp();
            *avg = (1.0 - exponent) * delta * 60.0 / interval + exponent * *avg;
        }
    }
}

/// Publish `$SYS` every `interval` until shutdown.
pub async fn run(state: Arc<State>, interval: Duration) {
    let mut shutdown = state.shutdown.clone();
    let version = format!("mq version {}", env!("CARGO_PKG_VERSION"));
    publish(&state, "version", version).await;
    let mut loads: Vec<(&'static str, Load)> = [
        "load/messages/received",
        "load/messages/sent",
        "load/publish/received",
        "load/publish/sent",
        "load/publish/dropped",
        "load/bytes/received",
        "load/bytes/sent",
        "load/connections",
    ]
    .into_iter()
    .map(|n| (n, Load::default()))
    .collect();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = super::state::stopped(&mut shutdown) => return,
        }
        let snap = Snapshot::take(&state, Detail::Figures);
        let c = &snap.counters;
        let secs = interval.as_secs_f64().max(0.001);
        let sources = [
            c.messages_received,
            c.messages_sent,
            c.publish_received,
            c.publish_sent,
            c.publish_dropped,
            c.bytes_received,
            c.bytes_sent,
            c.connections,
        ];
        for ((_, load), value) in loads.iter_mut().zip(sources) {
            load.update(value, secs);
        }
        let mut values = figures(&snap);
        for (name, load) in &loads {
            for (avg, window) in load.avg.iter().zip(["1min", "5min", "15min"]) {
                values.push((format!("{name}/{window}"), format!("{avg:.2}")));
            }
        }
        for (name, value) in values {
            publish(&state, &name, value).await;
        }
    }
}

/// The `$SYS/broker/...` topics (but the load averages) and their values.
fn figures(snap: &Snapshot) -> Vec<(String, String)> {
    let c = &snap.counters;
    let connected = c.clients_connected;
    let total = snap.sessions;
    let stored = snap.stored;
    let retained = snap.retained;
    vec![
        (
            "uptime".into(),
            format!("{} seconds", snap.uptime.as_secs()),
        ),
        ("clients/connected".into(), connected.to_string()),
        ("clients/active".into(), connected.to_string()),
        (
            "clients/disconnected".into(),
            snap.disconnected().to_string(),
        ),
        ("clients/inactive".into(), snap.disconnected().to_string()),
        ("clients/total".into(), total.to_string()),
        ("clients/maximum".into(), c.clients_maximum.to_string()),
        ("clients/expired".into(), c.clients_expired.to_string()),
        ("messages/received".into(), c.messages_received.to_string()),
        ("messages/sent".into(), c.messages_sent.to_string()),
        ("messages/stored".into(), (stored + retained).to_string()),
        (
            "publish/messages/received".into(),
            c.publish_received.to_string(),
        ),
        ("publish/messages/sent".into(), c.publish_sent.to_string()),
        (
            "publish/messages/dropped".into(),
            c.publish_dropped.to_string(),
        ),
        (
            "publish/bytes/received".into(),
            c.publish_bytes_received.to_string(),
        ),
        (
            "publish/bytes/sent".into(),
            c.publish_bytes_sent.to_string(),
        ),
        ("bytes/received".into(), c.bytes_received.to_string()),
        ("bytes/sent".into(), c.bytes_sent.to_string()),
        ("subscriptions/count".into(), snap.subscriptions.to_string()),
        (
            "shared_subscriptions/count".into(),
            snap.shared_subscriptions.to_string(),
        ),
        ("retained messages/count".into(), retained.to_string()),
        (
            "store/messages/count".into(),
            (stored + retained).to_string(),
        ),
        (
            "store/messages/bytes".into(),
            (snap.stored_bytes + snap.retained_bytes).to_string(),
        ),
    ]
}

async fn publish(state: &State, name: &str, value: String) {
    let msg = Message::new(
        ByteStr::from(format!("$SYS/broker/{name}")),
        Bytes::from(value),
        QoS::AtMostOnce,
        true,
        Properties::default(),
        None,
    );
    state.publish(Arc::new(msg)).await;
}
