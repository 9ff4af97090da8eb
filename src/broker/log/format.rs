//! How one log line looks: mosquitto's text line (`<unix-seconds>: message`, or
//! the `log_timestamp_format` time), the JSON line for collectors, and the RFC 3164
//! datagram for syslog.
//!
//! The JSON line is one object with these fields, in this order, and no other
//! (a field is only ever added, never renamed):
//! - `ts`: the time in UTC, RFC 3339 with milliseconds (`2026-12-03T09:10:57.123Z`);
//! - `unix`: the same time as Unix seconds with milliseconds (`1796288457.123`);
//! - `level`: the mosquitto log type (`error`, `warning`, `notice`,
//!   `information`, `debug`, `subscribe`, `unsubscribe`);
//! - `msg`: the words of the text line.

use super::LogTypes;
use crate::cmd::time::{self, Civil};
use std::fmt::Write;
use std::time::SystemTime;

/// The time prefix of a text line (`log_timestamp`, `log_timestamp_format`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timestamp {
    /// No prefix (`log_timestamp false`).
    None,
    /// Unix seconds, mosquitto's default.
    Unix,
    /// A `strftime` format in local time (`log_timestamp_format`).
    Format(String),
}

impl Timestamp {
    /// The prefix for `now`, without the `: ` that follows it; `None` for none.
    pub fn render(&self, now: SystemTime) -> Option<String> {
        match self {
            Timestamp::None => None,
            Timestamp::Unix => Some(time::unix(now).0.to_string()),
            Timestamp::Format(f) => Some(strftime(f, &Civil::from_system_time(now))),
        }
    }
}

/// A whole `strftime` format: each `%X` replaced as `strftime(3)` does in the C
/// locale (the specifiers of [`time::strftime`]), the rest copied.
pub fn strftime(format: &str, t: &Civil) -> String {
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(spec) => out.push_str(&time::strftime(spec, t)),
            None => out.push('%'),
        }
    }
    out
}

/// The mosquitto name of a single log type.
pub fn level_name(t: LogTypes) -> &'static str {
    match t {
        LogTypes::ERROR => "error",
        LogTypes::WARNING => "warning",
        LogTypes::NOTICE => "notice",
        LogTypes::INFORMATION => "information",
        LogTypes::DEBUG => "debug",
        LogTypes::SUBSCRIBE => "subscribe",
        LogTypes::UNSUBSCRIBE => "unsubscribe",
        _ => "information",
    }
}

/// One JSON line (see the module documentation), newline included.
pub fn json_line(now: SystemTime, t: LogTypes, msg: &str) -> String {
    let c = Civil::utc(now);
    let millis = c.nanos / 1_000_000;
    let mut line = String::with_capacity(msg.len() + 96);
    let _ = write!(
        line,
        "{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{millis:03}Z\",\"unix\":{}.{millis:03},\"level\":\"{}\",\"msg\":",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.unix,
        level_name(t),
    );
    // Escaping by serde_json: a `String` always serialises.
    line.push_str(&serde_json::to_string(msg).unwrap_or_else(|_| "\"\"".into()));
    line.push_str("}\n");
    line
}

/// The syslog severity of a mosquitto log type, as mosquitto maps them.
fn severity(t: LogTypes) -> u8 {
    match t {
        LogTypes::ERROR => 3,
        LogTypes::WARNING => 4,
        LogTypes::NOTICE | LogTypes::SUBSCRIBE | LogTypes::UNSUBSCRIBE => 5,
        LogTypes::INFORMATION => 6,
        _ => 7,
    }
}

/// An RFC 3164 message as the local syslog socket takes it:
/// `<PRI>Mmm dd hh:mm:ss mq[PID]: message` (the daemon adds the host name).
/// `facility` is the syslog facility number (3 = daemon, 16-23 = local0-7).
pub fn syslog_line(facility: u8, t: LogTypes, msg: &str) -> String {
    let pri = u16::from(facility) * 8 + u16::from(severity(t));
    let c = Civil::from_system_time(SystemTime::now());
    format!(
        "<{pri}>{} {} mq[{}]: {msg}",
        time::strftime('b', &c),
        strftime("%e %H:%M:%S", &c),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn whole_strftime_formats() {
        let t = Civil::from_unix(1_588_801_680, 0);
        assert_eq!(strftime("%Y-%m-%dT%H:%M:%S", &t), "2020-05-06T21:48:00");
        assert_eq!(strftime("[%j] 100%% %", &t), "[127] 100% %");
    }

    #[test]
    fn json_lines_have_the_documented_fields() {
        let now = UNIX_EPOCH + Duration::from_millis(1_588_801_680_042);
        let line = json_line(now, LogTypes::NOTICE, "New client \"a\"\n");
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ts"], "2020-05-06T21:48:00.042Z");
        assert_eq!(v["unix"].as_f64(), Some(1_588_801_680.042));
        assert_eq!(v["level"], "notice");
        assert_eq!(v["msg"], "New client \"a\"\n");
    }

    #[test]
    fn syslog_priority_and_tag() {
        let l = syslog_line(3, LogTypes::ERROR, "Error: x");
        assert!(l.starts_with("<27>"), "{l}");
        assert!(l.ends_with(&format!(" mq[{}]: Error: x", std::process::id())));
        assert!(syslog_line(16, LogTypes::DEBUG, "d").starts_with("<135>"));
    }
}
