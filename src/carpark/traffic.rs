//! Simulated traffic: a small seeded random generator (SplitMix64), random arrival
//! times for a given rate, number plates and car identifiers. `--seed` makes a run
//! repeatable.

use super::flags::Rate;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A SplitMix64 pseudo-random generator: tiny, fast, and good enough for traffic.
/// Not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// A generator seeded from the clock and the process id (different on every run).
    pub fn from_entropy() -> Rng {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Rng::new(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// A generator for a `--seed` flag: seeded when given, otherwise from the clock.
    pub fn from_seed_flag(seed: Option<u64>) -> Rng {
        seed.map(Rng::new).unwrap_or_else(Rng::from_entropy)
    }

    /// An independent generator derived from this one (one per simulated device).
    pub fn fork(&mut self, stream: u64) -> Rng {
        Rng::new(self.next_u64() ^ stream.wrapping_mul(0xA076_1D64_78BD_642F))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..n` (`n` > 0; 0 gives 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for simulation purposes.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

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
    fn splitmix64_reference_values() {
        // First outputs of SplitMix64 seeded with 0 (published reference values).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn ranges() {
        let mut r = Rng::new(42);
        for _ in 0..10_000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
            assert!(r.below(6) < 6);
        }
        assert_eq!(r.below(0), 0);
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
