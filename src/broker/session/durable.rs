//! How a durable session's changes become store operations: a session that
//! outlives its connection (Session Expiry Interval above 0) and a broker with
//! `persistence` has a [`Durable`], and its methods in `session.rs` call the
//! functions here as they change it — nowhere else writes a session to the store.
//!
//! QoS 0 messages are never stored (they are not kept for offline sessions
//! either, unless `queue_qos0_messages`; those are lost on a restart, as in
//! mosquitto between autosaves). Every QoS 1/2 copy for the session is stored when
//! it is queued, updated when it gets its packet identifier or its PUBREC, and
//! deleted when it is acknowledged, dropped or expires.

use super::{Delivery, OutState, SessionState, SubEntry};
use crate::broker::message::Message;
use crate::broker::store::record::{
    self, SessionRecord, StoredDelivery, StoredMessage, StoredSubscription,
};
use crate::broker::store::{Op, Store};
use crate::protocol::{QoS, Will};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// A session's link to the store.
#[derive(Debug)]
pub struct Durable {
    pub(super) store: Arc<Store>,
    pub(super) id: Arc<str>,
    /// Sequence number of the next stored message (their order in the queue).
    pub(super) next_seq: u64,
    /// The will of the attached connection, until a normal DISCONNECT deletes it or
    /// it is published: a broker that dies meanwhile publishes it after a restart.
    pub(super) will: Option<Will>,
    /// When the connection ended (Unix ms), `None` while one is attached.
    pub(super) disconnected_ms: Option<u64>,
    /// The number of the last operation this session submitted: what its writer
    /// waits for before sending.
    pub(super) last_op: u64,
}

impl Durable {
    /// A session's link, its messages numbered from `next_seq`.
    pub fn new(store: Arc<Store>, id: Arc<str>, next_seq: u64) -> Durable {
        Durable {
            store,
            id,
            next_seq,
            will: None,
            disconnected_ms: None,
            last_op: 0,
        }
    }

    /// A restored session's link: what its record said about the will and the end
    /// of its connection.
    pub fn restored(
        store: Arc<Store>,
        id: Arc<str>,
        next_seq: u64,
        will: Option<Will>,
        disconnected_ms: u64,
    ) -> Durable {
        Durable {
            will,
            disconnected_ms: Some(disconnected_ms),
            ..Durable::new(store, id, next_seq)
        }
    }

    fn push(&mut self, op: Op) {
        self.last_op = self.store.push(op);
    }
}

/// A message as the store keeps it (expiry as an absolute time).
pub fn stored_message(m: &Message) -> StoredMessage {
    let now = Instant::now();
    let expires_ms = m
        .expires
        .map(|e| record::unix_ms(SystemTime::now() + e.saturating_duration_since(now)));
    StoredMessage {
        publish: record::publish_of(&m.topic, &m.payload, m.qos, m.retain, &m.properties),
        expires_ms,
        origin: m.origin.as_deref().map(str::to_string),
    }
}

/// A stored message back in the broker's form, its expiry counted on from the
/// time it was written.
pub fn message_of(s: &StoredMessage) -> Message {
    let mut properties = s.publish.properties.clone();
    properties.message_expiry_interval = s.time_left(record::unix_ms(SystemTime::now())).map(|d| {
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        u32::try_from(secs).unwrap_or(u32::MAX)
    });
    let p = &s.publish;
    Message::new(
        p.topic.clone(),
        p.payload.clone(),
        p.qos,
        p.retain,
        properties,
        s.origin.as_deref().map(Into::into),
    )
}

fn stored_delivery(d: &Delivery, packet_id: u16, released: bool) -> StoredDelivery {
    StoredDelivery {
        message: stored_message(&d.msg),
        qos: d.qos,
        retain: d.retain,
        sub_ids: d.sub_ids.clone(),
        packet_id,
        released,
    }
}

impl SessionState {
    /// Make the session durable through `store` (or not, with `None`): a session
    /// that stops outliving its connection is deleted from the store.
    pub fn set_durable(&mut self, durable: Option<Durable>) {
        if durable.is_none()
            && let Some(mut old) = self.durable.take()
        {
            let id = old.id.clone();
            old.push(Op::DeleteSession(id));
        }
        self.durable = durable.map(Box::new);
        self.store_record();
    }

    /// Put a restored session's link back, without writing anything: the store
    /// holds it already.
    pub fn restore_durable(&mut self, durable: Durable) {
        self.durable = Some(Box::new(durable));
    }

    /// Put restored messages back: queued ones (`Ok`) in order, in-flight ones
    /// (`Err`) to be resent; and the QoS 2 packet identifiers awaiting PUBREL.
    pub fn restore(
        &mut self,
        messages: impl Iterator<Item = Result<Delivery, super::Inflight>>,
        qos2: Vec<u16>,
    ) {
        for m in messages {
            match m {
                Ok(d) => self.push_pending(d),
                Err(f) => self.inflight.push_back(f),
            }
        }
        self.incoming_qos2.extend(qos2);
        // New packet identifiers start after the restored ones.
        self.next_packet_id = self.inflight.iter().map(|f| f.packet_id).max().unwrap_or(0);
    }

    /// Whether the session is kept in the store.
    pub fn is_durable(&self) -> bool {
        self.durable.is_some()
    }

    /// The number of the last store operation this session submitted (0: none).
    pub fn last_store_op(&self) -> u64 {
        self.durable.as_ref().map_or(0, |d| d.last_op)
    }

    /// The store, for a caller that waits for this session's operations.
    pub fn store(&self) -> Option<&Arc<Store>> {
        self.durable.as_ref().map(|d| &d.store)
    }

    /// Write the session's record (expiry, user name, will, disconnection time).
    pub(super) fn store_record(&mut self) {
        let (expiry, username) = (self.expiry, self.username.clone());
        let Some(d) = self.durable.as_mut() else {
            return;
        };
        let record = SessionRecord {
            expiry,
            disconnected_ms: d.disconnected_ms,
            username: username.as_deref().map(str::to_string),
            will: d.will.clone(),
        };
        let id = d.id.clone();
        d.push(Op::PutSession(id, record.encode()));
    }

    /// The attached connection's will, kept until it is deleted or published
    /// (`None`).
    pub fn store_will(&mut self, will: Option<Will>) {
        if let Some(d) = self.durable.as_mut() {
            d.will = will;
        }
        self.store_record();
    }

    /// The connection ended now (or, with `false`, one is attached).
    pub(super) fn store_disconnected(&mut self, disconnected: bool) {
        if let Some(d) = self.durable.as_mut() {
            d.disconnected_ms = disconnected.then(|| record::unix_ms(SystemTime::now()));
        }
        self.store_record();
    }

    /// A QoS 1/2 copy queued: stored, numbered. Returns its number (0: not stored).
    pub(super) fn store_queued(&mut self, d: &Delivery) -> u64 {
        let Some(dur) = self.durable.as_mut() else {
            return 0;
        };
        if d.qos == QoS::AtMostOnce {
            return 0;
        }
        let seq = dur.next_seq;
        dur.next_seq += 1;
        let id = dur.id.clone();
        dur.push(Op::Message(
            id,
            seq,
            Some(stored_delivery(d, 0, false).encode()),
        ));
        seq
    }

    /// A stored copy was sent with `packet_id`, or got its PUBREC (`released`).
    pub(super) fn store_sent(&mut self, d: &Delivery, packet_id: u16, state: OutState) {
        if d.seq == 0 {
            return;
        }
        if let Some(dur) = self.durable.as_mut() {
            let released = state == OutState::AwaitComp;
            let id = dur.id.clone();
            let rec = stored_delivery(d, packet_id, released).encode();
            dur.push(Op::Message(id, d.seq, Some(rec)));
        }
    }

    /// A stored copy is done with: acknowledged, dropped or expired.
    pub(super) fn store_removed(&mut self, seq: u64) {
        if seq == 0 {
            return;
        }
        if let Some(dur) = self.durable.as_mut() {
            let id = dur.id.clone();
            dur.push(Op::Message(id, seq, None));
        }
    }

    /// A QoS 2 packet identifier awaiting PUBREL recorded (`true`) or forgotten.
    pub(super) fn store_qos2(&mut self, packet_id: u16, awaiting: bool) {
        if let Some(dur) = self.durable.as_mut() {
            let id = dur.id.clone();
            dur.push(Op::Qos2(id, packet_id, awaiting));
        }
    }

    /// A subscription added (`Some`) or removed.
    pub(super) fn store_subscription(&mut self, filter: &str, entry: Option<&SubEntry>) {
        if let Some(dur) = self.durable.as_mut() {
            let rec = entry.map(|e| {
                StoredSubscription {
                    options: e.options,
                    id: e.id,
                }
                .encode()
            });
            let id = dur.id.clone();
            dur.push(Op::Subscription(id, filter.to_string(), rec));
        }
    }

    /// The session is discarded: deleted from the store with everything it holds.
    pub(super) fn store_discarded(&mut self) {
        if let Some(mut dur) = self.durable.take() {
            let id = dur.id.clone();
            dur.push(Op::DeleteSession(id));
        }
    }
}
