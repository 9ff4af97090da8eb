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

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
        if let Some(out) = Output::of(self.dest) {
            out.push(line);
        }
    }

    /// Wait, at most `limit`, until the lines logged so far are written (at
    /// shutdown, so the last lines are not lost when the output keeps up).
    pub fn flush(&self, limit: Duration) {
        if let Some(out) = Output::of(self.dest) {
            out.wait_written(limit);
        }
    }
}

/// Wait, at most `limit` in all, until every line logged so far is written, to
/// stderr and stdout: before the process exits.
pub fn flush_all(limit: Duration) {
    let deadline = Instant::now() + limit;
    for out in [STDERR.get(), STDOUT.get()].into_iter().flatten() {
        out.wait_written(deadline.saturating_duration_since(Instant::now()));
    }
}

/// Most lines waiting for the output.
const QUEUE_LINES: usize = 4096;
/// Most bytes waiting for the output.
const QUEUE_BYTES: usize = 1 << 20;

/// One destination's queue and the thread that writes it out. Process-wide, like
/// the stream it writes to.
struct Output {
    tx: SyncSender<String>,
    /// Bytes queued and not yet written.
    queued: AtomicUsize,
    /// Lines dropped since the last report.
    dropped: AtomicU64,
    /// Lines queued and not yet written, for [`Output::wait_written`].
    pending: AtomicUsize,
}

static STDERR: OnceLock<Output> = OnceLock::new();
static STDOUT: OnceLock<Output> = OnceLock::new();

impl Output {
    /// The output for a destination, started on first use; `None` for
    /// [`LogDest::None`] or when its thread cannot be started.
    fn of(dest: LogDest) -> Option<&'static Output> {
        let cell = match dest {
            LogDest::Stderr => &STDERR,
            LogDest::Stdout => &STDOUT,
            LogDest::None => return None,
        };
        if let Some(out) = cell.get() {
            return Some(out);
        }
        // Only one thread may start the writer: the receiver goes to it.
        static STARTING: Mutex<()> = Mutex::new(());
        let _guard = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(out) = cell.get() {
            return Some(out);
        }
        let (tx, rx) = sync_channel(QUEUE_LINES);
        let out = cell.get_or_init(|| Output {
            tx,
            queued: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
        });
        let started = std::thread::Builder::new()
            .name("mq-log".into())
            .spawn(move || write_out(out, dest, rx));
        started.is_ok().then_some(out)
    }

    /// Queue a line, or drop and count it when the queue is full.
    fn push(&self, line: String) {
        let len = line.len();
        if self.queued.load(Ordering::Relaxed) + len > QUEUE_BYTES {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.queued.fetch_add(len, Ordering::Relaxed);
        self.pending.fetch_add(1, Ordering::AcqRel);
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(len, Ordering::Relaxed);
                self.pending.fetch_sub(1, Ordering::AcqRel);
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Wait until every queued line is written, at most `limit` (polled: used once,
    /// at shutdown).
    fn wait_written(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.pending.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The writer thread: write each line as it comes, preceded by a line saying how
/// many were dropped since the last one written. A closed stderr/stdout must not
/// stop the broker: write errors are ignored.
fn write_out(out: &Output, dest: LogDest, rx: Receiver<String>) {
    while let Ok(line) = rx.recv() {
        let dropped = out.dropped.swap(0, Ordering::Relaxed);
        let mut stream: Box<dyn Write> = match dest {
            LogDest::Stdout => Box::new(std::io::stdout().lock()),
            _ => Box::new(std::io::stderr().lock()),
        };
        if dropped > 0 {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let _ = writeln!(
                stream,
                "{secs}: {dropped} log lines were dropped: the log output did not keep up."
            );
        }
        let _ = stream.write_all(line.as_bytes());
        let _ = stream.flush();
        drop(stream);
        out.queued.fetch_sub(line.len(), Ordering::Relaxed);
        out.pending.fetch_sub(1, Ordering::AcqRel);
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
