//! The controller's MQTT session: a stable client identifier per prefix, and a session
//! the broker keeps while the controller is away, storing the cars sent meanwhile
//! (Clean Session 0 under 3.1.1 [MQTT-3.1.2-4] [MQTT-3.1.2-5]; Clean Start 0 and a
//! Session Expiry Interval under 5.0); plus the two short connections around it: one
//! that discards the session for `--reset`, and one that reads the retained display
//! back before the session is resumed.
//!
//! The retained display is read on a connection of its own because a resumed session
//! starts delivering the cars queued for it at once: on the session's own connection
//! they would come before the retained display, and the count they apply to is not
//! known yet.

use super::controller::ControllerOptions;
use super::messages::{DisplayState, Topics};
use super::{connect, stamp, subscribe};
use crate::client::{ConnectOptions, Event};
use crate::protocol::QoS;
use anyhow::Context;

/// The controller's client identifier when `-i` does not give one:
/// `mq-carpark-controller-<prefix>` with `/` replaced by `-`, so each car park (each
/// prefix) has its own session and a restarted controller finds it again.
pub fn client_id(topics: &Topics) -> String {
    format!(
        "mq-carpark-controller-{}",
        topics.prefix().replace('/', "-")
    )
}

/// The options of the controller's main connection: the stable identifier, a kept
/// session (unless `session_expiry` is `None` or zero), and QoS 1 messages
/// acknowledged by the controller itself, once the state that counts them is safe.
pub fn session_options(config: &ControllerOptions) -> ConnectOptions {
    let mut opts = config.connect.clone();
    opts.manual_ack = true;
    if let Some(expiry) = config.session_expiry.filter(|d| !d.is_zero()) {
        if opts.client_id.is_empty() {
            opts.client_id = client_id(&config.topics);
        }
        opts.clean_start = false;
        if opts.version.is_v5() {
            opts.session_expiry = Some(u32::try_from(expiry.as_secs()).unwrap_or(u32::MAX));
        }
    }
    opts
}

/// Whether `config` asks for a kept session.
pub fn is_persistent(config: &ControllerOptions) -> bool {
    config.session_expiry.is_some_and(|d| !d.is_zero())
}

/// A short connection of its own: no will, no reconnect, a clean session.
fn side_connection(mut opts: ConnectOptions) -> ConnectOptions {
    opts.clean_start = true;
    // 5.0: no Session Expiry Interval = 0, the session ends with the connection.
    opts.session_expiry = None;
    opts.will = None;
    opts.reconnect = None;
    opts.manual_ack = false;
    opts
}

/// `--reset`: connect once with the session's identifier and a clean session, which
/// makes the broker discard the kept session and the cars queued in it
/// [MQTT-3.1.2-6], then leave.
pub async fn discard(config: &ControllerOptions) -> anyhow::Result<()> {
    let (client, _events) = connect(side_connection(session_options(config)), None).await?;
    client
        .disconnect()
        .await
        .context("cannot discard the controller's session")
}

/// Read the retained display of an earlier run, if the broker has one
/// [MQTT-3.3.1-6], on a connection of its own (a generated identifier, so the kept
/// session is left alone), waiting at most `config.restore_wait`.
pub async fn read_retained_display(
    config: &ControllerOptions,
) -> anyhow::Result<Option<DisplayState>> {
    let mut opts = side_connection(config.connect.clone());
    opts.client_id = String::new();
    let (client, mut events) = connect(opts, None).await?;
    let display = config.topics.display();
    subscribe(&client, std::slice::from_ref(&display), QoS::AtLeastOnce).await?;
    let deadline = tokio::time::Instant::now() + config.restore_wait;
    let mut found = None;
    while found.is_none() {
        let Ok(event) = tokio::time::timeout_at(deadline, events.recv()).await else {
            break;
        };
        match event {
            Some(Event::Message(p)) if p.retain && p.topic == display.as_str() => {
                match DisplayState::parse(&p.payload) {
                    Ok(state) => found = Some(state),
                    Err(e) => println!("{} ignoring the retained display: {e}", stamp()),
                }
            }
            Some(Event::Message(_)) | Some(Event::Reconnected { .. }) => {}
            Some(Event::Disconnected(e)) => {
                return Err(anyhow::Error::from(e).context("connection lost"));
            }
            Some(Event::ServerDisconnect(d)) => {
                anyhow::bail!("the broker disconnected the controller ({:?})", d.reason)
            }
            None => anyhow::bail!("the connection closed"),
        }
    }
    let _ = client.disconnect().await;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ProtocolVersion;
    use std::time::Duration;

    #[test]
    fn a_stable_identifier_and_a_kept_session_per_prefix() {
        let mut config = ControllerOptions::new(ConnectOptions::default(), 10);
        config.topics = Topics::new("carpark/level2").unwrap();
        let o = session_options(&config);
        assert_eq!(o.client_id, "mq-carpark-controller-carpark-level2");
        assert!(!o.clean_start && o.manual_ack);
        assert_eq!(o.session_expiry, None, "3.1.1: the broker decides");
        config.connect.version = ProtocolVersion::V5;
        config.connect.client_id = "mine".into();
        config.session_expiry = Some(Duration::from_secs(3600));
        let o = session_options(&config);
        assert_eq!(
            (o.client_id.as_str(), o.session_expiry),
            ("mine", Some(3600))
        );
        // No kept session: a clean one, as before.
        config.session_expiry = Some(Duration::ZERO);
        let o = session_options(&config);
        assert!(o.clean_start && o.session_expiry.is_none() && !is_persistent(&config));
        let side = side_connection(session_options(&ControllerOptions::new(
            ConnectOptions::default(),
            1,
        )));
        assert!(side.clean_start && side.will.is_none() && side.reconnect.is_none());
        assert_eq!(side.client_id, "mq-carpark-controller-carpark");
    }
}
