//! `mq carpark`: the car-park teaching system. Entry and exit gates report cars, a
//! controller counts them and publishes the display state, a sensor reports the
//! temperature, displays show it all; `mq carpark demo` runs everything in one process
//! around an embedded broker. The topic contract is in [`messages`] and `docs/carpark.md`.
//!
//! Every role is a library function (`controller::run`, `gate::run`, `display::run`,
//! `sensor::run`, `demo::run`) taking plain options (`ControllerOptions`, ...) and a
//! [`Shutdown`], so the demo and the tests run them in-process. Nothing here knows the
//! command line: `cmd::carpark_args` lowers the flags into a [`RoleOptions`] once.

pub mod clock;
pub mod controller;
pub mod demo;
pub mod display;
pub mod gate;
pub mod messages;
pub mod occupancy;
pub mod probe;
mod publisher;
pub mod rate;
pub mod sensor;
pub mod session;
pub mod traffic;
pub mod web;

use crate::client::{Backoff, Client, ConnectOptions, Events};
use crate::protocol::{Properties, Publish, QoS, SubscribeFilter, SubscriptionOptions, Will};
use anyhow::Context;
use bytes::Bytes;
use tokio::sync::watch;

/// One car-park role and everything it needs to run.
#[derive(Debug, Clone)]
pub enum RoleOptions {
    /// Count cars, publish the display state and the clock.
    Controller(controller::ControllerOptions),
    /// An entry or exit gate (see [`gate::GateOptions::kind`]).
    Gate(gate::GateOptions),
    /// A display panel.
    Display(display::DisplayOptions),
    /// A temperature sensor.
    Sensor(sensor::SensorOptions),
    /// The whole car park in one process.
    Demo(demo::DemoOptions),
}

/// Run a car-park role until it is done or `shutdown`; returns the process exit code.
pub async fn run(role: RoleOptions, shutdown: Shutdown) -> anyhow::Result<i32> {
    match role {
        RoleOptions::Controller(o) => controller::run(o, shutdown).await.map(|_| 0),
        RoleOptions::Gate(o) => gate::run(o, shutdown).await.map(|_| 0),
        RoleOptions::Display(o) => display::run(o, shutdown).await,
        RoleOptions::Sensor(o) => sensor::run(o, shutdown).await.map(|_| 0),
        RoleOptions::Demo(o) => demo::run(o, shutdown).await,
    }
}

/// Tells a running role to stop. Cheap to clone; every clone sees the same signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// The sending side of a [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

impl ShutdownTrigger {
    /// Stop every role holding the matching [`Shutdown`].
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Another receiver of this signal.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            rx: self.tx.subscribe(),
        }
    }
}

impl Shutdown {
    /// A new signal and its trigger.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger { tx }, Shutdown { rx })
    }

    /// A signal fired by Ctrl-C (and SIGTERM on Unix).
    pub fn on_signals() -> Shutdown {
        let (trigger, shutdown) = Shutdown::new();
        // Watched now, not when the task first runs: a signal in between is kept.
        let mut signals = crate::shutdown::Signals::watch();
        tokio::spawn(async move {
            signals.recv().await;
            crate::shutdown::end_echoed_line();
            trigger.trigger();
        });
        shutdown
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Wait until the signal fires (forever if its trigger is dropped unfired).
    pub async fn wait(&mut self) {
        if self.rx.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Options for a long-running role: reconnect with backoff (500 ms doubling up to
/// 10 s) after a lost connection, so a broker restart does not end the role.
pub(crate) fn keep_connected(mut opts: ConnectOptions) -> ConnectOptions {
    if opts.reconnect.is_none() {
        opts.reconnect = Some(Backoff {
            initial: std::time::Duration::from_millis(500),
            max: std::time::Duration::from_secs(10),
        });
    }
    opts
}

/// Connect a role to the broker, with an optional will.
pub(crate) async fn connect(
    mut opts: ConnectOptions,
    will: Option<Will>,
) -> anyhow::Result<(Client, Events)> {
    if will.is_some() {
        opts.will = will;
    }
    let server = opts.server_display();
    Client::connect(opts)
        .await
        .with_context(|| format!("cannot connect to {server}"))
}

/// Subscribe to `filters`, failing if the broker refuses any of them.
pub(crate) async fn subscribe(client: &Client, filters: &[String], qos: QoS) -> anyhow::Result<()> {
    let subs = filters
        .iter()
        .map(|f| SubscribeFilter {
            filter: f.clone(),
            options: SubscriptionOptions::qos(qos),
        })
        .collect();
    let ack = client.subscribe(subs, Properties::default()).await?;
    for (filter, code) in filters.iter().zip(&ack.reason_codes) {
        if code.is_error() {
            anyhow::bail!("the broker refused the subscription to {filter} ({code:?})");
        }
    }
    Ok(())
}

/// A PUBLISH to send.
pub(crate) fn message(topic: &str, payload: Bytes, qos: QoS, retain: bool) -> Publish {
    Publish {
        qos,
        retain,
        topic: topic.into(),
        payload,
        ..Publish::default()
    }
}

/// Publish and wait for the acknowledgement; a refusal (reason >= 0x80) is an error.
pub(crate) async fn publish(
    client: &Client,
    topic: &str,
    payload: Bytes,
    qos: QoS,
    retain: bool,
) -> anyhow::Result<()> {
    let ack = client
        .publish(message(topic, payload, qos, retain))
        .await
        .with_context(|| format!("cannot publish to {topic}"))?;
    if ack.reason.is_error() {
        anyhow::bail!(
            "the broker refused the message to {topic} ({:?})",
            ack.reason
        );
    }
    Ok(())
}

/// `HH:MM:SS` of now in the local time zone (from `TZ`, as `mq sub -F` prints
/// times; UTC where the system has no time zone files), to start log lines.
pub(crate) fn stamp() -> String {
    let t = crate::cmd::time::Civil::from_system_time(std::time::SystemTime::now());
    format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second)
}

/// The abbreviation of the time zone [`stamp`] uses (`UTC`, `CET`...).
pub(crate) fn stamp_zone() -> &'static str {
    crate::cmd::time::Civil::from_system_time(std::time::SystemTime::now()).zone
}
