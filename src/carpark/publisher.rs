//! The controller's outgoing messages. The controller's event loop must never wait for
//! an acknowledgement (the client stops reading the socket while its event queue is
//! full, so waiting there could block both sides): it puts display states and alerts,
//! in order, on a bounded queue ([`Outbox`]) drained by a publisher task
//! ([`publish_changes`]). The clock runs on a task of its own ([`publish_clock`]).

use super::clock::format_rfc3339;
use super::messages::{Alert, DisplayState, Topics};
use super::occupancy;
use super::{message, publish, stamp};
use crate::client::Client;
use crate::protocol::QoS;
use anyhow::Context;
use bytes::Bytes;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// Something for the publisher task to send.
#[derive(Debug)]
pub(super) enum Outgoing {
    /// A new state for `<prefix>/display` (retained).
    Display(DisplayState),
    /// An alert for `<prefix>/alerts`.
    Alert(Alert),
}

/// The main loop's side of the publisher queue; it never waits.
pub(super) struct Outbox {
    pub(super) tx: mpsc::Sender<Outgoing>,
    /// A display update did not fit: send the current state once there is room.
    pub(super) display_pending: bool,
}

impl Outbox {
    pub(super) fn new(tx: mpsc::Sender<Outgoing>) -> Outbox {
        Outbox {
            tx,
            display_pending: false,
        }
    }

    pub(super) fn display(&mut self, state: DisplayState) {
        self.display_pending = self.tx.try_send(Outgoing::Display(state)).is_err();
    }

    pub(super) fn alert(&mut self, alert: Alert) {
        if self.tx.try_send(Outgoing::Alert(alert)).is_err() {
            println!("{} too many alerts: one was not published", stamp());
        }
    }
}

/// Publish display states (retained, QoS 1) and alerts (QoS 1) in order until the
/// queue closes, saving each display state to the state file first.
pub(super) async fn publish_changes(
    client: Client,
    topics: Topics,
    mut outbox: mpsc::Receiver<Outgoing>,
    state_file: Option<PathBuf>,
) -> anyhow::Result<()> {
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

    #[test]
    fn a_full_queue_keeps_the_display_pending() {
        let (tx, mut rx) = mpsc::channel(1);
        let mut outbox = Outbox::new(tx);
        let count = Occupancy::new(1);
        outbox.display(count.display(SystemTime::now()));
        assert!(!outbox.display_pending);
        outbox.display(count.display(SystemTime::now()));
        assert!(outbox.display_pending, "no room: retried later");
        assert!(matches!(rx.try_recv(), Ok(Outgoing::Display(_))));
        outbox.display(count.display(SystemTime::now()));
        assert!(!outbox.display_pending);
    }
}
