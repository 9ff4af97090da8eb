//! Simulated traffic: a small seeded random generator (SplitMix64), random arrival
//! times for a given rate, number plates and car identifiers. `--seed` makes a run
//! repeatable.

use super::rate::Rate;
use std::time::Duration;

pub use crate::random::Rng;

/// The car-park uses of the generator.
impl Rng {
    /// A roughly normal value with mean 0 and standard deviation 1 (sum of 12 uniforms).
    pub fn gaussian(&mut self) -> f64 {
        (0..12).map(|_| self.next_f64()).sum::<f64>() - 6.0
    }

    /// The wait until the next arrival of a Poisson process with this rate
    /// (exponentially distributed, mean 1/rate).
    pub fn arrival_gap(&mut self, rate: Rate) -> Duration {
        let u = self.next_f64(); // [0, 1): 1 - u is in (0, 1], so ln is finite
        let seconds = -(1.0 - u).ln() / rate.get();
        Duration::from_secs_f64(seconds.min(1e6))
    }

    /// A plausible number plate, like `KX21 RTB`.
    pub fn plate(&mut self) -> String {
        const LETTERS: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXYZ";
        let mut letter = || char::from(LETTERS[self.below(LETTERS.len() as u64) as usize]);
        let (a, b) = (letter(), letter());
        let (c, d, e) = (letter(), letter(), letter());
        let year = 10 + self.below(15);
        format!("{a}{b}{year} {c}{d}{e}")
    }

    /// A short random token of lowercase hexadecimal (`n` digits, at most 16).
    pub fn token(&mut self, n: usize) -> String {
        let hex = format!("{:016x}", self.next_u64());
        hex[..n.min(16)].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let (mut a, mut b) = (Rng::new(1), Rng::new(1));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        assert_eq!(Rng::new(7).plate(), Rng::new(7).plate());
    }

    #[test]
    fn arrival_gaps_average_one_over_rate() {
        let mut r = Rng::new(3);
        let rate = Rate::per_second(4.0).unwrap();
        let n = 20_000;
        let total: f64 = (0..n).map(|_| r.arrival_gap(rate).as_secs_f64()).sum();
        let mean = total / f64::from(n);
        assert!((mean - 0.25).abs() < 0.01, "mean gap {mean}");
    }

    #[test]
    fn plates_look_like_plates() {
        let mut r = Rng::new(9);
        for _ in 0..100 {
            let p = r.plate();
            assert_eq!(p.len(), 8, "{p}");
            assert_eq!(p.as_bytes()[4], b' ');
            assert!(p[2..4].chars().all(|c| c.is_ascii_digit()));
        }
        assert_eq!(Rng::new(5).token(8).len(), 8);
    }
}
