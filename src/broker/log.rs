//! mosquitto-style log lines: `<unix-seconds>: <message>` in mosquitto's own words,
//! filtered by `log_type`, written to stderr (or stdout) and also emitted as
//! `tracing` events for programs that embed the broker.
//!
//! Each line has mosquitto 2.0's words, arguments and log type (the takeover line,
//! for one, is an error), so `mosquitto -v` users see what they know;
//! `tests/interop/logs.rs` compares both brokers' logs line for line. On purpose,
//! mq names itself (`mq version ...`), says `malformed packet` where the
//! specification does (mosquitto sometimes says `protocol error`), and replaces
//! mosquitto's `Bad socket read/write on client X: ...` for a refused QoS or retain
//! flag by its own `disconnected due to QoS too high or retain not supported`. Lines
//! are coloured (dim timestamp, red errors, yellow warnings) only when the
//! destination is a terminal and `NO_COLOR` is unset.

use std::io::{IsTerminal, Write};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// Where log lines go (`log_dest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogDest {
    /// Standard error (mosquitto's default).
    Stderr,
    /// Standard output.
    Stdout,
    /// Nowhere (only `tracing` events).
    None,
}

/// The broker's logger.
#[derive(Clone, Debug)]
pub struct Logger {
    types: LogTypes,
    dest: LogDest,
    timestamp: bool,
    colour: bool,
    connection_messages: bool,
}

impl Logger {
    /// A logger for a configuration.
    pub fn new(types: LogTypes, dest: LogDest, timestamp: bool, connection_messages: bool) -> Self {
        let terminal = match dest {
            LogDest::Stderr => std::io::stderr().is_terminal(),
            LogDest::Stdout => std::io::stdout().is_terminal(),
            LogDest::None => false,
        };
        Logger {
            types,
            dest,
            timestamp,
            colour: colour_wanted(terminal, std::env::var_os("NO_COLOR").as_deref()),
            connection_messages,
        }
    }

    /// Whether messages of this type are written (so callers can skip formatting).
    pub fn enabled(&self, t: LogTypes) -> bool {
        self.types.contains(t) && self.dest != LogDest::None
            || tracing::enabled!(tracing::Level::DEBUG)
    }

    /// Whether connect/disconnect messages are logged.
    pub fn connections(&self, t: LogTypes) -> bool {
        self.connection_messages && self.enabled(t)
    }

    /// Write a connect/disconnect line (type notice), unless `connection_messages`
    /// is off.
    pub fn connection(&self, msg: std::fmt::Arguments<'_>) {
        if self.connections(LogTypes::NOTICE) {
            self.log(LogTypes::NOTICE, msg);
        }
    }

    /// Write one line of type `t`.
    pub fn log(&self, t: LogTypes, msg: std::fmt::Arguments<'_>) {
        if t == LogTypes::ERROR {
            tracing::error!(target: "mq::broker", "{msg}");
        } else if t == LogTypes::WARNING {
            tracing::warn!(target: "mq::broker", "{msg}");
        } else {
            tracing::debug!(target: "mq::broker", "{msg}");
        }
        if !self.types.contains(t) || self.dest == LogDest::None {
            return;
        }
        let mut line = String::with_capacity(96);
        if self.timestamp {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            if self.colour {
                line.push_str(&format!("\x1b[2m{secs}:\x1b[0m "));
            } else {
                line.push_str(&format!("{secs}: "));
            }
        }
        let text = msg.to_string();
        if self.colour && (t == LogTypes::ERROR || t == LogTypes::WARNING) {
            let code = if t == LogTypes::ERROR { "31" } else { "33" };
            line.push_str(&format!("\x1b[{code}m{text}\x1b[0m"));
        } else {
            line.push_str(&text);
        }
        line.push('\n');
        // A closed stderr/stdout must not stop the broker: ignore write errors.
        let _ = match self.dest {
            LogDest::Stderr => std::io::stderr().lock().write_all(line.as_bytes()),
            LogDest::Stdout => std::io::stdout().lock().write_all(line.as_bytes()),
            LogDest::None => Ok(()),
        };
    }
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
