//! Parsers for the human-friendly values the commands take: durations (`5s`, `500ms`,
//! `1.5m`, `2h`) and rates (`1000/s`, `30/min`, `1/5s`). Shared by `mq bench` and the
//! car-park roles, used as clap `value_parser`s.

use std::time::Duration;

/// Parse a duration: a non-negative decimal number followed by a unit `ns`, `us`
/// (`µs`), `ms`, `s`, `m`/`min` or `h`. A bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (examples: 5s, 500ms, 1m, 2h)"))?;
    let seconds_per_unit = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "invalid duration unit {other:?} in {text:?} (use ns, us, ms, s, m or h)"
            ));
        }
    };
    let seconds = value * seconds_per_unit;
    if !seconds.is_finite() || !(0.0..=1e9).contains(&seconds) {
        return Err(format!("duration {text:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parse a rate in events per second: `N/ms`, `N/s`, `N/m`, `N/min`, `N/h`,
/// `N/<duration>` (`1/5s` = one every five seconds), or a bare number (per second).
/// Always finite and greater than zero.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid rate {text:?} (examples: 1000/s, 30/min, 1/5s)");
    let t = text.trim();
    let (count, per) = match t.split_once('/') {
        Some((count, per)) => (count.trim(), per.trim()),
        None => (t, "s"),
    };
    let count: f64 = count.parse().map_err(|_| bad())?;
    let per_seconds = match per {
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => parse_duration(other).map_err(|_| bad())?.as_secs_f64(),
    };
    if per_seconds <= 0.0 {
        return Err(bad());
    }
    let rate = count / per_seconds;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(format!("rate {text:?} must be greater than zero"));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration(" 0.25s "), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(" 7 s "), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in [
            "",
            "s",
            "-1s",
            "5x",
            "five",
            "1.2.3s",
            "1e99h",
            "5 s s",
            "1e999s",
            "10 parsecs",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1000/s"), Ok(1000.0));
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("0.5/s"), Ok(0.5));
        assert_eq!(parse_rate("60/m"), Ok(1.0));
        assert_eq!(parse_rate("30/min"), Ok(0.5));
        assert_eq!(parse_rate("3600/h"), Ok(1.0));
        assert_eq!(parse_rate("5/ms"), Ok(5000.0));
        assert_eq!(parse_rate("1/5s"), Ok(0.2));
        assert_eq!(parse_rate("3/500ms"), Ok(6.0));
        for bad in [
            "", "0/s", "-5/s", "abc", "10/x", "/s", "inf/s", "1/0s", "1/week", "inf", "NaN",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
    }
}
