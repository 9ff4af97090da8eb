//! `mq carpark display`: a panel showing free spaces (FULL in red), the temperature and a
//! clock that ticks locally and re-syncs on `<prefix>/time`. On a terminal it redraws
//! one line in place; piped, it prints one plain line per update; `--once` prints the
//! current (retained) state and exits. With `--web` it also serves the display as a
//! web page ([`super::web`]).

use super::clock::{format_hms, parse_rfc3339};
use super::messages::{DisplayState, OFFLINE, TopicKind, Topics};
use super::web::{WebOptions, WebServer, WebSettings};
use super::{Shutdown, connect, subscribe};
use crate::client::{ConnectOptions, Event};
use crate::protocol::QoS;
use colored::{ColoredString, Colorize};
use std::io::Write;
use std::time::{Duration, SystemTime};

/// How the display writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One line redrawn in place, with colours (a terminal).
    Panel,
    /// One plain line per update (piped output, logs, the demo).
    Lines,
}

/// Everything `display::run` needs (`mq carpark display` lowers its flags into it).
#[derive(Debug, Clone)]
pub struct DisplayOptions {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// The car park's topics.
    pub topics: Topics,
    /// Name shown on the panel.
    pub name: String,
    /// Print the current state once and return.
    pub once: bool,
    /// With `once`: how long to wait for a state.
    pub timeout: Duration,
    /// Panel or lines.
    pub style: Style,
    /// Also serve the display as a web page (`--web`).
    pub web: Option<WebSettings>,
}

/// A clock that runs locally and is corrected by the controller's time messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncedClock {
    /// Controller time minus local time, in milliseconds.
    offset_ms: i64,
    synced: bool,
}

impl SyncedClock {
    /// The current time according to the last sync.
    pub fn now(&self) -> SystemTime {
        shift(SystemTime::now(), self.offset_ms)
    }

    /// Take the controller's time `theirs`, received at local time `local`.
    pub fn sync(&mut self, theirs: SystemTime, local: SystemTime) {
        self.offset_ms = millis_between(local, theirs);
        self.synced = true;
    }

    /// Whether a time message was received.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// Controller time minus local time, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }
}

/// `to - from` in milliseconds (negative when `to` is earlier).
fn millis_between(from: SystemTime, to: SystemTime) -> i64 {
    match to.duration_since(from) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

fn shift(t: SystemTime, ms: i64) -> SystemTime {
    let d = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        t.checked_add(d).unwrap_or(t)
    } else {
        t.checked_sub(d).unwrap_or(t)
    }
}

/// What a display knows.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// The controller's last state.
    pub state: Option<DisplayState>,
    /// The controller's status (`online` / `offline`), if known.
    pub status: Option<String>,
    /// The local clock.
    pub clock: SyncedClock,
}

/// The red FULL label.
pub fn full_label() -> ColoredString {
    "FULL".red().bold()
}

/// The panel as one line. `color` adds terminal colours (free count in green, FULL in
/// red). Examples: `Level 1 | 41 free of 120 | 18.5 °C | 21:27:09 UTC`,
/// `Level 1 | FULL (0 free of 120) | -- °C | 21:27:09 UTC | controller offline`.
pub fn render(name: &str, panel: &Panel, now: SystemTime, color: bool) -> String {
    let spaces = match &panel.state {
        None => "waiting for the controller".to_string(),
        Some(s) if s.full => {
            let label = if color {
                full_label().to_string()
            } else {
                "FULL".to_string()
            };
            format!("{label} (0 free of {})", s.capacity)
        }
        Some(s) => {
            let free = if color {
                s.free.to_string().green().bold().to_string()
            } else {
                s.free.to_string()
            };
            format!("{free} free of {}", s.capacity)
        }
    };
    let temperature = match panel.state.as_ref().and_then(|s| s.temperature) {
        Some(t) => format!("{t:.1} °C"),
        None => "-- °C".to_string(),
    };
    let mut line = format!(
        "{name} | {spaces} | {temperature} | {} UTC",
        format_hms(now)
    );
    if panel.status.as_deref() == Some(OFFLINE) {
        line.push_str(" | controller offline");
    }
    line
}

/// Apply one message to the panel; true if what is shown (other than the clock) changed.
pub fn apply(panel: &mut Panel, kind: &TopicKind, payload: &[u8], received: SystemTime) -> bool {
    match kind {
        TopicKind::Display => match DisplayState::parse(payload) {
            Ok(state) => {
                panel.state = Some(state);
                true
            }
            Err(e) => {
                tracing::warn!("ignoring display update: {e}");
                false
            }
        },
        TopicKind::Time => {
            match std::str::from_utf8(payload).ok().map(parse_rfc3339) {
                Some(Ok(t)) => panel.clock.sync(t, received),
                _ => tracing::warn!("ignoring unreadable time message"),
            }
            false
        }
        TopicKind::Status => {
            let status = String::from_utf8_lossy(payload).trim().to_string();
            let changed = panel.status.as_deref() != Some(status.as_str());
            panel.status = Some(status);
            changed
        }
        _ => false,
    }
}

/// Redraws one line in place on a terminal: carriage return, the line, and spaces over
/// whatever was longer before.
#[derive(Debug, Default)]
pub struct InPlace {
    last_width: usize,
}

impl InPlace {
    /// The bytes that replace the previous line with `line`.
    pub fn frame(&mut self, line: &str) -> String {
        let width = visible_width(line);
        let pad = self.last_width.saturating_sub(width);
        self.last_width = width;
        format!("\r{line}{}", " ".repeat(pad))
    }
}

/// Characters shown on screen, not counting ANSI colour sequences.
pub fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the CSI sequence (a letter).
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            width += 1;
        }
    }
    width
}

/// Run a display until `shutdown` (or, with `once`, until the state is printed).
/// Returns the exit code: 0, or 1 when `once` got no state in time.
pub async fn run(config: DisplayOptions, mut shutdown: Shutdown) -> anyhow::Result<i32> {
    let (client, mut events) = connect(config.connect.clone(), None).await?;
    // Stopped by `shutdown`, or dropped (and so stopped) when the display ends.
    let _web = match config.web.clone() {
        Some(web) => {
            let options = WebOptions {
                listen: web.listen,
                broker: config.connect.clone(),
                ws_url: web.ws_url,
                topics: config.topics.clone(),
                name: config.name.clone(),
            };
            let server = WebServer::start(options, shutdown.clone()).await?;
            println!("Web display: {}", server.url());
            Some(server)
        }
        None => None,
    };
    let topics = &config.topics;
    // The status first: brokers send retained messages in the order of the filters,
    // so `--once` already knows whether the controller is offline when the display
    // state arrives.
    subscribe(
        &client,
        &[topics.status(), topics.time(), topics.display()],
        QoS::AtLeastOnce,
    )
    .await?;
    #[cfg(windows)]
    if config.style == Style::Panel {
        let _ = colored::control::set_virtual_terminal(true);
    }
    let mut panel = Panel::default();
    let mut in_place = InPlace::default();
    let mut last_shown: Option<String> = None;
    let mut stdout = std::io::stdout();
    let deadline = tokio::time::Instant::now() + config.timeout;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let code = loop {
        tokio::select! {
            _ = shutdown.wait() => break 0,
            _ = tokio::time::sleep_until(deadline), if config.once => {
                eprintln!(
                    "mq: no controller state on {} within {} s",
                    topics.display(),
                    config.timeout.as_secs_f64()
                );
                break 1;
            }
            _ = tick.tick(), if config.style == Style::Panel => {
                let line = render(&config.name, &panel, panel.clock.now(), true);
                let _ = write!(stdout, "{}", in_place.frame(&line));
                let _ = stdout.flush();
            }
            event = events.recv() => match event {
                Some(Event::Message(p)) => {
                    let Some(kind) = topics.classify(&p.topic) else { continue };
                    let changed = apply(&mut panel, &kind, &p.payload, SystemTime::now());
                    if config.once {
                        if panel.state.is_some() {
                            println!("{}", render(&config.name, &panel, panel.clock.now(), false));
                            break 0;
                        }
                        continue;
                    }
                    match config.style {
                        Style::Lines if changed => {
                            // One line per visible change: the clock alone is no change.
                            let shown = render(&config.name, &panel, std::time::UNIX_EPOCH, false);
                            if last_shown.as_deref() != Some(shown.as_str()) {
                                println!("{}", render(&config.name, &panel, panel.clock.now(), false));
                                last_shown = Some(shown);
                            }
                        }
                        Style::Lines => {}
                        Style::Panel => {
                            let line = render(&config.name, &panel, panel.clock.now(), true);
                            let _ = write!(stdout, "{}", in_place.frame(&line));
                            let _ = stdout.flush();
                        }
                    }
                }
                Some(Event::Disconnected(e)) if config.connect.reconnect.is_some() => {
                    if config.style == Style::Panel {
                        println!();
                    }
                    println!("{} connection lost ({e}); reconnecting", super::stamp());
                }
                Some(Event::Disconnected(e)) => return Err(e.into()),
                Some(_) => {}
                None => break 0,
            },
        }
    };
    if config.style == Style::Panel && !config.once {
        println!();
    }
    let _ = client.disconnect().await;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn state(capacity: u32, occupied: u32, temperature: Option<f64>) -> DisplayState {
        DisplayState {
            capacity,
            occupied,
            free: capacity - occupied,
            full: occupied == capacity,
            temperature,
            updated: "2026-11-24T21:27:09.000+00:00".into(),
            last_seq: Default::default(),
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn plain_lines() {
        let now = at(1_700_000_000);
        let mut panel = Panel::default();
        assert_eq!(
            render("Level 1", &panel, now, false),
            "Level 1 | waiting for the controller | -- °C | 22:13:20 UTC"
        );
        panel.state = Some(state(120, 79, Some(18.5)));
        assert_eq!(
            render("Level 1", &panel, now, false),
            "Level 1 | 41 free of 120 | 18.5 °C | 22:13:20 UTC"
        );
        panel.state = Some(state(120, 120, None));
        panel.status = Some(OFFLINE.into());
        assert_eq!(
            render("Level 1", &panel, now, false),
            "Level 1 | FULL (0 free of 120) | -- °C | 22:13:20 UTC | controller offline"
        );
    }

    #[test]
    fn full_is_red() {
        assert_eq!(full_label().fgcolor, Some(colored::Color::Red));
        colored::control::set_override(true);
        let panel = Panel {
            state: Some(state(5, 5, Some(-2.0))),
            ..Panel::default()
        };
        let line = render("P", &panel, at(0), true);
        assert!(line.contains("\u{1b}["), "{line:?}");
        assert!(line.contains("FULL"));
        assert_eq!(
            visible_width(&line),
            "P | FULL (0 free of 5) | -2.0 °C | 00:00:00 UTC"
                .chars()
                .count()
        );
    }

    #[test]
    fn redraws_in_place() {
        let mut r = InPlace::default();
        assert_eq!(r.frame("abcdef"), "\rabcdef");
        assert_eq!(r.frame("abc"), "\rabc   ");
        assert_eq!(r.frame("\u{1b}[31mab\u{1b}[0m"), "\r\u{1b}[31mab\u{1b}[0m ");
    }

    #[test]
    fn applies_messages() {
        let topics = Topics::new("carpark").unwrap();
        let mut panel = Panel::default();
        let display = topics.classify("carpark/display").unwrap();
        assert!(apply(
            &mut panel,
            &display,
            &state(10, 3, None).to_json(),
            at(0)
        ));
        assert_eq!(panel.state.as_ref().map(|s| s.free), Some(7));
        assert!(!apply(&mut panel, &display, b"garbage", at(0)));
        assert_eq!(panel.state.as_ref().map(|s| s.free), Some(7));
        let status = topics.classify("carpark/controller/status").unwrap();
        assert!(apply(&mut panel, &status, b"offline", at(0)));
        assert!(!apply(&mut panel, &status, b"offline", at(0)));
    }

    #[test]
    fn clock_resyncs_on_time_messages() {
        let topics = Topics::new("carpark").unwrap();
        let time = topics.classify("carpark/time").unwrap();
        let mut panel = Panel::default();
        assert!(!panel.clock.is_synced());
        // The controller is 90 s ahead of this machine.
        let local = at(1_000_000);
        assert!(!apply(
            &mut panel,
            &time,
            b"1970-01-12T13:48:10.000+00:00",
            local
        ));
        assert!(panel.clock.is_synced());
        assert_eq!(panel.clock.offset_ms(), 90_000);
        let ahead = panel.clock.now().duration_since(SystemTime::now()).unwrap();
        assert!(ahead > Duration::from_secs(89) && ahead <= Duration::from_secs(90));
        apply(&mut panel, &time, b"not a time", local);
        assert_eq!(panel.clock.offset_ms(), 90_000);
    }
}
