//! End-to-end tests of the car-park roles run in-process against the embedded broker on
//! a free loopback port: the controller's exact display states for a scripted sequence
//! of cars, restoring the count after a restart, the clock interval, and a gate turning
//! cars away while the car park is full.

mod common;

use bytes::Bytes;
use common::{client_options, embedded_broker, next_message, watcher};
use mq::broker::BrokerHandle;
use mq::carpark::Shutdown;
use mq::carpark::controller::{self, ControllerOptions, ControllerReport};
use mq::carpark::gate::{self, GateOptions, Kind, Mode};
use mq::carpark::messages::{Alert, AlertKind, DisplayState, Topics};
use mq::client::{Client, Events};
use mq::protocol::{Publish, QoS};
use std::time::{Duration, Instant, SystemTime};

const STEP: Duration = Duration::from_secs(5);

async fn send(client: &Client, topic: &str, payload: &[u8]) {
    let p = Publish {
        qos: QoS::AtLeastOnce,
        topic: topic.into(),
        payload: Bytes::copy_from_slice(payload),
        ..Publish::default()
    };
    client.publish(p).await.expect("publish");
}

/// (capacity, occupied, free, full, temperature) of the next message, which must be
/// a display update.
async fn next_display(events: &mut Events) -> (u32, u32, u32, bool, Option<f64>) {
    let p = next_message(events, STEP).await;
    assert_eq!(&*p.topic, "carpark/display", "expected a display update");
    let s = DisplayState::parse(&p.payload).expect("display JSON");
    (s.capacity, s.occupied, s.free, s.full, s.temperature)
}

async fn next_alert(events: &mut Events) -> Alert {
    let p = next_message(events, STEP).await;
    assert_eq!(&*p.topic, "carpark/alerts", "expected an alert");
    serde_json::from_slice(&p.payload).expect("alert JSON")
}

fn controller_options(b: &BrokerHandle, capacity: u32) -> ControllerOptions {
    let mut c = ControllerOptions::new(client_options(b), capacity);
    c.restore_wait = Duration::from_millis(300);
    c
}

fn spawn_controller(
    config: ControllerOptions,
) -> (
    mq::carpark::ShutdownTrigger,
    tokio::task::JoinHandle<anyhow::Result<ControllerReport>>,
) {
    let (stop, shutdown) = Shutdown::new();
    (stop, tokio::spawn(controller::run(config, shutdown)))
}

#[tokio::test]
async fn scripted_cars_give_exact_display_states() {
    let b = embedded_broker().await;
    let (test, mut events) = watcher(&b, &["carpark/display", "carpark/alerts"]).await;
    let mut config = controller_options(&b, 2);
    config.reset = true;
    let (stop, task) = spawn_controller(config);

    assert_eq!(next_display(&mut events).await, (2, 0, 2, false, None));
    send(
        &test,
        "carpark/entry/north",
        br#"{"id":"a","gate":"north","plate":"AB12 CDE"}"#,
    )
    .await;
    assert_eq!(next_display(&mut events).await, (2, 1, 1, false, None));
    // A QoS 1 redelivery (same id) is counted once: the next update shows only "b".
    send(&test, "carpark/entry/north", br#"{"id":"a"}"#).await;
    send(&test, "carpark/entry", br#"{"id":"b"}"#).await;
    assert_eq!(next_display(&mut events).await, (2, 2, 0, true, None));
    // Past capacity: rejected, an alert, no display change.
    send(&test, "carpark/entry/east", br#"{"id":"c"}"#).await;
    let alert = next_alert(&mut events).await;
    assert_eq!(alert.alert, AlertKind::EntryWhileFull);
    assert_eq!(alert.id.as_deref(), Some("c"));
    assert_eq!(alert.topic, "carpark/entry/east");
    assert_eq!((alert.occupied, alert.capacity), (2, 2));
    send(&test, "carpark/exit/south", br#"{"id":"x"}"#).await;
    assert_eq!(next_display(&mut events).await, (2, 1, 1, false, None));
    send(&test, "carpark/exit/south", br#"{"id":"x"}"#).await;
    send(&test, "carpark/exit", b"car").await;
    assert_eq!(next_display(&mut events).await, (2, 0, 2, false, None));
    // An exit while empty is impossible.
    send(&test, "carpark/exit/south", br#"{"id":"z"}"#).await;
    assert_eq!(
        next_alert(&mut events).await.alert,
        AlertKind::ExitWhileEmpty
    );
    // Any text is one car; an unreadable payload is an alert.
    send(&test, "carpark/entry", b"car").await;
    assert_eq!(next_display(&mut events).await, (2, 1, 1, false, None));
    send(&test, "carpark/entry", b"{not json").await;
    assert_eq!(
        next_alert(&mut events).await.alert,
        AlertKind::UnreadablePayload
    );
    // The temperature shows on the display.
    send(&test, "carpark/temperature", b"18.5").await;
    assert_eq!(
        next_display(&mut events).await,
        (2, 1, 1, false, Some(18.5))
    );
    send(&test, "carpark/temperature/roof", br#"{"celsius": 17}"#).await;
    assert_eq!(
        next_display(&mut events).await,
        (2, 1, 1, false, Some(17.0))
    );

    stop.trigger();
    let report = task.await.unwrap().unwrap();
    assert_eq!(report.occupied, 1);
    let t = report.totals;
    assert_eq!((t.entered, t.exited), (3, 2));
    assert_eq!(
        (
            t.rejected_full,
            t.rejected_empty,
            t.duplicates,
            t.unreadable
        ),
        (1, 1, 2, 1)
    );
    b.shutdown().await;
}

#[tokio::test]
async fn controller_restart_keeps_the_count() {
    let b = embedded_broker().await;
    let (test, mut events) = watcher(&b, &["carpark/display"]).await;
    let mut first = controller_options(&b, 10);
    first.reset = true;
    let (stop, task) = spawn_controller(first);
    assert_eq!(next_display(&mut events).await.1, 0);
    for id in ["1", "2", "3"] {
        send(
            &test,
            "carpark/entry",
            format!(r#"{{"id":"{id}"}}"#).as_bytes(),
        )
        .await;
        assert_eq!(
            next_display(&mut events).await.1,
            id.parse::<u32>().unwrap()
        );
    }
    stop.trigger();
    assert_eq!(task.await.unwrap().unwrap().occupied, 3);

    // The second controller takes the count over from the retained display.
    let (stop, task) = spawn_controller(controller_options(&b, 10));
    assert_eq!(next_display(&mut events).await, (10, 3, 7, false, None));
    send(&test, "carpark/exit", b"car").await;
    assert_eq!(next_display(&mut events).await.1, 2);
    stop.trigger();
    let report = task.await.unwrap().unwrap();
    assert_eq!((report.restored, report.occupied), (3, 2));

    // --reset starts from an empty car park.
    let mut reset = controller_options(&b, 10);
    reset.reset = true;
    let (stop, task) = spawn_controller(reset);
    assert_eq!(next_display(&mut events).await.1, 0);
    stop.trigger();
    task.await.unwrap().unwrap();
    b.shutdown().await;
}

#[tokio::test]
async fn state_file_restores_the_count_without_a_retained_display() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("carpark.json");
    let b = embedded_broker().await;
    let (test, mut events) = watcher(&b, &["carpark/display"]).await;
    let mut first = controller_options(&b, 5);
    first.reset = true;
    first.state_file = Some(path.clone());
    let (stop, task) = spawn_controller(first);
    assert_eq!(next_display(&mut events).await.1, 0);
    send(&test, "carpark/entry", b"car").await;
    send(&test, "carpark/entry", b"car").await;
    assert_eq!(next_display(&mut events).await.1, 1);
    assert_eq!(next_display(&mut events).await.1, 2);
    stop.trigger();
    task.await.unwrap().unwrap();
    let saved = DisplayState::parse(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved.occupied, 2);

    // Remove the retained display [MQTT-3.3.1-10]: only the file remembers.
    let clear = Publish {
        qos: QoS::AtLeastOnce,
        retain: true,
        topic: "carpark/display".into(),
        ..Publish::default()
    };
    test.publish(clear).await.unwrap();
    let empty = next_message(&mut events, STEP).await;
    assert!(empty.payload.is_empty());
    let mut second = controller_options(&b, 5);
    second.state_file = Some(path.clone());
    let (stop, task) = spawn_controller(second);
    assert_eq!(next_display(&mut events).await, (5, 2, 3, false, None));
    stop.trigger();
    assert_eq!(task.await.unwrap().unwrap().restored, 2);
    b.shutdown().await;
}

#[tokio::test]
async fn clock_arrives_at_the_configured_interval() {
    let b = embedded_broker().await;
    let (_test, mut events) = watcher(&b, &["carpark/time"]).await;
    let mut config = controller_options(&b, 1);
    config.reset = true;
    config.clock_interval = Duration::from_millis(200);
    let (stop, task) = spawn_controller(config);
    let mut arrivals = Vec::new();
    for _ in 0..6 {
        let p = next_message(&mut events, STEP).await;
        arrivals.push(Instant::now());
        let text = std::str::from_utf8(&p.payload).unwrap();
        assert!(text.ends_with("+00:00"), "{text}");
        let sent = mq::carpark::clock::parse_rfc3339(text).unwrap();
        let skew = match SystemTime::now().duration_since(sent) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(
            skew < Duration::from_secs(1),
            "clock message {text} is {skew:?} off"
        );
        assert!(!p.retain);
    }
    // Five gaps of 200 ms (the first message comes at once).
    let span = arrivals[5] - arrivals[0];
    assert!(
        span >= Duration::from_millis(900) && span <= Duration::from_millis(2000),
        "five intervals took {span:?}"
    );
    stop.trigger();
    task.await.unwrap().unwrap();
    b.shutdown().await;
}

#[tokio::test]
async fn status_is_retained_online_then_offline() {
    let b = embedded_broker().await;
    let mut config = controller_options(&b, 1);
    config.reset = true;
    let (stop, task) = spawn_controller(config);
    let (_t, mut display) = watcher(&b, &["carpark/display"]).await;
    next_display(&mut display).await;
    let (_s, mut status) = watcher(&b, &["carpark/controller/status"]).await;
    let p = next_message(&mut status, STEP).await;
    assert_eq!((&p.payload[..], p.retain), (&b"online"[..], true));
    stop.trigger();
    task.await.unwrap().unwrap();
    let p = next_message(&mut status, STEP).await;
    assert_eq!(&p.payload[..], b"offline");
    b.shutdown().await;
}

#[tokio::test]
async fn entry_gate_turns_cars_away_when_full() {
    let b = embedded_broker().await;
    let (_test, mut events) = watcher(&b, &["carpark/display"]).await;
    let mut config = controller_options(&b, 2);
    config.reset = true;
    let (stop, task) = spawn_controller(config);
    assert_eq!(next_display(&mut events).await.1, 0);
    let topics = Topics::new("carpark").unwrap();
    let gate_options = |count| GateOptions {
        connect: client_options(&b),
        topics: topics.clone(),
        kind: Kind::Entry,
        gate: "north".into(),
        mode: Mode::Count(count),
        seed: Some(1),
        quiet: true,
    };
    let (_keep, never) = Shutdown::new();
    let report = gate::run(gate_options(2), never.clone()).await.unwrap();
    assert_eq!((report.sent, report.turned_away), (2, 0));
    assert_eq!(next_display(&mut events).await.1, 1);
    assert_eq!(next_display(&mut events).await, (2, 2, 0, true, None));
    // The next gate run sees the retained FULL display and sends nothing.
    let report = gate::run(gate_options(3), never).await.unwrap();
    assert_eq!((report.sent, report.turned_away), (0, 3));
    stop.trigger();
    let report = task.await.unwrap().unwrap();
    assert_eq!((report.occupied, report.totals.rejected_full), (2, 0));
    b.shutdown().await;
}
