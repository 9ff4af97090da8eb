//! Bench results as a picture: one SVG with the end-to-end latency distribution
//! (logarithmic latency axis, p50/p90/p99/p99.9/max marked) above the per-second send
//! and receive rates, for one run (`mq bench … --plot FILE.svg`) or several saved
//! `--json` summaries side by side (`mq bench plot A.json B.json -o FILE.svg`).
//!
//! Drawn with `plotters`' SVG backend and no font library: text is written as SVG
//! `<text>` elements that the viewer lays out with its own fonts, so nothing on the
//! system is read while drawing.

use super::report::{SCHEMA, Sample, Summary};
use super::stats::{LatencyBucket, LatencySummary, fmt_us};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Most runs one figure compares (one colour each).
pub const MAX_RUNS: usize = 8;

/// One colour per run, distinguishable on white.
const PALETTE: [RGBColor; MAX_RUNS] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

const WIDTH: u32 = 1000;
const PANEL_HEIGHT: u32 = 380;
const FONT: &str = "sans-serif";

/// What a plot shows of one run: the fields of the `--json` summary it reads (older
/// summaries without the series or the histogram are drawn with what they have).
#[derive(Clone, Debug, Deserialize)]
pub struct PlotRun {
    /// Legend name: `--label`, else the file name (or the mode for a live run).
    #[serde(skip)]
    pub name: String,
    /// `mq-bench/1`.
    pub schema: String,
    /// `pub`, `sub`, `pubsub` or `conn`.
    pub mode: String,
    /// The broker URL.
    pub broker: String,
    /// MQTT protocol version.
    pub protocol: String,
    /// QoS (null for `conn`).
    pub qos: Option<u8>,
    /// Payload size.
    pub payload_bytes: Option<usize>,
    /// Publishing connections.
    pub publishers: u64,
    /// Subscribing connections.
    pub subscribers: u64,
    /// Target total rate.
    pub target_rate_per_s: Option<f64>,
    /// Length of the run.
    pub duration_s: f64,
    /// `--label`.
    #[serde(default)]
    pub label: Option<String>,
    /// Latency percentiles.
    #[serde(default)]
    pub latency_us: Option<LatencySummary>,
    /// Latency distribution.
    #[serde(default)]
    pub latency_histogram_us: Option<Vec<LatencyBucket>>,
    /// Per-second rates.
    #[serde(default)]
    pub series: Vec<Sample>,
}

/// Why a plot could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A summary file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A summary file is not JSON of the expected shape.
    #[error("{} is not an `mq bench --json` summary", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A summary of a schema this version does not know.
    #[error("{}: schema {found:?}, expected {SCHEMA:?}", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// Its schema field.
        found: String,
    },
    /// More runs than colours.
    #[error("at most {MAX_RUNS} runs fit in one plot, {0} given")]
    TooMany(usize),
    /// No run to draw.
    #[error("no run to plot")]
    Empty,
    /// The drawing library failed.
    #[error("cannot draw the plot")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The SVG file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
}

fn draw_err<E: std::error::Error + Send + Sync + 'static>(e: E) -> PlotError {
    PlotError::Draw(Box::new(e))
}

impl PlotRun {
    /// The run a summary describes (for `--plot`).
    pub fn from_summary(s: &Summary) -> PlotRun {
        PlotRun {
            name: s
                .label
                .clone()
                .unwrap_or_else(|| format!("mq bench {}", s.mode)),
            schema: s.schema.to_string(),
            mode: s.mode.to_string(),
            broker: s.broker.clone(),
            protocol: s.protocol.to_string(),
            qos: s.qos,
            payload_bytes: s.payload_bytes,
            publishers: s.publishers,
            subscribers: s.subscribers,
            target_rate_per_s: s.target_rate_per_s,
            duration_s: s.duration_s,
            label: s.label.clone(),
            latency_us: s.latency_us,
            latency_histogram_us: s.latency_histogram_us.clone(),
            series: s.series.clone(),
        }
    }

    /// Read a saved `--json` summary; its name is its label, else the file name.
    pub fn load(path: &Path) -> Result<PlotRun, PlotError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlotError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let json_err = |source| PlotError::Json {
            path: path.to_path_buf(),
            source,
        };
        let value: serde_json::Value = serde_json::from_str(text.trim()).map_err(json_err)?;
        // The schema first: another tool's JSON is named as such, not as a missing field.
        if let Some(found) = value.get("schema").and_then(|s| s.as_str())
            && found != SCHEMA
        {
            return Err(PlotError::Schema {
                path: path.to_path_buf(),
                found: found.to_string(),
            });
        }
        let mut run: PlotRun = serde_json::from_value(value).map_err(json_err)?;
        run.name = match &run.label {
            Some(l) if !l.is_empty() => l.clone(),
            _ => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
        };
        Ok(run)
    }

    /// What ran against what, in one line.
    fn description(&self) -> String {
        let mut parts = vec![format!("MQTT {}", self.protocol)];
        if let Some(q) = self.qos {
            parts.push(format!("QoS {q}"));
        }
        if self.publishers > 0 {
            parts.push(format!("{} publisher(s)", self.publishers));
        }
        if self.subscribers > 0 {
            parts.push(format!("{} subscriber(s)", self.subscribers));
        }
        if let Some(b) = self.payload_bytes {
            parts.push(format!("{b} B payload"));
        }
        if self.mode != "conn" {
            parts.push(match self.target_rate_per_s {
                Some(r) => format!("target {r:.0} msg/s"),
                None => "as fast as possible".to_string(),
            });
        }
        parts.push(format!("{:.1} s", self.duration_s));
        format!(
            "mq bench {} against {}: {}",
            self.mode,
            self.broker,
            parts.join(", ")
        )
    }
}

/// Draw the runs into an SVG document. `title` replaces the default title.
pub fn render(runs: &[PlotRun], title: Option<&str>) -> Result<String, PlotError> {
    if runs.is_empty() {
        return Err(PlotError::Empty);
    }
    if runs.len() > MAX_RUNS {
        return Err(PlotError::TooMany(runs.len()));
    }
    // One line per run under the title says what it was.
    let header = 48 + 20 * runs.len() as u32;
    let height = header + 2 * PANEL_HEIGHT;
    let default_title = match runs {
        [one] => match &one.label {
            Some(l) => format!("{l}: mq bench {}", one.mode),
            None => format!("mq bench {}", one.mode),
        },
        _ => {
            let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
            format!("mq bench: {}", names.join(" vs "))
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (head, body) = root.split_vertically(header);
        head.draw(&Text::new(
            title.unwrap_or(&default_title).to_string(),
            (20, 12),
            (FONT, 24).into_font(),
        ))
        .map_err(draw_err)?;
        // The header is the legend of the runs: a swatch of each run's colour, its name
        // and what it ran.
        for (i, run) in runs.iter().enumerate() {
            let y = 46 + 20 * i as i32;
            let line = match runs {
                [_] => run.description(),
                _ => format!("{}: {}", run.name, run.description()),
            };
            head.draw(&Rectangle::new(
                [(20, y + 2), (34, y + 12)],
                PALETTE[i].filled(),
            ))
            .map_err(draw_err)?;
            let style = (FONT, 14).into_font().color(&PALETTE[i]);
            head.draw(&Text::new(line, (42, y), style))
                .map_err(draw_err)?;
        }
        let (top, bottom) = body.split_vertically(PANEL_HEIGHT);
        draw_latency(&top, runs)?;
        draw_rates(&bottom, runs)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Draw the runs and write the SVG file.
pub fn write_plot(path: &Path, runs: &[PlotRun], title: Option<&str>) -> Result<(), PlotError> {
    let svg = render(runs, title)?;
    std::fs::write(path, svg).map_err(|source| PlotError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// A note in the middle of a panel that has nothing to draw.
fn draw_nothing(
    area: &DrawingArea<SVGBackend, Shift>,
    caption: &str,
    why: &str,
) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        caption.to_string(),
        (20, 10),
        (FONT, 18).into_font(),
    ))
    .map_err(draw_err)?;
    area.draw(&Text::new(
        why.to_string(),
        (w as i32 / 4, h as i32 / 2),
        (FONT, 16).into_font().color(&BLACK.mix(0.6)),
    ))
    .map_err(draw_err)?;
    Ok(())
}

/// Each bucket's share of the run's messages, in percent.
fn shares(buckets: &[LatencyBucket]) -> Vec<(f64, f64, f64)> {
    let total: u64 = buckets.iter().map(|b| b.count).sum();
    let total = total.max(1) as f64;
    buckets
        .iter()
        .map(|b| (b.from_us, b.to_us, b.count as f64 * 100.0 / total))
        .collect()
}

/// The upper panel: the latency distributions, percentiles marked.
fn draw_latency(area: &DrawingArea<SVGBackend, Shift>, runs: &[PlotRun]) -> Result<(), PlotError> {
    const CAPTION: &str = "End-to-end latency distribution";
    let with_latency: Vec<(usize, &PlotRun, LatencySummary)> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.latency_us.map(|l| (i, r, l)))
        .collect();
    if with_latency.is_empty() {
        return draw_nothing(
            area,
            CAPTION,
            "no latency measured (no subscriber received a message)",
        );
    }
    let mut lo = f64::MAX;
    let mut hi = 1.0f64;
    let mut top = 1.0f64;
    for (_, r, l) in &with_latency {
        lo = lo.min(l.min.max(1) as f64);
        hi = hi.max(l.max as f64);
        for (from, to, pct) in shares(r.latency_histogram_us.as_deref().unwrap_or(&[])) {
            lo = lo.min(from);
            hi = hi.max(to);
            top = top.max(pct);
        }
    }
    let lo = (lo / 1.5).max(1.0);
    // Room right of the largest value for its label.
    let hi = (hi * 4.0).max(lo * 10.0);
    // Room above the tallest bar for the percentile labels of every run.
    let label_rows = 0.25 * with_latency.len() as f64;
    let ymax = top / (0.92 - label_rows).max(0.3);
    let mut chart = ChartBuilder::on(area)
        .caption(CAPTION, (FONT, 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((lo..hi).log_scale(), 0f64..ymax)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc("latency (log scale)")
        .y_desc("messages (%)")
        .x_label_formatter(&|v| fmt_us(v.round() as u64))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(draw_err)?;
    for (k, (i, run, l)) in with_latency.iter().enumerate() {
        let color = PALETTE[*i];
        let mut outline = Vec::new();
        for (from, to, pct) in shares(run.latency_histogram_us.as_deref().unwrap_or(&[])) {
            outline.extend([(from, 0.0), (from, pct), (to, pct), (to, 0.0)]);
        }
        chart
            .draw_series(
                AreaSeries::new(outline, 0.0, color.mix(0.2)).border_style(color.stroke_width(2)),
            )
            .map_err(draw_err)?;
        let marks = [
            ("p50", l.p50),
            ("p90", l.p90),
            ("p99", l.p99),
            ("p99.9", l.p999),
            ("max", l.max),
        ];
        for (j, (name, us)) in marks.iter().enumerate() {
            let x = (*us).max(1) as f64;
            // Labels climb down by percentile and by run so that close ones stay apart.
            let y = ymax * (0.97 - 0.05 * (j + 5 * k) as f64).max(0.05);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x, 0.0), (x, y)],
                    4,
                    3,
                    color.stroke_width(1),
                ))
                .map_err(draw_err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{name} {}", fmt_us(*us)),
                    (x, y),
                    (FONT, 12).into_font().color(&color),
                )))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

/// A rate for an axis: `950`, `40k`, `1.2M`.
fn axis_rate(r: f64) -> String {
    if r < 1_000.0 {
        format!("{r:.0}")
    } else if r < 1_000_000.0 {
        format!("{:.0}k", r / 1e3)
    } else {
        format!("{:.1}M", r / 1e6)
    }
}

/// The lower panel: send (solid) and receive (dashed) rates per second.
fn draw_rates(area: &DrawingArea<SVGBackend, Shift>, runs: &[PlotRun]) -> Result<(), PlotError> {
    const CAPTION: &str = "Messages per second";
    if runs.iter().all(|r| r.series.is_empty()) {
        return draw_nothing(
            area,
            CAPTION,
            "no per-second samples (the run was shorter than a second)",
        );
    }
    let samples = || runs.iter().flat_map(|r| r.series.iter());
    let xmax = samples().map(|s| s.elapsed_s).fold(1.0, f64::max).ceil();
    let ymax = samples()
        .map(|s| s.sent_per_s.max(s.received_per_s))
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(CAPTION, (FONT, 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..xmax, 0f64..ymax)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("rate (msg/s)")
        .y_label_formatter(&|v| axis_rate(*v))
        .draw()
        .map_err(draw_err)?;
    for (i, run) in runs.iter().enumerate() {
        let color = PALETTE[i];
        // One run: sent and received in two colours; several: one colour per run.
        let received_color = if runs.len() == 1 { PALETTE[2] } else { color };
        let name = |what: &str| match runs {
            [_] => what.to_string(),
            _ => format!("{} {what}", run.name),
        };
        if run.publishers > 0 {
            let points: Vec<(f64, f64)> = run
                .series
                .iter()
                .map(|s| (s.elapsed_s, s.sent_per_s))
                .collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(draw_err)?
                .label(name("sent"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        if run.subscribers > 0 {
            let points: Vec<(f64, f64)> = run
                .series
                .iter()
                .map(|s| (s.elapsed_s, s.received_per_s))
                .collect();
            chart
                .draw_series(DashedLineSeries::new(
                    points,
                    8,
                    4,
                    received_color.stroke_width(2),
                ))
                .map_err(draw_err)?
                .label(name("received"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 6, y)], received_color.stroke_width(2))
                });
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 13))
        .draw()
        .map_err(draw_err)?;
    Ok(())
}
