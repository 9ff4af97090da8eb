//! What the broker does with each packet a connected client sends: PUBLISH (topic
//! aliases, QoS 1/2 acknowledgements, receive maximum, routing), the QoS
//! acknowledgements of outgoing messages, SUBSCRIBE (retained messages per Retain
//! Handling), UNSUBSCRIBE, PINGREQ and DISCONNECT. Runs in the connection's reader.
//! `$SYS` is the broker's own: clients may subscribe to it but not publish there.

use super::connect::ConnInfo;
use super::log::{LogTypes, blog};
use super::message::{COPY_LIMIT, Message, own_bytes};
use super::security::Realm;
use super::session::{Acked, CONTROL_LIMIT, Delivery, Qos2Receive, lock};
use super::state::State;
use crate::protocol::{
    Ack, ByteStr, Disconnect, Packet, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    SubscribeFilter, UnsubAck, Unsubscribe, topic,
};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Why a connection's reader stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The client closed the connection without DISCONNECT.
    Eof,
    /// Reading failed.
    Io(String),
    /// DISCONNECT received; `will` for any 5.0 reason but 0x00 [MQTT-3.14.4-3].
    Disconnect {
        /// Publish the will anyway.
        will: bool,
    },
    /// The client broke the protocol: close, with DISCONNECT `reason` for 5.0.
    Protocol(ReasonCode, Why),
    /// Nothing received within 1.5 times the keep alive [MQTT-3.1.2-24].
    KeepAlive,
    /// The writer closed the connection (takeover, server shutdown).
    Closed,
}

/// Which rule a client broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A packet that could not be decoded.
    Decode(crate::protocol::Error),
    /// A decoded packet that breaks a rule of the session or the connection.
    Rule(String),
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Decode(e) => write!(f, "{e}"),
            Why::Rule(r) => f.write_str(r),
        }
    }
}

impl Exit {
    /// mosquitto's words for a connection of client `id` that ended this way, or
    /// `None` where mosquitto prints nothing: when `quiet` (the connection was taken
    /// over by a new one with the same client identifier, or closed because the
    /// broker shuts down) and the connection simply closed.
    pub fn log_line(&self, id: &str, quiet: bool) -> Option<String> {
        Some(match self {
            Exit::Disconnect { .. } => format!("Client {id} disconnected."),
            Exit::Eof | Exit::Io(_) | Exit::Closed if quiet => return None,
            Exit::Eof | Exit::Io(_) | Exit::Closed => format!("Client {id} closed its connection."),
            Exit::KeepAlive => format!("Client {id} has exceeded timeout, disconnecting."),
            Exit::Protocol(rc, _) => format!("Client {id} disconnected due to {}.", cause(*rc)),
        })
    }
}

/// How mosquitto names the reason of a connection it closes for a bad packet.
pub fn cause(rc: ReasonCode) -> &'static str {
    match rc {
        ReasonCode::MALFORMED_PACKET | ReasonCode::TOPIC_FILTER_INVALID => "malformed packet",
        ReasonCode::PACKET_TOO_LARGE => "oversize packet",
        ReasonCode::QOS_NOT_SUPPORTED
        | ReasonCode::RETAIN_NOT_SUPPORTED
        | ReasonCode::BAD_AUTHENTICATION_METHOD => "QoS too high or retain not supported",
        // [MQTT-3.3.4-9]: named, because "protocol error" leaves a client author
        // (MQTT.js sends more than the broker's Receive Maximum) guessing.
        ReasonCode::RECEIVE_MAXIMUM_EXCEEDED => {
            "Receive Maximum exceeded (too many unacknowledged QoS 2 messages)"
        }
        _ => "protocol error",
    }
}

/// The rest of a packet's handling that has to wait (see [`Inbound::handle`]).
pub type Wait<'a> = Pin<Box<dyn Future<Output = Result<(), Exit>> + Send + 'a>>;

/// The reader's state for one connection.
pub struct Inbound<'a> {
    /// Broker state.
    pub state: &'a State,
    /// The connection.
    pub info: &'a ConnInfo,
    /// Topic aliases the client set (client to server) [MQTT-3.3.2-12].
    /// Boxed once the first is set: most clients set none (see [`OutAliases`]).
    ///
    /// [`OutAliases`]: super::session::OutAliases
    #[allow(clippy::box_collection)] // 8 bytes inline, not 48
    pub aliases: Option<Box<HashMap<u16, ByteStr>>>,
    /// Acknowledgements waiting for the store, started at the first one.
    deferred: std::sync::OnceLock<DeferredAcks>,
}

/// Acknowledgements (PUBACK, PUBREC, PUBCOMP) that go out only once what they
/// acknowledge is committed. One task per connection waits for the commits and
/// queues them to the writer in order [MQTT-4.6.0-2], while the reader goes on
/// reading: the publisher's whole in-flight window shares the next commit, instead
/// of one message per commit.
struct DeferredAcks {
    tx: tokio::sync::mpsc::Sender<(u64, Packet)>,
    /// Acknowledgements given to the task and not yet queued to the writer: while
    /// there are any, every acknowledgement goes through the task, to keep the order.
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

/// Most acknowledgements waiting for the store per connection; the reader waits
/// beyond.
const DEFERRED_ACKS: usize = 1024;

impl DeferredAcks {
    fn start(link: Arc<super::session::Link>, store: Arc<super::store::Store>) -> DeferredAcks {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(u64, Packet)>(DEFERRED_ACKS);
        let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = queued.clone();
        tokio::spawn(async move {
            // Ends with the connection (its sender is dropped).
            while let Some((after, packet)) = rx.recv().await {
                if store.wait(after).await.is_err() {
                    // Never acknowledged: the client sends it again later.
                    link.close(Some(ReasonCode::UNSPECIFIED_ERROR));
                    return;
                }
                link.send(&packet);
                count.fetch_sub(1, Ordering::AcqRel);
            }
        });
        DeferredAcks { tx, queued }
    }
}

fn protocol_error(reason: ReasonCode, why: &str) -> Exit {
    Exit::Protocol(reason, Why::Rule(why.to_string()))
}

impl<'a> Inbound<'a> {
    /// A reader state.
    pub fn new(state: &'a State, info: &'a ConnInfo) -> Self {
        Inbound {
            state,
            info,
            aliases: None,
            deferred: std::sync::OnceLock::new(),
        }
    }

    /// Send an acknowledgement once store operation `after` is committed (0: at
    /// once, unless earlier ones still wait: they keep their order).
    fn ack_out(&self, packet: Packet, after: u64) -> Option<Wait<'_>> {
        let waiting = self
            .deferred
            .get()
            .is_some_and(|d| d.queued.load(Ordering::Acquire) > 0);
        let Some(store) = self.state.store.as_ref().filter(|_| after > 0 || waiting) else {
            return self.send(packet);
        };
        let d = self
            .deferred
            .get_or_init(|| DeferredAcks::start(self.info.link.clone(), store.clone()));
        d.queued.fetch_add(1, Ordering::AcqRel);
        match d.tx.try_send((after, packet)) {
            Ok(()) => None,
            Err(tokio::sync::mpsc::error::TrySendError::Full(item)) => Some(Box::pin(async move {
                let _ = d.tx.send(item).await;
                Ok(())
            })),
            Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => None,
        }
    }

    /// The store operation to wait for when the handling since `mark` stored
    /// something (0: nothing to wait for).
    fn stored_after(&self, mark: u64) -> u64 {
        let now = self.state.store_mark();
        if now > mark { now } else { 0 }
    }

    /// Queue a control packet. When the client is not reading and the control queue
    /// is over its limit, the returned future waits for the writer.
    fn send(&self, packet: Packet) -> Option<Wait<'_>> {
        (self.info.link.send(&packet) > CONTROL_LIMIT).then(|| {
            let wait: Wait<'_> = Box::pin(async move {
                self.wait_for_writer().await;
                Ok(())
            });
            wait
        })
    }

    /// [`Inbound::send`], waiting for the writer at once.
    async fn send_now(&self, packet: Packet) {
        if let Some(wait) = self.send(packet) {
            let _ = wait.await;
        }
    }

    /// Wait until the writer has brought the control queue back under its limit.
    async fn wait_for_writer(&self) {
        let link = &self.info.link;
        loop {
            let drained = link.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if lock(&link.outbox).control.len() <= CONTROL_LIMIT {
                return;
            }
            drained.await;
        }
    }

    /// Handle one packet. Most packets are handled at once; a packet whose handling
    /// must wait (for room in a subscriber's queue, for the writer, or any SUBSCRIBE
    /// and UNSUBSCRIBE) returns the rest as a boxed future, for the reader to await
    /// before it reads the next packet. Handling synchronously keeps that waiting out
    /// of the state every connection task carries while idle.
    pub fn handle(&mut self, packet: Packet) -> Result<Option<Wait<'_>>, Exit> {
        let id = &self.info.client_id;
        let log = &self.state.log;
        match packet {
            Packet::Publish(p) => self.publish(p),
            Packet::PubAck(a) => {
                blog!(
                    log,
                    LogTypes::DEBUG,
                    "Received PUBACK from {id} (Mid: {}, RC:{})",
                    a.packet_id,
                    a.reason.0
                );
                let acked = lock(&self.info.session.state).puback(a.packet_id);
                self.acked(acked, "PUBACK").map(|()| None)
            }
            Packet::PubRec(a) => self.pubrec(a),
            Packet::PubRel(a) => Ok(self.pubrel(a)),
            Packet::PubComp(a) => {
                blog!(
                    log,
                    LogTypes::DEBUG,
                    "Received PUBCOMP from {id} (Mid: {}, RC:{})",
                    a.packet_id,
                    a.reason.0
                );
                let acked = lock(&self.info.session.state).pubcomp(a.packet_id);
                self.acked(acked, "PUBCOMP").map(|()| None)
            }
            // Rare packets with large futures, kept out of the state every
            // connection task carries.
            Packet::Subscribe(s) => Ok(Some(Box::pin(async move {
                self.subscribe(s).await;
                Ok(())
            }))),
            Packet::Unsubscribe(u) => Ok(Some(Box::pin(async move {
                self.unsubscribe(u).await;
                Ok(())
            }))),
            Packet::PingReq => {
                blog!(log, LogTypes::DEBUG, "Received PINGREQ from {id}");
                blog!(log, LogTypes::DEBUG, "Sending PINGRESP to {id}");
                Ok(self.send(Packet::PingResp))
            }
            Packet::Disconnect(d) => self.disconnect(d),
            Packet::Connect(_) => {
                blog!(
                    log,
                    LogTypes::NOTICE,
                    "Bad client {id} sending multiple CONNECT messages."
                );
                Err(protocol_error(
                    ReasonCode::PROTOCOL_ERROR,
                    "second CONNECT [MQTT-3.1.0-2]",
                ))
            }
            Packet::Auth(_) => Err(protocol_error(
                ReasonCode::PROTOCOL_ERROR,
                "AUTH without an authentication method [MQTT-4.12.0-1]",
            )),
            other => Err(protocol_error(
                ReasonCode::PROTOCOL_ERROR,
                &format!("{} sent to the server", other.packet_type().name()),
            )),
        }
    }

    /// PUBREL: the QoS 2 exchange ends with PUBCOMP (0x92 under 5.0 when the packet
    /// identifier is unknown).
    fn pubrel(&mut self, a: Ack) -> Option<Wait<'_>> {
        let id = &self.info.client_id;
        let log = &self.state.log;
        let packet_id = a.packet_id;
        blog!(
            log,
            LogTypes::DEBUG,
            "Received PUBREL from {id} (Mid: {packet_id})"
        );
        let mark = self.state.store_mark();
        let removed = lock(&self.info.session.state).end_qos2(packet_id);
        let mut comp = Ack::new(packet_id);
        if !removed && self.info.version.is_v5() {
            comp.reason = ReasonCode::PACKET_IDENTIFIER_NOT_FOUND;
        }
        blog!(
            log,
            LogTypes::DEBUG,
            "Sending PUBCOMP to {id} (m{packet_id})"
        );
        // Once the packet identifier is forgotten in the store too: else a restart
        // would take the client's next PUBLISH with it for a resent one.
        self.ack_out(Packet::PubComp(comp), self.stored_after(mark))
    }

    /// DISCONNECT: a new Session Expiry Interval, if any, and whether the will
    /// goes out.
    fn disconnect(&mut self, d: Disconnect) -> Result<Option<Wait<'_>>, Exit> {
        let id = &self.info.client_id;
        blog!(
            self.state.log,
            LogTypes::DEBUG,
            "Received DISCONNECT from {id}"
        );
        if let Some(e) = d.properties.session_expiry_interval {
            // [MQTT-3.14.2-2]
            if self.info.expiry_at_connect == 0 && e != 0 {
                return Err(protocol_error(
                    ReasonCode::PROTOCOL_ERROR,
                    "DISCONNECT sets a Session Expiry Interval after CONNECT had 0",
                ));
            }
            let mut e = e;
            if let Some(limit) = self.state.config().persistent_client_expiration {
                e = e.min(u32::try_from(limit.as_secs()).unwrap_or(u32::MAX));
            }
            lock(&self.info.session.state).set_expiry(e);
        }
        // Only a Normal disconnection (0x00) deletes the will [MQTT-3.1.2-10];
        // 0x04 and error reasons publish it [MQTT-3.14.4-3].
        Err(Exit::Disconnect {
            will: d.reason != ReasonCode::SUCCESS,
        })
    }

    /// After an acknowledgement of an outgoing message: wake the writer when it
    /// freed a place in the window; an acknowledgement of the wrong type is a
    /// Protocol Error (section 4.13) [MQTT-4.13.1-1], as mosquitto treats it.
    fn acked(&self, acked: Acked, kind: &str) -> Result<(), Exit> {
        match acked {
            Acked::Done => {
                self.info.link.wake.notify_one();
                Ok(())
            }
            Acked::Unknown => Ok(()),
            Acked::WrongType => Err(Exit::Protocol(
                ReasonCode::PROTOCOL_ERROR,
                Why::Rule(format!(
                    "{kind} of the wrong type or out of turn for its message"
                )),
            )),
        }
    }

    /// PUBREC for an outgoing QoS 2 message: reply PUBREL, with 0x92 under 5.0 when
    /// the packet identifier is unknown.
    fn pubrec(&mut self, a: Ack) -> Result<Option<Wait<'_>>, Exit> {
        let id = &self.info.client_id;
        let log = &self.state.log;
        blog!(
            log,
            LogTypes::DEBUG,
            "Received PUBREC from {id} (Mid: {})",
            a.packet_id
        );
        let error = a.reason.is_error();
        let acked = lock(&self.info.session.state).pubrec(a.packet_id, error);
        if acked == Acked::Unknown && !error {
            blog!(
                log,
                LogTypes::WARNING,
                "Warning: Received PUBREC from {id} for an unknown packet identifier {}.",
                a.packet_id
            );
        }
        self.acked(acked, "PUBREC")?;
        if error {
            return Ok(None);
        }
        let mut rel = Ack::new(a.packet_id);
        if acked == Acked::Unknown && self.info.version.is_v5() {
            rel.reason = ReasonCode::PACKET_IDENTIFIER_NOT_FOUND;
        }
        blog!(
            log,
            LogTypes::DEBUG,
            "Sending PUBREL to {id} (m{})",
            a.packet_id
        );
        Ok(self.send(Packet::PubRel(rel)))
    }

    /// PUBLISH from the client, in steps: the checks that close the connection,
    /// the ones that refuse the message with a reason code, the QoS 2 duplicate
    /// check, then routing (waiting where a subscriber's queue is full).
    fn publish(&mut self, mut p: Publish) -> Result<Option<Wait<'_>>, Exit> {
        let state = self.state;
        // What the handling stores (the QoS 2 state, retained messages, copies for
        // durable sessions) is committed before the acknowledgement.
        let mark = state.store_mark();
        state.stats.publish_received.fetch_add(1, Ordering::Relaxed);
        state
            .stats
            .publish_bytes_received
            .fetch_add(p.payload.len() as u64, Ordering::Relaxed);
        self.resolve_topic_alias(&mut p)?;
        if let Some(mount) = &self.info.mount {
            let Some(topic) = super::origin::mount_topic(mount, &p.topic) else {
                return Err(protocol_error(
                    ReasonCode::TOPIC_NAME_INVALID,
                    "the topic is too long under the listener's mount point",
                ));
            };
            p.topic = topic.into();
        }
        self.check_capabilities(&p)?;
        let (qos, packet_id) = (p.qos, p.packet_id);
        if let Some(reason) = self.refusal(&p)? {
            return Ok(self.acknowledge(qos, packet_id, reason, 0));
        }
        if qos == QoS::ExactlyOnce && self.qos2_resent(&p)? {
            // A resent QoS 2 PUBLISH is not delivered again [MQTT-4.3.3-10].
            let id = &self.info.client_id;
            blog!(
                state.log,
                LogTypes::DEBUG,
                "Sending PUBREC to {id} (m{packet_id}, rc0)"
            );
            return Ok(self.ack_out(Packet::PubRec(Ack::new(packet_id)), 0));
        }
        self.route(p, mark)
    }

    /// Subscription Identifiers are the server's [MQTT-3.3.4-6]; a topic alias is
    /// set or used [MQTT-3.3.2-9] [MQTT-3.3.2-10] [MQTT-3.3.2-12].
    fn resolve_topic_alias(&mut self, p: &mut Publish) -> Result<(), Exit> {
        if !p.properties.subscription_identifiers.is_empty() {
            return Err(protocol_error(
                ReasonCode::PROTOCOL_ERROR,
                "PUBLISH from a client with a Subscription Identifier [MQTT-3.3.4-6]",
            ));
        }
        let Some(alias) = p.properties.topic_alias else {
            return Ok(());
        };
        if !self.info.version.is_v5() || alias == 0 || alias > self.info.topic_alias_max {
            return Err(protocol_error(
                ReasonCode::TOPIC_ALIAS_INVALID,
                "topic alias out of range",
            ));
        }
        if p.topic.is_empty() {
            match self.aliases.as_ref().and_then(|a| a.get(&alias)) {
                Some(t) => p.topic = t.clone(),
                None => {
                    return Err(protocol_error(
                        ReasonCode::PROTOCOL_ERROR,
                        "unknown topic alias [MQTT-3.3.2-12]",
                    ));
                }
            }
        } else {
            // A copy: the topic is a slice of the read buffer, which the alias
            // table would otherwise keep alive for the whole connection.
            self.aliases
                .get_or_insert_with(Default::default)
                .insert(alias, ByteStr::from(p.topic.as_str()));
        }
        Ok(())
    }

    /// QoS and retain beyond what the broker announced close the connection
    /// [MQTT-3.2.2-11] [MQTT-3.2.2-14].
    fn check_capabilities(&self, p: &Publish) -> Result<(), Exit> {
        let state = self.state;
        if p.qos > state.cfg(|c| c.max_qos) {
            blog!(
                state.log,
                LogTypes::INFORMATION,
                "Too high QoS in PUBLISH from {}, disconnecting.",
                self.info.client_id
            );
            return Err(protocol_error(
                ReasonCode::QOS_NOT_SUPPORTED,
                "QoS above the maximum QoS",
            ));
        }
        if p.retain && !state.cfg(|c| c.retain_available) {
            return Err(protocol_error(
                ReasonCode::RETAIN_NOT_SUPPORTED,
                "retained messages are not supported",
            ));
        }
        Ok(())
    }

    /// Whether this client may publish on `$SYS` topic `t`: the broker's own
    /// bridges may (their state), and a bridge peer (`try_private`) may publish
    /// its state under `$SYS/broker/connection/` where the ACL lets it, as
    /// mosquitto lets bridges do.
    fn may_publish_sys(&self, t: &str) -> bool {
        let info = self.info;
        if info.internal {
            return true;
        }
        info.bridge
            && t.starts_with("$SYS/broker/connection/")
            && self
                .state
                .may_publish(info.realm, &info.client_id, info.username.as_deref(), t)
    }

    /// Why the message is acknowledged but not forwarded, if it is not: too large,
    /// `$SYS` or denied by the ACL, a payload that is not the UTF-8 it announces
    /// (which, for QoS 0, closes the connection).
    fn refusal(&self, p: &Publish) -> Result<Option<ReasonCode>, Exit> {
        let state = self.state;
        let info = self.info;
        let id = &info.client_id;
        let limit = state.cfg(|c| c.message_size_limit);
        if limit > 0 && p.payload.len() > limit {
            // Like mosquitto, checked before the topic: acknowledged with 0x95 (also
            // in the 3.1.1 log line, although a 3.1.1 PUBACK carries no reason code)
            // and not forwarded.
            blog!(
                state.log,
                LogTypes::DEBUG,
                "Dropped too large PUBLISH from {id} {}",
                PublishArgs(p)
            );
            return Ok(Some(ReasonCode::PACKET_TOO_LARGE));
        }
        // `$SYS` belongs to the broker: clients may not publish there (section 4.7.2:
        // the Server SHOULD prevent Clients from using `$` topics to exchange
        // messages); the ACL may deny other topics. Like mosquitto: acknowledged,
        // not forwarded, with 0x87 Not authorized for 5.0 (3.1.1 acknowledgements
        // carry no reason code: 0x87 shows only in the log line, as in mosquitto's).
        let allowed = if is_sys_topic(&p.topic) {
            self.may_publish_sys(&p.topic)
        } else {
            state.may_publish(info.realm, id, info.username.as_deref(), &p.topic)
        };
        if !allowed {
            blog!(
                state.log,
                LogTypes::DEBUG,
                "Denied PUBLISH from {id} {}",
                PublishArgs(p)
            );
            return Ok(Some(ReasonCode::NOT_AUTHORIZED));
        }
        blog!(
            state.log,
            LogTypes::DEBUG,
            "Received PUBLISH from {id} {}",
            PublishArgs(p)
        );
        if info.version.is_v5()
            && p.properties.payload_format_indicator == Some(1)
            && std::str::from_utf8(&p.payload).is_err()
        {
            // Section 3.3.2.3.2: a payload that is not the UTF-8 its Payload Format
            // Indicator announces is refused with 0x99: on the PUBACK / PUBREC, or,
            // for QoS 0, which has none, with DISCONNECT (section 4.13).
            if p.qos == QoS::AtMostOnce {
                return Err(protocol_error(
                    ReasonCode::PAYLOAD_FORMAT_INVALID,
                    "payload is not UTF-8 but its Payload Format Indicator says it is",
                ));
            }
            return Ok(Some(ReasonCode::PAYLOAD_FORMAT_INVALID));
        }
        Ok(None)
    }

    /// For a QoS 2 PUBLISH: whether it is a copy of one received before (awaiting
    /// PUBREL). A new one is recorded before routing, which may wait, so that a copy
    /// resent meanwhile (on this connection or a new one of the session) is not
    /// routed again [MQTT-4.3.3-10]; taken back if the PUBREC reports an error. More
    /// unacknowledged ones than the Receive Maximum is an error [MQTT-3.3.4-9].
    fn qos2_resent(&self, p: &Publish) -> Result<bool, Exit> {
        let v5 = self.info.version.is_v5();
        let receive_max = usize::from(self.info.receive_max);
        let max = v5.then_some(receive_max);
        match lock(&self.info.session.state).begin_qos2(p.packet_id, max) {
            Qos2Receive::Resent => Ok(true),
            Qos2Receive::New => Ok(false),
            Qos2Receive::TooMany => Err(protocol_error(
                ReasonCode::RECEIVE_MAXIMUM_EXCEEDED,
                "more unacknowledged QoS 2 messages than Receive Maximum",
            )),
        }
    }

    /// Route the message and acknowledge it; when a subscriber's queue is full, the
    /// acknowledgement waits until the message is queued everywhere, and the reader
    /// reads nothing meanwhile (backpressure).
    fn route(&self, mut p: Publish, mark: u64) -> Result<Option<Wait<'_>>, Exit> {
        let state = self.state;
        let (qos, packet_id) = (p.qos, p.packet_id);
        if p.retain || p.payload.len() <= COPY_LIMIT {
            // A message may stay for long (retained, or queued for a subscriber
            // that is away or slow): in its own allocation, not slices of (and
            // keeping alive) a whole read buffer. Large payloads fill most of their
            // buffer anyway and are not copied unless retained.
            own_bytes(&mut p.topic, &mut p.payload, &mut p.properties);
        }
        let msg = Message::new(
            p.topic,
            p.payload,
            p.qos,
            p.retain,
            p.properties,
            Some(self.info.client_id.clone()),
        );
        let (n, waiting) = state.route(Arc::new(msg));
        let reason = if n == 0 && self.info.version.is_v5() {
            ReasonCode::NO_MATCHING_SUBSCRIBERS
        } else {
            ReasonCode::SUCCESS
        };
        if waiting.is_empty() {
            return Ok(self.acknowledge(qos, packet_id, reason, self.stored_after(mark)));
        }
        Ok(Some(Box::pin(async move {
            state.deliver_waiting(waiting).await;
            let after = self.stored_after(mark);
            if let Some(wait) = self.acknowledge(qos, packet_id, reason, after) {
                wait.await?;
            }
            Ok(())
        })))
    }

    /// PUBACK or PUBREC for a received PUBLISH (nothing for QoS 0); a PUBREC that is
    /// not an error records the packet identifier until PUBREL [MQTT-4.3.3-9].
    /// PUBACK or PUBREC, once store operation `after` is committed (0: nothing
    /// stored).
    fn acknowledge(
        &self,
        qos: QoS,
        packet_id: u16,
        reason: ReasonCode,
        after: u64,
    ) -> Option<Wait<'_>> {
        let id = &self.info.client_id;
        let log = &self.state.log;
        let ack = Ack {
            packet_id,
            reason,
            properties: Default::default(),
        };
        match qos {
            QoS::AtMostOnce => None,
            QoS::AtLeastOnce => {
                blog!(
                    log,
                    LogTypes::DEBUG,
                    "Sending PUBACK to {id} (m{packet_id}, rc{})",
                    reason.0
                );
                self.ack_out(Packet::PubAck(ack), after)
            }
            QoS::ExactlyOnce => {
                if reason.is_error() {
                    lock(&self.info.session.state).end_qos2(packet_id);
                }
                blog!(
                    log,
                    LogTypes::DEBUG,
                    "Sending PUBREC to {id} (m{packet_id}, rc{})",
                    reason.0
                );
                self.ack_out(Packet::PubRec(ack), after)
            }
        }
    }

    /// SUBSCRIBE: each filter checked and granted in turn, the SUBACK, then the
    /// retained messages of the filters that get them.
    async fn subscribe(&mut self, s: Subscribe) {
        let state = self.state;
        let info = self.info;
        let id = &info.client_id;
        blog!(state.log, LogTypes::DEBUG, "Received SUBSCRIBE from {id}");
        let mark = state.store_mark();
        let sub_id = s.properties.subscription_identifiers.first().copied();
        let security = state.security();
        let realm = security.realm(info.realm);
        let mut codes = Vec::with_capacity(s.filters.len());
        // Filters whose retained messages go out after the SUBACK, one filter at a
        // time, each message as the queue has room: never all of them in memory.
        let mut retained_for: Vec<(String, QoS)> = Vec::new();
        for f in s.filters {
            let (code, retained) = self.subscribe_filter(f, sub_id, realm);
            codes.push(code);
            retained_for.extend(retained);
        }
        // A SUBACK only once the subscriptions are committed; without the store,
        // a refusal (0x80) for each.
        if state.stored_since(mark).await.is_err() {
            codes.iter_mut().for_each(|c| *c = ReasonCode(0x80));
        }
        blog!(state.log, LogTypes::DEBUG, "Sending SUBACK to {id}");
        self.send_now(Packet::SubAck(SubAck {
            packet_id: s.packet_id,
            reason_codes: codes,
            properties: Default::default(),
        }))
        .await;
        self.send_retained(retained_for, sub_id, realm).await;
    }

    /// One filter of a SUBSCRIBE: under the mount point, checked against the ACL,
    /// granted and recorded. Returns its SUBACK code, and the filter and granted QoS
    /// when its retained messages are to be sent.
    fn subscribe_filter(
        &self,
        mut f: SubscribeFilter,
        sub_id: Option<u32>,
        realm: &Realm,
    ) -> (ReasonCode, Option<(String, QoS)>) {
        let state = self.state;
        let info = self.info;
        let (id, log) = (&info.client_id, &state.log);
        // 0x80 Failure is all 3.1.1 has for a refused filter.
        let refused = |v5: ReasonCode| {
            if info.version.is_v5() {
                v5
            } else {
                ReasonCode(0x80)
            }
        };
        if info.bridge {
            // A bridge peer (mosquitto's `try_private`): no echo of its own
            // messages, and their retain flag kept, as mosquitto treats it.
            f.options.no_local = true;
            f.options.retain_as_published = true;
        }
        if let Some(mount) = &info.mount {
            match super::origin::mount_filter(mount, &f.filter) {
                Some(full) => f.filter = full,
                None => return (refused(ReasonCode::TOPIC_FILTER_INVALID), None),
            }
        }
        if !realm.may_subscribe(id, info.username.as_deref(), &f.filter) {
            // The ACL lets nothing this filter matches be read.
            blog!(log, LogTypes::DEBUG, "\t{} (denied)", f.filter);
            return (refused(ReasonCode::NOT_AUTHORIZED), None);
        }
        let mut options = f.options;
        // Granted QoS may be lower than requested [MQTT-3.9.3-1].
        options.qos = state.grant(f.options.qos);
        // The granted QoS, as mosquitto logs it.
        let qos = options.qos.as_u8();
        blog!(log, LogTypes::DEBUG, "\t{} (QoS {qos})", f.filter);
        let existed = state.subscribe(&info.session, &f.filter, options, sub_id);
        blog!(log, LogTypes::SUBSCRIBE, "{id} {qos} {}", f.filter);
        // Retained messages on subscribe [MQTT-3.3.1-6], per Retain Handling
        // [MQTT-3.3.1-9], [MQTT-3.3.1-10], [MQTT-3.3.1-11]; none for a shared
        // subscription (section 4.8.2).
        let send = match options.retain_handling {
            RetainHandling::SendAtSubscribe => true,
            RetainHandling::SendIfNew => !existed,
            RetainHandling::DoNotSend => false,
        };
        let retained = (send && !topic::is_shared(&f.filter) && state.cfg(|c| c.retain_available))
            .then_some((f.filter, options.qos));
        (ReasonCode(qos), retained)
    }

    /// The retained messages of `filters` that the client may read, each as its
    /// queue has room; stops at a client that does not read.
    async fn send_retained(&self, filters: Vec<(String, QoS)>, sub_id: Option<u32>, realm: &Realm) {
        let (state, info) = (self.state, self.info);
        for (filter, qos) in filters {
            let msgs = state
                .retained
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .matching(&filter);
            for m in msgs {
                if !realm.may_read(&info.client_id, info.username.as_deref(), &m.topic) {
                    continue;
                }
                if !state.wait_for_room(&info.session).await {
                    // The client does not read: the rest would be dropped at its full
                    // queue anyway.
                    state
                        .stats
                        .dropped(super::stats::DropReason::StuckSubscriber, 1);
                    return;
                }
                let d = Delivery {
                    qos: m.qos.min(qos),
                    msg: m,
                    retain: true,
                    sub_ids: sub_id.into_iter().collect(),
                    seq: 0,
                    routed: None,
                };
                state.deliver_now(&info.session, d);
            }
        }
    }

    async fn unsubscribe(&mut self, u: Unsubscribe) {
        let state = self.state;
        let info = self.info;
        let id = &info.client_id;
        let log = &state.log;
        blog!(log, LogTypes::DEBUG, "Received UNSUBSCRIBE from {id}");
        let mut codes = Vec::with_capacity(u.filters.len());
        for f in &u.filters {
            blog!(log, LogTypes::DEBUG, "\t{f}");
            let mounted;
            let f = match &info.mount {
                Some(mount) => {
                    mounted = super::origin::mount_filter(mount, f).unwrap_or_default();
                    &mounted
                }
                None => f,
            };
            let existed = state.unsubscribe(&info.session, f);
            blog!(log, LogTypes::UNSUBSCRIBE, "{id} {f}");
            codes.push(if existed {
                ReasonCode::SUCCESS
            } else {
                ReasonCode::NO_SUBSCRIPTION_EXISTED
            });
        }
        blog!(log, LogTypes::DEBUG, "Sending UNSUBACK to {id}");
        self.send_now(Packet::UnsubAck(UnsubAck {
            packet_id: u.packet_id,
            reason_codes: codes,
            properties: Default::default(),
        }))
        .await;
    }
}

/// The part of mosquitto's PUBLISH log lines after the client id:
/// `(d0, q1, r0, m1, 'topic', ... (3 bytes))`.
struct PublishArgs<'a>(&'a Publish);

impl std::fmt::Display for PublishArgs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.0;
        write!(
            f,
            "(d{}, q{}, r{}, m{}, '{}', ... ({} bytes))",
            u8::from(p.dup),
            p.qos.as_u8(),
            u8::from(p.retain),
            p.packet_id,
            p.topic,
            p.payload.len()
        )
    }
}

/// Whether a topic name is in the broker's `$SYS` tree, which clients may read but
/// not publish to.
fn is_sys_topic(topic_name: &str) -> bool {
    topic_name == "$SYS" || topic_name.starts_with("$SYS/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_connection_lines_in_mosquittos_words() {
        let line = |e: Exit, quiet| e.log_line("c1", quiet);
        assert_eq!(
            line(Exit::Disconnect { will: false }, false).as_deref(),
            Some("Client c1 disconnected.")
        );
        assert_eq!(
            line(Exit::Eof, false).as_deref(),
            Some("Client c1 closed its connection.")
        );
        // Taken over or shut down: nothing, as mosquitto.
        assert_eq!(line(Exit::Eof, true), None);
        assert_eq!(line(Exit::Closed, true), None);
        assert_eq!(
            line(Exit::KeepAlive, false).as_deref(),
            Some("Client c1 has exceeded timeout, disconnecting.")
        );
        let protocol = |rc| line(Exit::Protocol(rc, Why::Rule(String::new())), false);
        assert_eq!(
            protocol(ReasonCode::MALFORMED_PACKET).as_deref(),
            Some("Client c1 disconnected due to malformed packet.")
        );
        assert_eq!(
            protocol(ReasonCode::PACKET_TOO_LARGE).as_deref(),
            Some("Client c1 disconnected due to oversize packet.")
        );
        assert_eq!(
            protocol(ReasonCode::TOPIC_NAME_INVALID).as_deref(),
            Some("Client c1 disconnected due to protocol error.")
        );
        assert_eq!(
            protocol(ReasonCode::RECEIVE_MAXIMUM_EXCEEDED).as_deref(),
            Some(
                "Client c1 disconnected due to Receive Maximum exceeded (too many unacknowledged QoS 2 messages)."
            )
        );
    }
}
