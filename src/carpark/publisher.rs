//! The controller's outgoing messages. The controller's event loop must never wait for
//! an acknowledgement (the client stops reading the socket while its event queue is
//! full, so waiting there could block both sides): it puts display states, alerts and
//! the acknowledgements of the cars it counted, in order, on a bounded queue
//! ([`Outbox`]) drained by a publisher task ([`publish_changes`]), which also
//! subscribes and announces the controller before anything else. The clock runs on a task of
//! its own ([`publish_clock`]).
//!
//! Order is what makes the count exact: a car's acknowledgement is queued after the
//! display state that counts it, and the publisher sends it only once that state has
//! been acknowledged by the broker (and written to the state file). So the broker
//! forgets a car only when the state that counts it is safe; see the `controller`
//! module.

use super::clock::format_rfc3339;
use super::messages::{Alert, DisplayState, ONLINE, Topics};
use super::occupancy;
use super::{message, publish, stamp, subscribe};
use crate::client::Client;
use crate::protocol::QoS;
use anyhow::Context;
use bytes::Bytes;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::{self, error::TrySendError};

/// Alerts waiting beyond the queue before further ones are dropped (acknowledgements
/// are never dropped: there are at most as many as the broker has messages in flight
/// to the controller).
const ALERTS_WAITING: usize = 1024;

/// Something for the publisher task to send.
#[derive(Debug)]
pub(super) enum Outgoing {
    /// A new state for `<prefix>/display` (retained).
    Display(DisplayState),
    /// An alert for `<prefix>/alerts`.
    Alert(Alert),
    /// Acknowledge this incoming QoS 1 message (`manual_ack`): every display state
    /// queued before it is acknowledged by the broker.
    Ack(u16),
}

/// The main loop's side of the publisher queue; it never waits. What does not fit
/// waits here, in order: first the newest display state (it replaces any older one
/// still waiting, and counts every car whose acknowledgement waits behind it), then
/// alerts and acknowledgements.
pub(super) struct Outbox {
    tx: mpsc::Sender<Outgoing>,
    display: Option<DisplayState>,
    waiting: VecDeque<Outgoing>,
}

impl Outbox {
    pub(super) fn new(tx: mpsc::Sender<Outgoing>) -> Outbox {
        Outbox {
            tx,
            display: None,
            waiting: VecDeque::new(),
        }
    }

    /// Queue a new display state.
    pub(super) fn display(&mut self, state: DisplayState) {
        self.display = Some(state);
        self.flush();
    }

    /// Queue an alert (dropped, and said so, if too many are waiting).
    pub(super) fn alert(&mut self, alert: Alert) {
        if self.waiting.len() >= ALERTS_WAITING {
            println!("{} too many alerts: one was not published", stamp());
            return;
        }
        self.waiting.push_back(Outgoing::Alert(alert));
        self.flush();
    }

    /// Queue the acknowledgement of message `packet_id`, after everything queued so far.
    pub(super) fn ack(&mut self, packet_id: u16) {
        self.waiting.push_back(Outgoing::Ack(packet_id));
        self.flush();
    }

    /// Something is waiting for room in the queue.
    pub(super) fn pending(&self) -> bool {
        self.display.is_some() || !self.waiting.is_empty()
    }

    /// Move what waits into the queue while there is room, in order.
    pub(super) fn flush(&mut self) {
        if let Some(state) = self.display.take() {
            match self.tx.try_send(Outgoing::Display(state)) {
                Ok(()) => {}
                Err(TrySendError::Full(Outgoing::Display(state))) => {
                    self.display = Some(state);
                    return;
                }
                // The publisher is gone: the controller stops on its result.
                Err(_) => return,
            }
        }
        while let Some(item) = self.waiting.pop_front() {
            match self.tx.try_send(item) {
                Ok(()) => {}
                Err(TrySendError::Full(item)) => {
                    self.waiting.push_front(item);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    self.waiting.clear();
                    return;
                }
            }
        }
    }

    /// At shutdown: wait for room and queue everything still waiting, then close the
    /// queue (the publisher ends once it has sent it all).
    pub(super) async fn close(mut self) {
        if let Some(state) = self.display.take()
            && self.tx.send(Outgoing::Display(state)).await.is_err()
        {
            return;
        }
        for item in self.waiting.drain(..) {
            if self.tx.send(item).await.is_err() {
                return;
            }
        }
    }
}

/// Subscribe to the car and temperature topics and announce the controller
/// (`online`, retained); then publish display states (retained, QoS 1, each saved to the
/// state file first) and alerts (QoS 1), and send acknowledgements, in order, until
/// the queue closes.
pub(super) async fn publish_changes(
    client: Client,
    topics: Topics,
    mut outbox: mpsc::Receiver<Outgoing>,
    state_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    // Also when the broker kept our session (and so the subscriptions): the client
    // records them here, to subscribe again after a reconnect that finds none.
    subscribe(&client, &topics.controller_filters(), QoS::AtLeastOnce).await?;
    // `online` once subscribed: from now on every car sent is counted.
    let online = Bytes::from_static(ONLINE.as_bytes());
    publish(&client, &topics.status(), online, QoS::AtLeastOnce, true).await?;
    while let Some(outgoing) = outbox.recv().await {
        match outgoing {
            Outgoing::Display(state) => {
                if let Some(path) = &state_file {
                    occupancy::save_state(path, &state).with_context(|| {
                        format!("cannot write the state file {}", path.display())
                    })?;
                }
                let json = state.to_json();
                publish(&client, &topics.display(), json, QoS::AtLeastOnce, true).await?;
            }
            Outgoing::Alert(alert) => {
                let json = alert.to_json();
                publish(&client, &topics.alerts(), json, QoS::AtLeastOnce, false).await?;
            }
            Outgoing::Ack(packet_id) => client
                .acknowledge(packet_id)
                .await
                .context("cannot acknowledge a message")?,
        }
    }
    Ok(())
}

/// Publish the time (QoS 0, RFC 3339) every `interval`, starting at once.
pub(super) async fn publish_clock(client: Client, topic: String, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Bytes::from(format_rfc3339(SystemTime::now()));
        if client
            .publish(message(&topic, now, QoS::AtMostOnce, false))
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carpark::occupancy::Occupancy;

    fn displayed(o: &Occupancy) -> DisplayState {
        o.display(SystemTime::now())
    }

    #[test]
    fn what_does_not_fit_waits_in_order_behind_the_newest_display() {
        let (tx, mut rx) = mpsc::channel(1);
        let mut outbox = Outbox::new(tx);
        let mut count = Occupancy::new(5);
        outbox.display(displayed(&count));
        assert!(!outbox.pending());
        outbox.ack(1);
        count.set_temperature(1.0);
        outbox.display(displayed(&count));
        outbox.ack(2);
        count.set_temperature(2.0);
        outbox.display(displayed(&count));
        outbox.ack(3);
        assert!(outbox.pending(), "no room: waiting");
        let mut sent = Vec::new();
        while let Ok(item) = rx.try_recv() {
            sent.push(item);
            outbox.flush();
        }
        // The first state, then the newest (the middle one is skipped), then the
        // acknowledgements: each after a state that counts its message.
        assert!(matches!(&sent[0], Outgoing::Display(s) if s.temperature.is_none()));
        assert!(matches!(&sent[1], Outgoing::Display(s) if s.temperature == Some(2.0)));
        let acks: Vec<u16> = sent[2..]
            .iter()
            .map(|o| match o {
                Outgoing::Ack(id) => *id,
                other => panic!("expected an acknowledgement, got {other:?}"),
            })
            .collect();
        assert_eq!(acks, [1, 2, 3]);
        assert!(!outbox.pending());
    }
}
