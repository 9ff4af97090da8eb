//! `mq carpark controller`: counts cars from the entry and exit topics, publishes the
//! retained display state on every change and the time on its interval, turns
//! impossible events into alerts, and announces itself with a retained status and a
//! will. On start it takes the count over from the retained display (or `--state`).
//!
//! The loop that reads events never waits for an acknowledgement (the client stops
//! reading the socket while its event queue is full, so waiting there could block
//! both sides): display updates and alerts go, in order, to a publisher task through a
//! bounded queue. Should the queue ever fill up, the newest display state is sent as
//! soon as there is room again (intermediate states of that burst are skipped); see
//! the `publisher` module.

use super::clock::format_rfc3339;
use super::messages::{
    Alert, AlertKind, CarEvent, DisplayState, OFFLINE, ONLINE, TopicKind, Topics, parse_temperature,
};
use super::occupancy::{self, Direction, Occupancy, Outcome, Totals};
use super::publisher::{Outbox, Outgoing, publish_changes, publish_clock};
use super::{Shutdown, connect, publish, stamp, subscribe};
use crate::client::{Client, ConnectOptions, Event};
use crate::protocol::{Properties, QoS, Will};
use anyhow::Context;
use bytes::Bytes;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, watch};

/// Messages waiting for the publisher task.
const OUTBOX: usize = 1024;
/// How often a display update that did not fit in the queue is retried.
const RETRY: Duration = Duration::from_millis(100);

/// How long to wait, after subscribing, for the retained display of an earlier run.
pub const RESTORE_WAIT: Duration = Duration::from_millis(500);

/// Everything `controller::run` needs (`mq carpark controller` lowers its flags into it).
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// Where to connect (the will is added here).
    pub connect: ConnectOptions,
    /// The car park's topics.
    pub topics: Topics,
    /// Number of spaces.
    pub capacity: u32,
    /// Period of `<prefix>/time`.
    pub clock_interval: Duration,
    /// Ignore earlier state.
    pub reset: bool,
    /// Keep the count in this file too.
    pub state_file: Option<PathBuf>,
    /// How long to wait for a retained display on start.
    pub restore_wait: Duration,
    /// Print only alerts.
    pub quiet: bool,
}

impl ControllerOptions {
    /// A controller for `capacity` spaces on the default prefix.
    pub fn new(connect: ConnectOptions, capacity: u32) -> ControllerOptions {
        ControllerOptions {
            connect,
            // "carpark" is a valid topic name: this cannot fail.
            topics: Topics::new("carpark").unwrap_or_else(|_| unreachable!()),
            capacity,
            clock_interval: Duration::from_secs(1),
            reset: false,
            state_file: None,
            restore_wait: RESTORE_WAIT,
            quiet: true,
        }
    }
}

/// The controller's count, for the demo's summary and for watching progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControllerReport {
    /// Number of spaces.
    pub capacity: u32,
    /// Cars inside.
    pub occupied: u32,
    /// Cars inside when it started (taken over from an earlier run).
    pub restored: u32,
    /// What happened since the start.
    pub totals: Totals,
}

/// Run a controller until `shutdown`; returns its final count.
pub async fn run(
    config: ControllerOptions,
    shutdown: Shutdown,
) -> anyhow::Result<ControllerReport> {
    let (progress, _) = watch::channel(ControllerReport::default());
    run_with_progress(config, shutdown, progress).await
}

/// [`run`], also sending the count on `progress` after every event.
pub async fn run_with_progress(
    config: ControllerOptions,
    mut shutdown: Shutdown,
    progress: watch::Sender<ControllerReport>,
) -> anyhow::Result<ControllerReport> {
    let topics = config.topics.clone();
    let saved = match (&config.state_file, config.reset) {
        (Some(path), false) => occupancy::load_state(path).map_err(anyhow::Error::msg)?,
        _ => None,
    };
    // The will tells everyone when the controller vanishes without a DISCONNECT
    // [MQTT-3.1.2-8]; retained, so a display started later still sees it.
    let will = Will {
        topic: topics.status().into(),
        payload: Bytes::from_static(OFFLINE.as_bytes()),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    };
    let (client, mut events) = connect(config.connect.clone(), Some(will)).await?;
    let mut count = Occupancy::new(config.capacity);
    let mut restored = 0;
    if !config.reset {
        let retained =
            restore_from_display(&client, &mut events, &topics, config.restore_wait).await?;
        if let Some(earlier) = occupancy::newest(saved, retained) {
            restored = count.restore(&earlier);
            if earlier.occupied > config.capacity {
                println!(
                    "{} the earlier count {} is above the capacity {}: keeping {}",
                    stamp(),
                    earlier.occupied,
                    config.capacity,
                    restored
                );
            }
        }
    }
    publish(
        &client,
        &topics.status(),
        Bytes::from_static(ONLINE.as_bytes()),
        QoS::AtLeastOnce,
        true,
    )
    .await?;
    subscribe(&client, &topics.controller_filters(), QoS::AtLeastOnce).await?;
    if !config.quiet {
        println!(
            "{} controller online: {} of {} taken, {} free (prefix {})",
            stamp(),
            count.occupied(),
            count.capacity(),
            count.free(),
            topics.prefix()
        );
    }

    let (outbox_tx, outbox_rx) = mpsc::channel(OUTBOX);
    let mut outbox = Outbox::new(outbox_tx);
    // The initial state is published too: displays started before us see it at once.
    outbox.display(count.display(SystemTime::now()));
    let mut publisher = tokio::spawn(publish_changes(
        client.clone(),
        topics.clone(),
        outbox_rx,
        config.state_file.clone(),
    ));
    let clock = tokio::spawn(publish_clock(
        client.clone(),
        topics.time(),
        config.clock_interval,
    ));

    let report = |count: &Occupancy| ControllerReport {
        capacity: count.capacity(),
        occupied: count.occupied(),
        restored,
        totals: count.totals(),
    };
    progress.send_replace(report(&count));
    let mut publisher_result = None;
    let result: anyhow::Result<()> = loop {
        let event = tokio::select! {
            _ = shutdown.wait() => break Ok(()),
            // The publisher only stops early on an error (state file, refused publish).
            finished = &mut publisher => {
                publisher_result = Some(joined(finished));
                break Err(anyhow::anyhow!("the controller cannot publish"));
            }
            _ = tokio::time::sleep(RETRY), if outbox.display_pending => {
                outbox.display(count.display(SystemTime::now()));
                continue;
            }
            event = events.recv() => event,
        };
        let reconnecting = config.connect.reconnect.is_some();
        let publish = match event {
            Some(Event::Message(p)) => p,
            Some(Event::Disconnected(e)) if reconnecting => {
                println!("{} connection lost ({e}); reconnecting", stamp());
                continue;
            }
            Some(Event::Disconnected(e)) => {
                break Err(anyhow::Error::from(e).context("connection lost"));
            }
            Some(Event::ServerDisconnect(d)) => {
                // The connection loss follows as `Disconnected`.
                println!(
                    "{} the broker disconnected the controller ({:?})",
                    stamp(),
                    d.reason
                );
                continue;
            }
            Some(Event::Reconnected { .. }) => {
                // The will may have marked us offline meanwhile: announce again, and
                // republish the count (the subscriptions are restored by the client).
                println!("{} reconnected", stamp());
                let (client, topic) = (client.clone(), topics.status());
                tokio::spawn(async move {
                    let online = Bytes::from_static(ONLINE.as_bytes());
                    if let Err(e) = publish(&client, &topic, online, QoS::AtLeastOnce, true).await {
                        println!("{} cannot publish the status: {e:#}", stamp());
                    }
                });
                outbox.display(count.display(SystemTime::now()));
                continue;
            }
            None => break Err(anyhow::anyhow!("the connection closed")),
        };
        let Some(kind) = topics.classify(&publish.topic) else {
            continue;
        };
        let changed = handle(
            &mut count,
            &kind,
            &publish.topic,
            &publish.payload,
            &mut outbox,
            config.quiet,
        );
        if changed {
            outbox.display(count.display(SystemTime::now()));
        }
        progress.send_replace(report(&count));
    };

    // Flush what is pending, then say goodbye: a normal DISCONNECT discards the will
    // [MQTT-3.1.2-10], so publish `offline` ourselves.
    clock.abort();
    // Stop reading: unread messages are now acknowledged and dropped by the client, so
    // the publisher's acknowledgements cannot be held up behind them.
    drop(events);
    if outbox.display_pending {
        let _ = outbox
            .tx
            .send(Outgoing::Display(count.display(SystemTime::now())))
            .await;
    }
    drop(outbox);
    let flushed = match publisher_result {
        Some(Err(e)) => return Err(e),
        Some(Ok(())) => Ok(()),
        None => joined(publisher.await),
    };
    if result.is_ok() {
        flushed?;
        publish(
            &client,
            &topics.status(),
            Bytes::from_static(OFFLINE.as_bytes()),
            QoS::AtLeastOnce,
            true,
        )
        .await?;
        let _ = client.disconnect().await;
    }
    result?;
    Ok(report(&count))
}

/// The publisher task's result, a panic included.
fn joined(r: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    r.unwrap_or_else(|e| Err(anyhow::anyhow!("the publisher task failed: {e}")))
}

/// Subscribe to the display topic and take the retained state of an earlier run, if the
/// broker has one [MQTT-3.3.1-6]; then unsubscribe, so our own updates do not come back.
async fn restore_from_display(
    client: &Client,
    events: &mut crate::client::Events,
    topics: &Topics,
    wait: Duration,
) -> anyhow::Result<Option<DisplayState>> {
    subscribe(client, &[topics.display()], QoS::AtLeastOnce).await?;
    let deadline = tokio::time::Instant::now() + wait;
    let mut found = None;
    while found.is_none() {
        let event = match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(event) => event,
            Err(_) => break,
        };
        match event {
            Some(Event::Message(p)) if p.retain && p.topic == topics.display().as_str() => {
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
    client
        .unsubscribe(vec![topics.display()], Properties::default())
        .await
        .context("cannot unsubscribe from the display topic")?;
    Ok(found)
}

/// Apply one message to the count; true if the display changed. Alerts are queued.
fn handle(
    count: &mut Occupancy,
    kind: &TopicKind,
    topic: &str,
    payload: &[u8],
    outbox: &mut Outbox,
    quiet: bool,
) -> bool {
    let (direction, gate) = match kind {
        TopicKind::Entry { gate } => (Direction::In, gate),
        TopicKind::Exit { gate } => (Direction::Out, gate),
        TopicKind::Temperature { .. } => {
            return match parse_temperature(payload) {
                Ok(celsius) => count.set_temperature(celsius),
                Err(e) => {
                    count.unreadable();
                    raise(
                        count,
                        outbox,
                        AlertKind::UnreadablePayload,
                        topic,
                        None,
                        e.to_string(),
                    );
                    false
                }
            };
        }
        _ => return false,
    };
    let event = match CarEvent::parse(payload) {
        Ok(event) => event,
        Err(e) => {
            count.unreadable();
            raise(
                count,
                outbox,
                AlertKind::UnreadablePayload,
                topic,
                None,
                e.to_string(),
            );
            return false;
        }
    };
    let gate_name = event.gate.as_deref().or(gate.as_deref()).unwrap_or("-");
    let what = match direction {
        Direction::In => "entry",
        Direction::Out => "exit ",
    };
    match count.apply(direction, &event) {
        Outcome::Counted => {
            if !quiet {
                let plate = event
                    .plate
                    .as_deref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                println!(
                    "{} {what} {gate_name}{plate}: {} of {} taken, {} free",
                    stamp(),
                    count.occupied(),
                    count.capacity(),
                    count.free()
                );
            }
            true
        }
        Outcome::Duplicate => {
            if !quiet {
                println!(
                    "{} {what} {gate_name}: duplicate id {} ignored",
                    stamp(),
                    event.id.as_deref().unwrap_or("")
                );
            }
            false
        }
        Outcome::Rejected(kind) => {
            let text = match kind {
                AlertKind::EntryWhileFull => "a car entered while the car park was full",
                _ => "a car left while the car park was empty",
            };
            raise(
                count,
                outbox,
                kind,
                topic,
                event.id.clone(),
                format!("{text} (gate {gate_name})"),
            );
            false
        }
    }
}

/// Log an alert and queue it for `<prefix>/alerts`.
fn raise(
    count: &Occupancy,
    outbox: &mut Outbox,
    kind: AlertKind,
    topic: &str,
    id: Option<String>,
    message: String,
) {
    println!("{} ALERT {}: {message} [{topic}]", stamp(), kind.name());
    let alert = Alert {
        alert: kind,
        message,
        topic: topic.to_string(),
        id,
        occupied: count.occupied(),
        capacity: count.capacity(),
        time: format_rfc3339(SystemTime::now()),
    };
    outbox.alert(alert);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Setup {
        count: Occupancy,
        outbox: Outbox,
        rx: mpsc::Receiver<Outgoing>,
        topics: Topics,
    }

    fn setup(queue: usize) -> Setup {
        let (tx, rx) = mpsc::channel(queue);
        Setup {
            count: Occupancy::new(1),
            outbox: Outbox::new(tx),
            rx,
            topics: Topics::new("carpark").unwrap(),
        }
    }

    impl Setup {
        fn handle(&mut self, topic: &str, payload: &[u8]) -> bool {
            let kind = self.topics.classify(topic).unwrap();
            handle(
                &mut self.count,
                &kind,
                topic,
                payload,
                &mut self.outbox,
                true,
            )
        }

        fn alert(&mut self) -> Alert {
            match self.rx.try_recv() {
                Ok(Outgoing::Alert(a)) => a,
                other => panic!("expected an alert, got {other:?}"),
            }
        }
    }

    #[test]
    fn impossible_events_become_alerts() {
        let mut t = setup(8);
        assert!(!t.handle("carpark/exit/south", br#"{"id":"x1"}"#));
        let alert = t.alert();
        assert_eq!(alert.alert, AlertKind::ExitWhileEmpty);
        assert_eq!(alert.id.as_deref(), Some("x1"));
        assert_eq!(alert.topic, "carpark/exit/south");
        assert!(t.handle("carpark/entry", b"car"));
        assert!(!t.handle("carpark/entry", b"car"));
        assert_eq!(t.alert().alert, AlertKind::EntryWhileFull);
        assert!(!t.handle("carpark/entry", b"\xff"));
        assert_eq!(t.alert().alert, AlertKind::UnreadablePayload);
        assert_eq!(t.count.occupied(), 1);
    }

    #[test]
    fn temperature_changes_the_display_once() {
        let mut t = setup(8);
        assert!(t.handle("carpark/temperature/roof", b"18.5"));
        assert!(!t.handle("carpark/temperature/roof", br#"{"celsius":18.5}"#));
        assert!(!t.handle("carpark/temperature/roof", b"hot"));
        assert_eq!(t.alert().alert, AlertKind::UnreadablePayload);
        assert_eq!(t.count.temperature(), Some(18.5));
    }
}
