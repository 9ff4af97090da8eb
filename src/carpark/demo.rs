//! `mq carpark demo`: the whole car park in one process. An embedded broker on a free
//! loopback port (or an existing broker given with `-L/-h/-p`), the controller, two
//! entry and two exit gates with simulated traffic, a sensor and a display. Ctrl-C or
//! `--duration` stops everything cleanly and prints a summary. The display is also
//! served as a web page on a free loopback port unless `--no-web`.

use super::controller::{self, ControllerOptions, ControllerReport};
use super::display::{self, DisplayOptions, Style};
use super::gate::{self, GateOptions, GateReport, Kind, Mode};
use super::messages::{TopicKind, Topics};
use super::rate::Rate;
use super::sensor::{self, SensorOptions, Source};
use super::traffic::Rng;
use super::web::{WebOptions, WebServer};
use super::{Shutdown, connect, subscribe};
use crate::broker::{Broker, BrokerHandle};
use crate::client::{ConnectOptions, Event, Scheme};
use crate::protocol::QoS;
use anyhow::Context;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Simulated exits happen at this fraction of the entry rate, so the car park slowly fills up.
pub const EXIT_RATE_FACTOR: f64 = 0.75;
/// How long to wait, once the gates stop, for the controller to count their last cars.
const DRAIN_WAIT: Duration = Duration::from_secs(3);

/// Everything `demo::run` needs (`mq carpark demo` lowers its flags into it).
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where every role connects. With `embedded_broker`, the scheme, host and port are
    /// replaced by the embedded broker's; the rest (client id, credentials, version)
    /// is kept.
    pub connect: ConnectOptions,
    /// Start a broker in this process on a free 127.0.0.1 port instead of using the one
    /// `connect` names.
    pub embedded_broker: bool,
    /// The car park's topics.
    pub topics: Topics,
    /// Number of spaces.
    pub capacity: u32,
    /// Average arrivals per entry gate (exits run at [`EXIT_RATE_FACTOR`] of it).
    pub rate: Rate,
    /// Seed of the simulated traffic (`None`: different every run).
    pub seed: Option<u64>,
    /// Stop after this long (`None`: run until `shutdown`).
    pub duration: Option<Duration>,
    /// Time between temperature readings.
    pub sensor_interval: Duration,
    /// Serve the display as a web page on this address (port 0: a free one); `None`
    /// with `--no-web`.
    pub web: Option<SocketAddr>,
}

/// What the demo did, as printed in its summary.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    /// How long it ran.
    pub elapsed: Duration,
    /// The controller's final count.
    pub controller: ControllerReport,
    /// Cars turned away at the entry gates (display showed FULL).
    pub turned_away_at_gates: u64,
    /// Cars the gates reported.
    pub reported: u64,
    /// Messages seen on `<prefix>/#`, by topic kind.
    pub messages: BTreeMap<&'static str, u64>,
}

impl DemoSummary {
    /// The summary, several lines. `in − out = occupied` always holds: the demo
    /// controller starts from an empty car park.
    pub fn render(&self, prefix: &str) -> String {
        let c = &self.controller;
        let t = &c.totals;
        let total: u64 = self.messages.values().sum();
        let by_kind = self
            .messages
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "Summary after {:.1} s:\n  cars in:      {}\n  cars out:     {}\n  turned away:  {} ({} at the gates while FULL, {} refused by the controller)\n  occupied:     {} of {} (in - out = {})\n  messages:     {} on {prefix}/# ({by_kind})",
            self.elapsed.as_secs_f64(),
            t.entered,
            t.exited,
            self.turned_away_at_gates + t.rejected_full,
            self.turned_away_at_gates,
            t.rejected_full,
            c.occupied,
            c.capacity,
            i128::from(t.entered) - i128::from(t.exited),
            total,
        )
    }
}

/// Run the demo until `shutdown` or its duration; returns the exit code.
pub async fn run(demo: DemoOptions, shutdown: Shutdown) -> anyhow::Result<i32> {
    let mut options = demo.connect.clone();
    let broker = if demo.embedded_broker {
        let handle = Broker::builder()
            .listen(([127, 0, 0, 1], 0).into())
            .start()
            .await
            .context("cannot start the embedded broker")?;
        options.scheme = Scheme::Mqtt;
        options.host = "127.0.0.1".into();
        options.port = handle.local_addr().port();
        Some(handle)
    } else {
        None
    };
    let result = run_on(&demo, options, broker.as_ref(), shutdown).await;
    if let Some(b) = broker {
        b.shutdown().await;
    }
    let summary = result?;
    println!();
    println!("{}", summary.render(demo.topics.prefix()));
    Ok(0)
}

/// Per-role options: the same server, a distinct client id when one was given.
fn role_options(base: &ConnectOptions, role: &str) -> ConnectOptions {
    let mut o = base.clone();
    if !o.client_id.is_empty() {
        o.client_id = format!("{}-{role}", o.client_id);
    }
    o
}

async fn run_on(
    demo: &DemoOptions,
    options: ConnectOptions,
    broker: Option<&BrokerHandle>,
    mut shutdown: Shutdown,
) -> anyhow::Result<DemoSummary> {
    let started = Instant::now();
    let topics = &demo.topics;
    match broker {
        Some(b) => {
            let port = b.local_addr().port();
            println!("mq carpark demo: embedded MQTT broker listening on 127.0.0.1:{port}");
            println!(
                "Watch the messages in another terminal:  mq sub -h 127.0.0.1 -p {port} -t '{}' -v",
                topics.all()
            );
        }
        None => {
            println!(
                "mq carpark demo: using the broker at {}",
                options.server_display()
            );
            println!(
                "Watch the messages:  mq sub -t '{}' -v  (with the same connection flags)",
                topics.all()
            );
        }
    }
    // Dropped (and so stopped) when the demo ends, however it ends.
    let _web = match demo.web {
        Some(listen) => {
            let server = WebServer::start(
                WebOptions {
                    listen,
                    broker: options.clone(),
                    ws_url: None,
                    topics: topics.clone(),
                    name: "Car park".into(),
                },
                shutdown.clone(),
            )
            .await?;
            println!("Watch it in a browser:  {}", server.url());
            Some(server)
        }
        None => None,
    };
    println!(
        "Capacity {}, entry gates north and east, exit gates south and west, about {:.2} cars per second per entry gate. {}",
        demo.capacity,
        demo.rate.get(),
        match demo.duration {
            Some(d) => format!("Stopping after {:.1} s.", d.as_secs_f64()),
            None => "Ctrl-C to stop.".to_string(),
        }
    );
    println!();

    // The monitor counts every message of the car park, for the summary.
    let (monitor_stop, monitor_shutdown) = Shutdown::new();
    let monitor = tokio::spawn(count_messages(
        role_options(&options, "monitor"),
        topics.clone(),
        monitor_shutdown,
    ));

    let (roles_stop, roles_shutdown) = Shutdown::new();
    let (progress_tx, mut progress) = watch::channel(ControllerReport::default());
    let mut controller_config =
        ControllerOptions::new(role_options(&options, "controller"), demo.capacity);
    controller_config.topics = topics.clone();
    controller_config.reset = true;
    // A clean session: the demo's car park lives as long as the demo.
    controller_config.session_expiry = None;
    let mut controller = tokio::spawn(controller::run_with_progress(
        controller_config,
        roles_shutdown.clone(),
        progress_tx,
    ));
    // Wait until the controller is online (its first report), or failed.
    tokio::select! {
        _ = progress.changed() => {}
        result = &mut controller => {
            monitor_stop.trigger();
            let _ = monitor.await;
            return Err(match result {
                Ok(Err(e)) => e.context("the controller stopped"),
                Ok(Ok(_)) => anyhow::anyhow!("the controller stopped"),
                Err(e) => anyhow::anyhow!("the controller failed: {e}"),
            });
        }
    }

    let mut seeds = Rng::from_seed_flag(demo.seed);
    let display = tokio::spawn(display::run(
        DisplayOptions {
            connect: role_options(&options, "display"),
            topics: topics.clone(),
            name: "Car park".into(),
            once: false,
            timeout: Duration::from_secs(5),
            style: Style::Lines,
            web: None,
        },
        roles_shutdown.clone(),
    ));
    let sensor = tokio::spawn(sensor::run(
        SensorOptions {
            connect: role_options(&options, "sensor"),
            topics: topics.clone(),
            sensor: None,
            interval: demo.sensor_interval,
            source: Source::RandomWalk {
                seed: Some(seeds.next_u64()),
            },
            count: None,
            quiet: true,
        },
        roles_shutdown.clone(),
    ));
    let (gates_stop, gates_shutdown) = Shutdown::new();
    let exit_rate = demo.rate.scaled(EXIT_RATE_FACTOR).unwrap_or(demo.rate);
    let gates: Vec<JoinHandle<anyhow::Result<GateReport>>> = [
        (Kind::Entry, "north", demo.rate),
        (Kind::Entry, "east", demo.rate),
        (Kind::Exit, "south", exit_rate),
        (Kind::Exit, "west", exit_rate),
    ]
    .into_iter()
    .map(|(kind, name, rate)| {
        tokio::spawn(gate::run(
            GateOptions {
                connect: role_options(&options, name),
                topics: topics.clone(),
                kind,
                gate: name.into(),
                mode: Mode::Random { rate, count: None },
                seed: Some(seeds.next_u64()),
                quiet: false,
            },
            gates_shutdown.clone(),
        ))
    })
    .collect();

    // Run until Ctrl-C, the duration, or the controller stopping on its own.
    let mut failure = None;
    let stop_after = async {
        match demo.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = shutdown.wait() => {}
        _ = stop_after => {}
        result = &mut controller => {
            failure = Some(match result {
                Ok(Err(e)) => e.context("the controller stopped"),
                Ok(Ok(_)) => anyhow::anyhow!("the controller stopped"),
                Err(e) => anyhow::anyhow!("the controller failed: {e}"),
            });
        }
    }
    let elapsed = started.elapsed();

    // Stop the gates first, then let the controller count their last cars.
    gates_stop.trigger();
    let mut summary = DemoSummary {
        elapsed,
        ..DemoSummary::default()
    };
    for g in gates {
        match g.await {
            Ok(Ok(report)) => {
                summary.reported += report.sent;
                summary.turned_away_at_gates += report.turned_away;
            }
            Ok(Err(e)) => failure = failure.or(Some(e.context("a gate stopped"))),
            Err(e) => failure = failure.or(Some(anyhow::anyhow!("a gate failed: {e}"))),
        }
    }
    if failure.is_none() {
        let reported = summary.reported;
        let _ = tokio::time::timeout(
            DRAIN_WAIT,
            progress.wait_for(|r| {
                r.totals.entered
                    + r.totals.exited
                    + r.totals.rejected_full
                    + r.totals.rejected_empty
                    + r.totals.duplicates
                    >= reported
            }),
        )
        .await;
        roles_stop.trigger();
        match controller.await {
            Ok(Ok(report)) => summary.controller = report,
            Ok(Err(e)) => failure = Some(e.context("the controller stopped")),
            Err(e) => failure = Some(anyhow::anyhow!("the controller failed: {e}")),
        }
    }
    roles_stop.trigger();
    let display = display.await.map(|r| r.map(|_| ()));
    let sensor = sensor.await.map(|r| r.map(|_| ()));
    for (name, result) in [("display", display), ("sensor", sensor)] {
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = failure.or(Some(e.context(format!("the {name} stopped")))),
            Err(e) => failure = failure.or(Some(anyhow::anyhow!("the {name} failed: {e}"))),
        }
    }
    // Give the monitor a moment to see the controller's last messages.
    tokio::time::sleep(Duration::from_millis(100)).await;
    monitor_stop.trigger();
    summary.messages = monitor
        .await
        .unwrap_or_else(|_| Ok(BTreeMap::new()))
        .unwrap_or_default();
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// Count the messages on `<prefix>/#` by topic kind until `shutdown`.
async fn count_messages(
    options: ConnectOptions,
    topics: Topics,
    mut shutdown: Shutdown,
) -> anyhow::Result<BTreeMap<&'static str, u64>> {
    let (client, mut events) = connect(options, None).await?;
    subscribe(&client, &[topics.all()], QoS::AtMostOnce).await?;
    let mut counts = BTreeMap::new();
    loop {
        let event = tokio::select! {
            _ = shutdown.wait() => break,
            event = events.recv() => event,
        };
        match event {
            Some(Event::Message(p)) => {
                let kind = match topics.classify(&p.topic) {
                    Some(TopicKind::Entry { .. }) => "entry",
                    Some(TopicKind::Exit { .. }) => "exit",
                    Some(TopicKind::Temperature { .. }) => "temperature",
                    Some(TopicKind::Display) => "display",
                    Some(TopicKind::Time) => "time",
                    Some(TopicKind::Status) => "status",
                    Some(TopicKind::Alerts) => "alerts",
                    None => "other",
                };
                *counts.entry(kind).or_insert(0) += 1;
            }
            Some(_) => {}
            None => break,
        }
    }
    let _ = client.disconnect().await;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carpark::occupancy::Totals;

    #[test]
    fn summary_adds_up() {
        let summary = DemoSummary {
            elapsed: Duration::from_millis(3000),
            controller: ControllerReport {
                capacity: 20,
                occupied: 7,
                restored: 0,
                totals: Totals {
                    entered: 12,
                    exited: 5,
                    rejected_full: 1,
                    ..Totals::default()
                },
            },
            turned_away_at_gates: 2,
            reported: 18,
            messages: [("entry", 13), ("exit", 5)].into_iter().collect(),
        };
        let text = summary.render("carpark");
        assert!(text.contains("cars in:      12\n"), "{text}");
        assert!(text.contains("cars out:     5\n"), "{text}");
        assert!(
            text.contains(
                "turned away:  3 (2 at the gates while FULL, 1 refused by the controller)"
            ),
            "{text}"
        );
        assert!(
            text.contains("occupied:     7 of 20 (in - out = 7)"),
            "{text}"
        );
        assert!(
            text.contains("messages:     18 on carpark/# (entry 13, exit 5)"),
            "{text}"
        );
    }
}
