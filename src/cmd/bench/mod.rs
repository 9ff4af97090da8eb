//! `mq bench`: an MQTT load generator and latency meter, and a broker capability check.
//!
//! Modes: `pub` (publishers), `sub` (subscribers that count and time what arrives),
//! `pubsub` (both in one process: one clock, so latency is exact), `conn` (connection
//! storm) and `check` (a capability report of a broker, after HiveMQ's `mqtt test`).
//!
//! # How it talks MQTT, and why
//!
//! - **`pub`, `sub`, `pubsub` and `conn` drive [`crate::protocol`] directly over tokio
//!   TCP** (`raw.rs`, `workers.rs`, `load.rs`). The bench must not be the bottleneck:
//!   each connection is one task whose single `select!` loop reads, writes and produces
//!   on its own socket, with no channel, lock or per-message allocation on the path. A
//!   PUBLISH is encoded once by the codec and each message is a copy of it with the
//!   28-byte bench header (and packet identifier) patched in place; received packets
//!   are decoded by the codec from one read buffer, many per `read`. The client layer
//!   ([`crate::client`]) puts a channel and an event-loop task between the caller and
//!   the socket and acknowledges through that task, which costs throughput the bench
//!   cannot afford at QoS 0. The load modes still take every transport the shared
//!   connection flags name: plain `mqtt://` is a bare `TcpStream`, while TLS
//!   (`mqtts://`), WebSocket (`ws://`, `wss://`, binary frames with the `mqtt`
//!   subprotocol [MQTT-6.0.0-1] [MQTT-6.0.0-3]), `--unix`, `--proxy` and `-A` are
//!   opened by the client layer's transport code ([`crate::client::transport`]) and
//!   driven by the same raw loop; only the byte stream differs.
//! - **`check` uses [`crate::client`]**: it measures correctness and capability, not
//!   throughput, and gets TLS, WebSocket and every protocol detail from the one client
//!   implementation.
//!
//! # Measuring honestly
//!
//! Every message starts with a header (see `payload.rs`): run id, publisher index,
//! sequence number and a timestamp. Subscribers track each publisher's sequence and
//! report lost, duplicated and reordered messages exactly (`stats.rs`); latency goes
//! into an HDR histogram (microseconds, 3 significant digits). With a fixed rate
//! (`--rate` or `-I`) the timestamp is the *intended* send time of the message, not the
//! moment it was written, so a publisher that falls behind shows up as latency
//! instead of being hidden (no coordinated omission); only the timer's own lateness
//! (tokio timers tick in milliseconds: up to 2 ms) is not charged, see `workers.rs`.
//! In `pubsub` the publishers' totals
//! are known, so messages never received at the end count as lost; in `sub` alone only
//! gaps can be seen (including messages sent before the subscriber joined).
//!
//! # The JSON summary (`--json`), schema `mq-bench/1`
//!
//! One object on stdout; fields are only ever added within a schema version.
//!
//! ```text
//! schema            "mq-bench/1"
//! mode              "pub" | "sub" | "pubsub" | "conn"
//! broker            "mqtt://host:port" (or mqtts://, ws://host:port/path, ...)
//! protocol          "3.1" | "3.1.1" | "5.0"
//! qos               0 | 1 | 2 | null (conn)
//! payload_bytes     integer | null (sub, conn)
//! publishers        integer
//! subscribers       integer
//! target_rate_per_s number | null (as fast as possible); for conn the --conn-rate
//! duration_s        number: start of the load to the stop (conn: to the last CONNACK)
//! stopped_by        "limit" | "duration" | "interrupt" | "completed" | "failed"
//! connections       { attempted, succeeded, failed, per_s, connect_us: LATENCY | null }
//! messages          { sent, acked, received, foreign }
//! rates             { sent_per_s, acked_per_s, received_per_s }
//! delivery          { unique, duplicates, reordered, lost } | null (no subscribers)
//! latency_us        LATENCY | null   end to end, publisher timestamp to arrival
//! ack_latency_us    LATENCY | null   PUBLISH written to PUBACK/PUBCOMP (QoS 1/2)
//! errors            { "<kind>": count, ... }
//! notes             [ "<remark>", ... ]
//! LATENCY           { count, min, mean, p50, p90, p99, p999, max }  (microseconds)
//! ```
//!
//! `check --json` prints one object with schema `mq-bench-check/1`, described in
//! `check.rs` and docs/bench.md.
//!
//! `--csv FILE` writes one row per second: `elapsed_s, connected, sent, acked,
//! received, errors, sent_per_s, acked_per_s, received_per_s, latency_p50_us,
//! latency_p99_us, latency_max_us` (totals so far, rates and latency over that second).

mod check;
mod check_report;
mod conn;
mod load;
pub mod payload;
mod raw;
mod report;
pub mod stats;
mod template;
mod workers;

pub use check::{CheckPlan, run_check};
pub use check_report::{
    CheckReport, ConnackLimits, ConnectOutcome, Outcome, PayloadProbe, RoundTrip, VersionReport,
};
pub use conn::{ConnPlan, ensure_open_files, parse_nofile, run_conn};
pub use load::{LoadPlan, run_load};
pub use raw::{ConnError, RawConn, Target};
pub use report::{SCHEMA, Sample, Summary, write_csv};
pub use template::{Clock, PublishTemplate, TopicTemplate};

use crate::cli::ConnectArgs;
use crate::client::Scheme;
use crate::protocol::QoS;
use anyhow::{Context, bail};
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

/// The load modes' connection target from the shared connection flags. Plain
/// `mqtt://` without `--unix`, `--proxy` or `-A` connects with a bare `TcpStream`;
/// anything else goes through the client layer's transport (see `raw.rs`).
pub fn target_from(conn: &ConnectArgs) -> anyhow::Result<Target> {
    let opts = conn.to_options()?;
    let prefix = if opts.client_id.is_empty() {
        format!("mq-bench-{:08x}-", template::run_id())
    } else {
        format!("{}-", opts.client_id)
    };
    let plain_tcp = opts.scheme == Scheme::Mqtt
        && opts.unix_socket.is_none()
        && opts.proxy.is_none()
        && opts.bind_address.is_none();
    Ok(Target {
        host: opts.host.clone(),
        port: opts.port,
        version: opts.version,
        username: opts.username.clone(),
        password: opts.password.clone(),
        keep_alive: opts.keep_alive,
        client_id_prefix: prefix,
        connect_timeout: opts.connect_timeout,
        transport: if plain_tcp { None } else { Some(opts) },
    })
}

fn qos_of(q: u8) -> QoS {
    QoS::from_u8(q).unwrap_or(QoS::AtMostOnce)
}

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

/// The load plan of `pub`, `sub` or `pubsub` from the flags.
pub fn plan_from(mode: &Mode) -> anyhow::Result<LoadPlan> {
    let plan = match mode {
        Mode::Pub(a) => {
            let (interval, target_rate) = interval_of(&a.publish)?;
            LoadPlan {
                mode: "pub",
                target: target_from(&a.conn)?,
                publishers: a.publish.clients,
                subscribers: 0,
                topic: a.publish.topic.clone(),
                sub_filter: String::new(),
                qos: qos_of(a.publish.qos),
                retain: a.publish.retain,
                size: a.publish.size,
                interval,
                target_rate,
                inflight: a.publish.inflight,
                limit: a.stop.limit,
                duration: a.stop.duration,
                conn_rate: a.publish.conn_rate,
                drain: Duration::from_secs(5),
                quiet: a.output.quiet,
                ready: None,
            }
        }
        Mode::Sub(a) => LoadPlan {
            mode: "sub",
            target: target_from(&a.conn)?,
            publishers: 0,
            subscribers: a.clients,
            topic: "bench".into(),
            sub_filter: a.topic.clone(),
            qos: qos_of(a.qos),
            retain: false,
            size: 0,
            interval: None,
            target_rate: None,
            inflight: 1,
            limit: a.stop.limit,
            duration: a.stop.duration,
            conn_rate: a.conn_rate,
            drain: Duration::ZERO,
            quiet: a.output.quiet,
            ready: None,
        },
        Mode::Pubsub(a) => {
            let (interval, target_rate) = interval_of(&a.publish)?;
            LoadPlan {
                mode: "pubsub",
                target: target_from(&a.conn)?,
                publishers: a.publish.clients,
                subscribers: a.subscribers,
                topic: a.publish.topic.clone(),
                sub_filter: a
                    .sub_topic
                    .clone()
                    .unwrap_or_else(|| TopicTemplate::matching_filter(&a.publish.topic)),
                qos: qos_of(a.publish.qos),
                retain: a.publish.retain,
                size: a.publish.size,
                interval,
                target_rate,
                inflight: a.publish.inflight,
                limit: a.stop.limit,
                duration: a.stop.duration,
                conn_rate: a.publish.conn_rate,
                drain: a.drain,
                quiet: a.output.quiet,
                ready: None,
            }
        }
        Mode::Conn(_) | Mode::Check(_) => bail!("not a load mode"),
    };
    Ok(plan)
}

fn finish(summary: &Summary, samples: &[Sample], output: &OutputArgs) -> anyhow::Result<i32> {
    if let Some(path) = &output.csv {
        write_csv(path, samples).with_context(|| format!("cannot write {}", path.display()))?;
    }
    summary.print(output.json);
    Ok(if summary.stopped_by == "failed" { 1 } else { 0 })
}

/// Run a benchmark; returns the process exit code.
pub async fn run(args: BenchArgs) -> anyhow::Result<i32> {
    match &args.mode {
        Mode::Pub(PubArgs { output, .. })
        | Mode::Sub(SubArgs { output, .. })
        | Mode::Pubsub(PubSubArgs { output, .. }) => {
            let plan = plan_from(&args.mode)?;
            let (summary, samples) = run_load(plan, crate::shutdown::signal())
                .await
                .map_err(anyhow::Error::msg)?;
            finish(&summary, &samples, output)
        }
        Mode::Conn(a) => {
            let plan = ConnPlan {
                target: target_from(&a.conn)?,
                clients: a.clients,
                conn_rate: a.conn_rate,
                hold: a.hold,
                quiet: a.output.quiet,
            };
            let (summary, samples) = run_conn(plan, crate::shutdown::signal()).await;
            finish(&summary, &samples, &a.output)
        }
        Mode::Check(a) => {
            let plan = CheckPlan {
                options: a.conn.to_options()?,
                versions_given: a.conn.protocol_version.is_some(),
                count: a.count,
                timeout: a.timeout,
                max_payload: a.max_payload,
            };
            let report = run_check(plan).await;
            if a.json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_text());
            }
            Ok(if report.ok() { 0 } else { 1 })
        }
    }
}
