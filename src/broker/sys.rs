//! Broker statistics and the `$SYS/broker/...` topics, published (retained) every
//! `sys_interval` like mosquitto's: version, uptime, clients, messages, bytes,
//! subscriptions, retained messages, stored messages and 1/5/15-minute load averages.

use super::message::Message;
use super::session::lock;
use super::state::State;
use crate::protocol::{ByteStr, Properties, QoS};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters since start.
#[derive(Debug, Default)]
pub struct Stats {
    /// Bytes read from clients.
    pub bytes_received: AtomicU64,
    /// Bytes written to clients.
    pub bytes_sent: AtomicU64,
    /// Packets received (all types).
    pub messages_received: AtomicU64,
    /// Packets sent (PUBLISH and control packets).
    pub messages_sent: AtomicU64,
    /// PUBLISH received.
    pub publish_received: AtomicU64,
    /// PUBLISH sent.
    pub publish_sent: AtomicU64,
    /// Messages dropped (full queues, offline QoS 0).
    pub publish_dropped: AtomicU64,
    /// PUBLISH payload bytes received.
    pub publish_bytes_received: AtomicU64,
    /// PUBLISH payload bytes sent.
    pub publish_bytes_sent: AtomicU64,
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// Clients currently connected.
    pub clients_connected: AtomicU64,
    /// Most clients connected at once.
    pub clients_maximum: AtomicU64,
    /// Sessions expired.
    pub clients_expired: AtomicU64,
}

impl Stats {
    /// Count a client connecting.
    pub fn client_connected(&self) {
        let n = self.clients_connected.fetch_add(1, Ordering::Relaxed) + 1;
        self.clients_maximum.fetch_max(n, Ordering::Relaxed);
    }

    /// Count a client leaving.
    pub fn client_disconnected(&self) {
        let _ = self
            .clients_connected
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(1))
            });
    }
}

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
        let s = &state.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let secs = interval.as_secs_f64().max(0.001);
        let sources = [
            get(&s.messages_received),
            get(&s.messages_sent),
            get(&s.publish_received),
            get(&s.publish_sent),
            get(&s.publish_dropped),
            get(&s.bytes_received),
            get(&s.bytes_sent),
            get(&s.connections),
        ];
        for ((_, load), value) in loads.iter_mut().zip(sources) {
            load.update(value, secs);
        }
        let (total, stored, stored_bytes) = {
            let sessions = lock(&state.sessions);
            let mut stored = 0usize;
            let mut bytes = 0usize;
            for session in sessions.values() {
                let st = lock(&session.state);
                let (n, b) = st.stored();
                stored += n;
                bytes += b;
            }
            (sessions.len(), stored, bytes)
        };
        let (retained, retained_bytes) = {
            let mut r = state.retained.write().unwrap_or_else(|e| e.into_inner());
            r.purge_expired();
            (r.count(), r.bytes())
        };
        let (subs, shared) = {
            let r = state.router.read().unwrap_or_else(|e| e.into_inner());
            (r.count(), r.shared_count())
        };
        let connected = get(&s.clients_connected);
        let mut values: Vec<(String, String)> = vec![
            (
                "uptime".into(),
                format!("{} seconds", state.started.elapsed().as_secs()),
            ),
            ("clients/connected".into(), connected.to_string()),
            ("clients/active".into(), connected.to_string()),
            (
                "clients/disconnected".into(),
                (total as u64).saturating_sub(connected).to_string(),
            ),
            (
                "clients/inactive".into(),
                (total as u64).saturating_sub(connected).to_string(),
            ),
            ("clients/total".into(), total.to_string()),
            (
                "clients/maximum".into(),
                get(&s.clients_maximum).to_string(),
            ),
            (
                "clients/expired".into(),
                get(&s.clients_expired).to_string(),
            ),
            (
                "messages/received".into(),
                get(&s.messages_received).to_string(),
            ),
            ("messages/sent".into(), get(&s.messages_sent).to_string()),
            ("messages/stored".into(), (stored + retained).to_string()),
            (
                "publish/messages/received".into(),
                get(&s.publish_received).to_string(),
            ),
            (
                "publish/messages/sent".into(),
                get(&s.publish_sent).to_string(),
            ),
            (
                "publish/messages/dropped".into(),
                get(&s.publish_dropped).to_string(),
            ),
            (
                "publish/bytes/received".into(),
                get(&s.publish_bytes_received).to_string(),
            ),
            (
                "publish/bytes/sent".into(),
                get(&s.publish_bytes_sent).to_string(),
            ),
            ("bytes/received".into(), get(&s.bytes_received).to_string()),
            ("bytes/sent".into(), get(&s.bytes_sent).to_string()),
            ("subscriptions/count".into(), subs.to_string()),
            ("shared_subscriptions/count".into(), shared.to_string()),
            ("retained messages/count".into(), retained.to_string()),
            (
                "store/messages/count".into(),
                (stored + retained).to_string(),
            ),
            (
                "store/messages/bytes".into(),
                (stored_bytes + retained_bytes).to_string(),
            ),
        ];
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
