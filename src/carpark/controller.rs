//! `mq carpark controller`: counts cars from the entry and exit topics, publishes the
//! retained display state on every change and the time on its interval, turns
//! impossible events into alerts, and announces itself with a retained status and a
//! will.
//!
//! # Counting exactly across restarts
//!
//! The controller keeps a session on the broker ([`super::session`]): the cars sent
//! while it is away are stored there and delivered when it comes back, on any broker
//! that keeps sessions (and across a broker restart if the broker keeps them on disk).
//! It takes its count over from its own retained display (or `--state`, the newer
//! one). That restored count and the queued cars add up exactly — no car twice, none
//! lost — by two rules, each closing one gap:
//!
//! - **No car lost: a car is acknowledged only once the state that counts it is
//!   safe.** The client layer acknowledges a message as soon as it is queued to the
//!   application; a controller stopped or killed with cars queued, or counted but not
//!   yet in a state the broker has, would lose them, since the broker forgets an
//!   acknowledged message. So the controller acknowledges QoS 1 messages itself
//!   ([`ConnectOptions::manual_ack`](crate::client::ConnectOptions::manual_ack)), in
//!   order, after the broker has acknowledged the display state that counts them (see
//!   [`super::publisher`]). A car not acknowledged is sent again on the next
//!   connection [MQTT-4.4.0-1].
//! - **No car twice: the state says which cars it counts.** Killed after the broker
//!   acknowledged the state but before the car's acknowledgement got out, the
//!   controller gets the car again although the count it restores has it. Gates
//!   number their cars (`"seq": n`, id `<gate>-<run>-<n>`) and every display state
//!   records the highest number counted per gate run and topic (`last_seq`, see
//!   [`LastSeq`](super::occupancy::LastSeq)): a car whose number is not above it is a
//!   redelivery. A number per sender rather than a list of recent ids, because it
//!   stays small, however many cars were in flight, and is exact: the broker keeps a
//!   sender's messages on a topic in order.
//!
//! Either rule alone falls short: acknowledging late alone counts that redelivered
//! car twice; numbering alone loses the cars acknowledged before they were counted.
//! Cars without a number are still counted as before: an `id` is recognised among the
//! last 4096 in memory (not across a restart), a car without an id is counted each
//! time it arrives. A retained car is not counted: the broker sends a retained message
//! again on every subscription [MQTT-3.3.1-6], and it is not a car arriving now.
//!
//! The loop that reads events never waits for an acknowledgement (the client stops
//! reading the socket while its event queue is full, so waiting there could block
//! both sides): display updates, alerts and acknowledgements go, in order, to a
//! publisher task through a bounded queue, which also announces the controller and
//! subscribes, so that cars queued in the session are read from the first moment.

use super::clock::format_rfc3339;
use super::messages::{
    Alert, AlertKind, CarEvent, DisplayState, OFFLINE, ONLINE, TopicKind, Topics, parse_temperature,
};
use super::occupancy::{self, Direction, Occupancy, Outcome, Totals};
use super::probe;
use super::publisher::{Outbox, publish_changes, publish_clock};
use super::{Shutdown, connect, publish, session, stamp};
use crate::client::{Client, ConnectOptions, Event, Events};
use crate::protocol::{Properties, Publish, QoS, ReasonCode, Will};
use bytes::Bytes;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Messages waiting for the publisher task.
const OUTBOX: usize = 1024;
/// How often what did not fit in the publisher's queue is retried.
const RETRY: Duration = Duration::from_millis(100);

/// How long to wait, after subscribing, for the retained display of an earlier run.
pub const RESTORE_WAIT: Duration = Duration::from_millis(500);

/// How long the broker keeps the controller's session while it is away (5.0 Session
/// Expiry Interval; under 3.1.1 the broker decides): a day.
pub const SESSION_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// Everything `controller::run` needs (`mq carpark controller` lowers its flags into it).
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// Where to connect (the will, the session and the client id are added here).
    pub connect: ConnectOptions,
    /// The car park's topics.
    pub topics: Topics,
    /// Number of spaces.
    pub capacity: u32,
    /// Period of `<prefix>/time`.
    pub clock_interval: Duration,
    /// Ignore earlier state, and discard the cars the kept session holds.
    pub reset: bool,
    /// Keep the count in this file too.
    pub state_file: Option<PathBuf>,
    /// How long to wait for a retained display on start.
    pub restore_wait: Duration,
    /// Print only alerts.
    pub quiet: bool,
    /// Keep a session on the broker for this long while away, so the cars sent
    /// meanwhile are counted on return (see [`super::session`]); `None` or zero: a
    /// clean session, those cars are not counted (the demo).
    pub session_expiry: Option<Duration>,
    /// Start even when another controller is live on the prefix (see
    /// [`super::probe`]); with the same client id, the broker then takes its session
    /// over and it stops.
    pub take_over: bool,
}

impl ControllerOptions {
    /// A controller for `capacity` spaces on the default prefix, with a kept session.
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
            session_expiry: Some(SESSION_EXPIRY),
            take_over: false,
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
    probe::refuse_beside_a_live_one(&config).await?;
    let earlier = earlier_state(&config).await?;
    let opts = session::session_options(&config);
    let (client, mut events) = connect(opts, Some(will(&topics))).await?;
    let (outbox_tx, outbox_rx) = mpsc::channel(OUTBOX);
    let mut counter = Counter::new(&config, Outbox::new(outbox_tx), earlier.as_ref());
    if !config.quiet {
        println!(
            "{} controller online: {} of {} taken, {} free (prefix {}, times in {}{})",
            stamp(),
            counter.count.occupied(),
            counter.count.capacity(),
            counter.count.free(),
            topics.prefix(),
            super::stamp_zone(),
            session_note(&config, &client)
        );
    }
    // The initial state is published too: displays started before us see it at once.
    counter
        .outbox
        .display(counter.count.display(SystemTime::now()));
    let mut publisher = tokio::spawn(publish_changes(
        client.clone(),
        topics.clone(),
        outbox_rx,
        config.state_file.clone(),
    ));
    watch_own_status(&client, &topics);
    let clock = tokio::spawn(publish_clock(
        client.clone(),
        topics.time(),
        config.clock_interval,
    ));
    progress.send_replace(counter.report());
    let reconnecting = config.connect.reconnect.is_some();
    let stopped = count_until_stopped(
        &mut counter,
        &client,
        &mut events,
        &mut shutdown,
        &mut publisher,
        &progress,
        reconnecting,
    )
    .await;

    clock.abort();
    let failure = match stopped {
        Stopped::Publisher(result) => {
            result?;
            return Err(anyhow::anyhow!("the controller cannot publish"));
        }
        Stopped::Failed(e) => Some(e),
        Stopped::Shutdown => None,
    };
    // Stop reading. The messages not counted yet stay unacknowledged: the broker
    // sends them again next time. Then send what is queued and say goodbye (a normal
    // DISCONNECT discards the will [MQTT-3.1.2-10], so publish `offline` ourselves).
    drop(events);
    let report = counter.report();
    counter.outbox.close().await;
    let flushed = joined(publisher.await);
    if let Some(e) = failure {
        return Err(e);
    }
    flushed?;
    let offline = Bytes::from_static(OFFLINE.as_bytes());
    publish(&client, &topics.status(), offline, QoS::AtLeastOnce, true).await?;
    let _ = client.disconnect().await;
    Ok(report)
}

/// The state to take over: the newer of the state file and the retained display.
/// None with `--reset`, which also discards the kept session and its queued cars.
async fn earlier_state(config: &ControllerOptions) -> anyhow::Result<Option<DisplayState>> {
    if config.reset {
        if session::is_persistent(config) {
            session::discard(config).await?;
        }
        return Ok(None);
    }
    let saved = match &config.state_file {
        Some(path) => occupancy::load_state(path).map_err(anyhow::Error::msg)?,
        None => None,
    };
    let retained = session::read_retained_display(config).await?;
    Ok(occupancy::newest(saved, retained))
}

/// The will tells everyone when the controller vanishes without a DISCONNECT
/// [MQTT-3.1.2-8]; retained, so a display started later still sees it.
fn will(topics: &Topics) -> Will {
    Will {
        topic: topics.status().into(),
        payload: Bytes::from_static(OFFLINE.as_bytes()),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    }
}

/// `, session <id> resumed` / `, new session <id>` for the online line.
fn session_note(config: &ControllerOptions, client: &Client) -> String {
    if !session::is_persistent(config) {
        return String::new();
    }
    if client.connack().session_present {
        format!(", session {} resumed", client.client_id())
    } else {
        format!(", new session {}", client.client_id())
    }
}

/// Why the controller's loop ended.
enum Stopped {
    /// `shutdown` fired.
    Shutdown,
    /// The connection ended for good.
    Failed(anyhow::Error),
    /// The publisher task ended (only an error ends it early: state file, refused
    /// publish).
    Publisher(anyhow::Result<()>),
}

/// Read and count events until `shutdown`, the end of the connection or of the
/// publisher.
async fn count_until_stopped(
    counter: &mut Counter,
    client: &Client,
    events: &mut Events,
    shutdown: &mut Shutdown,
    publisher: &mut JoinHandle<anyhow::Result<()>>,
    progress: &watch::Sender<ControllerReport>,
    reconnecting: bool,
) -> Stopped {
    loop {
        let event = tokio::select! {
            _ = shutdown.wait() => return Stopped::Shutdown,
            finished = &mut *publisher => return Stopped::Publisher(joined(finished)),
            _ = tokio::time::sleep(RETRY), if counter.outbox.pending() => {
                counter.outbox.flush();
                continue;
            }
            event = events.recv() => event,
        };
        match event {
            Some(Event::Message(p)) => {
                if !p.retain
                    && p.topic == counter.topics.status().as_str()
                    && p.payload == OFFLINE.as_bytes()
                {
                    // Another controller's will says the car park is offline while
                    // we count: say we are here. (A retained `offline` comes at
                    // subscription, before our own first `online`, which the
                    // publisher sends once the car topics are subscribed.)
                    announce(client, &counter.topics);
                }
                counter.on_message(&p);
            }
            Some(Event::Disconnected(e)) if reconnecting => {
                println!("{} connection lost ({e}); reconnecting", stamp());
            }
            Some(Event::Disconnected(e)) => {
                return Stopped::Failed(anyhow::Error::from(e).context("connection lost"));
            }
            Some(Event::ServerDisconnect(d)) if d.reason == ReasonCode::SESSION_TAKEN_OVER => {
                // [MQTT-3.1.4-3]: a controller started with --take-over has our
                // session now; reconnecting would take it back, and so on.
                return Stopped::Failed(anyhow::anyhow!(
                    "another controller took this controller's session over (--take-over)"
                ));
            }
            Some(Event::ServerDisconnect(d)) => {
                // The connection loss follows as `Disconnected`.
                println!(
                    "{} the broker disconnected the controller ({:?})",
                    stamp(),
                    d.reason
                );
            }
            Some(Event::Reconnected { session_present }) => {
                counter.reconnected(client, session_present);
            }
            None => return Stopped::Failed(anyhow::anyhow!("the connection closed")),
        }
        progress.send_replace(counter.report());
    }
}

/// Subscribe to our own status topic: an `offline` there while we run is another
/// controller's will, answered by announcing again (see
/// [`count_until_stopped`]). On a task of its own, and not fatal: a broker whose
/// ACL refuses it only loses that answer.
fn watch_own_status(client: &Client, topics: &Topics) {
    let (client, status) = (client.clone(), topics.status());
    tokio::spawn(async move {
        if let Err(e) = super::subscribe(&client, &[status], QoS::AtLeastOnce).await {
            println!("{} not watching the status topic: {e:#}", stamp());
        }
    });
}

/// Publish the retained `online` status again, on a task of its own (the event loop
/// never waits for an acknowledgement).
fn announce(client: &Client, topics: &Topics) {
    let (client, topic) = (client.clone(), topics.status());
    tokio::spawn(async move {
        let online = Bytes::from_static(ONLINE.as_bytes());
        if let Err(e) = publish(&client, &topic, online, QoS::AtLeastOnce, true).await {
            println!("{} cannot publish the status: {e:#}", stamp());
        }
    });
}

/// The publisher task's result, a panic included.
fn joined(r: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    r.unwrap_or_else(|e| Err(anyhow::anyhow!("the publisher task failed: {e}")))
}

/// The count and what the controller owes the broker because of it.
struct Counter {
    count: Occupancy,
    outbox: Outbox,
    topics: Topics,
    quiet: bool,
    /// The broker is meant to keep our session.
    persistent: bool,
    /// Cars inside when it started.
    restored: u32,
}

impl Counter {
    /// An empty car park, or the count of `earlier` (clamped to the capacity).
    fn new(config: &ControllerOptions, outbox: Outbox, earlier: Option<&DisplayState>) -> Counter {
        let mut count = Occupancy::new(config.capacity);
        let mut restored = 0;
        if let Some(earlier) = earlier {
            restored = count.restore(earlier);
            if earlier.occupied > config.capacity {
                println!(
                    "{} the earlier count {} is above the capacity {}: keeping {restored}",
                    stamp(),
                    earlier.occupied,
                    config.capacity,
                );
            }
        }
        Counter {
            count,
            outbox,
            topics: config.topics.clone(),
            quiet: config.quiet,
            persistent: session::is_persistent(config),
            restored,
        }
    }

    fn report(&self) -> ControllerReport {
        ControllerReport {
            capacity: self.count.capacity(),
            occupied: self.count.occupied(),
            restored: self.restored,
            totals: self.count.totals(),
        }
    }

    /// One message: apply it, queue the new display state if it changed, then its
    /// acknowledgement (QoS 1), which thus goes out after that state is safe.
    fn on_message(&mut self, p: &Publish) {
        if let Some(kind) = self.topics.classify(&p.topic)
            && self.handle(&kind, p)
        {
            self.outbox.display(self.count.display(SystemTime::now()));
        }
        if p.qos == QoS::AtLeastOnce {
            self.outbox.ack(p.packet_id);
        }
    }

    /// Back after a lost connection. The will may have marked us offline meanwhile:
    /// announce again, and republish the count (the client restores the subscriptions
    /// when the broker kept no session).
    fn reconnected(&mut self, client: &Client, session_present: bool) {
        if session_present || !self.persistent {
            println!("{} reconnected", stamp());
        } else {
            println!(
                "{} reconnected; the broker kept no session (cars it held are lost)",
                stamp()
            );
        }
        announce(client, &self.topics);
        self.outbox.display(self.count.display(SystemTime::now()));
    }

    /// Apply one message on one of our topics; true if the display changed.
    fn handle(&mut self, kind: &TopicKind, p: &Publish) -> bool {
        match kind {
            TopicKind::Entry { gate } => self.car(Direction::In, gate.as_deref(), p),
            TopicKind::Exit { gate } => self.car(Direction::Out, gate.as_deref(), p),
            TopicKind::Temperature { .. } => match parse_temperature(&p.payload) {
                Ok(celsius) => self.count.set_temperature(celsius),
                Err(e) => {
                    self.count.unreadable();
                    self.raise(AlertKind::UnreadablePayload, &p.topic, None, e.to_string());
                    false
                }
            },
            _ => false,
        }
    }

    /// One car event; true if it was counted.
    fn car(&mut self, direction: Direction, gate: Option<&str>, p: &Publish) -> bool {
        let what = match direction {
            Direction::In => "entry",
            Direction::Out => "exit",
        };
        if p.retain {
            if !self.quiet {
                println!("{} {what}: a retained message is not a new car", stamp());
            }
            return false;
        }
        let event = match CarEvent::parse(&p.payload) {
            Ok(event) => event,
            Err(e) => {
                self.count.unreadable();
                self.raise(AlertKind::UnreadablePayload, &p.topic, None, e.to_string());
                return false;
            }
        };
        let gate_name = event.gate.as_deref().or(gate).unwrap_or("-");
        let topic = self.topics.relative(&p.topic).unwrap_or(&p.topic);
        match self.count.apply(direction, topic, &event) {
            Outcome::Counted => {
                if !self.quiet {
                    let plate = event
                        .plate
                        .as_deref()
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default();
                    println!(
                        "{} {what} {gate_name}{plate}: {} of {} taken, {} free",
                        stamp(),
                        self.count.occupied(),
                        self.count.capacity(),
                        self.count.free()
                    );
                }
                true
            }
            Outcome::Duplicate => {
                if !self.quiet {
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
                let message = format!("{text} (gate {gate_name})");
                self.raise(kind, &p.topic, event.id.clone(), message);
                false
            }
        }
    }

    /// Log an alert and queue it for `<prefix>/alerts`.
    fn raise(&mut self, kind: AlertKind, topic: &str, id: Option<String>, message: String) {
        println!("{} ALERT {}: {message} [{topic}]", stamp(), kind.name());
        let alert = Alert {
            alert: kind,
            message,
            topic: topic.to_string(),
            id,
            occupied: self.count.occupied(),
            capacity: self.count.capacity(),
            time: format_rfc3339(SystemTime::now()),
        };
        self.outbox.alert(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carpark::publisher::Outgoing;

    struct Setup {
        counter: Counter,
        rx: mpsc::Receiver<Outgoing>,
    }

    fn setup(capacity: u32) -> Setup {
        let (tx, rx) = mpsc::channel(64);
        let config = ControllerOptions::new(ConnectOptions::default(), capacity);
        Setup {
            counter: Counter::new(&config, Outbox::new(tx), None),
            rx,
        }
    }

    fn message(topic: &str, payload: &[u8], packet_id: u16) -> Publish {
        Publish {
            qos: QoS::AtLeastOnce,
            packet_id,
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload),
            ..Publish::default()
        }
    }

    impl Setup {
        /// Apply a QoS 1 message; what it queued.
        fn send(&mut self, topic: &str, payload: &[u8], packet_id: u16) -> Vec<Outgoing> {
            self.counter.on_message(&message(topic, payload, packet_id));
            std::iter::from_fn(|| self.rx.try_recv().ok()).collect()
        }

        fn alert(&mut self, topic: &str, payload: &[u8]) -> Alert {
            match &self.send(topic, payload, 1)[..] {
                [Outgoing::Alert(a), Outgoing::Ack(1)] => a.clone(),
                other => panic!("expected an alert, got {other:?}"),
            }
        }
    }

    #[test]
    fn impossible_events_become_alerts() {
        let mut t = setup(1);
        let alert = t.alert("carpark/exit/south", br#"{"id":"x1"}"#);
        assert_eq!(alert.alert, AlertKind::ExitWhileEmpty);
        assert_eq!(alert.id.as_deref(), Some("x1"));
        assert_eq!(alert.topic, "carpark/exit/south");
        assert!(matches!(
            &t.send("carpark/entry", b"car", 2)[..],
            [Outgoing::Display(d), Outgoing::Ack(2)] if d.occupied == 1
        ));
        let full = t.alert("carpark/entry", b"car");
        assert_eq!(full.alert, AlertKind::EntryWhileFull);
        let bad = t.alert("carpark/entry", b"\xff");
        assert_eq!(bad.alert, AlertKind::UnreadablePayload);
        assert_eq!(t.counter.count.occupied(), 1);
    }

    #[test]
    fn temperature_changes_the_display_once() {
        let mut t = setup(1);
        assert!(matches!(
            &t.send("carpark/temperature/roof", b"18.5", 1)[..],
            [Outgoing::Display(d), Outgoing::Ack(1)] if d.temperature == Some(18.5)
        ));
        let same = t.send("carpark/temperature/roof", br#"{"celsius":18.5}"#, 2);
        assert!(matches!(&same[..], [Outgoing::Ack(2)]));
        let alert = t.alert("carpark/temperature/roof", b"hot");
        assert_eq!(alert.alert, AlertKind::UnreadablePayload);
        assert_eq!(t.counter.count.temperature(), Some(18.5));
    }

    #[test]
    fn every_qos1_message_is_acknowledged_after_its_state() {
        let mut t = setup(5);
        let car = br#"{"id":"north-ab-1","seq":1,"gate":"north"}"#;
        let queued = t.send("carpark/entry/north", car, 7);
        assert!(matches!(
            &queued[..],
            [Outgoing::Display(d), Outgoing::Ack(7)]
                if d.occupied == 1 && d.last_seq["entry/north"]["north-ab"] == 1
        ));
        // A redelivery, a message on a topic that is not ours, and a retained car: no
        // state change, acknowledged all the same.
        assert!(matches!(
            &t.send("carpark/entry/north", car, 8)[..],
            [Outgoing::Ack(8)]
        ));
        assert!(matches!(
            &t.send("carpark/other", b"x", 9)[..],
            [Outgoing::Ack(9)]
        ));
        let mut retained = message("carpark/entry", b"car", 10);
        retained.retain = true;
        t.counter.on_message(&retained);
        assert!(matches!(t.rx.try_recv(), Ok(Outgoing::Ack(10))));
        // QoS 0: nothing to acknowledge.
        let mut qos0 = message("carpark/entry", b"car", 0);
        qos0.qos = QoS::AtMostOnce;
        t.counter.on_message(&qos0);
        assert!(matches!(t.rx.try_recv(), Ok(Outgoing::Display(d)) if d.occupied == 2));
        assert!(t.rx.try_recv().is_err());
        assert_eq!(t.counter.count.totals().duplicates, 1);
    }
}
