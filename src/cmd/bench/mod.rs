//! `mq bench`: an MQTT load generator and latency meter, and a broker capability check.
//!
//! Modes: `pub` (publishers), `sub` (subscribers that count and time what arrives),
//! `pubsub` (both in one process: one clock, so latency is exact), `conn` (connection
//! storm) and `check` (a capability report of a broker, after HiveMQ's `mqtt test`).
//! The flags are defined in `cmd::bench_args`, which lowers them once into a
//! [`BenchPlan`]; nothing here knows the command line.
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
//! label             "<--label>" | null
//! latency_histogram_us [ { from_us, to_us, count }, ... ] | null  (10 buckets a decade)
//! series            [ SAMPLE, ... ]   one per second, the fields of a --csv row
//! LATENCY           { count, min, mean, p50, p90, p99, p999, max }  (microseconds)
//! ```
//!
//! `check --json` prints one object with schema `mq-bench-check/1`, described in
//! `check.rs` and docs/bench.md.
//!
//! `--plot FILE` draws the run into an SVG (`plot.rs`); `mq bench plot` draws saved
//! summaries side by side.
//!
//! `--csv FILE` writes one row per second: `elapsed_s, connected, sent, acked,
//! received, errors, sent_per_s, acked_per_s, received_per_s, latency_p50_us,
//! latency_p99_us, latency_max_us` (totals so far, rates and latency over that second).

mod check;
mod check_report;
mod conn;
mod load;
pub mod payload;
mod plot;
mod progress;
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
pub use plot::{MAX_RUNS, PlotError, PlotRun, render, write_plot};
pub use raw::{ConnError, RawConn, Target};
pub use report::{SCHEMA, Sample, Summary, write_csv};
pub use template::{Clock, PublishTemplate, TopicTemplate};

use std::path::PathBuf;

/// What `mq bench` runs, and where its results go (`mq bench` lowers its flags into it).
#[derive(Debug, Clone)]
pub enum BenchPlan {
    /// `pub`, `sub` or `pubsub`.
    Load {
        /// The load run.
        plan: LoadPlan,
        /// Where the summary and the series go.
        output: OutputOptions,
    },
    /// `conn`: a connection storm.
    Conn {
        /// The storm.
        plan: ConnPlan,
        /// Where the summary and the series go.
        output: OutputOptions,
    },
    /// `plot`: draw saved `--json` summaries side by side into one SVG.
    Plot {
        /// The summaries, in legend order.
        inputs: Vec<PathBuf>,
        /// The SVG file to write.
        output: PathBuf,
        /// Replaces the default title.
        title: Option<String>,
    },
    /// `check`: a capability report.
    Check {
        /// The checks.
        plan: CheckPlan,
        /// Print the report as one JSON object (schema `mq-bench-check/1`).
        json: bool,
    },
}

/// Where the results of a load or connection run go.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    /// Print the summary as one JSON object (schema `mq-bench/1`) instead of text.
    pub json: bool,
    /// Also write the per-second series to this file as CSV.
    pub csv: Option<PathBuf>,
    /// Also draw the run (latency distribution and rates) into this SVG file.
    pub plot: Option<PathBuf>,
    /// What ran, in the user's words (the broker's name, a version): shown in the
    /// summary, the plot's title and the JSON `label`.
    pub label: Option<String>,
}

/// Why a benchmark could not run to its summary.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The load run could not start (the reason as the load run words it).
    #[error("{0}")]
    Load(String),
    /// The per-second series could not be written.
    #[error("cannot write {}", path.display())]
    Csv {
        /// The `--csv` file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The plot could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

/// Write the series if asked, print the summary; exit code 1 if the run failed.
fn finish(mut summary: Summary, samples: &[Sample], output: &OutputOptions) -> Result<i32, Error> {
    summary.label = output.label.clone();
    if let Some(path) = &output.csv {
        write_csv(path, samples).map_err(|source| Error::Csv {
            path: path.clone(),
            source,
        })?;
    }
    summary.print(output.json);
    // After the summary, so that a plot that cannot be written loses no figure.
    if let Some(path) = &output.plot {
        write_plot(path, &[PlotRun::from_summary(&summary)], None)?;
    }
    Ok(if summary.stopped_by == "failed" { 1 } else { 0 })
}

/// Run a benchmark until it is done or Ctrl-C; returns the process exit code.
pub async fn run(plan: BenchPlan) -> Result<i32, Error> {
    match plan {
        BenchPlan::Load { plan, output } => {
            let (summary, samples) = run_load(plan, crate::shutdown::signal())
                .await
                .map_err(Error::Load)?;
            finish(summary, &samples, &output)
        }
        BenchPlan::Conn { plan, output } => {
            let (summary, samples) = run_conn(plan, crate::shutdown::signal()).await;
            finish(summary, &samples, &output)
        }
        BenchPlan::Plot {
            inputs,
            output,
            title,
        } => {
            let runs = inputs
                .iter()
                .map(|p| PlotRun::load(p))
                .collect::<Result<Vec<_>, _>>()?;
            write_plot(&output, &runs, title.as_deref())?;
            Ok(0)
        }
        BenchPlan::Check { plan, json } => {
            let report = run_check(plan).await;
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_text());
            }
            Ok(if report.ok() { 0 } else { 1 })
        }
    }
}
