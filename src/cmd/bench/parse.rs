//! Parsers for the human-friendly values `mq bench` takes on the command line:
//! durations (`10s`, `500ms`, `1.5m`) and rates (`1000/s`, `60/m`).

use std::time::Duration;

/// Parse a duration: a non-negative decimal number followed by a unit `ns`, `us`,
/// `ms`, `s`, `m` or `h`. A bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration '{s}' (expected e.g. 10s, 500ms, 2m)"))?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "" | "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "invalid duration unit '{other}' in '{s}' (use ns, us, ms, s, m or h)"
            ));
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("duration '{s}' is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parse a rate in events per second: `1000/s`, `60/m`, `3600/h`, `5/ms`, or a bare
/// number (per second). Must be greater than zero.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, per) = match t.split_once('/') {
        Some((n, p)) => (n.trim(), p.trim()),
        None => (t, "s"),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("invalid rate '{s}' (expected e.g. 1000/s)"))?;
    let per_secs = match per {
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "invalid rate unit '/{other}' in '{s}' (use /ms, /s, /m or /h)"
            ));
        }
    };
    let rate = value / per_secs;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(format!("rate '{s}' must be greater than zero"));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration(" 7 s "), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn bad_durations_are_errors() {
        for bad in ["", "s", "10x", "-1s", "1..2s", "10 parsecs", "1e999s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rates_with_units() {
        assert_eq!(parse_rate("1000/s"), Ok(1000.0));
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("60/m"), Ok(1.0));
        assert_eq!(parse_rate("3600/h"), Ok(1.0));
        assert_eq!(parse_rate("5/ms"), Ok(5000.0));
        assert_eq!(parse_rate("0.5/s"), Ok(0.5));
    }

    #[test]
    fn bad_rates_are_errors() {
        for bad in ["", "0/s", "-5/s", "abc", "10/x", "/s", "inf/s"] {
            assert!(parse_rate(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
