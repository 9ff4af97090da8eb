//! Sessions: the state the broker keeps per client identifier (section 4.1) — its
//! subscriptions, the bounded queue of messages waiting to be sent, the outgoing
//! QoS 1/2 messages in flight, and the incoming QoS 2 packet identifiers awaiting
//! PUBREL — plus the [`Link`] to the connection currently attached to it.
//!
//! Publishers push [`Delivery`]s into a session's queue from their own task; the
//! attached connection's writer drains the queue into one buffer per wake-up.

mod durable;

pub use durable::{Durable, message_of, stored_message};

use super::budget::QueueBudget;
use super::message::{Message, patch_publish};
use super::origin::Origin;
use super::security::RealmId;
use crate::protocol::{
    self, Ack, ByteStr, Packet, Properties, ProtocolVersion, QoS, ReasonCode, SubscriptionOptions,
};
use bytes::BytesMut;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::Notify;

/// Lock a mutex, recovering the data if a panicking thread poisoned it (the state
/// is kept consistent by every critical section, which never panics midway).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Packets a connection's reader asks its writer to send, and the close request.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Encoded control packets (CONNACK, PUBACK, SUBACK, PINGRESP...).
    pub control: BytesMut,
    /// Close the connection after sending everything queued, with a DISCONNECT with
    /// this reason code (sent to 5.0 clients only; `None` inside = close without one).
    pub close: Option<Option<ReasonCode>>,
}

/// The connection attached to a session: how publishers and the reader wake its
/// writer.
#[derive(Debug)]
pub struct Link {
    /// Generation: unique per connection.
    pub generation: u64,
    /// Protocol version of the connection.
    pub version: ProtocolVersion,
    /// The client's Maximum Packet Size (0 = none) [MQTT-3.1.2-24].
    pub max_packet_size: usize,
    /// Wakes the writer.
    pub wake: Notify,
    /// Signalled by the writer after each write (the reader waits on it when its
    /// control queue is too long).
    pub drained: Notify,
    /// Control packets and close request.
    pub outbox: Mutex<Outbox>,
    /// Signalled once when the connection is to be closed (see [`Link::close`]).
    pub closing: Notify,
    /// Set when the connection is to be closed: its reader reads nothing more.
    pub closed: AtomicBool,
    /// Set with `closed` when a new connection takes the session over: the reader
    /// still handles what the client had already sent (see
    /// [`takeover`](super::takeover)).
    pub taken_over: AtomicBool,
    /// Set when the new connection of a takeover stopped waiting for this one: it
    /// handles nothing more at all.
    pub cut: AtomicBool,
    /// Set, and `finished` signalled, once the connection's teardown is done.
    pub done: AtomicBool,
    /// See `done`.
    pub finished: Notify,
    /// Where the connection comes from (for `/clients`).
    origin: Option<Origin>,
    /// When the link was made: `progress` counts from here.
    created: Instant,
    /// When the writer last began or finished a write, in milliseconds since
    /// `created`: a subscriber whose writer has made no progress for a while is
    /// stuck (see [`Link::stalled_for`]).
    progress: std::sync::atomic::AtomicU64,
}

/// Most control bytes a reader queues before waiting for its writer.
pub const CONTROL_LIMIT: usize = 256 * 1024;

impl Link {
    /// A link for a new connection to a client whose Maximum Packet Size is
    /// `max_packet_size` (0 = none).
    pub fn new(generation: u64, version: ProtocolVersion, max_packet_size: usize) -> Link {
        Link {
            generation,
            version,
            max_packet_size,
            wake: Notify::new(),
            drained: Notify::new(),
            outbox: Mutex::new(Outbox::default()),
            closing: Notify::new(),
            closed: AtomicBool::new(false),
            taken_over: AtomicBool::new(false),
            cut: AtomicBool::new(false),
            done: AtomicBool::new(false),
            finished: Notify::new(),
            origin: None,
            created: Instant::now(),
            progress: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The same, remembering where the connection comes from.
    pub fn with_origin(mut self, origin: Origin) -> Link {
        self.origin = Some(origin);
        self
    }

    /// Where the connection comes from, when known.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// The writer begins or ends a write: it is making progress.
    pub fn progressed(&self) {
        let ms = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.progress.store(ms, Ordering::Relaxed);
    }

    /// How long the writer has made no progress (its last write began or ended
    /// that long ago).
    pub fn stalled_for(&self) -> std::time::Duration {
        let now = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        std::time::Duration::from_millis(now.saturating_sub(self.progress.load(Ordering::Relaxed)))
    }

    /// Whether the reader may still handle a packet it has read: not after the
    /// broker closed the connection, unless for a takeover that is still waiting
    /// for it.
    pub fn handles_more(&self) -> bool {
        !self.closed.load(Ordering::Acquire)
            || (self.taken_over.load(Ordering::Acquire) && !self.cut.load(Ordering::Acquire))
    }

    /// Whether a new connection is taking the session over from this one.
    pub fn is_taken_over(&self) -> bool {
        self.taken_over.load(Ordering::Acquire)
    }

    /// Mark the connection's teardown done and wake whoever waits for it.
    pub fn finish(&self) {
        self.done.store(true, Ordering::Release);
        self.finished.notify_waiters();
    }

    /// Wait until the connection's teardown is done, at most `limit`; false when
    /// the time ran out.
    pub async fn wait_finished(&self, limit: std::time::Duration) -> bool {
        let wait = async {
            loop {
                let finished = self.finished.notified();
                tokio::pin!(finished);
                finished.as_mut().enable();
                if self.done.load(Ordering::Acquire) {
                    return;
                }
                finished.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }

    /// Queue a control packet for the writer (within the client's Maximum Packet
    /// Size, see [`encode_for_client`]). Returns the control queue length.
    pub fn send(&self, packet: &Packet) -> usize {
        let len = {
            let mut ob = lock(&self.outbox);
            if !encode_for_client(packet, self.version, self.max_packet_size, &mut ob.control) {
                tracing::debug!(
                    "{} not sent: larger than the client's Maximum Packet Size {}",
                    packet.packet_type().name(),
                    self.max_packet_size
                );
            }
            ob.control.len()
        };
        self.wake.notify_one();
        len
    }

    /// Ask the writer to flush and close, with a DISCONNECT with reason code `reason`
    /// for 5.0 clients.
    pub fn close(&self, reason: Option<ReasonCode>) {
        {
            let mut ob = lock(&self.outbox);
            if ob.close.is_none() {
                ob.close = Some(reason.filter(|_| self.version.is_v5()));
                // A permit: the connection sees it even if it is not waiting yet.
                self.closing.notify_one();
                self.closed.store(true, Ordering::Release);
            }
        }
        self.wake.notify_one();
    }
}

/// Append a packet the broker sends to `out`, never larger than the client's Maximum
/// Packet Size `max` (0 = none) [MQTT-3.1.2-24]. When it would be larger, the Reason
/// String is left out, then the User Properties too ([MQTT-3.2.2-19],
/// [MQTT-3.2.2-20], [MQTT-3.4.2-2], [MQTT-3.4.2-3], [MQTT-3.9.2-1], [MQTT-3.9.2-2],
/// [MQTT-3.11.2-1], [MQTT-3.11.2-2], [MQTT-3.14.2-3], [MQTT-3.14.2-4], and the same
/// for PUBREC, PUBREL, PUBCOMP and AUTH); a packet that still does not fit is
/// discarded [MQTT-3.1.2-25] (a CONNACK too: the connection then closes without
/// one). Returns whether it was appended.
pub fn encode_for_client(
    packet: &Packet,
    version: ProtocolVersion,
    max: usize,
    out: &mut BytesMut,
) -> bool {
    let start = out.len();
    let encoded = protocol::encode(packet, version, out).is_ok();
    if encoded && (max == 0 || out.len() - start <= max) {
        return true;
    }
    out.truncate(start);
    if !encoded || !version.is_v5() {
        return false;
    }
    // The slow path: only for a client with a tiny limit.
    let mut slim = packet.clone();
    // First without the Reason String, then without the User Properties too.
    for step in 0..2 {
        let Some(props) = optional_properties(&mut slim) else {
            break;
        };
        let changed = if step == 0 {
            props.reason_string.take().is_some()
        } else {
            !std::mem::take(&mut props.user_properties).is_empty()
        };
        if changed {
            if protocol::encode(&slim, version, out).is_ok() && out.len() - start <= max {
                return true;
            }
            out.truncate(start);
        }
    }
    false
}

/// The properties of a packet whose Reason String and User Properties the broker
/// may leave out; `None` for PUBLISH, whose properties are the application
/// message's [MQTT-3.3.2-17], and for packets without properties.
fn optional_properties(packet: &mut Packet) -> Option<&mut Properties> {
    match packet {
        Packet::ConnAck(p) => Some(&mut p.properties),
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            Some(&mut a.properties)
        }
        Packet::SubAck(p) => Some(&mut p.properties),
        Packet::UnsubAck(p) => Some(&mut p.properties),
        Packet::Disconnect(p) => Some(&mut p.properties),
        Packet::Auth(p) => Some(&mut p.properties),
        _ => None,
    }
}

/// A message on its way to one subscriber.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The message.
    pub msg: Arc<Message>,
    /// QoS for this subscriber (the smaller of published and granted).
    pub qos: QoS,
    /// RETAIN flag to send.
    pub retain: bool,
    /// Subscription identifiers of the matching subscriptions (5.0).
    pub sub_ids: Vec<u32>,
    /// Its number in the store (0: not stored).
    pub seq: u64,
    /// When it was routed to this subscriber, for the delivery latency; `None`
    /// for a retained message sent on subscription or one restored from the store.
    pub routed: Option<Instant>,
}

/// State of an outgoing QoS 1/2 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutState {
    /// PUBLISH sent, waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
    AwaitAck,
    /// PUBREL sent, waiting for PUBCOMP.
    AwaitComp,
}

/// An outgoing message in flight.
#[derive(Debug)]
pub struct Inflight {
    /// Packet identifier.
    pub packet_id: u16,
    /// The message.
    pub delivery: Delivery,
    /// Where the exchange is.
    pub state: OutState,
    /// Needs (re)sending: set on reconnect, sent with DUP [MQTT-4.4.0-1].
    pub resend: bool,
}

/// A subscription as the session remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubEntry {
    /// Options.
    pub options: SubscriptionOptions,
    /// Subscription identifier (5.0).
    pub id: Option<u32>,
}

/// What the writer may send to its client.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    /// Protocol version.
    pub version: ProtocolVersion,
    /// Outgoing QoS 1/2 window: the client's Receive Maximum capped by
    /// `max_inflight_messages`.
    pub receive_max: usize,
    /// The client's Maximum Packet Size (0 = none).
    pub max_packet_size: usize,
    /// The client's Topic Alias Maximum.
    pub topic_alias_max: u16,
    /// Length of the listener's mount point, taken off every topic sent (0 = none).
    pub mount_len: usize,
}

impl Drop for SessionState {
    /// A session that ends gives its queue's bytes back to the broker's budget.
    fn drop(&mut self) {
        self.budget.give_back(self.pending_bytes);
    }
}

/// Topic aliases the broker assigned on one connection (server to client direction).
#[derive(Debug, Default)]
pub struct OutAliases {
    /// Boxed, and only once the first alias is assigned: most clients take none, and
    /// an empty map inline is 48 bytes of every connection's task.
    #[allow(clippy::box_collection)] // 8 bytes inline, not 48
    map: Option<Box<HashMap<ByteStr, u16>>>,
}

/// The mutable part of a session.
#[derive(Debug)]
pub struct SessionState {
    /// The attached connection, if any.
    link: Option<Arc<Link>>,
    /// Subscriptions by full filter (including `$share/group/`).
    subscriptions: HashMap<String, SubEntry>,
    /// Messages waiting to be sent (changed only through the methods that keep
    /// `pending_bytes`).
    pending: VecDeque<Delivery>,
    /// Payload bytes in `pending`, also counted in `budget`.
    pending_bytes: usize,
    /// The broker-wide budget this queue's bytes count against.
    budget: Arc<QueueBudget>,
    /// Outgoing QoS 1/2 messages in flight, oldest first.
    inflight: VecDeque<Inflight>,
    /// Incoming QoS 2 packet identifiers PUBREC'd and awaiting PUBREL [MQTT-4.3.3-9].
    incoming_qos2: HashSet<u16>,
    next_packet_id: u16,
    /// Session Expiry Interval in seconds (u32::MAX = never).
    expiry: u32,
    /// Counts attachments, so a timer can tell the session was resumed.
    attach_count: u64,
    /// A queue that stayed full: QoS 1/2 are dropped without waiting until it drains.
    congested: bool,
    /// The session was discarded.
    ended: bool,
    /// A will waiting for its delay, cancelled by a reconnect [MQTT-3.1.3-9].
    will_pending: bool,
    /// Messages for this client are being dropped (logged once per episode, cleared
    /// when a message is queued without dropping one).
    dropping: bool,
    /// The user name of the connection that last attached (for the ACL's read check
    /// on each delivery).
    username: Option<Arc<str>>,
    /// The security realm of that connection's listener.
    realm: RealmId,
    /// The session's link to the store, when it is kept there. Boxed: it holds a
    /// will, and most sessions are not kept (every session carries this field).
    durable: Option<Box<Durable>>,
    /// Messages [`SessionState::fill`] did not send, expired and too large for the
    /// client, not yet counted (see [`SessionState::take_undelivered`]).
    undelivered: (u64, u64),
}

/// A session, shared by the broker's session table, the subscription tree and the
/// attached connection.
#[derive(Debug)]
pub struct Session {
    /// Unique number (a client id reused after a clean start gets a new session).
    pub key: u64,
    /// Client identifier.
    pub client_id: Arc<str>,
    /// Whether a connection is attached (read without locking by shared-subscription
    /// routing).
    pub online: AtomicBool,
    /// Mutable state.
    pub state: Mutex<SessionState>,
    /// Signalled when queue space frees up (publishers wait on it).
    pub space: Notify,
}

/// What an acknowledgement from the client did to the outgoing QoS 1/2 message it
/// names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acked {
    /// It moved the exchange on.
    Done,
    /// No message with that packet identifier is in flight (a late duplicate).
    Unknown,
    /// The message is in flight, but this acknowledgement does not belong to its
    /// QoS or comes out of turn (a PUBREC for QoS 1, a PUBACK for QoS 2, a PUBCOMP
    /// before PUBREC): a Protocol Error (section 4.13).
    WrongType,
}

/// Outcome of [`Session::enqueue`].
#[derive(Debug)]
pub enum Enqueue {
    /// Queued.
    Queued,
    /// Queued in place of the oldest queued QoS 0 message, which was dropped.
    QueuedDroppingQos0,
    /// Dropped: the queue is full.
    Dropped,
    /// Not for this session: QoS 0 while it is away, or it has ended.
    Discarded,
    /// Queue full: a QoS 1/2 publisher should wait for [`Session::space`] and retry.
    Full(Delivery),
}

/// Queue limits.
#[derive(Clone, Copy, Debug)]
pub struct QueueLimits {
    /// Most queued messages.
    pub max_queued: usize,
    /// Most queued payload bytes.
    pub max_bytes: usize,
    /// Queue QoS 0 for offline sessions.
    pub queue_qos0: bool,
}

impl Session {
    /// A new empty session.
    pub fn new(key: u64, client_id: Arc<str>, expiry: u32, budget: Arc<QueueBudget>) -> Session {
        Session {
            key,
            client_id,
            online: AtomicBool::new(false),
            state: Mutex::new(SessionState {
                link: None,
                subscriptions: HashMap::new(),
                pending: VecDeque::new(),
                pending_bytes: 0,
                budget,
                inflight: VecDeque::new(),
                incoming_qos2: HashSet::new(),
                next_packet_id: 0,
                expiry,
                attach_count: 0,
                congested: false,
                ended: false,
                will_pending: false,
                dropping: false,
                username: None,
                realm: 0,
                durable: None,
                undelivered: (0, 0),
            }),
            space: Notify::new(),
        }
    }

    /// Queue a message for this session's client. When the queue is full, QoS 0
    /// goes first: a QoS 1/2 message takes the place of the oldest queued QoS 0 one;
    /// a QoS 0 message is dropped.
    pub fn enqueue(&self, d: Delivery, limits: QueueLimits) -> Enqueue {
        let mut s = lock(&self.state);
        if s.ended {
            return Enqueue::Discarded;
        }
        let online = s.link.is_some();
        if !online && d.qos == QoS::AtMostOnce && !limits.queue_qos0 {
            return Enqueue::Discarded;
        }
        let mut queued = Enqueue::Queued;
        if s.queue_full(limits) {
            if d.qos == QoS::AtMostOnce {
                // A connected subscriber that is not stuck paces its publishers at
                // every QoS: nothing is lost while it keeps reading.
                return if online && !s.congested {
                    Enqueue::Full(d)
                } else {
                    Enqueue::Dropped
                };
            }
            match s.pending.iter().position(|q| q.qos == QoS::AtMostOnce) {
                Some(i) => {
                    s.remove_pending(i);
                    queued = Enqueue::QueuedDroppingQos0;
                }
                None if !online || s.congested => return Enqueue::Dropped,
                None => return Enqueue::Full(d),
            }
        }
        if matches!(queued, Enqueue::Queued) {
            s.dropping = false;
        }
        let mut d = d;
        d.seq = s.store_queued(&d);
        let was_idle = s.pending.is_empty();
        s.push_pending(d);
        if let Some(link) = &s.link {
            // A writer with nothing to send is not stuck, however long ago it last
            // wrote: its stall is counted from when work comes for it. Otherwise a
            // subscriber idle for longer than the grace, whose queue a burst fills
            // before its writer runs, would be taken for stuck and lose messages.
            if was_idle {
                link.progressed();
            }
            link.wake.notify_one();
        }
        queued
    }

    /// Attach a connection: mark every in-flight message for redelivery with DUP
    /// [MQTT-4.4.0-1] and wake its writer.
    pub fn attach(&self, link: Arc<Link>) {
        let mut s = lock(&self.state);
        for f in s.inflight.iter_mut() {
            f.resend = true;
        }
        s.attach_count += 1;
        s.congested = false;
        s.will_pending = false;
        s.store_disconnected(false);
        link.wake.notify_one();
        s.link = Some(link);
        self.online.store(true, Ordering::Release);
        drop(s);
        // Wakes the timers of a delayed will and of session expiry, which end here.
        self.space.notify_waiters();
    }

    /// Detach connection `generation`; false if another connection has taken over.
    pub fn detach(&self, generation: u64) -> bool {
        let mut s = lock(&self.state);
        if s.link.as_ref().is_some_and(|l| l.generation == generation) {
            s.link = None;
            self.online.store(false, Ordering::Release);
            // Messages queued for an offline session: QoS 0 is not kept.
            s.retain_pending(|d| d.qos != QoS::AtMostOnce);
            s.store_disconnected(true);
            drop(s);
            self.space.notify_waiters();
            true
        } else {
            false
        }
    }
}

/// What [`SessionState::begin_qos2`] found for an incoming QoS 2 PUBLISH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qos2Receive {
    /// A new packet identifier, now recorded: route the message.
    New,
    /// A copy resent before PUBREL: acknowledge it, do not route it again.
    Resent,
    /// More unacknowledged QoS 2 messages than the Receive Maximum allows.
    TooMany,
}

impl SessionState {
    /// The attached connection, if any.
    pub fn link(&self) -> Option<&Arc<Link>> {
        self.link.as_ref()
    }

    /// Whether the connection of this generation is the attached one.
    pub fn is_attached(&self, generation: u64) -> bool {
        self.link
            .as_ref()
            .is_some_and(|l| l.generation == generation)
    }

    /// Whether the session was discarded.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Mark the session discarded, keeping what it holds for a caller that ends it
    /// properly ([`SessionState::discard`]).
    pub fn mark_ended(&mut self) {
        self.ended = true;
    }

    /// Discard the session [MQTT-3.1.2-6]: queued and in-flight messages, the QoS 2
    /// receive state; returns its subscriptions, for the caller to take out of the
    /// subscription tree.
    pub fn discard(&mut self) -> HashMap<String, SubEntry> {
        self.store_discarded();
        self.ended = true;
        self.clear_pending();
        self.inflight.clear();
        self.incoming_qos2.clear();
        std::mem::take(&mut self.subscriptions)
    }

    /// Session Expiry Interval in seconds (u32::MAX = never).
    pub fn expiry(&self) -> u32 {
        self.expiry
    }

    /// Change the Session Expiry Interval (a DISCONNECT may, a takeover with Clean
    /// Start does).
    pub fn set_expiry(&mut self, secs: u32) {
        self.expiry = secs;
        self.store_record();
    }

    /// How many times a CONNECT claimed the session: a timer that remembers the
    /// count can tell the session was resumed meanwhile.
    pub fn attach_count(&self) -> u64 {
        self.attach_count
    }

    /// A CONNECT claims the session, with the expiry it asked for.
    pub fn claim(&mut self, expiry: u32) {
        self.expiry = expiry;
        self.attach_count += 1;
    }

    /// Whether a will waits for its delay [MQTT-3.1.3-9].
    pub fn will_pending(&self) -> bool {
        self.will_pending
    }

    /// A will now waits for its delay (`true`), or no longer does.
    pub fn set_will_pending(&mut self, pending: bool) {
        self.will_pending = pending;
    }

    /// Mark the subscriber congested: its full queue did not drain in time, so
    /// QoS 1/2 messages for it are dropped without waiting until it drains.
    pub fn set_congested(&mut self) {
        self.congested = true;
    }

    /// Note that messages for this client are being dropped; true when this starts
    /// an episode (to be logged once).
    pub fn start_dropping(&mut self) -> bool {
        !std::mem::replace(&mut self.dropping, true)
    }

    /// An incoming QoS 2 PUBLISH with `packet_id`: recorded unless it is a resent
    /// copy [MQTT-4.3.3-10]; `receive_max` (5.0) bounds the unacknowledged ones
    /// [MQTT-3.3.4-9].
    pub fn begin_qos2(&mut self, packet_id: u16, receive_max: Option<usize>) -> Qos2Receive {
        if self.incoming_qos2.contains(&packet_id) {
            return Qos2Receive::Resent;
        }
        if receive_max.is_some_and(|max| self.incoming_qos2.len() >= max) {
            return Qos2Receive::TooMany;
        }
        self.incoming_qos2.insert(packet_id);
        self.store_qos2(packet_id, true);
        Qos2Receive::New
    }

    /// The QoS 2 exchange of `packet_id` ends (PUBREL, or a PUBREC with an error):
    /// whether it was known.
    pub fn end_qos2(&mut self, packet_id: u16) -> bool {
        let known = self.incoming_qos2.remove(&packet_id);
        if known {
            self.store_qos2(packet_id, false);
        }
        known
    }

    /// Remember a subscription; false if the session has ended meanwhile (the
    /// caller then takes it out of the subscription tree again).
    pub fn add_subscription(&mut self, filter: String, entry: SubEntry) -> bool {
        if self.ended {
            return false;
        }
        self.store_subscription(&filter, Some(&entry));
        self.subscriptions.insert(filter, entry);
        true
    }

    /// Forget a subscription.
    pub fn remove_subscription(&mut self, filter: &str) {
        if self.subscriptions.remove(filter).is_some() {
            self.store_subscription(filter, None);
        }
    }

    /// The messages [`SessionState::fill`] left out since the last call: (expired,
    /// too large for the client).
    pub fn take_undelivered(&mut self) -> (u64, u64) {
        std::mem::take(&mut self.undelivered)
    }

    /// Messages queued, and outgoing ones in flight (for `/clients`).
    pub fn queue_lengths(&self) -> (usize, usize) {
        (self.pending.len(), self.inflight.len())
    }

    /// The filters subscribed to, sorted (for `/clients`).
    pub fn subscription_filters(&self) -> Vec<String> {
        let mut filters: Vec<String> = self.subscriptions.keys().cloned().collect();
        filters.sort();
        filters
    }

    /// Messages queued or in flight, and their payload bytes (for `$SYS`).
    pub fn stored(&self) -> (usize, usize) {
        let bytes = self.pending_bytes
            + self
                .inflight
                .iter()
                .map(|f| f.delivery.msg.len())
                .sum::<usize>();
        (self.pending.len() + self.inflight.len(), bytes)
    }

    /// Who the attached connection is, for the ACL checks of deliveries: its user
    /// name and its listener's security realm.
    pub fn set_principal(&mut self, username: Option<Arc<str>>, realm: RealmId) {
        self.username = username;
        self.realm = realm;
    }

    /// The user name and realm set by [`SessionState::set_principal`].
    pub fn principal(&self) -> (Option<Arc<str>>, RealmId) {
        (self.username.clone(), self.realm)
    }

    /// Whether the queue is at its limit of messages or bytes. A queue under its
    /// byte limit takes one more message of any size, so a message larger than the
    /// limit is not refused for ever.
    /// The broker-wide budget counts too: once it is spent, every queue that holds
    /// something is full.
    pub fn queue_full(&self, limits: QueueLimits) -> bool {
        self.pending.len() >= limits.max_queued
            || (!self.pending.is_empty()
                && (self.pending_bytes >= limits.max_bytes || self.budget.spent()))
    }

    /// Empty the queue.
    pub fn clear_pending(&mut self) {
        self.pending.clear();
        self.budget.give_back(self.pending_bytes);
        self.pending_bytes = 0;
    }

    /// Queue one delivery at the back, counting its bytes.
    pub(super) fn push_pending(&mut self, d: Delivery) {
        self.pending_bytes += d.msg.len();
        self.budget.take(d.msg.len());
        self.pending.push_back(d);
    }

    /// Take the delivery at the front, giving its bytes back.
    fn pop_pending(&mut self) -> Option<Delivery> {
        let d = self.pending.pop_front()?;
        self.pending_bytes -= d.msg.len();
        self.budget.give_back(d.msg.len());
        Some(d)
    }

    /// Drop queued delivery `i`.
    fn remove_pending(&mut self, i: usize) {
        if let Some(d) = self.pending.remove(i) {
            self.pending_bytes -= d.msg.len();
            self.budget.give_back(d.msg.len());
        }
    }

    /// Keep only the queued deliveries `keep` accepts.
    fn retain_pending(&mut self, keep: impl Fn(&Delivery) -> bool) {
        self.pending.retain(keep);
        let bytes = self.pending.iter().map(|d| d.msg.len()).sum();
        self.budget.give_back(self.pending_bytes - bytes);
        self.pending_bytes = bytes;
    }

    fn alloc_packet_id(&mut self) -> u16 {
        for _ in 0..=u16::MAX {
            self.next_packet_id = self.next_packet_id.wrapping_add(1);
            if self.next_packet_id == 0 {
                self.next_packet_id = 1;
            }
            let id = self.next_packet_id;
            if !self.inflight.iter().any(|f| f.packet_id == id) {
                return id;
            }
        }
        // Unreachable: the window is at most 65535 and ids are 1..=65535.
        self.next_packet_id
    }

    /// Encode what may be sent now into `out`, up to about `budget` bytes: in-flight
    /// messages to resend, then queued messages while the window allows. Returns
    /// (PUBLISH packets written, whether more is ready to send).
    pub fn fill(
        &mut self,
        caps: &Caps,
        aliases: &mut OutAliases,
        out: &mut BytesMut,
        budget: usize,
        on_send: &mut dyn FnMut(&Delivery, u16, bool),
    ) -> (usize, bool) {
        let now = Instant::now();
        let mut sent = 0;
        // Resent PUBLISH packets count against the client's Receive Maximum like new
        // ones [MQTT-3.3.4-9]: the rest follow as acknowledgements come in.
        let mut outstanding = self.inflight.iter().filter(|f| !f.resend).count();
        for f in self.inflight.iter_mut().filter(|f| f.resend) {
            if out.len() >= budget {
                return (sent, true);
            }
            if f.state == OutState::AwaitAck && outstanding >= caps.receive_max {
                continue;
            }
            f.resend = false;
            outstanding += 1;
            match f.state {
                OutState::AwaitAck => {
                    if encode_delivery(&f.delivery, f.packet_id, true, caps, aliases, now, out) {
                        on_send(&f.delivery, f.packet_id, true);
                        sent += 1;
                    }
                }
                OutState::AwaitComp => {
                    encode_for_client(
                        &Packet::PubRel(Ack::new(f.packet_id)),
                        caps.version,
                        caps.max_packet_size,
                        out,
                    );
                }
            }
        }
        while let Some(front) = self.pending.front() {
            if out.len() >= budget {
                return (sent, true);
            }
            if front.qos != QoS::AtMostOnce && self.inflight.len() >= caps.receive_max {
                break;
            }
            let Some(d) = self.pop_pending() else {
                break;
            };
            // Expired messages are not delivered [MQTT-3.3.2-5].
            if d.msg.expired(now) {
                self.undelivered.0 += 1;
                self.store_removed(d.seq);
                continue;
            }
            if d.qos == QoS::AtMostOnce {
                if encode_delivery(&d, 0, false, caps, aliases, now, out) {
                    on_send(&d, 0, false);
                    sent += 1;
                } else {
                    self.undelivered.1 += 1;
                }
                continue;
            }
            let id = self.alloc_packet_id();
            if !encode_delivery(&d, id, false, caps, aliases, now, out) {
                // Larger than the client accepts: never deliverable.
                self.undelivered.1 += 1;
                self.store_removed(d.seq);
            } else {
                on_send(&d, id, false);
                sent += 1;
                self.store_sent(&d, id, OutState::AwaitAck);
                self.inflight.push_back(Inflight {
                    packet_id: id,
                    delivery: d,
                    state: OutState::AwaitAck,
                    resend: false,
                });
            }
        }
        // The writer runs again: whatever stuck it is over.
        self.congested = false;
        (sent, false)
    }

    /// PUBACK received: complete a QoS 1 delivery [MQTT-4.3.2-1].
    pub fn puback(&mut self, packet_id: u16) -> Acked {
        match self.inflight_state(packet_id) {
            None => Acked::Unknown,
            Some((QoS::AtLeastOnce, _)) => {
                self.remove_inflight(packet_id);
                Acked::Done
            }
            Some(_) => Acked::WrongType,
        }
    }

    /// PUBREC received for a QoS 2 delivery: `Done` means reply PUBREL (also to a
    /// repeated PUBREC). A 5.0 error reason ends the exchange [MQTT-4.3.3].
    pub fn pubrec(&mut self, packet_id: u16, error: bool) -> Acked {
        match self.inflight_state(packet_id) {
            None => Acked::Unknown,
            Some((QoS::ExactlyOnce, _)) if error => {
                self.remove_inflight(packet_id);
                Acked::Done
            }
            Some((QoS::ExactlyOnce, _)) => {
                let released = self
                    .inflight
                    .iter_mut()
                    .find(|f| f.packet_id == packet_id)
                    .map(|f| {
                        f.state = OutState::AwaitComp;
                        f.delivery.clone()
                    });
                if let Some(d) = released {
                    self.store_sent(&d, packet_id, OutState::AwaitComp);
                }
                Acked::Done
            }
            Some(_) => Acked::WrongType,
        }
    }

    /// PUBCOMP received: complete a QoS 2 delivery whose PUBREL was sent.
    pub fn pubcomp(&mut self, packet_id: u16) -> Acked {
        match self.inflight_state(packet_id) {
            None => Acked::Unknown,
            Some((QoS::ExactlyOnce, OutState::AwaitComp)) => {
                self.remove_inflight(packet_id);
                Acked::Done
            }
            Some(_) => Acked::WrongType,
        }
    }

    /// The QoS and state of the in-flight message with this packet identifier.
    fn inflight_state(&self, packet_id: u16) -> Option<(QoS, OutState)> {
        self.inflight
            .iter()
            .find(|f| f.packet_id == packet_id)
            .map(|f| (f.delivery.qos, f.state))
    }

    fn remove_inflight(&mut self, packet_id: u16) {
        if let Some(i) = self.inflight.iter().position(|f| f.packet_id == packet_id)
            && let Some(f) = self.inflight.remove(i)
        {
            self.store_removed(f.delivery.seq);
        }
    }
}

/// Encode one PUBLISH for a subscriber; false if it was skipped because it exceeds
/// the client's Maximum Packet Size [MQTT-3.1.2-25].
fn encode_delivery(
    d: &Delivery,
    packet_id: u16,
    dup: bool,
    caps: &Caps,
    aliases: &mut OutAliases,
    now: Instant,
    out: &mut BytesMut,
) -> bool {
    let v5 = caps.version.is_v5();
    let custom = caps.mount_len > 0 || (v5 && (!d.sub_ids.is_empty() || caps.topic_alias_max > 0));
    let shared = if custom {
        None
    } else {
        d.msg.shared_encoding(caps.version, d.qos, d.retain)
    };
    if let Some(enc) = shared {
        if caps.max_packet_size > 0 && enc.len() > caps.max_packet_size {
            return false;
        }
        let start = out.len();
        out.extend_from_slice(enc);
        if d.qos != QoS::AtMostOnce {
            patch_publish(out, start, d.msg.topic.len(), packet_id, dup);
        }
        return true;
    }
    let mut publish = d
        .msg
        .to_publish(caps.version, d.qos, d.retain, &d.sub_ids, now);
    if d.qos != QoS::AtMostOnce {
        publish.packet_id = packet_id;
        publish.dup = dup;
    }
    if caps.mount_len > 0 {
        // Only topics under the mount point reach its clients (their filters are
        // under it): they see the topic without it.
        publish.topic = publish.topic.slice_from(caps.mount_len);
    }
    // A topic alias assigned here, taken back if the packet is not sent.
    let mut new_alias = None;
    if caps.topic_alias_max > 0 {
        let assigned = aliases.map.as_ref().map_or(0, |m| m.len());
        if let Some(&alias) = aliases.map.as_ref().and_then(|m| m.get(&publish.topic)) {
            publish.properties.topic_alias = Some(alias);
            publish.topic = ByteStr::default();
        } else if assigned < usize::from(caps.topic_alias_max) {
            // Aliases are 1..=max [MQTT-3.3.2-9]; the map never exceeds max entries.
            let alias = u16::try_from(assigned + 1).unwrap_or(caps.topic_alias_max);
            aliases
                .map
                .get_or_insert_with(Default::default)
                .insert(publish.topic.clone(), alias);
            publish.properties.topic_alias = Some(alias);
            new_alias = Some(publish.topic.clone());
        }
    }
    let mut packet = Packet::Publish(publish);
    let start = out.len();
    let fits =
        |out: &BytesMut| caps.max_packet_size == 0 || out.len() - start <= caps.max_packet_size;
    if protocol::encode(&packet, caps.version, out).is_ok() && fits(out) {
        return true;
    }
    out.truncate(start);
    let Some(topic) = new_alias else {
        return false;
    };
    // Without the new alias (3 bytes) it may still fit.
    if let Some(m) = aliases.map.as_mut() {
        m.remove(&topic);
    }
    if let Packet::Publish(p) = &mut packet {
        p.properties.topic_alias = None;
    }
    if protocol::encode(&packet, caps.version, out).is_ok() && fits(out) {
        return true;
    }
    out.truncate(start);
    false
}
