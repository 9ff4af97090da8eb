//! The live display of a bench run on stderr, and the per-second samples it takes.
//!
//! On a terminal it is a progress bar toward `--limit` or `--duration` (a spinner when
//! the run has neither) with the elapsed time, the ETA and the current rates, laid out
//! to fit in 80 columns. When stderr is not a terminal it prints one plain line per
//! second instead, which scripts and tests read.

use super::report::{Live, Sample};
use super::stats::fmt_us;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Which counter `--limit` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    /// PUBLISH packets written (`pub`, `pubsub`).
    Sent,
    /// Bench messages received (`sub`).
    Received,
}

/// What the bar moves toward, and what the display shows.
#[derive(Clone, Copy, Debug)]
pub struct Goal {
    /// `--limit` and the counter it applies to.
    pub limit: Option<(u64, Counted)>,
    /// `--duration`.
    pub duration: Option<Duration>,
    /// Show the acknowledged count: not at QoS 0, where nothing is acknowledged and
    /// the figure would only repeat `sent`.
    pub show_acked: bool,
}

impl Default for Goal {
    fn default() -> Self {
        Goal {
            limit: None,
            duration: None,
            show_acked: true,
        }
    }
}

/// How often the bar moves between two samples.
const BAR_REFRESH: Duration = Duration::from_millis(250);

/// Print progress until `done` turns true; returns the per-second samples.
pub async fn progress(
    live: Arc<Live>,
    start: Instant,
    quiet: bool,
    goal: Goal,
    mut done: watch::Receiver<bool>,
) -> Vec<Sample> {
    let bar = (std::io::stderr().is_terminal() && !quiet)
        .then(|| progress_bar(&goal, ProgressDrawTarget::stderr()));
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::from_std(start) + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut refresh = tokio::time::interval(BAR_REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = (0u64, 0u64, 0u64, start);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = refresh.tick(), if bar.is_some() => {
                if let Some(pb) = &bar {
                    pb.set_position(position(&live, start, &goal));
                }
                continue;
            }
            _ = done.changed() => break,
        }
        if *done.borrow() {
            break;
        }
        let s = sample(&live, start, &mut last);
        match &bar {
            Some(pb) => {
                pb.set_position(position(&live, start, &goal));
                pb.set_message(bar_message(&s, goal.show_acked));
            }
            None if !quiet => eprintln!("{}", progress_line(&s, goal.show_acked)),
            None => {}
        }
        samples.push(s);
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    samples
}

/// Read the counters into one sample; `last` holds the previous totals and time.
fn sample(live: &Live, start: Instant, last: &mut (u64, u64, u64, Instant)) -> Sample {
    let now = Instant::now();
    let (sent, acked, received) = (
        live.sent.load(Ordering::Relaxed),
        live.acked.load(Ordering::Relaxed),
        live.received.load(Ordering::Relaxed),
    );
    let dt = now.duration_since(last.3).as_secs_f64().max(1e-9);
    let (p50, p99, max) = match live.interval_latency.lock() {
        Ok(mut l) => {
            let v = (
                l.percentile_us(50.0),
                l.percentile_us(99.0),
                l.percentile_us(100.0),
            );
            l.clear();
            v
        }
        Err(_) => (0, 0, 0),
    };
    let s = Sample {
        elapsed_s: now.duration_since(start).as_secs_f64(),
        connected: live.connected.load(Ordering::Relaxed),
        sent,
        acked,
        received,
        errors: live.errors.load(Ordering::Relaxed),
        sent_per_s: (sent - last.0.min(sent)) as f64 / dt,
        acked_per_s: (acked - last.1.min(acked)) as f64 / dt,
        received_per_s: (received - last.2.min(received)) as f64 / dt,
        latency_p50_us: p50,
        latency_p99_us: p99,
        latency_max_us: max,
    };
    *last = (sent, acked, received, now);
    s
}

/// The bar: its length is the limit (messages) or the duration (milliseconds).
fn progress_bar(goal: &Goal, target: ProgressDrawTarget) -> ProgressBar {
    // Invariant: the templates are constants that indicatif parses (checked by a test).
    let (pb, template) = match (goal.limit, goal.duration) {
        (Some((n, _)), _) => (
            ProgressBar::new(n.max(1)),
            "{elapsed:>4} [{wide_bar}] {percent:>3}% ETA {eta:<4} {msg}",
        ),
        (None, Some(d)) => (
            ProgressBar::new((d.as_millis() as u64).max(1)),
            "{elapsed:>4} [{wide_bar}] {percent:>3}% ETA {eta:<4} {msg}",
        ),
        (None, None) => (ProgressBar::new_spinner(), "{spinner} {elapsed:>4} {msg}"),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_draw_target(target);
    pb.enable_steady_tick(BAR_REFRESH);
    pb
}

/// Where the bar stands: messages toward the limit, or milliseconds toward the
/// duration.
fn position(live: &Live, start: Instant, goal: &Goal) -> u64 {
    match (goal.limit, goal.duration) {
        (Some((_, Counted::Sent)), _) => live.sent.load(Ordering::Relaxed),
        (Some((_, Counted::Received)), _) => live.received.load(Ordering::Relaxed),
        (None, Some(_)) => start.elapsed().as_millis() as u64,
        (None, None) => 0,
    }
}

/// A rate for the bar, in at most 6 characters: `950`, `401.2k`, `1.20M`.
fn short_rate(r: f64) -> String {
    if r < 1_000.0 {
        format!("{r:.0}")
    } else if r < 1_000_000.0 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{:.2}M", r / 1e6)
    }
}

/// The rates beside the bar (what the plain line says, in fewer columns).
fn bar_message(s: &Sample, show_acked: bool) -> String {
    let mut parts = vec![format!("sent {}/s", short_rate(s.sent_per_s))];
    if show_acked {
        parts.push(format!("ack {}/s", short_rate(s.acked_per_s)));
    }
    parts.push(format!("recv {}/s", short_rate(s.received_per_s)));
    if s.errors > 0 {
        parts.push(format!("err {}", s.errors));
    }
    parts.join(" ")
}

/// The plain line printed once a second when stderr is not a terminal.
fn progress_line(s: &Sample, show_acked: bool) -> String {
    let mut line = format!(
        "{:>6.1}s connected={} sent={} ({:.0}/s)",
        s.elapsed_s, s.connected, s.sent, s.sent_per_s
    );
    if show_acked {
        line.push_str(&format!(" acked={} ({:.0}/s)", s.acked, s.acked_per_s));
    }
    line.push_str(&format!(
        " received={} ({:.0}/s) errors={}",
        s.received, s.received_per_s, s.errors
    ));
    if s.latency_max_us > 0 {
        line.push_str(&format!(
            " latency p50={} p99={}",
            fmt_us(s.latency_p50_us),
            fmt_us(s.latency_p99_us)
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An 80-column terminal that keeps what is written to it.
    #[derive(Debug, Default, Clone)]
    struct Term80(Arc<Mutex<String>>);

    impl indicatif::TermLike for Term80 {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if let Ok(mut o) = self.0.lock() {
                o.push_str(s);
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.write_str("\n")
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn busy_sample() -> Sample {
        Sample {
            elapsed_s: 3725.0,
            connected: 10_000,
            sent: 9_999_999_999,
            acked: 9_999_999_999,
            received: 9_999_999_999,
            errors: 123_456,
            sent_per_s: 9_876_543.0,
            acked_per_s: 9_876_543.0,
            received_per_s: 987_654.0,
            latency_p50_us: 1_200,
            latency_p99_us: 3_100,
            latency_max_us: 9_000,
        }
    }

    #[test]
    fn the_bar_fits_in_80_columns() {
        let goals = [
            Goal {
                limit: Some((1_000_000, Counted::Sent)),
                ..Goal::default()
            },
            Goal {
                duration: Some(Duration::from_secs(7200)),
                ..Goal::default()
            },
            Goal::default(),
        ];
        for goal in goals {
            let term = Term80::default();
            let pb = progress_bar(&goal, ProgressDrawTarget::term_like(Box::new(term.clone())));
            pb.disable_steady_tick();
            pb.set_position(400_000);
            pb.set_message(bar_message(&busy_sample(), true));
            pb.force_draw();
            let out = term.0.lock().map(|o| o.clone()).unwrap_or_default();
            let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
            for l in &lines {
                assert!(
                    l.chars().count() <= 80,
                    "{} columns: {l:?}",
                    l.chars().count()
                );
            }
            // The last drawing has the message.
            let last = lines.last().copied();
            assert!(last.is_some(), "{goal:?} drew nothing");
            if let Some(l) = last {
                assert!(
                    l.contains("sent 9.88M/s ack 9.88M/s recv 987.7k/s err 123456"),
                    "{l:?}"
                );
                assert!(
                    l.chars().count() <= 80,
                    "{} columns: {l:?}",
                    l.chars().count()
                );
                if goal.limit.is_some() || goal.duration.is_some() {
                    assert!(l.contains("ETA") && l.contains('%'), "{l:?}");
                }
            }
        }
    }

    #[test]
    fn qos_0_lines_leave_acked_out() {
        let s = busy_sample();
        assert!(progress_line(&s, true).contains(" acked=9999999999 (9876543/s) "));
        let line = progress_line(&s, false);
        assert!(!line.contains("acked"), "{line}");
        assert!(
            line.contains("sent=9999999999 (9876543/s) received="),
            "{line}"
        );
        assert!(!bar_message(&s, false).contains("ack"));
    }
}
