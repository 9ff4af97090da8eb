//! `mq carpark entry` / `mq carpark exit`: a gate reporting cars, one QoS 1 message
//! per car on `<prefix>/entry/<gate>` or `<prefix>/exit/<gate>`, numbered: the n-th car
//! of a run has `"seq": n` and the unique id `<gate>-<run>-<n>`, and is published only
//! once the one before is acknowledged, so the controller can tell a redelivery from a
//! new car by its number (see `occupancy::LastSeq`).
//! Interactive (Enter = one car, `q` quits), scripted (`--count N`) or simulated
//! (`--rate 0.5/s`, random arrivals seeded by `--seed`). An entry gate watches the
//! display and turns cars away while the car park is full.
//!
//! A car the broker accepted is not yet a car the controller counted: after each car
//! the gate waits (briefly) for the controller's answer and prints it — counted (the
//! display's `last_seq` for this gate reached the car's number) or refused (an alert
//! naming the car's id) — or says that it only sent the car when no answer came.

use super::messages::{Alert, CarEvent, DisplayState, Topics};
use super::rate::Rate;
use super::traffic::Rng;
use super::{Shutdown, connect, publish, stamp, subscribe};
use crate::client::{ConnectOptions, Event, Events};
use crate::protocol::QoS;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

/// How long a gate waits, after subscribing, for the retained display.
const DISPLAY_WAIT: Duration = Duration::from_millis(500);

/// How long a gate waits for the controller's answer to one car.
const ANSWER_WAIT: Duration = Duration::from_secs(2);

/// How many refused car ids a gate remembers (only its own run's).
const REFUSED_MEMORY: usize = 256;

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
    // The alerts tell a refused car; without them (an ACL refusing the
    // subscription) a refused car is reported as sent without an answer.
    if let Err(e) = subscribe(&client, &[config.topics.alerts()], QoS::AtLeastOnce).await
        && !config.quiet
    {
        println!("{} not watching the alerts: {e:#}", stamp());
    }
    // Ids must differ between runs even with the same seed, or a controller that is
    // still running would take a second run's cars for redeliveries.
    let run_id = Rng::from_entropy().token(6);
    let sender = format!("{}-{run_id}", config.gate);
    let display = watch_answers(events, &config.topics, format!("{sender}-"));
    let mut display_rx = display.clone();
    // Give the broker a moment to send the retained display, so the first car already
    // knows whether the car park is full.
    let _ = tokio::time::timeout(DISPLAY_WAIT, display_rx.wait_for(|a| a.display.is_some())).await;

    let topic = match config.kind {
        Kind::Entry => config.topics.entry(Some(&config.gate)),
        Kind::Exit => config.topics.exit(Some(&config.gate)),
    };
    let mut traffic = Rng::from_seed_flag(config.seed);
    let mut gate = Gate {
        config: &config,
        topic,
        sender,
        serial: 0,
        display,
        controller_answers: true,
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

/// What the controller has said, as a gate sees it: the latest display and the ids of
/// this run's cars it refused.
#[derive(Debug, Default)]
struct Answers {
    display: Option<DisplayState>,
    refused: VecDeque<String>,
}

/// The controller's answer to one car.
enum Answer {
    /// Counted: the display after it.
    Counted(DisplayState),
    /// Refused (an alert): full for an entry, empty for an exit.
    Refused,
}

impl Answers {
    /// The answer to car `seq` of `sender` on `topic` (relative to the prefix), if
    /// one came. The controller publishes its alerts and displays in order, so a
    /// refusal is known before any display whose `last_seq` passes the car.
    fn to(&self, id: &str, topic: &str, sender: &str, seq: u64) -> Option<Answer> {
        if self.refused.iter().any(|r| r == id) {
            return Some(Answer::Refused);
        }
        let d = self.display.as_ref()?;
        let counted = d.last_seq.get(topic)?.get(sender)?;
        (*counted >= seq).then(|| Answer::Counted(d.clone()))
    }
}

/// Keep the latest display state and this run's refused cars (ids starting with
/// `own`), read on a task of its own so the connection's event queue never fills up
/// while the gate waits for an acknowledgement.
fn watch_answers(mut events: Events, topics: &Topics, own: String) -> watch::Receiver<Answers> {
    let (tx, rx) = watch::channel(Answers::default());
    let display_topic = topics.display();
    let alerts_topic = topics.alerts();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let Event::Message(p) = event else { continue };
            if p.topic == display_topic.as_str() {
                if let Ok(state) = DisplayState::parse(&p.payload) {
                    tx.send_modify(|a| a.display = Some(state));
                }
            } else if p.topic == alerts_topic.as_str()
                && let Ok(alert) = serde_json::from_slice::<Alert>(&p.payload)
                && let Some(id) = alert.id.filter(|id| id.starts_with(&own))
            {
                tx.send_modify(|a| {
                    if a.refused.len() >= REFUSED_MEMORY {
                        a.refused.pop_front();
                    }
                    a.refused.push_back(id);
                });
            }
        }
    });
    rx
}

/// One gate's running state.
struct Gate<'a> {
    config: &'a GateOptions,
    topic: String,
    /// `<gate>-<run>`: a car's id is this, `-`, and its number.
    sender: String,
    serial: u64,
    display: watch::Receiver<Answers>,
    /// False after a car got no answer in time: later cars do not wait for one
    /// (until an answer shows up again), so a gate without a controller is not slow.
    controller_answers: bool,
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
        let (full, empty) = match &self.display.borrow().display {
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
            id: Some(format!("{}-{}", self.sender, self.serial)),
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
            let id = format!("{}-{}", self.sender, self.serial);
            let what = match self.answer(&id).await {
                Some(Answer::Counted(d)) => {
                    let verb = match self.config.kind {
                        Kind::Entry => "in",
                        Kind::Exit => "out",
                    };
                    format!(
                        "{verb} ({} of {} taken, {} free)",
                        d.occupied, d.capacity, d.free
                    )
                }
                Some(Answer::Refused) => match self.config.kind {
                    Kind::Entry => "refused by the controller: the car park is full".into(),
                    Kind::Exit => "refused by the controller: the car park is empty".into(),
                },
                None => "sent (no answer from the controller: is it running?)".into(),
            };
            println!("{} {name} {gate}: {plate} {what}", stamp());
        }
        Ok(())
    }

    /// Wait (up to [`ANSWER_WAIT`], or not at all after an unanswered car) for the
    /// controller's answer to car `id`.
    async fn answer(&mut self, id: &str) -> Option<Answer> {
        let topics = &self.config.topics;
        let topic = topics
            .relative(&self.topic)
            .unwrap_or(&self.topic)
            .to_string();
        let (sender, seq) = (self.sender.clone(), self.serial);
        let wait = if self.controller_answers {
            ANSWER_WAIT
        } else {
            Duration::ZERO
        };
        let answered = tokio::time::timeout(
            wait,
            self.display
                .wait_for(|a| a.to(id, &topic, &sender, seq).is_some()),
        )
        .await;
        // Only whether it came matters: the answer is read again below, after the
        // wait's borrow of the channel has ended.
        drop(answered);
        let answer = self.display.borrow().to(id, &topic, &sender, seq);
        self.controller_answers = answer.is_some();
        answer
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
