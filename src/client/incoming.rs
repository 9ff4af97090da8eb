//! What the event loop does with each packet from the server: deliver application
//! messages (resolving topic aliases, answering QoS 1/2 (section 4.3)), complete our own
//! publishes, subscriptions and pings, and reject anything a server must not send
//! with a clear protocol error.

use super::Error;
use super::Event;
use super::connection::{Blocked, EventLoop};
use super::state::{AppAck, Awaiting, Outgoing};
use crate::protocol::{self, Ack, Packet, PacketType, Publish, QoS, ReasonCode, SubAck, UnsubAck};
use tokio::sync::mpsc::error::TrySendError;

fn violation(rule: &'static str) -> Error {
    Error::Protocol(protocol::Error::Protocol(rule))
}

fn unexpected(t: PacketType) -> &'static str {
    match t {
        PacketType::Connect => "unexpected CONNECT from the server",
        PacketType::ConnAck => "unexpected second CONNACK from the server [MQTT-3.2.0-2]",
        PacketType::Subscribe => "unexpected SUBSCRIBE from the server",
        PacketType::Unsubscribe => "unexpected UNSUBSCRIBE from the server",
        PacketType::PingReq => "unexpected PINGREQ from the server",
        _ => "unexpected packet from the server",
    }
}

/// What to do about a PUBREC, decided while the session entry is borrowed.
enum RecAction {
    Release,
    Done,
    Ignore,
}

impl EventLoop {
    /// Handle one packet from the server.
    pub(super) fn on_packet(&mut self, packet: Packet) -> Result<(), Error> {
        match packet {
            Packet::Publish(p) => self.on_publish(p),
            Packet::PubAck(ack) => self.on_puback(ack),
            Packet::PubRec(ack) => self.on_pubrec(ack),
            Packet::PubRel(ack) => self.on_pubrel(ack),
            Packet::PubComp(ack) => self.on_pubcomp(ack),
            Packet::SubAck(ack) => self.on_suback(ack),
            Packet::UnsubAck(ack) => self.on_unsuback(ack),
            Packet::PingResp => {
                self.ping_sent = None;
                Ok(())
            }
            Packet::Disconnect(d) => Err(Error::ServerDisconnected(if self.opts.version.is_v5() {
                Some(d)
            } else {
                None
            })),
            Packet::Auth(_) => Err(violation(
                "the server sent AUTH (enhanced authentication), which is not supported yet",
            )),
            other => Err(violation(unexpected(other.packet_type()))),
        }
    }

    /// An application message: resolve its topic alias, then deliver it and answer
    /// (PUBACK for QoS 1 [MQTT-4.3.2-4], PUBREC for QoS 2 [MQTT-4.3.3-8]); a QoS 2
    /// message whose identifier awaits PUBREL is a retransmission and is not delivered
    /// again [MQTT-4.3.3-10].
    fn on_publish(&mut self, mut p: Publish) -> Result<(), Error> {
        if let Some(alias) = p.properties.topic_alias {
            // Topic aliases: 0 is not allowed [MQTT-3.3.2-8], nor a value above the
            // Topic Alias Maximum we announced in CONNECT [MQTT-3.3.2-11].
            if alias == 0 || alias > self.topic_alias_max {
                return Err(violation(
                    "Topic Alias 0 or above the Topic Alias Maximum the client announced",
                ));
            }
            if p.topic.is_empty() {
                p.topic =
                    self.aliases.get(&alias).cloned().ok_or_else(|| {
                        violation("PUBLISH with a Topic Alias that was never set")
                    })?;
            } else {
                self.aliases.insert(alias, p.topic.clone());
            }
        } else if p.topic.is_empty() {
            return Err(violation("PUBLISH with an empty topic and no Topic Alias"));
        }
        let id = p.packet_id;
        match p.qos {
            QoS::AtMostOnce => self.deliver(p, None, None),
            // With `manual_ack` the application sends the PUBACK (`app_acknowledged`).
            QoS::AtLeastOnce if self.opts.manual_ack => self.deliver(p, None, None),
            QoS::AtLeastOnce => self.deliver(p, Some(Packet::PubAck(Ack::new(id))), None),
            QoS::ExactlyOnce => {
                if self.session.incoming_qos2.contains(&id) {
                    return self.send(&Packet::PubRec(Ack::new(id)));
                }
                let held = self.opts.manual_ack && self.opts.manual_ack_qos2;
                if held && self.session.app_unacked.awaits_qos2(id, self.link) {
                    // Its PUBREC goes when the application acknowledges the first copy.
                    return Ok(());
                }
                if let Some(max) = self.opts.properties.receive_maximum
                    && self.opts.version.is_v5()
                    && self.session.incoming_qos2.len() >= usize::from(max)
                {
                    return Err(violation(
                        "the server exceeded the Receive Maximum the client announced [MQTT-3.3.4-9]",
                    ));
                }
                if held {
                    // The application sends the PUBREC (`app_acknowledged`).
                    return self.deliver(p, None, None);
                }
                self.deliver(p, Some(Packet::PubRec(Ack::new(id))), Some(id))
            }
        }
    }

    /// Queue a message to the event stream, or hold it (and stop reading) while the
    /// stream is full.
    fn deliver(
        &mut self,
        p: Publish,
        ack: Option<Packet>,
        qos2_id: Option<u16>,
    ) -> Result<(), Error> {
        if self.events_closed {
            return self.delivered(ack, qos2_id);
        }
        let (id, qos) = (p.packet_id, p.qos);
        let held = match self.events.try_reserve() {
            Ok(permit) => {
                permit.send(Event::Message(p));
                None
            }
            Err(TrySendError::Full(())) => Some(p),
            Err(TrySendError::Closed(())) => {
                self.events_closed = true;
                None
            }
        };
        if held.is_none() && !self.events_closed {
            self.handed_over(id, qos);
        }
        match held {
            Some(publish) => {
                self.blocked = Some(Blocked {
                    publish,
                    ack,
                    qos2_id,
                });
                Ok(())
            }
            None => self.delivered(ack, qos2_id),
        }
    }

    /// The message is queued: acknowledge it.
    pub(super) fn delivered(
        &mut self,
        ack: Option<Packet>,
        qos2_id: Option<u16>,
    ) -> Result<(), Error> {
        if let Some(id) = qos2_id {
            self.session.incoming_qos2.insert(id);
        }
        match ack {
            Some(a) => self.send(&a),
            None => Ok(()),
        }
    }

    /// Message `id` is now queued to the application: with `manual_ack`, a QoS 1 message
    /// (and with `manual_ack_qos2` a QoS 2 one) awaits its acknowledgement.
    pub(super) fn handed_over(&mut self, id: u16, qos: QoS) {
        let held = match qos {
            QoS::AtMostOnce => false,
            QoS::AtLeastOnce => self.opts.manual_ack,
            QoS::ExactlyOnce => self.opts.manual_ack && self.opts.manual_ack_qos2,
        };
        if held {
            self.session.app_unacked.handed_over(id, self.link, qos);
        }
    }

    /// The application acknowledges the oldest message it has not acknowledged yet
    /// (`manual_ack`): PUBACK it [MQTT-4.3.2-4] (QoS 2: PUBREC it [MQTT-4.3.3-9]) if it
    /// came on this connection.
    pub(super) fn app_acknowledged(&mut self, id: u16) {
        match self.session.app_unacked.acknowledge(id, self.link) {
            AppAck::Send(qos) => {
                let ack = if qos == QoS::ExactlyOnce {
                    self.session.incoming_qos2.insert(id);
                    Packet::PubRec(Ack::new(id))
                } else {
                    Packet::PubAck(Ack::new(id))
                };
                if let Err(e) = self.send(&ack) {
                    tracing::warn!("cannot acknowledge message {id}: {e}");
                }
            }
            AppAck::Stale => {}
            AppAck::OutOfOrder => tracing::warn!(
                "acknowledgement of message {id} out of order [MQTT-4.6.0-2]: ignored"
            ),
        }
    }

    /// PUBACK completes a QoS 1 publish [MQTT-4.3.2-3].
    fn on_puback(&mut self, ack: Ack) -> Result<(), Error> {
        let id = ack.packet_id;
        match self.session.get_mut(id) {
            Some(Outgoing::Publish {
                stage: Awaiting::PubAck,
                ..
            }) => {
                self.complete_publish(id, ack);
                Ok(())
            }
            _ => Err(violation("PUBACK for a packet identifier that awaits none")),
        }
    }

    /// PUBREC: answer PUBREL [MQTT-4.3.3-4], or end the flow on an error code.
    fn on_pubrec(&mut self, ack: Ack) -> Result<(), Error> {
        let id = ack.packet_id;
        let action = match self.session.get_mut(id) {
            Some(Outgoing::Publish { stage, .. }) => match *stage {
                Awaiting::PubRec if ack.reason.is_error() => RecAction::Done,
                Awaiting::PubRec => {
                    *stage = Awaiting::PubComp;
                    RecAction::Release
                }
                // A repeated PUBREC: PUBREL again.
                Awaiting::PubComp if !ack.reason.is_error() => RecAction::Release,
                Awaiting::PubComp => RecAction::Ignore,
                Awaiting::PubAck => {
                    return Err(violation("PUBREC for a QoS 1 message"));
                }
            },
            _ => return Err(violation("PUBREC for a packet identifier that awaits none")),
        };
        match action {
            RecAction::Release => self.send(&Packet::PubRel(Ack::new(id))),
            RecAction::Done => {
                self.complete_publish(id, ack);
                Ok(())
            }
            RecAction::Ignore => Ok(()),
        }
    }

    /// PUBCOMP completes a QoS 2 publish.
    fn on_pubcomp(&mut self, ack: Ack) -> Result<(), Error> {
        let id = ack.packet_id;
        match self.session.get_mut(id) {
            Some(Outgoing::Publish {
                stage: Awaiting::PubComp,
                ..
            }) => {
                self.complete_publish(id, ack);
                Ok(())
            }
            _ => Err(violation(
                "PUBCOMP for a packet identifier that awaits none",
            )),
        }
    }

    fn complete_publish(&mut self, id: u16, ack: Ack) {
        if let Some(Outgoing::Publish { reply: Some(r), .. }) = self.session.remove(id) {
            let _ = r.send(Ok(ack));
        }
        self.drain_queued();
    }

    /// PUBREL releases an incoming QoS 2 message: answer PUBCOMP [MQTT-4.3.3-11]
    /// (5.0: "Packet Identifier not found" for an unknown one).
    fn on_pubrel(&mut self, ack: Ack) -> Result<(), Error> {
        let id = ack.packet_id;
        let mut comp = Ack::new(id);
        if !self.session.incoming_qos2.remove(&id) && self.opts.version.is_v5() {
            comp.reason = ReasonCode::PACKET_IDENTIFIER_NOT_FOUND;
        }
        let sent = self.send(&Packet::PubComp(comp));
        self.release_settled();
        sent
    }

    /// SUBACK: one code per filter, in order [MQTT-3.9.3-1].
    fn on_suback(&mut self, ack: SubAck) -> Result<(), Error> {
        let id = ack.packet_id;
        let Some(Outgoing::Subscribe { subscribe, .. }) = self.session.get_mut(id) else {
            return Err(violation("SUBACK for a packet identifier that awaits none"));
        };
        if subscribe.filters.len() != ack.reason_codes.len() {
            return Err(violation(
                "SUBACK with a code count different from the SUBSCRIBE's filters [MQTT-3.9.3-1]",
            ));
        }
        if let Some(Outgoing::Subscribe { subscribe, reply }) = self.session.remove(id) {
            self.session.record_subscribed(&subscribe, &ack);
            match reply {
                Some(r) => {
                    let _ = r.send(Ok(ack));
                }
                None => {
                    for (f, rc) in subscribe.filters.iter().zip(&ack.reason_codes) {
                        if rc.is_error() {
                            tracing::warn!("re-subscribing to '{}' failed: {rc}", f.filter);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// UNSUBACK (5.0: one code per filter [MQTT-3.11.3-1]).
    fn on_unsuback(&mut self, ack: UnsubAck) -> Result<(), Error> {
        let id = ack.packet_id;
        let Some(Outgoing::Unsubscribe { unsubscribe, .. }) = self.session.get_mut(id) else {
            return Err(violation(
                "UNSUBACK for a packet identifier that awaits none",
            ));
        };
        if self.opts.version.is_v5() && unsubscribe.filters.len() != ack.reason_codes.len() {
            return Err(violation(
                "UNSUBACK with a code count different from the UNSUBSCRIBE's filters [MQTT-3.11.3-1]",
            ));
        }
        if let Some(Outgoing::Unsubscribe { unsubscribe, reply }) = self.session.remove(id) {
            self.session.record_unsubscribed(&unsubscribe.filters);
            if let Some(r) = reply {
                let _ = r.send(Ok(ack));
            }
        }
        Ok(())
    }
}
