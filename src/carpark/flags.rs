//! The car-park flags: the `--prefix` flag shared by every role, and the rate type the
//! gates and the demo take (`0.5/s`, `30/min`, `1/5s`, parsed by [`crate::units`]).

pub use crate::units::parse_duration;

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

/// Parse a rate (see [`crate::units::parse_rate`]) into a [`Rate`].
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    crate::units::parse_rate(text)
        .and_then(|r| Rate::per_second(r).ok_or_else(|| format!("invalid rate {text:?}")))
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
