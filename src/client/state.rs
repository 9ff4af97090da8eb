//! The client side of the session state (section 4.1): packet identifiers in use, QoS 1
//! and QoS 2 messages sent but not yet completely acknowledged, QoS 2 messages
//! received but not yet released, QoS 1 messages the application has not yet
//! acknowledged (with `manual_ack`), and the subscriptions to restore after a
//! reconnect. It outlives a single network connection; the event loop owns it.

use super::Error;
use crate::protocol::{
    Ack, Properties, Publish, QoS, SubAck, Subscribe, SubscribeFilter, UnsubAck, Unsubscribe,
};
use std::collections::{HashMap, HashSet, VecDeque};
use tokio::sync::{OwnedSemaphorePermit, oneshot};

pub(super) type AckReply = oneshot::Sender<Result<Ack, Error>>;
pub(super) type SubReply = oneshot::Sender<Result<SubAck, Error>>;
pub(super) type UnsubReply = oneshot::Sender<Result<UnsubAck, Error>>;

/// Where an outgoing QoS 1/2 message is in its flow (sections 4.3.2 and 4.3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Named after the packet awaited, as the specification names them.
#[allow(clippy::enum_variant_names)]
pub(super) enum Awaiting {
    /// QoS 1 PUBLISH sent, waiting for PUBACK.
    PubAck,
    /// QoS 2 PUBLISH sent, waiting for PUBREC.
    PubRec,
    /// PUBREL sent, waiting for PUBCOMP.
    PubComp,
}

/// A request holding a packet identifier until the server answers it.
pub(super) enum Outgoing {
    Publish {
        publish: Publish,
        stage: Awaiting,
        reply: Option<AckReply>,
        /// Released (dropped) with the entry: frees a place in the inflight window.
        _permit: Option<OwnedSemaphorePermit>,
    },
    Subscribe {
        subscribe: Subscribe,
        /// `None` for the re-subscriptions sent after a reconnect.
        reply: Option<SubReply>,
    },
    Unsubscribe {
        unsubscribe: Unsubscribe,
        reply: Option<UnsubReply>,
    },
}

/// A publish accepted from the application but not sent yet (the server's Receive
/// Maximum is reached, or the connection is down).
pub(super) struct QueuedPublish {
    pub publish: Publish,
    pub permit: Option<OwnedSemaphorePermit>,
    pub reply: AckReply,
}

/// The session state kept across reconnects.
#[derive(Default)]
pub(super) struct Session {
    next_id: u16,
    next_seq: u64,
    /// Requests waiting for an answer, by packet identifier, with their send order.
    outgoing: HashMap<u16, (u64, Outgoing)>,
    /// How many entries of `outgoing` are QoS 1/2 publishes (the send quota in use).
    pub inflight: usize,
    /// Publishes waiting for send quota.
    pub queued: VecDeque<QueuedPublish>,
    /// Identifiers of QoS 2 messages received and PUBRECed but not yet released.
    pub incoming_qos2: HashSet<u16>,
    /// Subscriptions granted, to restore when a reconnect finds no session.
    pub subscriptions: Vec<(Vec<SubscribeFilter>, Properties)>,
    /// With `manual_ack`: incoming QoS 1 messages handed to the application and not
    /// yet acknowledged by it.
    pub app_unacked: AppUnacked,
}

/// Incoming QoS 1 messages handed to the application (with `manual_ack`), oldest
/// first, each with the connection it arrived on.
///
/// The application acknowledges them one by one in the order it received them (the
/// order PUBACKs must go in [MQTT-4.6.0-2]), so its n-th acknowledgement is for the
/// n-th entry: the packet identifier alone cannot say which delivery is meant, since
/// after a reconnect the server may use the same identifier again. An entry from an
/// earlier connection is stale: its PUBACK cannot be sent any more (the server sends
/// the message again if it kept the session [MQTT-4.4.0-1], and the application
/// acknowledges that copy in its turn).
#[derive(Debug, Default)]
pub(super) struct AppUnacked {
    /// Identifier, connection, QoS.
    entries: VecDeque<(u16, u64, QoS)>,
}

/// What to do with the application's acknowledgement of a packet identifier.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum AppAck {
    /// Send the PUBACK (QoS 1) or PUBREC (QoS 2): the message came on the current
    /// connection.
    Send(QoS),
    /// The message came on an earlier connection: nothing to send.
    Stale,
    /// Not the oldest message awaiting the application's acknowledgement (an
    /// application error): ignored.
    OutOfOrder,
}

impl AppUnacked {
    /// A QoS 1 (or, with `manual_ack_qos2`, QoS 2) message with identifier `id`,
    /// received on connection `link`, was queued to the application.
    pub fn handed_over(&mut self, id: u16, link: u64, qos: QoS) {
        self.entries.push_back((id, link, qos));
    }

    /// Whether QoS 2 message `id` of connection `link` awaits the application (a
    /// copy sent again before its PUBREC is not delivered twice [MQTT-4.3.3-10]).
    pub fn awaits_qos2(&self, id: u16, link: u64) -> bool {
        self.entries
            .iter()
            .any(|&(i, l, q)| i == id && l == link && q == QoS::ExactlyOnce)
    }

    /// The application acknowledges `id`; `link` is the current connection.
    pub fn acknowledge(&mut self, id: u16, link: u64) -> AppAck {
        match self.entries.front() {
            Some(&(front, from, qos)) if front == id => {
                self.entries.pop_front();
                if from == link {
                    AppAck::Send(qos)
                } else {
                    AppAck::Stale
                }
            }
            _ => AppAck::OutOfOrder,
        }
    }
}

impl Session {
    /// A free packet identifier (non-zero and not in use [MQTT-2.2.1-3]), or `None` if all 65535 are taken.
    pub fn alloc_id(&mut self) -> Option<u16> {
        for _ in 0..u16::MAX {
            self.next_id = self.next_id.wrapping_add(1);
            if self.next_id == 0 {
                self.next_id = 1;
            }
            if !self.outgoing.contains_key(&self.next_id) {
                return Some(self.next_id);
            }
        }
        None
    }

    /// Record a request sent with identifier `id`.
    pub fn insert(&mut self, id: u16, entry: Outgoing) {
        if matches!(entry, Outgoing::Publish { .. }) {
            self.inflight += 1;
        }
        self.next_seq += 1;
        self.outgoing.insert(id, (self.next_seq, entry));
    }

    /// The request waiting with identifier `id`.
    pub fn get_mut(&mut self, id: u16) -> Option<&mut Outgoing> {
        self.outgoing.get_mut(&id).map(|(_, e)| e)
    }

    /// Remove the request with identifier `id`.
    pub fn remove(&mut self, id: u16) -> Option<Outgoing> {
        let (_, entry) = self.outgoing.remove(&id)?;
        if matches!(entry, Outgoing::Publish { .. }) {
            self.inflight -= 1;
        }
        Some(entry)
    }

    /// Identifiers of the waiting requests in the order they were first sent (for
    /// retransmission in order [MQTT-4.6.0-1]).
    pub fn ids_in_order(&self) -> Vec<u16> {
        let mut ids: Vec<(u64, u16)> = self.outgoing.iter().map(|(id, (s, _))| (*s, *id)).collect();
        ids.sort_unstable();
        ids.into_iter().map(|(_, id)| id).collect()
    }

    /// Remember the filters the server granted (code < 0x80).
    pub fn record_subscribed(&mut self, subscribe: &Subscribe, ack: &SubAck) {
        let granted: Vec<SubscribeFilter> = subscribe
            .filters
            .iter()
            .zip(ack.reason_codes.iter())
            .filter(|(_, rc)| !rc.is_error())
            .map(|(f, _)| f.clone())
            .collect();
        if granted.is_empty() {
            return;
        }
        for (filters, _) in &mut self.subscriptions {
            filters.retain(|f| !granted.iter().any(|g| g.filter == f.filter));
        }
        self.subscriptions.retain(|(f, _)| !f.is_empty());
        self.subscriptions
            .push((granted, subscribe.properties.clone()));
    }

    /// Forget unsubscribed filters.
    pub fn record_unsubscribed(&mut self, filters: &[String]) {
        for (subs, _) in &mut self.subscriptions {
            subs.retain(|f| !filters.contains(&f.filter));
        }
        self.subscriptions.retain(|(f, _)| !f.is_empty());
    }

    /// Fail every waiting request with `err` (the connection is gone for good).
    pub fn fail_all(&mut self, err: &Error) {
        for (_, (_, entry)) in self.outgoing.drain() {
            match entry {
                Outgoing::Publish { reply, .. } => {
                    if let Some(r) = reply {
                        let _ = r.send(Err(err.duplicate()));
                    }
                }
                Outgoing::Subscribe { reply, .. } => {
                    if let Some(r) = reply {
                        let _ = r.send(Err(err.duplicate()));
                    }
                }
                Outgoing::Unsubscribe { reply, .. } => {
                    if let Some(r) = reply {
                        let _ = r.send(Err(err.duplicate()));
                    }
                }
            }
        }
        self.inflight = 0;
        for q in self.queued.drain(..) {
            let _ = q.reply.send(Err(err.duplicate()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_skip_zero_and_ids_in_use() {
        let mut s = Session::default();
        let a = s.alloc_id().unwrap();
        assert_eq!(a, 1);
        s.insert(
            a,
            Outgoing::Unsubscribe {
                unsubscribe: Unsubscribe::default(),
                reply: None,
            },
        );
        s.next_id = u16::MAX - 1;
        assert_eq!(s.alloc_id(), Some(u16::MAX));
        // Wraps past 0 and skips 1, which is in use [MQTT-2.2.1-3].
        assert_eq!(s.alloc_id(), Some(2));
    }

    #[test]
    fn app_acknowledgements_match_deliveries_in_order() {
        let mut u = AppUnacked::default();
        let q1 = QoS::AtLeastOnce;
        u.handed_over(1, 0, q1);
        u.handed_over(2, 0, q1);
        // Connection 0 lost; the server sends 1 and 2 again on connection 1.
        u.handed_over(1, 1, q1);
        u.handed_over(2, 1, QoS::ExactlyOnce);
        assert!(u.awaits_qos2(2, 1) && !u.awaits_qos2(1, 1));
        assert_eq!(u.acknowledge(2, 1), AppAck::OutOfOrder);
        assert_eq!(u.acknowledge(1, 1), AppAck::Stale);
        assert_eq!(u.acknowledge(2, 1), AppAck::Stale);
        assert_eq!(u.acknowledge(1, 1), AppAck::Send(q1));
        assert_eq!(u.acknowledge(2, 1), AppAck::Send(QoS::ExactlyOnce));
        assert_eq!(u.acknowledge(2, 1), AppAck::OutOfOrder);
    }

    #[test]
    fn ids_exhausted() {
        let mut s = Session::default();
        for _ in 0..u16::MAX {
            let id = s.alloc_id().unwrap();
            s.insert(
                id,
                Outgoing::Unsubscribe {
                    unsubscribe: Unsubscribe::default(),
                    reply: None,
                },
            );
        }
        assert_eq!(s.alloc_id(), None);
    }
}
