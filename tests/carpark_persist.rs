//! The controller's kept session, in-process against the embedded broker on a free
//! loopback port: cars sent while the controller is away are counted when it comes
//! back, exactly (its restored count plus the queued cars), over 3.1.1 and 5.0; a car
//! the broker sends again after the controller saved the state that counts it (killed
//! before its acknowledgement got out) is recognised by its number and not counted
//! twice, also across a restart of the broker with `persistence true`; `--reset`
//! discards the queued cars.

mod common;

use common::{client_options, embedded_broker, next_message, watcher};
use mq::broker::{Broker, BrokerHandle, Config};
use mq::carpark::controller::{self, ControllerOptions, ControllerReport};
use mq::carpark::gate::{self, GateOptions, Kind, Mode};
use mq::carpark::messages::{CarEvent, DisplayState, Topics};
use mq::carpark::occupancy::{Direction, Occupancy};
use mq::carpark::{Shutdown, ShutdownTrigger, session};
use mq::client::{Client, Event};
use mq::protocol::{ProtocolVersion, Publish, QoS};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const STEP: Duration = Duration::from_secs(10);

fn controller_options(b: &BrokerHandle, version: ProtocolVersion) -> ControllerOptions {
    let mut connect = client_options(b);
    connect.version = version;
    let mut c = ControllerOptions::new(connect, 100);
    c.restore_wait = Duration::from_millis(300);
    c
}

/// A running controller: its stop switch, its task, and its count after every event.
struct Running {
    stop: ShutdownTrigger,
    task: JoinHandle<anyhow::Result<ControllerReport>>,
    progress: watch::Receiver<ControllerReport>,
}

/// Start a controller and wait until it says `online` (it has subscribed by then).
async fn start_online(b: &BrokerHandle, config: ControllerOptions) -> Running {
    let (_watch, mut status) = watcher(b, &["carpark/controller/status"]).await;
    let running = start(config);
    loop {
        let p = next_message(&mut status, STEP).await;
        // Not the retained status of an earlier run: the one published now.
        if !p.retain && &p.payload[..] == b"online" {
            return running;
        }
    }
}

fn start(config: ControllerOptions) -> Running {
    let (stop, shutdown) = Shutdown::new();
    let (tx, progress) = watch::channel(ControllerReport::default());
    let task = tokio::spawn(controller::run_with_progress(config, shutdown, tx));
    Running {
        stop,
        task,
        progress,
    }
}

impl Running {
    /// Wait (bounded) until the controller has seen `events` car events.
    async fn seen(&mut self, events: u64) -> ControllerReport {
        let seen = |r: &ControllerReport| {
            let t = r.totals;
            t.entered + t.exited + t.duplicates + t.rejected_full + t.rejected_empty
        };
        let report = tokio::time::timeout(STEP, self.progress.wait_for(|r| seen(r) >= events))
            .await
            .expect("the controller sees the cars in time")
            .expect("the controller runs");
        *report
    }

    async fn stop(self) -> ControllerReport {
        self.stop.trigger();
        self.task.await.expect("task").expect("the controller ran")
    }
}

/// Send `count` cars through a gate (numbered, QoS 1, each acknowledged by the broker).
async fn gate(b: &BrokerHandle, kind: Kind, name: &str, count: u64) {
    let options = GateOptions {
        connect: client_options(b),
        topics: Topics::new("carpark").unwrap(),
        kind,
        gate: name.into(),
        mode: Mode::Count(count),
        seed: Some(1),
        quiet: true,
    };
    let (_keep, never) = Shutdown::new();
    let report = gate::run(options, never).await.expect("the gate runs");
    assert_eq!(report.sent, count, "the gate sent every car");
}

/// The retained display now.
async fn retained_display(b: &BrokerHandle) -> DisplayState {
    let (_c, mut events) = watcher(b, &["carpark/display"]).await;
    let p = next_message(&mut events, STEP).await;
    assert!(p.retain);
    DisplayState::parse(&p.payload).expect("display JSON")
}

async fn cars_sent_while_away_are_counted(version: ProtocolVersion) {
    let b = embedded_broker().await;
    let mut first = controller_options(&b, version);
    first.reset = true;
    let mut c = start_online(&b, first).await;
    gate(&b, Kind::Entry, "north", 3).await;
    assert_eq!(c.seen(3).await.occupied, 3);
    assert_eq!(c.stop().await.occupied, 3);

    // Away: 40 in (more than the broker's in-flight window of 20) and 15 out.
    gate(&b, Kind::Entry, "north", 40).await;
    gate(&b, Kind::Exit, "south", 15).await;

    let mut c = start(controller_options(&b, version));
    let report = c.seen(55).await;
    assert_eq!((report.restored, report.occupied), (3, 3 + 40 - 15));
    let t = c.stop().await.totals;
    assert_eq!((t.entered, t.exited, t.duplicates), (40, 15, 0));
    assert_eq!(retained_display(&b).await.occupied, 28);
    b.shutdown().await;
}

#[tokio::test]
async fn cars_sent_while_away_are_counted_v311() {
    cars_sent_while_away_are_counted(ProtocolVersion::V311).await;
}

#[tokio::test]
async fn cars_sent_while_away_are_counted_v5() {
    cars_sent_while_away_are_counted(ProtocolVersion::V5).await;
}

fn car(sender: &str, seq: u64) -> CarEvent {
    CarEvent {
        id: Some(format!("{sender}-{seq}")),
        seq: Some(seq),
        gate: Some("north".into()),
        plate: None,
    }
}

async fn send(client: &Client, topic: &str, payload: bytes::Bytes, retain: bool) {
    let p = Publish {
        qos: QoS::AtLeastOnce,
        retain,
        topic: topic.into(),
        payload,
        ..Publish::default()
    };
    client.publish(p).await.expect("publish");
}

/// Killed after the broker acknowledged the state that counts a car, before the car's
/// own acknowledgement got out: the broker sends the car again [MQTT-4.4.0-1], and
/// the restarted controller recognises it by its number in the restored state.
#[tokio::test]
async fn a_redelivered_car_is_not_counted_twice() {
    let b = embedded_broker().await;
    let mut first = controller_options(&b, ProtocolVersion::V311);
    first.reset = true;
    let config = first.clone();
    start_online(&b, first).await.stop().await;
    let (test, _events) = watcher(&b, &[]).await;

    // While the controller is away, car 1 of gate run "north-r1" is queued.
    send(
        &test,
        "carpark/entry/north",
        car("north-r1", 1).to_json(),
        false,
    )
    .await;

    // The controller that gets killed: its session, car 1, the state that counts it
    // published and acknowledged, and no acknowledgement of car 1.
    let mut opts = session::session_options(&config);
    opts.reconnect = None;
    let (doomed, mut events) = Client::connect(opts).await.expect("connect");
    assert!(doomed.connack().session_present);
    let p = loop {
        match tokio::time::timeout(STEP, events.recv()).await {
            Ok(Some(Event::Message(p))) if &*p.topic == "carpark/entry/north" => break p,
            Ok(Some(_)) => continue,
            other => panic!("expected car 1, got {other:?}"),
        }
    };
    let event = CarEvent::parse(&p.payload).unwrap();
    let mut count = Occupancy::new(100);
    count.apply(Direction::In, "entry/north", &event);
    let state = count.display(SystemTime::now());
    send(&doomed, "carpark/display", state.to_json(), true).await;
    drop(events);
    doomed.disconnect().await.expect("disconnect");

    // And car 2, while nobody is there.
    send(
        &test,
        "carpark/entry/north",
        car("north-r1", 2).to_json(),
        false,
    )
    .await;
    let mut c = start(controller_options(&b, ProtocolVersion::V311));
    let report = c.seen(2).await;
    assert_eq!((report.restored, report.occupied), (1, 2));
    let report = c.stop().await;
    assert_eq!(
        (report.totals.entered, report.totals.duplicates),
        (1, 1),
        "car 1 again was a duplicate, car 2 was counted"
    );
    let saved = retained_display(&b).await;
    assert_eq!(saved.occupied, 2);
    assert_eq!(saved.last_seq["entry/north"]["north-r1"], 2);
    b.shutdown().await;
}

/// `--reset` starts from an empty car park: the cars queued in the kept session are
/// discarded with it.
#[tokio::test]
async fn reset_discards_the_cars_queued_while_away() {
    let b = embedded_broker().await;
    let mut first = controller_options(&b, ProtocolVersion::V5);
    first.reset = true;
    start_online(&b, first.clone()).await.stop().await;
    gate(&b, Kind::Entry, "north", 3).await;
    let mut c = start_online(&b, first).await;
    // A live car: had the queued cars been kept, they would have come before it.
    let (test, mut display) = watcher(&b, &["carpark/display"]).await;
    send(&test, "carpark/entry", car("east-r9", 1).to_json(), false).await;
    let state = loop {
        let p = next_message(&mut display, STEP).await;
        let state = DisplayState::parse(&p.payload).expect("display JSON");
        if state
            .last_seq
            .get("entry")
            .is_some_and(|s| s.contains_key("east-r9"))
        {
            break state;
        }
    };
    assert_eq!(state.occupied, 1);
    assert_eq!(c.seen(1).await.totals.entered, 1);
    c.stop().await;
    b.shutdown().await;
}

/// The embedded broker with `persistence true`, its store in `dir`, on a free port.
async fn persistent_broker(dir: &std::path::Path) -> BrokerHandle {
    let config = Config {
        persistence: true,
        persistence_location: Some(dir.to_path_buf()),
        log_types: mq::broker::LogTypes::ERROR,
        ..Config::default()
    };
    // The store of a broker just shut down is released once its last task ends.
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let started = Broker::builder()
            .config(config.clone())
            .listen("127.0.0.1:0".parse().unwrap())
            .start()
            .await;
        match started {
            Ok(b) => return b,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("start the persistent broker: {e}"),
        }
    }
}

/// The controller away while the broker restarts with persistence: the cars queued
/// before the restart (one of them counted by a controller killed before it
/// acknowledged it) and the cars sent after it are all counted, once.
#[tokio::test]
async fn cars_queued_across_a_broker_restart_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let b = persistent_broker(dir.path()).await;
    let mut first = controller_options(&b, ProtocolVersion::V5);
    first.reset = true;
    let config = first.clone();
    let mut c = start_online(&b, first).await;
    gate(&b, Kind::Entry, "north", 2).await;
    c.seen(2).await;
    c.stop().await;
    gate(&b, Kind::Entry, "north", 5).await;

    // Killed having counted the first queued car: state published, car not acknowledged.
    let mut restored = Occupancy::new(100);
    restored.restore(&retained_display(&b).await);
    let mut opts = session::session_options(&config);
    opts.reconnect = None;
    let (doomed, mut events) = Client::connect(opts).await.expect("connect");
    let p = loop {
        match tokio::time::timeout(STEP, events.recv()).await {
            Ok(Some(Event::Message(p))) if &*p.topic == "carpark/entry/north" => break p,
            Ok(Some(_)) => continue,
            other => panic!("expected a queued car, got {other:?}"),
        }
    };
    let event = CarEvent::parse(&p.payload).unwrap();
    restored.apply(Direction::In, "entry/north", &event);
    let state = restored.display(SystemTime::now());
    send(&doomed, "carpark/display", state.to_json(), true).await;
    drop(events);
    doomed.disconnect().await.expect("disconnect");

    b.shutdown().await;
    drop(b); // closes the store
    let b = persistent_broker(dir.path()).await;
    gate(&b, Kind::Exit, "south", 3).await;
    let mut c = start(controller_options(&b, ProtocolVersion::V5));
    let report = c.seen(8).await;
    assert_eq!((report.restored, report.occupied), (3, 2 + 5 - 3));
    let t = c.stop().await.totals;
    assert_eq!((t.entered, t.duplicates, t.exited), (4, 1, 3));
    assert_eq!(retained_display(&b).await.occupied, 4);
    b.shutdown().await;
}
