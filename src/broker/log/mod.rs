//! mosquitto-style log lines: `<unix-seconds>: <message>` in mosquitto's own words
//! (or a `log_timestamp_format` time, or one JSON object a line with `log_format
//! json`), filtered by `log_type`, written to every `log_dest` (stderr, stdout,
//! files, syslog) and also emitted as `tracing` events for programs that embed the
//! broker. A reload puts new settings in force for every part of the broker at
//! once ([`Logger::reconfigure`]).
//!
//! Each line has mosquitto 2.0's words, arguments and log type (the takeover line,
//! for one, is an error), so `mosquitto -v` users see what they know;
//! `tests/interop/logs.rs` compares both brokers' logs line for line. On purpose,
//! mq names itself (`mq version ...`), says `malformed packet` where the
//! specification does (mosquitto sometimes says `protocol error`), and replaces
//! mosquitto's `Bad socket read/write on client X: ...` for a refused QoS or retain
//! flag by its own `disconnected due to QoS too high or retain not supported`, and
//! names `Receive Maximum exceeded` where mosquitto says `protocol error`. Lines
//! are coloured (dim timestamp, red errors, yellow warnings) only when the
//! destination is a terminal and `NO_COLOR` is unset.
//!
//! Logging never blocks the broker: lines go into a bounded queue that one thread
//! per destination writes out. When the output does not keep up (a terminal
//! scrolled back, a pipe nobody reads), lines that do not fit are dropped and
//! counted, and one line says how many once the output moves again; routing,
//! acknowledgements and shutdown go on meanwhile.

pub mod format;
mod output;

pub use format::Timestamp;
pub use output::flush_all;

use output::Output;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// A set of mosquitto log types (`log_type` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogTypes(u16);

impl LogTypes {
    /// Errors.
    pub const ERROR: LogTypes = LogTypes(1);
    /// Warnings.
    pub const WARNING: LogTypes = LogTypes(2);
    /// Notices (connections, start and stop).
    pub const NOTICE: LogTypes = LogTypes(4);
    /// Information.
    pub const INFORMATION: LogTypes = LogTypes(8);
    /// Every packet sent and received.
    pub const DEBUG: LogTypes = LogTypes(16);
    /// Subscriptions.
    pub const SUBSCRIBE: LogTypes = LogTypes(32);
    /// Unsubscriptions.
    pub const UNSUBSCRIBE: LogTypes = LogTypes(64);
    /// Nothing.
    pub const NONE: LogTypes = LogTypes(0);
    /// Everything (`-v`).
    pub const ALL: LogTypes = LogTypes(0x7F);
    /// mosquitto's default: error, warning, notice, information.
    pub const DEFAULT: LogTypes = LogTypes(1 | 2 | 4 | 8);

    /// The set for a `log_type` value.
    pub fn from_name(name: &str) -> Option<LogTypes> {
        Some(match name {
            "error" => Self::ERROR,
            "warning" => Self::WARNING,
            "notice" => Self::NOTICE,
            "information" => Self::INFORMATION,
            "debug" => Self::DEBUG,
            "subscribe" => Self::SUBSCRIBE,
            "unsubscribe" => Self::UNSUBSCRIBE,
            "websockets" => Self::NONE,
            "none" => Self::NONE,
            "all" => Self::ALL,
            _ => return None,
        })
    }

    /// Both sets.
    pub fn union(self, other: LogTypes) -> LogTypes {
        LogTypes(self.0 | other.0)
    }

    /// Whether `other` is in the set.
    pub fn contains(self, other: LogTypes) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
}

/// Where log lines go (`log_dest`; several lines add destinations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogDest {
    /// Standard error (mosquitto's default).
    Stderr,
    /// Standard output.
    Stdout,
    /// Nowhere (only `tracing` events).
    None,
    /// A file, appended to (created if missing), opened again on every reload.
    File(PathBuf),
    /// The system log (Unix: the socket of [`LogSettings::syslog_socket`]).
    Syslog,
}

/// How a line is written (`log_format`, `--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// mosquitto's text line.
    #[default]
    Text,
    /// One JSON object a line, for collectors (fields: see [`format`]).
    Json,
}

/// The syslog socket of this platform.
pub fn default_syslog_socket() -> PathBuf {
    if cfg!(target_os = "macos") {
        PathBuf::from("/var/run/syslog")
    } else {
        PathBuf::from("/dev/log")
    }
}

/// Why a log destination cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A `log_dest file` cannot be opened.
    #[error("cannot open log file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The syslog socket cannot be reached.
    #[error("cannot send to syslog at {}: {source}", path.display())]
    Syslog {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `log_dest syslog` where there is no syslog socket.
    #[error("log_dest syslog is not supported on this platform")]
    SyslogUnsupported,
}

/// What the logger does, taken from the configuration's `log_*` options.
#[derive(Clone, Debug)]
pub struct LogSettings {
    /// Which types are written.
    pub types: LogTypes,
    /// Where (duplicates are written once; [`LogDest::None`] is skipped).
    pub dests: Vec<LogDest>,
    /// The time prefix of a text line.
    pub timestamp: Timestamp,
    /// Text or JSON.
    pub format: LogFormat,
    /// Log client connections and disconnections.
    pub connection_messages: bool,
    /// The syslog facility number (3 = daemon; `log_facility N` = local N).
    pub facility: u8,
    /// The syslog socket.
    pub syslog_socket: PathBuf,
}

/// One destination of the logger in force.
struct Sink {
    out: Arc<Output>,
    colour: bool,
    syslog: bool,
}

/// The logger's settings in force and their open destinations.
struct Active {
    settings: LogSettings,
    sinks: Vec<Sink>,
}

/// Shared by every clone of a logger: replaced whole by a reload.
struct Shared {
    /// The types written, 0 without a destination: read on every `blog!` without
    /// a lock.
    types: AtomicU16,
    connection_messages: AtomicBool,
    active: RwLock<Arc<Active>>,
}

/// The broker's logger. Clones share their settings, so a reload
/// ([`Logger::reconfigure`]) changes what every part of the broker writes.
#[derive(Clone)]
pub struct Logger {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("settings", &self.active().settings)
            .finish()
    }
}

impl Logger {
    /// A logger writing nowhere but `tracing` events.
    pub fn silent() -> Logger {
        Logger {
            shared: Arc::new(Shared {
                types: AtomicU16::new(0),
                connection_messages: AtomicBool::new(false),
                active: RwLock::new(Arc::new(Active {
                    settings: LogSettings {
                        types: LogTypes::NONE,
                        dests: Vec::new(),
                        timestamp: Timestamp::None,
                        format: LogFormat::Text,
                        connection_messages: false,
                        facility: 3,
                        syslog_socket: default_syslog_socket(),
                    },
                    sinks: Vec::new(),
                })),
            }),
        }
    }

    /// A logger with these settings: an error names a destination that cannot be
    /// opened.
    pub fn new(settings: LogSettings) -> Result<Logger, LogError> {
        let logger = Logger::silent();
        logger.reconfigure(settings)?;
        Ok(logger)
    }

    /// Put new settings in force, for every clone: the destinations are opened
    /// first (files again, for logrotate), so on an error the settings in force
    /// stay.
    pub fn reconfigure(&self, settings: LogSettings) -> Result<(), LogError> {
        let sinks = open_sinks(&settings)?;
        let types = if sinks.is_empty() {
            LogTypes::NONE
        } else {
            settings.types
        };
        let connections = settings.connection_messages;
        let active = Arc::new(Active { settings, sinks });
        *self
            .shared
            .active
            .write()
            .unwrap_or_else(|e| e.into_inner()) = active;
        self.shared.types.store(types.0, Ordering::Release);
        self.shared
            .connection_messages
            .store(connections, Ordering::Release);
        Ok(())
    }

    fn active(&self) -> Arc<Active> {
        self.shared
            .active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn types(&self) -> LogTypes {
        LogTypes(self.shared.types.load(Ordering::Acquire))
    }

    /// Whether messages of this type are written (so callers can skip formatting).
    pub fn enabled(&self, t: LogTypes) -> bool {
        self.types().contains(t) || tracing::enabled!(tracing::Level::DEBUG)
    }

    /// Whether connect/disconnect messages are logged.
    pub fn connections(&self, t: LogTypes) -> bool {
        self.shared.connection_messages.load(Ordering::Acquire) && self.enabled(t)
    }

    /// Write a connect/disconnect line (type notice), unless `connection_messages`
    /// is off.
    pub fn connection(&self, msg: std::fmt::Arguments<'_>) {
        if self.connections(LogTypes::NOTICE) {
            self.log(LogTypes::NOTICE, msg);
        }
    }

    /// Write one line of type `t` to every destination.
    pub fn log(&self, t: LogTypes, msg: std::fmt::Arguments<'_>) {
        if t == LogTypes::ERROR {
            tracing::error!(target: "mq::broker", "{msg}");
        } else if t == LogTypes::WARNING {
            tracing::warn!(target: "mq::broker", "{msg}");
        } else {
            tracing::debug!(target: "mq::broker", "{msg}");
        }
        if !self.types().contains(t) {
            return;
        }
        let active = self.active();
        let s = &active.settings;
        let now = SystemTime::now();
        let text = msg.to_string();
        let json = s.format == LogFormat::Json;
        let line = if json {
            format::json_line(now, t, &text)
        } else {
            text_line(s.timestamp.render(now), t, &text, false)
        };
        for sink in &active.sinks {
            if sink.syslog {
                let body = if json { line.trim_end() } else { text.as_str() };
                sink.out
                    .push(format::syslog_line(s.facility, t, body), json);
            } else if sink.colour && !json {
                sink.out
                    .push(text_line(s.timestamp.render(now), t, &text, true), json);
            } else {
                sink.out.push(line.clone(), json);
            }
        }
    }

    /// Wait, at most `limit`, until the lines logged so far are written (at
    /// shutdown, so the last lines are not lost when the output keeps up).
    pub fn flush(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        for sink in &self.active().sinks {
            sink.out
                .wait_written(deadline.saturating_duration_since(Instant::now()));
        }
    }
}

/// A text line: the timestamp (dimmed when coloured), then the message (errors in
/// red, warnings in yellow when coloured).
fn text_line(stamp: Option<String>, t: LogTypes, text: &str, colour: bool) -> String {
    let mut line = String::with_capacity(text.len() + 24);
    if let Some(stamp) = stamp {
        if colour {
            line.push_str(&format!("\x1b[2m{stamp}:\x1b[0m "));
        } else {
            line.push_str(&stamp);
            line.push_str(": ");
        }
    }
    if colour && (t == LogTypes::ERROR || t == LogTypes::WARNING) {
        let code = if t == LogTypes::ERROR { "31" } else { "33" };
        line.push_str(&format!("\x1b[{code}m{text}\x1b[0m"));
    } else {
        line.push_str(text);
    }
    line.push('\n');
    line
}

/// Open the destinations of `settings`, each once.
fn open_sinks(settings: &LogSettings) -> Result<Vec<Sink>, LogError> {
    let mut seen: Vec<&LogDest> = Vec::new();
    let mut sinks = Vec::new();
    for dest in &settings.dests {
        if *dest == LogDest::None || seen.contains(&dest) {
            continue;
        }
        seen.push(dest);
        let no_color = std::env::var_os("NO_COLOR");
        let (out, colour, syslog) = match dest {
            LogDest::None => continue,
            LogDest::Stderr => (
                Output::standard(false),
                colour_wanted(std::io::stderr().is_terminal(), no_color.as_deref()),
                false,
            ),
            LogDest::Stdout => (
                Output::standard(true),
                colour_wanted(std::io::stdout().is_terminal(), no_color.as_deref()),
                false,
            ),
            LogDest::File(path) => (Some(Arc::new(Output::file(path)?)), false, false),
            LogDest::Syslog => (Some(Arc::new(syslog(settings)?)), false, true),
        };
        // A standard stream whose writer thread cannot start is skipped, as before.
        if let Some(out) = out {
            sinks.push(Sink {
                out,
                colour,
                syslog,
            });
        }
    }
    Ok(sinks)
}

#[cfg(unix)]
fn syslog(settings: &LogSettings) -> Result<Output, LogError> {
    Output::syslog(&settings.syslog_socket, settings.facility)
}

#[cfg(not(unix))]
fn syslog(_settings: &LogSettings) -> Result<Output, LogError> {
    Err(LogError::SyslogUnsupported)
}

/// Colour only on a terminal, and not when `NO_COLOR` is set to anything but the
/// empty string (no-color.org). mosquitto never colours; mq dims the timestamp and
/// shows errors in red and warnings in yellow.
fn colour_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Log a formatted line if its type is enabled: `blog!(logger, LogTypes::DEBUG, "...", args)`.
macro_rules! blog {
    ($logger:expr, $t:expr, $($arg:tt)*) => {{
        let l = &$logger;
        if l.enabled($t) {
            l.log($t, format_args!($($arg)*));
        }
    }};
}
pub(crate) use blog;

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }

    #[test]
    fn log_types_like_mosquitto() {
        assert_eq!(LogTypes::from_name("all"), Some(LogTypes::ALL));
        assert!(LogTypes::DEFAULT.contains(LogTypes::NOTICE));
        assert!(LogTypes::DEFAULT.contains(LogTypes::INFORMATION));
        assert!(!LogTypes::DEFAULT.contains(LogTypes::DEBUG));
        assert!(!LogTypes::DEFAULT.contains(LogTypes::SUBSCRIBE));
        assert!(!LogTypes::NONE.contains(LogTypes::NONE));
        assert_eq!(LogTypes::from_name("informational"), None);
    }
}
