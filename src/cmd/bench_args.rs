//! The flags of `mq bench` and their lowering: clap parses them into [`BenchArgs`], and
//! [`BenchArgs::into_options`] turns them once into the [`BenchPlan`] the benchmark
//! library (`cmd::bench`) runs. Validation that needs more than one flag happens here.

use crate::cli::ConnectArgs;
use crate::cmd::bench::{
    BenchPlan, CheckPlan, ConnPlan, LoadPlan, MAX_RUNS, OutputOptions, Target, TopicTemplate,
};
use crate::protocol::QoS;
use anyhow::bail;
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `mq bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub mode: Mode,
}

/// The bench modes.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Mode {
    /// Publish load: -c publishers at a rate or as fast as possible
    Pub(PubArgs),
    /// Subscribe, count deliveries (loss, duplicates, reordering) and measure latency
    Sub(SubArgs),
    /// Publishers and subscribers in one process: throughput and exact latency
    Pubsub(PubSubArgs),
    /// Connection storm: connect-time percentiles and failures by reason
    Conn(ConnArgs),
    /// Draw saved --json summaries side by side into one SVG: latency distributions
    /// and per-second rates (e.g. mq broker against mosquitto)
    Plot(PlotArgs),
    /// Capability report of a broker: versions, QoS round trips, retained, wildcards,
    /// shared subscriptions, largest payload, MQTT 5.0 limits
    Check(CheckArgs),
}

fn rate_arg(s: &str) -> Result<f64, String> {
    crate::units::parse_rate(s)
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    crate::units::parse_duration(s)
}

/// When to stop.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Stop")]
pub struct StopArgs {
    /// Stop after N messages (published for pub/pubsub, received for sub)
    #[arg(long = "limit", value_name = "N")]
    pub limit: Option<u64>,
    /// Stop after this long (e.g. 10s, 500ms, 2m)
    #[arg(long = "duration", value_name = "D", value_parser = duration_arg)]
    pub duration: Option<Duration>,
}

/// Output flags.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print the summary as one JSON object (schema mq-bench/1)
    #[arg(long = "json")]
    pub json: bool,
    /// Write the per-second series to FILE as CSV
    #[arg(long = "csv", value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Draw the latency distribution and the per-second rates into FILE (SVG)
    #[arg(long = "plot", value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON
    /// and the plot
    #[arg(long = "label", value_name = "TEXT")]
    pub label: Option<String>,
    /// No live progress on stderr
    #[arg(long = "quiet")]
    pub quiet: bool,
}

/// Publisher flags shared by `pub` and `pubsub`.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Publishing")]
pub struct PublishFlags {
    /// Number of publishing clients
    #[arg(short = 'c', long = "clients", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub clients: u32,
    /// Interval between two messages of one publisher, in milliseconds
    #[arg(
        short = 'I',
        long = "interval",
        value_name = "MS",
        conflicts_with = "rate"
    )]
    pub interval_ms: Option<f64>,
    /// Total publish rate over all publishers (e.g. 1000/s)
    #[arg(long = "rate", value_name = "RATE", value_parser = rate_arg)]
    pub rate: Option<f64>,
    /// Payload size in bytes (at least 28: the sequence and timestamp header)
    #[arg(short = 's', long = "size", default_value_t = 64)]
    pub size: usize,
    /// Quality of service (publish and subscribe)
    #[arg(short = 'q', long = "qos", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub qos: u8,
    /// Topic template: %i client index, %c client id, %s message sequence
    #[arg(short = 't', long = "topic", default_value = "bench/%i")]
    pub topic: String,
    /// Publish with the retain flag
    #[arg(short = 'r', long = "retain")]
    pub retain: bool,
    /// Unacknowledged QoS 1/2 messages per publisher
    #[arg(long = "inflight", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub inflight: u16,
    /// New connections per second (e.g. 100/s; default all at once)
    #[arg(long = "conn-rate", value_name = "RATE", value_parser = rate_arg)]
    pub conn_rate: Option<f64>,
}

/// `mq bench pub`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct PubArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub publish: PublishFlags,
    #[command(flatten)]
    pub stop: StopArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// `mq bench sub`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct SubArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// Number of subscribing clients
    #[arg(short = 'c', long = "clients", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub clients: u32,
    /// Topic filter to subscribe to
    #[arg(short = 't', long = "topic", default_value = "bench/#")]
    pub topic: String,
    /// Subscription QoS
    #[arg(short = 'q', long = "qos", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub qos: u8,
    /// New connections per second (e.g. 100/s; default all at once)
    #[arg(long = "conn-rate", value_name = "RATE", value_parser = rate_arg)]
    pub conn_rate: Option<f64>,
    #[command(flatten)]
    pub stop: StopArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// `mq bench pubsub`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct PubSubArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub publish: PublishFlags,
    /// Number of subscribing clients (each receives every message)
    #[arg(long = "subscribers", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub subscribers: u32,
    /// Subscription filter (default: the topic template with each level holding a
    /// placeholder replaced by +)
    #[arg(long = "sub-topic", value_name = "FILTER")]
    pub sub_topic: Option<String>,
    /// Longest wait for acknowledgements and deliveries after the stop
    #[arg(long = "drain", value_name = "D", default_value = "5s", value_parser = duration_arg)]
    pub drain: Duration,
    #[command(flatten)]
    pub stop: StopArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// `mq bench conn`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct ConnArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// Number of connections
    #[arg(short = 'c', long = "clients", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub clients: u32,
    /// New connections per second (e.g. 1000/s; default as fast as possible)
    #[arg(long = "conn-rate", value_name = "RATE", value_parser = rate_arg)]
    pub conn_rate: Option<f64>,
    /// Keep the connections open this long once all are attempted (e.g. 10s)
    #[arg(long = "hold", value_name = "D", default_value = "0s", value_parser = duration_arg)]
    pub hold: Duration,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// `mq bench plot`.
#[derive(clap::Args, Debug, Clone)]
pub struct PlotArgs {
    /// Summaries written by `mq bench ... --json`, one JSON object per file; the legend
    /// names each by its --label, else by its file name
    #[arg(value_name = "JSON", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// The SVG file to write
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Title of the figure (default: the runs' names)
    #[arg(long = "title", value_name = "TEXT")]
    pub title: Option<String>,
}

/// `mq bench check`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct CheckArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// Messages per QoS round trip
    #[arg(short = 'n', long = "count", default_value_t = 10)]
    pub count: u32,
    /// Time allowed for each step
    #[arg(long = "timeout", value_name = "D", default_value = "5s", value_parser = duration_arg)]
    pub timeout: Duration,
    /// Largest payload to probe, in bytes
    #[arg(long = "max-payload", value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_payload: usize,
    /// Print the report as one JSON object (schema mq-bench-check/1)
    #[arg(long = "json")]
    pub json: bool,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

impl BenchArgs {
    /// The plan these flags describe (reads the password from stdin for `-P -`).
    pub fn into_options(self) -> anyhow::Result<BenchPlan> {
        Ok(match self.mode {
            Mode::Pub(a) => a.into_options()?,
            Mode::Sub(a) => a.into_options()?,
            Mode::Pubsub(a) => a.into_options()?,
            Mode::Conn(a) => a.into_options()?,
            Mode::Plot(a) => a.into_options()?,
            Mode::Check(a) => a.into_options()?,
        })
    }
}

impl OutputArgs {
    fn into_options(self) -> OutputOptions {
        OutputOptions {
            json: self.json,
            csv: self.csv,
            plot: self.plot,
            label: self.label,
        }
    }
}

impl PubArgs {
    fn into_options(self) -> anyhow::Result<BenchPlan> {
        let (interval, target_rate) = interval_of(&self.publish)?;
        let p = self.publish;
        let plan = LoadPlan {
            mode: "pub",
            target: target_from(&self.conn)?,
            publishers: p.clients,
            subscribers: 0,
            topic: p.topic,
            sub_filter: String::new(),
            qos: qos_of(p.qos),
            retain: p.retain,
            size: p.size,
            interval,
            target_rate,
            inflight: p.inflight,
            limit: self.stop.limit,
            duration: self.stop.duration,
            conn_rate: p.conn_rate,
            drain: Duration::from_secs(5),
            quiet: self.output.quiet,
            ready: None,
        };
        Ok(BenchPlan::Load {
            plan,
            output: self.output.into_options(),
        })
    }
}

impl SubArgs {
    fn into_options(self) -> anyhow::Result<BenchPlan> {
        let plan = LoadPlan {
            mode: "sub",
            target: target_from(&self.conn)?,
            publishers: 0,
            subscribers: self.clients,
            topic: "bench".into(),
            sub_filter: self.topic,
            qos: qos_of(self.qos),
            retain: false,
            size: 0,
            interval: None,
            target_rate: None,
            inflight: 1,
            limit: self.stop.limit,
            duration: self.stop.duration,
            conn_rate: self.conn_rate,
            drain: Duration::ZERO,
            quiet: self.output.quiet,
            ready: None,
        };
        Ok(BenchPlan::Load {
            plan,
            output: self.output.into_options(),
        })
    }
}

impl PubSubArgs {
    fn into_options(self) -> anyhow::Result<BenchPlan> {
        let (interval, target_rate) = interval_of(&self.publish)?;
        let p = self.publish;
        let sub_filter = self
            .sub_topic
            .unwrap_or_else(|| TopicTemplate::matching_filter(&p.topic));
        let plan = LoadPlan {
            mode: "pubsub",
            target: target_from(&self.conn)?,
            publishers: p.clients,
            subscribers: self.subscribers,
            topic: p.topic,
            sub_filter,
            qos: qos_of(p.qos),
            retain: p.retain,
            size: p.size,
            interval,
            target_rate,
            inflight: p.inflight,
            limit: self.stop.limit,
            duration: self.stop.duration,
            conn_rate: p.conn_rate,
            drain: self.drain,
            quiet: self.output.quiet,
            ready: None,
        };
        Ok(BenchPlan::Load {
            plan,
            output: self.output.into_options(),
        })
    }
}

impl ConnArgs {
    fn into_options(self) -> anyhow::Result<BenchPlan> {
        if self.output.plot.is_some() {
            bail!(
                "--plot is not supported yet for bench conn (it draws message latency and rates; use --csv for the connection series)"
            );
        }
        let plan = ConnPlan {
            target: target_from(&self.conn)?,
            clients: self.clients,
            conn_rate: self.conn_rate,
            hold: self.hold,
            quiet: self.output.quiet,
        };
        Ok(BenchPlan::Conn {
            plan,
            output: self.output.into_options(),
        })
    }
}

impl PlotArgs {
    fn into_options(self) -> anyhow::Result<BenchPlan> {
        if self.inputs.len() > MAX_RUNS {
            bail!(
                "at most {MAX_RUNS} runs fit in one plot, {} given",
                self.inputs.len()
            );
        }
        Ok(BenchPlan::Plot {
            inputs: self.inputs,
            output: self.output,
            title: self.title,
        })
    }
}

impl CheckArgs {
    fn into_options(self) -> anyhow::Result<BenchPlan> {
        let plan = CheckPlan {
            options: self.conn.to_options()?,
            versions_given: self.conn.protocol_version.is_some(),
            count: self.count,
            timeout: self.timeout,
            max_payload: self.max_payload,
        };
        Ok(BenchPlan::Check {
            plan,
            json: self.json,
        })
    }
}

/// The load modes' connection target from the shared connection flags.
fn target_from(conn: &ConnectArgs) -> anyhow::Result<Target> {
    Ok(Target::from_options(conn.to_options()?))
}

fn qos_of(q: u8) -> QoS {
    QoS::from_u8(q).unwrap_or(QoS::AtMostOnce)
}

/// The interval between two messages of one publisher and the total rate it gives,
/// from `-I` or `--rate` (`None`: as fast as possible).
fn interval_of(p: &PublishFlags) -> anyhow::Result<(Option<Duration>, Option<f64>)> {
    if let Some(ms) = p.interval_ms {
        if !(ms.is_finite() && ms > 0.0) {
            bail!("-I/--interval must be a positive number of milliseconds");
        }
        let d = Duration::from_secs_f64(ms / 1000.0);
        return Ok((Some(d), Some(f64::from(p.clients) * 1000.0 / ms)));
    }
    if let Some(rate) = p.rate {
        let per_pub = rate / f64::from(p.clients.max(1));
        return Ok((Some(Duration::from_secs_f64(1.0 / per_pub)), Some(rate)));
    }
    Ok((None, None))
}
