//! Is another controller already counting on this prefix? Two controllers on one
//! prefix would both count every car and publish displays that flip between their
//! numbers, so a controller (and the demo, which starts one) looks before it starts.
//!
//! A controller announces itself with the retained status `online` and a will of
//! `offline` [MQTT-3.1.2-8], and publishes the time on `<prefix>/time` every
//! `--clock-interval` (1 s by default). A retained `online` alone is not proof of
//! life: a broker that restarts from its store keeps the retained `online` of a
//! controller that never reconnects. So the probe, on a short connection of its own
//! (generated id, clean session, no will: the controller's kept session is left
//! alone), reads the retained status and, only when it says `online`, listens for a
//! fresh (not retained) clock tick.

use super::controller::ControllerOptions;
use super::messages::{ONLINE, Topics};
use super::{connect, stamp, subscribe};
use crate::client::{ConnectOptions, Event};
use crate::protocol::QoS;
use std::time::Duration;

/// How long to listen for the clock of a controller whose status is `online`: a
/// few ticks at the default `--clock-interval` of 1 s.
pub const CLOCK_WAIT: Duration = Duration::from_millis(2500);

/// What the probe found on the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No status, or `offline`.
    NoController,
    /// The status says `online` but no clock ticked within [`CLOCK_WAIT`]: a
    /// controller that vanished without its will being sent.
    Stale,
    /// The status says `online` and the clock ticks.
    Live,
}

/// Look for a live controller on `topics`' prefix, connecting with `opts` (its will,
/// session and identifier are replaced: this connection is only a look), waiting at
/// most `status_wait` for the retained status.
pub async fn other_controller(
    opts: &ConnectOptions,
    topics: &Topics,
    status_wait: Duration,
) -> anyhow::Result<Found> {
    let mut opts = opts.clone();
    opts.client_id = String::new();
    opts.clean_start = true;
    opts.session_expiry = None;
    opts.will = None;
    opts.reconnect = None;
    opts.manual_ack = false;
    let (client, mut events) = connect(opts, None).await?;
    let (status, time) = (topics.status(), topics.time());
    subscribe(&client, &[status.clone(), time.clone()], QoS::AtMostOnce).await?;
    let start = tokio::time::Instant::now();
    let mut online = None;
    let found = loop {
        let deadline = match online {
            None => start + status_wait,
            Some(true) => start + status_wait + CLOCK_WAIT,
            Some(false) => break Found::NoController,
        };
        let Ok(event) = tokio::time::timeout_at(deadline, events.recv()).await else {
            break match online {
                Some(true) => Found::Stale,
                _ => Found::NoController,
            };
        };
        match event {
            Some(Event::Message(p)) if p.topic == status.as_str() => {
                online = Some(p.payload == ONLINE.as_bytes());
            }
            Some(Event::Message(p)) if p.topic == time.as_str() && !p.retain => {
                if online == Some(true) {
                    break Found::Live;
                }
            }
            Some(Event::Message(_)) | Some(Event::Reconnected { .. }) => {}
            Some(Event::ServerDisconnect(_)) | Some(Event::Disconnected(_)) | None => {
                anyhow::bail!("the connection closed while looking for another controller")
            }
        }
    };
    let _ = client.disconnect().await;
    Ok(found)
}

/// Refuse to start beside a live controller on the same prefix, unless `take_over`.
pub async fn refuse_beside_a_live_one(config: &ControllerOptions) -> anyhow::Result<()> {
    let found = other_controller(&config.connect, &config.topics, config.restore_wait).await;
    let found = match found {
        Ok(found) => found,
        Err(e) => {
            // The connection itself is tried again below, with its own error; a
            // refused subscription (an ACL) only means we cannot tell.
            println!(
                "{} cannot look for another controller ({e:#}): starting",
                stamp()
            );
            return Ok(());
        }
    };
    match found {
        Found::Live if config.take_over => {
            println!(
                "{} another controller is live on prefix {}: taking over",
                stamp(),
                config.topics.prefix()
            );
        }
        Found::Live => anyhow::bail!(
            "another controller is already running on prefix {} (its status is online and its clock ticks): stop it, use another --prefix, or start with --take-over",
            config.topics.prefix()
        ),
        Found::Stale => println!(
            "{} the status of prefix {} says online but no clock ticks: starting",
            stamp(),
            config.topics.prefix()
        ),
        Found::NoController => {}
    }
    Ok(())
}
