//! Automatic reconnect: wait with exponential backoff, connect again, then resume the
//! session: re-send what the server has not acknowledged and restore subscriptions.

use super::connection::EventLoop;
use super::handshake::{Established, establish};
use super::state::{Awaiting, Outgoing, QueuedPublish};
use super::{Backoff, Command, Error};
use crate::protocol::{Ack, Packet, QoS, Subscribe};
use std::time::Duration;

impl EventLoop {
    /// Wait with backoff and reconnect; `None` when a disconnect was requested
    /// meanwhile (or every handle is gone).
    pub(super) async fn reconnect(&mut self, backoff: &Backoff) -> Option<Established> {
        // Never a busy loop, even with a zero initial delay.
        let mut delay = backoff.initial.max(Duration::from_millis(10));
        loop {
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    cmd = self.cmd_rx.recv() => match cmd {
                        None => {
                            self.shut(&Error::Closed);
                            return None;
                        }
                        Some(Command::Disconnect { reply, .. }) => {
                            self.shut(&Error::Closed);
                            let _ = reply.send(Ok(()));
                            return None;
                        }
                        Some(Command::Publish { publish, permit, reply }) => {
                            if publish.qos == QoS::AtMostOnce {
                                // At most once: not kept while the connection is down.
                                let _ = reply.send(Err(Error::ConnectionClosed));
                            } else {
                                self.session.queued.push_back(QueuedPublish { publish, permit, reply });
                            }
                        }
                        Some(other) => self.offline.push_back(other),
                    },
                }
            }
            match establish(&self.opts, self.opts.clean_start).await {
                Ok(e) => return Some(e),
                Err(e) => {
                    tracing::debug!("reconnect to {} failed: {e}", self.opts.server_display())
                }
            }
            delay = delay.saturating_mul(2).min(backoff.max);
        }
    }

    /// After a reconnect: re-send unacknowledged PUBLISH (DUP set [MQTT-3.3.1-1]) and
    /// PUBREL in their original order [MQTT-4.4.0-1, MQTT-4.6.0-1], pending
    /// (un)subscriptions, and restore the subscriptions when the server kept no session.
    ///
    /// When the server kept no session, [MQTT-3.2.2-5] has the client discard its
    /// session state; the protocol part of it (QoS 2 messages received, awaiting
    /// PUBREL) is discarded, but the application's unacknowledged messages are sent
    /// again rather than lost: for the new session they are simply new messages.
    pub(super) fn resume(&mut self, session_present: bool) {
        if !session_present {
            self.session.incoming_qos2.clear();
            self.release_settled();
        }
        for id in self.session.ids_in_order() {
            let packet = match self.session.get_mut(id) {
                Some(Outgoing::Publish { publish, stage, .. }) => {
                    if *stage == Awaiting::PubComp {
                        Packet::PubRel(Ack::new(id))
                    } else {
                        publish.dup = true;
                        Packet::Publish(publish.clone())
                    }
                }
                Some(Outgoing::Subscribe { subscribe, .. }) => Packet::Subscribe(subscribe.clone()),
                Some(Outgoing::Unsubscribe { unsubscribe, .. }) => {
                    Packet::Unsubscribe(unsubscribe.clone())
                }
                None => continue,
            };
            if let Err(e) = self.send(&packet) {
                self.fail_entry(id, e);
            }
        }
        if !session_present {
            for (filters, properties) in self.session.subscriptions.clone() {
                let Some(id) = self.session.alloc_id() else {
                    break;
                };
                let subscribe = Subscribe {
                    packet_id: id,
                    filters,
                    properties,
                };
                if self.send(&Packet::Subscribe(subscribe.clone())).is_ok() {
                    self.session.insert(
                        id,
                        Outgoing::Subscribe {
                            subscribe,
                            reply: None,
                        },
                    );
                }
            }
        }
        while let Some(c) = self.offline.pop_front() {
            self.on_command(c);
        }
        self.drain_queued();
    }

    fn fail_entry(&mut self, id: u16, err: Error) {
        match self.session.remove(id) {
            Some(Outgoing::Publish { reply: Some(r), .. }) => {
                let _ = r.send(Err(err));
            }
            Some(Outgoing::Subscribe { reply: Some(r), .. }) => {
                let _ = r.send(Err(err));
            }
            Some(Outgoing::Unsubscribe { reply: Some(r), .. }) => {
                let _ = r.send(Err(err));
            }
            _ => {}
        }
    }
}

pub(super) fn fail_command(cmd: Command, err: &Error) {
    match cmd {
        Command::Publish { reply, .. } => {
            let _ = reply.send(Err(err.duplicate()));
        }
        Command::Subscribe { reply, .. } => {
            let _ = reply.send(Err(err.duplicate()));
        }
        Command::Unsubscribe { reply, .. } => {
            let _ = reply.send(Err(err.duplicate()));
        }
        Command::Disconnect { reply, .. } => {
            let _ = reply.send(Ok(()));
        }
        Command::Settle { reply } => {
            let _ = reply.send(());
        }
    }
}
