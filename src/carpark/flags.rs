//! Value parsers for the car-park flags: durations (`5s`, `500ms`, `1m`, `1.5h`) and
//! rates (`0.5/s`, `30/min`, `2/h`, `1/5s`), plus the `--prefix` flag shared by every role.

use std::time::Duration;

/// Parse a duration: a non-negative number followed by `ms`, `s`, `m`/`min` or `h`.
/// A bare number is seconds. Used by clap as a `value_parser`.
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
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "mins" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "invalid duration unit {other:?} in {text:?} (use ms, s, m or h)"
            ));
        }
    };
    let seconds = value * seconds_per_unit;
    if !seconds.is_finite() || seconds > 1e9 {
        return Err(format!("duration {text:?} is too long"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A rate of events, in events per second (always finite and above zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
}

impl Rate {
    /// A rate of `per_second` events per second; `None` unless finite and positive.
    pub fn per_second(per_second: f64) -> Option<Rate> {
        (per_second.is_finite() && per_second > 0.0).then_some(Rate { per_second })
    }

    /// Events per second.
    pub fn get(self) -> f64 {
        self.per_second
    }

    /// The same rate multiplied by `factor` (e.g. exits slower than entries).
    pub fn scaled(self, factor: f64) -> Option<Rate> {
        Rate::per_second(self.per_second * factor)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/s", self.per_second)
    }
}

/// Parse a rate: `N/s`, `N/m`, `N/min`, `N/h`, `N/<duration>` (`1/5s` = one every five
/// seconds), or a bare number of events per second.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let bad = || format!("invalid rate {text:?} (examples: 0.5/s, 30/min, 1/5s)");
    let t = text.trim();
    let (count, per) = match t.split_once('/') {
        Some((count, per)) => (count.trim(), per.trim()),
        None => (t, "s"),
    };
    let count: f64 = count.parse().map_err(|_| bad())?;
    let per_seconds = match per {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => parse_duration(other).map_err(|_| bad())?.as_secs_f64(),
    };
    if per_seconds <= 0.0 {
        return Err(bad());
    }
    Rate::per_second(count / per_seconds).ok_or_else(|| format!("rate {text:?} must be above 0"))
}

/// The `--prefix` flag every role shares.
#[derive(clap::Args, Debug, Clone)]
pub struct PrefixArgs {
    /// Topic prefix of this car park (e.g. carpark/level2 for a second one)
    #[arg(long = "prefix", default_value = "carpark", value_name = "TOPIC")]
    pub prefix: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration(" 0.25s "), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "s", "-1s", "5x", "five", "1.2.3s", "1e99h", "5 s s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("0.5/s").map(Rate::get), Ok(0.5));
        assert_eq!(parse_rate("2").map(Rate::get), Ok(2.0));
        assert_eq!(parse_rate("30/min").map(Rate::get), Ok(0.5));
        assert_eq!(parse_rate("30/m").map(Rate::get), Ok(0.5));
        assert_eq!(parse_rate("36/h").map(Rate::get), Ok(0.01));
        assert_eq!(parse_rate("1/5s").map(Rate::get), Ok(0.2));
        assert_eq!(parse_rate("3/500ms").map(Rate::get), Ok(6.0));
        for bad in ["", "0/s", "-1/s", "1/0s", "x/s", "1/week", "inf", "NaN"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Rate::per_second(2.0)
                .and_then(|r| r.scaled(0.5))
                .map(Rate::get),
            Some(1.0)
        );
    }
}
