//! Automatic reconnect: wait with exponential backoff, connect again, then resume the
//! session: re-send what the server has not acknowledged and restore subscriptions.

use super::connection::EventLoop;
use super::handshake::{Established, establish};
use super::state::{Awaiting, Outgoing, QueuedPublish};
use super::{Backoff, Command, Error};
use crate::protocol::{Ack, Packet, QoS, Subscribe};
use std::ops::ControlFlow;
use std::time::Duration;

impl EventLoop {
    /// Wait with backoff and reconnect; `None` when a disconnect was requested
    /// meanwhile (or every handle is gone). Requests are answered during the wait and
    /// during each handshake alike, so a disconnect is never held up by a server that
    /// accepts the connection and then never sends CONNACK.
    pub(super) async fn reconnect(&mut self, backoff: &Backoff) -> Option<Established> {
        // Never a busy loop, even with a zero initial delay.
        let mut delay = backoff.initial.max(Duration::from_millis(10));
        // Owned by the handshake future, so that `self` stays free for the requests.
        let opts = self.opts.clone();
        loop {
            self.while_down(tokio::time::sleep(delay)).await?;
            match self.while_down(establish(&opts, opts.clean_start)).await? {
                Ok(e) => return Some(e),
                Err(e) => {
                    tracing::debug!("reconnect to {} failed: {e}", opts.server_display())
                }
            }
            delay = delay.saturating_mul(2).min(backoff.max);
        }
    }

    /// Drive `work` (the backoff wait, a handshake) while handling the requests that
    /// arrive meanwhile; `None`, with `work` dropped, when the client is to end.
    async fn while_down<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                // A handshake that completes with a request pending wins: the request
                // (a DISCONNECT, say) is then handled on the new connection.
                biased;
                r = &mut work => return Some(r),
                cmd = self.cmd_rx.recv() => {
                    if self.on_command_while_down(cmd).is_break() {
                        return None;
                    }
                }
            }
        }
    }

    /// A request while the connection is down: a disconnect (or the last handle
    /// dropped) ends the client, a QoS 0 publish fails, QoS 1/2 publishes and
    /// (un)subscriptions wait for the next connection, and `settle_incoming` is
    /// answered as soon as no incoming QoS 2 message awaits its PUBREL.
    fn on_command_while_down(&mut self, cmd: Option<Command>) -> ControlFlow<()> {
        match cmd {
            None => {
                self.shut(&Error::Closed);
                return ControlFlow::Break(());
            }
            Some(Command::Disconnect { reply, .. }) => {
                self.shut(&Error::Closed);
                let _ = reply.send(Ok(()));
                return ControlFlow::Break(());
            }
            Some(Command::Publish {
                publish,
                permit,
                reply,
            }) => {
                if publish.qos == QoS::AtMostOnce {
                    // At most once: not kept while the connection is down.
                    let _ = reply.send(Err(Error::ConnectionClosed));
                } else {
                    self.session.queued.push_back(QueuedPublish {
                        publish,
                        permit,
                        reply,
                    });
                }
            }
            Some(Command::Settle { reply }) => {
                self.settle_waiters.push(reply);
                self.release_settled();
            }
            // From an earlier connection, necessarily: nothing to send.
            Some(Command::Ack { packet_id }) => self.app_acknowledged(packet_id),
            Some(other) => self.offline.push_back(other),
        }
        ControlFlow::Continue(())
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
        Command::Ack { .. } => {}
    }
}
