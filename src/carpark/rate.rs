//! The rate of simulated events the gates and the demo take: a number of events per
//! second, always finite and above zero. The command line spells it `0.5/s`, `30/min`
//! or `1/5s` (parsed by [`crate::units::parse_rate`] in `cmd::carpark_args`).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finite_positive_rates() {
        assert_eq!(Rate::per_second(0.5).map(Rate::get), Some(0.5));
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            assert!(Rate::per_second(bad).is_none(), "{bad}");
        }
        assert_eq!(
            Rate::per_second(2.0)
                .and_then(|r| r.scaled(0.5))
                .map(Rate::get),
            Some(1.0)
        );
        assert_eq!(
            Rate::per_second(2.0).map(|r| r.to_string()).as_deref(),
            Some("2/s")
        );
    }
}
