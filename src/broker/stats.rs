//! The broker's figures: the counters every connection updates (plain atomics, no
//! lock), the latency histograms, and [`Snapshot::take`], the one function that
//! gathers them with the session table's figures for `$SYS` ([`super::sys`]),
//! `/metrics` and `/clients` ([`super::http`]).
//!
//! Taking a snapshot never holds the session table's lock while it walks the
//! sessions: it copies the table's `Arc`s under the lock, lets go, then locks each
//! session on its own, briefly. A client connecting meanwhile waits for one copy of
//! a vector of pointers, not for the whole walk.

use super::origin::Peer;
use super::session::{Session, lock};
use super::state::State;
use crate::protocol::ProtocolVersion;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Messages dropped (full queues, offline QoS 0, stuck subscribers).
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
    /// CONNECTs refused for a wrong user name or password.
    pub auth_failures: AtomicU64,
    /// Messages not delivered, by reason ([`DropReason`]).
    drops: [AtomicU64; DropReason::ALL.len()],
    /// From routing a PUBLISH to handing it to the subscriber's socket.
    pub delivery_latency: Histogram,
    /// Every listening socket's counters, in the order they were opened.
    listeners: Mutex<Vec<Arc<ListenerStats>>>,
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

    /// Count `n` messages not delivered for `reason`. The reasons that are part of
    /// `$SYS/broker/publish/messages/dropped` count there too.
    pub fn dropped(&self, reason: DropReason, n: u64) {
        self.drops[reason as usize].fetch_add(n, Ordering::Relaxed);
        if reason.counts_in_sys() {
            self.publish_dropped.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Register a listening socket's counters.
    pub fn add_listener(&self, listener: Arc<ListenerStats>) {
        lock(&self.listeners).push(listener);
    }
}

/// Why a message was not delivered to one subscriber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The subscriber's queue was full (its oldest QoS 0 message made room for a
    /// QoS 1/2 one, or a subscriber away or marked stuck had no room).
    QueueFull,
    /// The subscriber's writer made no progress for `queue_wait`: it is stuck.
    StuckSubscriber,
    /// QoS 0 for a session that is offline (not queued without
    /// `queue_qos0_messages`), or one that has just ended.
    OfflineQos0,
    /// Its Message Expiry Interval ran out in the queue [MQTT-3.3.2-5].
    Expired,
    /// Larger than the subscriber's Maximum Packet Size [MQTT-3.1.2-25].
    TooLarge,
}

impl DropReason {
    /// Every reason, in the order of their counters.
    pub const ALL: [DropReason; 5] = [
        DropReason::QueueFull,
        DropReason::StuckSubscriber,
        DropReason::OfflineQos0,
        DropReason::Expired,
        DropReason::TooLarge,
    ];

    /// The label value in `/metrics`.
    pub fn label(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::StuckSubscriber => "stuck_subscriber",
            DropReason::OfflineQos0 => "offline_qos0",
            DropReason::Expired => "expired",
            DropReason::TooLarge => "too_large",
        }
    }

    /// Whether `$SYS/broker/publish/messages/dropped` counts it (as it always has:
    /// the drops at a subscriber's queue).
    fn counts_in_sys(self) -> bool {
        !matches!(self, DropReason::Expired | DropReason::TooLarge)
    }
}

/// Upper bounds of the latency histograms' buckets, in microseconds (100 µs to
/// 10 s; slower goes to `+Inf`).
pub const LATENCY_BUCKETS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

const BUCKETS: usize = LATENCY_BUCKETS_US.len() + 1;

/// A latency histogram of atomic counters: recording takes no lock.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative; the last one is `+Inf`).
    counts: [AtomicU64; BUCKETS],
    /// Sum of the observations, in microseconds.
    sum_us: AtomicU64,
}

fn bucket_of(us: u64) -> usize {
    LATENCY_BUCKETS_US.partition_point(|&bound| bound < us)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Histogram {
    /// Record one observation.
    pub fn record(&self, d: Duration) {
        let us = micros(d);
        self.counts[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Add what a [`LocalHistogram`] gathered (a writer's batch).
    pub fn merge(&self, local: &LocalHistogram) {
        if local.total == 0 {
            return;
        }
        for (shared, &n) in self.counts.iter().zip(&local.counts) {
            if n > 0 {
                shared.fetch_add(n, Ordering::Relaxed);
            }
        }
        self.sum_us.fetch_add(local.sum_us, Ordering::Relaxed);
    }

    /// A copy of the counts.
    pub fn read(&self) -> HistogramSnapshot {
        let mut counts = [0; BUCKETS];
        for (c, a) in counts.iter_mut().zip(&self.counts) {
            *c = a.load(Ordering::Relaxed);
        }
        HistogramSnapshot {
            counts,
            sum_us: self.sum_us.load(Ordering::Relaxed),
        }
    }
}

/// Observations gathered without atomics, then merged at once into a shared
/// [`Histogram`]: one write per bucket touched instead of one per message.
#[derive(Debug, Default)]
pub struct LocalHistogram {
    counts: [u64; BUCKETS],
    sum_us: u64,
    total: u64,
}

impl LocalHistogram {
    /// Record one observation.
    pub fn record(&mut self, d: Duration) {
        let us = micros(d);
        self.counts[bucket_of(us)] += 1;
        self.sum_us = self.sum_us.saturating_add(us);
        self.total += 1;
    }
}

/// A histogram's counts at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// Observations per bucket of [`LATENCY_BUCKETS_US`], then `+Inf`.
    pub counts: [u64; BUCKETS],
    /// Sum of the observations, in microseconds.
    pub sum_us: u64,
}

impl HistogramSnapshot {
    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// One listening socket's counters.
#[derive(Debug, Default)]
pub struct ListenerStats {
    /// `port/address/protocol`, e.g. `1883/127.0.0.1/mqtt`.
    pub label: String,
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections accepted since start.
    pub accepted: AtomicU64,
    /// Connections refused by `max_connections`.
    pub refused: AtomicU64,
}

impl ListenerStats {
    /// New counters for the socket named `label`.
    pub fn new(label: String) -> ListenerStats {
        ListenerStats {
            label,
            open: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }
}

/// One listener's figures in a [`Snapshot`].
#[derive(Clone, Debug)]
pub struct ListenerFigures {
    /// See [`ListenerStats::label`].
    pub label: String,
    /// Connections open.
    pub open: u64,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Connections refused by `max_connections`.
    pub refused: u64,
}

/// The counters of [`Stats`] at one moment.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// See [`Stats::bytes_received`].
    pub bytes_received: u64,
    /// See [`Stats::bytes_sent`].
    pub bytes_sent: u64,
    /// See [`Stats::messages_received`].
    pub messages_received: u64,
    /// See [`Stats::messages_sent`].
    pub messages_sent: u64,
    /// See [`Stats::publish_received`].
    pub publish_received: u64,
    /// See [`Stats::publish_sent`].
    pub publish_sent: u64,
    /// See [`Stats::publish_dropped`].
    pub publish_dropped: u64,
    /// See [`Stats::publish_bytes_received`].
    pub publish_bytes_received: u64,
    /// See [`Stats::publish_bytes_sent`].
    pub publish_bytes_sent: u64,
    /// See [`Stats::connections`].
    pub connections: u64,
    /// See [`Stats::clients_connected`].
    pub clients_connected: u64,
    /// See [`Stats::clients_maximum`].
    pub clients_maximum: u64,
    /// See [`Stats::clients_expired`].
    pub clients_expired: u64,
    /// See [`Stats::auth_failures`].
    pub auth_failures: u64,
}

/// One client (session) in a snapshot, for `/clients`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ClientFigures {
    /// Client identifier.
    pub id: String,
    /// `host:port` of its connection; `None` while the session is offline.
    pub address: Option<String>,
    /// `3.1`, `3.1.1` or `5.0`; `None` while offline.
    pub protocol: Option<&'static str>,
    /// The listener it connected through (`port/address/protocol`); `None` while
    /// offline.
    pub listener: Option<String>,
    /// Whether a connection is attached.
    pub connected: bool,
    /// Its subscriptions' filters.
    pub subscriptions: Vec<String>,
    /// Messages queued for it.
    pub queued: usize,
    /// Outgoing QoS 1/2 messages awaiting acknowledgement.
    pub inflight: usize,
}

/// What a snapshot includes besides the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// The totals only (`$SYS`, `/metrics`).
    Figures,
    /// Every client too (`/clients`).
    Clients,
}

/// The broker's figures at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Time since start.
    pub uptime: Duration,
    /// The counters.
    pub counters: Counters,
    /// Sessions in the table (connected or not).
    pub sessions: usize,
    /// Messages queued, over every session.
    pub queued: usize,
    /// Outgoing messages in flight, over every session.
    pub inflight: usize,
    /// Messages queued or in flight, over every session.
    pub stored: usize,
    /// Their payload bytes.
    pub stored_bytes: usize,
    /// Retained messages.
    pub retained: usize,
    /// Their payload bytes.
    pub retained_bytes: usize,
    /// Subscriptions in the tree.
    pub subscriptions: usize,
    /// Shared subscriptions among them.
    pub shared_subscriptions: usize,
    /// Messages not delivered, per reason, in the order of [`DropReason::ALL`].
    pub drops: [u64; DropReason::ALL.len()],
    /// Every listening socket.
    pub listeners: Vec<ListenerFigures>,
    /// See [`Stats::delivery_latency`].
    pub delivery_latency: HistogramSnapshot,
    /// The store's commit times (`None` without persistence).
    pub store_commits: Option<HistogramSnapshot>,
    /// Every session, with [`Detail::Clients`] (empty otherwise).
    pub clients: Vec<ClientFigures>,
}

impl Snapshot {
    /// Gather the figures of `state`. The session table is locked only to copy
    /// its entries; each session is then locked on its own.
    pub fn take(state: &State, detail: Detail) -> Snapshot {
        let sessions: Vec<Arc<Session>> = lock(&state.sessions).values().cloned().collect();
        let mut snap = Snapshot {
            uptime: state.started.elapsed(),
            counters: counters(&state.stats),
            sessions: sessions.len(),
            queued: 0,
            inflight: 0,
            stored: 0,
            stored_bytes: 0,
            retained: 0,
            retained_bytes: 0,
            subscriptions: 0,
            shared_subscriptions: 0,
            drops: std::array::from_fn(|i| state.stats.drops[i].load(Ordering::Relaxed)),
            listeners: listeners(&state.stats),
            delivery_latency: state.stats.delivery_latency.read(),
            store_commits: state.store.as_ref().map(|s| s.commit_latency().read()),
            clients: Vec::new(),
        };
        for session in &sessions {
            let st = lock(&session.state);
            let (n, b) = st.stored();
            let (queued, inflight) = st.queue_lengths();
            snap.stored += n;
            snap.stored_bytes += b;
            snap.queued += queued;
            snap.inflight += inflight;
            if detail == Detail::Clients {
                let link = st.link();
                let origin = link.and_then(|l| l.origin());
                snap.clients.push(ClientFigures {
                    id: session.client_id.to_string(),
                    address: origin.map(|o| match &o.peer {
                        Peer::Net(a) => a.to_string(),
                        Peer::Unix(p) => p.display().to_string(),
                        Peer::Bridge(name) => format!("bridge {name}"),
                    }),
                    protocol: link.map(|l| protocol_name(l.version)),
                    listener: origin.map(|o| o.listener.stats.label.clone()),
                    connected: link.is_some(),
                    subscriptions: st.subscription_filters(),
                    queued,
                    inflight,
                });
            }
        }
        drop(sessions);
        {
            let mut r = state.retained.write().unwrap_or_else(|e| e.into_inner());
            r.purge_expired();
            snap.retained = r.count();
            snap.retained_bytes = r.bytes();
        }
        {
            let r = state.router.read().unwrap_or_else(|e| e.into_inner());
            snap.subscriptions = r.count();
            snap.shared_subscriptions = r.shared_count();
        }
        snap.clients.sort_by(|a, b| a.id.cmp(&b.id));
        snap
    }

    /// Sessions without a connection.
    pub fn disconnected(&self) -> u64 {
        (self.sessions as u64).saturating_sub(self.counters.clients_connected)
    }
}

fn counters(s: &Stats) -> Counters {
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    Counters {
        bytes_received: get(&s.bytes_received),
        bytes_sent: get(&s.bytes_sent),
        messages_received: get(&s.messages_received),
        messages_sent: get(&s.messages_sent),
        publish_received: get(&s.publish_received),
        publish_sent: get(&s.publish_sent),
        publish_dropped: get(&s.publish_dropped),
        publish_bytes_received: get(&s.publish_bytes_received),
        publish_bytes_sent: get(&s.publish_bytes_sent),
        connections: get(&s.connections),
        clients_connected: get(&s.clients_connected),
        clients_maximum: get(&s.clients_maximum),
        clients_expired: get(&s.clients_expired),
        auth_failures: get(&s.auth_failures),
    }
}

fn listeners(s: &Stats) -> Vec<ListenerFigures> {
    lock(&s.listeners)
        .iter()
        .map(|l| ListenerFigures {
            label: l.label.clone(),
            open: l.open.load(Ordering::Relaxed),
            accepted: l.accepted.load(Ordering::Relaxed),
            refused: l.refused.load(Ordering::Relaxed),
        })
        .collect()
}

/// The protocol version as `/clients` names it.
pub fn protocol_name(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::V31 => "3.1",
        ProtocolVersion::V311 => "3.1.1",
        ProtocolVersion::V5 => "5.0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_their_buckets() {
        let h = Histogram::default();
        h.record(Duration::from_micros(100)); // on a bound: that bucket (le=100 µs)
        h.record(Duration::from_micros(101));
        h.record(Duration::from_secs(60)); // +Inf
        let mut local = LocalHistogram::default();
        local.record(Duration::from_millis(1));
        local.record(Duration::from_millis(1));
        h.merge(&local);
        let s = h.read();
        assert_eq!(s.counts[0], 1);
        assert_eq!(s.counts[1], 1);
        assert_eq!(s.counts[3], 2);
        assert_eq!(s.counts[BUCKETS - 1], 1);
        assert_eq!(s.count(), 5);
        assert_eq!(s.sum_us, 100 + 101 + 60_000_000 + 2_000);
    }

    #[test]
    fn only_queue_drops_count_in_sys() {
        let s = Stats::default();
        s.dropped(DropReason::QueueFull, 2);
        s.dropped(DropReason::Expired, 3);
        assert_eq!(s.publish_dropped.load(Ordering::Relaxed), 2);
        assert_eq!(
            s.drops[DropReason::Expired as usize].load(Ordering::Relaxed),
            3
        );
    }
}
