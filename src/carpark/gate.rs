//! `mq carpark entry` / `mq carpark exit`: a gate reporting cars, one QoS 1 message
//! per car on `<prefix>/entry/<gate>` or `<prefix>/exit/<gate>`, numbered: the n-th car
//! of a run has `"seq": n` and the unique id `<gate>-<run>-<n>`, and is published only
//! once the one before is acknowledged, so the controller can tell a redelivery from a
//! new car by its number (see `occupancy::LastSeq`).
//! Interactive (Enter = one car, `q` quits), scripted (`--count N`) or simulated
//! (`--rate 0.5/s`, random arrivals seeded by `--seed`). An entry gate watches the
//! display and turns cars away while the car park is full.

use super::messages::{CarEvent, DisplayState, Topics};
use super::rate::Rate;
use super::traffic::Rng;
use super::{Shutdown, connect, publish, stamp, subscribe};
use crate::client::{ConnectOptions, Event, Events};
use crate::protocol::QoS;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

/// How long a gate waits, after subscribing, for the retained display.
const DISPLAY_WAIT: Duration = Duration::from_millis(500);

/// Which way a gate lets cars through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Cars come in.
    Entry,
    /// Cars go out.
    Exit,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Entry => "entry",
            Kind::Exit => "exit",
        }
    }
}

/// Where the cars come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// One car per line typed on stdin; `q` or end of input stops.
    Interactive,
    /// Cars at random times, at this average rate; stop after `count` if given.
    Random { rate: Rate, count: Option<u64> },
    /// This many cars at once, then stop.
    Count(u64),
}

/// Everything `gate::run` needs (`mq carpark entry` and `exit` lower their flags into it).
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// The car park's topics.
    pub topics: Topics,
    /// Entry or exit.
    pub kind: Kind,
    /// The gate's name.
    pub gate: String,
    /// Where cars come from.
    pub mode: Mode,
    /// Seed of the random arrivals and plates (`None`: different every run).
    pub seed: Option<u64>,
    /// Print nothing per car.
    pub quiet: bool,
}

/// What a gate did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateReport {
    /// Cars reported to the controller.
    pub sent: u64,
    /// Cars turned away because the display showed FULL (entry gates).
    pub turned_away: u64,
    /// Simulated departures skipped because the display showed the car park empty.
    pub skipped_empty: u64,
}

/// Run a gate until its cars are sent, its input ends, or `shutdown`.
pub async fn run(config: GateOptions, mut shutdown: Shutdown) -> anyhow::Result<GateReport> {
    let (client, events) = connect(config.connect.clone(), None).await?;
    subscribe(&client, &[config.topics.display()], QoS::AtLeastOnce).await?;
    let display = watch_display(events, config.topics.display());
    let mut display_rx = display.clone();
    // Give the broker a moment to send the retained display, so the first car already
    // knows whether the car park is full.
    let _ = tokio::time::timeout(DISPLAY_WAIT, display_rx.wait_for(|d| d.is_some())).await;

    let topic = match config.kind {
        Kind::Entry => config.topics.entry(Some(&config.gate)),
        Kind::Exit => config.topics.exit(Some(&config.gate)),
    };
    let mut traffic = Rng::from_seed_flag(config.seed);
    // Ids must differ between runs even with the same seed, or a controller that is
    // still running would take a second run's cars for redeliveries.
    let run_id = Rng::from_entropy().token(6);
    let mut gate = Gate {
        config: &config,
        topic,
        run_id,
        serial: 0,
        display,
        report: GateReport::default(),
    };
    let outcome = match config.mode {
        Mode::Count(n) => {
            let mut result = Ok(());
            for _ in 0..n {
                if shutdown.is_triggered() {
                    break;
                }
                let plate = traffic.plate();
                if let Err(e) = gate.car(&client, plate, false).await {
                    result = Err(e);
                    break;
                }
            }
            result
        }
        Mode::Random { rate, count } => {
            let mut result = Ok(());
            let mut n = 0u64;
            while count.is_none_or(|c| n < c) {
                let gap = traffic.arrival_gap(rate);
                tokio::select! {
                    _ = shutdown.wait() => break,
                    _ = tokio::time::sleep(gap) => {}
                }
                let plate = traffic.plate();
                if let Err(e) = gate.car(&client, plate, true).await {
                    result = Err(e);
                    break;
                }
                n += 1;
            }
            result
        }
        Mode::Interactive => gate.interactive(&client, &mut traffic, &mut shutdown).await,
    };
    let report = gate.report;
    let _ = client.disconnect().await;
    outcome.map(|_| report)
}

/// Keep the latest display state, read on a task of its own so the connection's event
/// queue never fills up while the gate waits for an acknowledgement.
fn watch_display(
    mut events: Events,
    display_topic: String,
) -> watch::Receiver<Option<DisplayState>> {
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let Event::Message(p) = event
                && p.topic == display_topic.as_str()
                && let Ok(state) = DisplayState::parse(&p.payload)
            {
                tx.send_replace(Some(state));
            }
        }
    });
    rx
}

/// One gate's running state.
struct Gate<'a> {
    config: &'a GateOptions,
    topic: String,
    run_id: String,
    serial: u64,
    display: watch::Receiver<Option<DisplayState>>,
    report: GateReport,
}

impl Gate<'_> {
    /// One car at the gate: turned away if full (entry), skipped if simulated and
    /// empty (exit), otherwise reported.
    async fn car(
        &mut self,
        client: &crate::client::Client,
        plate: String,
        simulated: bool,
    ) -> anyhow::Result<()> {
        let (full, empty) = match &*self.display.borrow() {
            Some(d) => (d.full, d.occupied == 0),
            None => (false, false),
        };
        let name = self.config.kind.name();
        let gate = &self.config.gate;
        if self.config.kind == Kind::Entry && full {
            self.report.turned_away += 1;
            if !self.config.quiet {
                println!(
                    "{} {name} {gate}: car park FULL, {plate} turned away",
                    stamp()
                );
            }
            return Ok(());
        }
        if self.config.kind == Kind::Exit && simulated && empty {
            self.report.skipped_empty += 1;
            return Ok(());
        }
        self.serial += 1;
        let event = CarEvent {
            id: Some(format!("{gate}-{}-{}", self.run_id, self.serial)),
            seq: Some(self.serial),
            gate: Some(gate.clone()),
            plate: Some(plate.clone()),
        };
        let sent = publish(
            client,
            &self.topic,
            event.to_json(),
            QoS::AtLeastOnce,
            false,
        )
        .await;
        if let Err(e) = sent {
            if self.config.connect.reconnect.is_none() {
                return Err(e);
            }
            println!("{} {name} {gate}: {plate} not reported: {e:#}", stamp());
            return Ok(());
        }
        self.report.sent += 1;
        if !self.config.quiet {
            let verb = match self.config.kind {
                Kind::Entry => "in",
                Kind::Exit => "out",
            };
            println!("{} {name} {gate}: {plate} {verb}", stamp());
        }
        Ok(())
    }

    /// Read stdin: an empty line is one car, a number is that many, `q` quits.
    async fn interactive(
        &mut self,
        client: &crate::client::Client,
        traffic: &mut Rng,
        shutdown: &mut Shutdown,
    ) -> anyhow::Result<()> {
        if !self.config.quiet {
            println!(
                "{} gate {}: press Enter for one car (or type a number), q to quit",
                self.config.kind.name(),
                self.config.gate
            );
        }
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        loop {
            let line = tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                line = lines.next_line() => line?,
            };
            let Some(line) = line else { return Ok(()) };
            let cars = match line.trim() {
                "q" | "quit" | "exit" => return Ok(()),
                "" => 1,
                text => match text.parse::<u32>() {
                    Ok(n) => n.min(10_000),
                    Err(_) => 1,
                },
            };
            for _ in 0..cars {
                let plate = traffic.plate();
                self.car(client, plate, false).await?;
            }
        }
    }
}
