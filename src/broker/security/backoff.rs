//! Slowing down an address that keeps failing to log in: each failed login from an
//! IP address delays its refusal, doubling from [`FIRST`] up to [`MOST`]; a
//! successful login, or [`FORGET`] without a failure, clears it. At most [`TRACKED`]
//! addresses are remembered, so a scan from many addresses costs bounded memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The delay after the first failure.
pub const FIRST: Duration = Duration::from_millis(100);
/// The longest delay.
pub const MOST: Duration = Duration::from_secs(5);
/// How long an address is remembered after its last failure.
pub const FORGET: Duration = Duration::from_secs(600);
/// Most addresses remembered.
pub const TRACKED: usize = 10_000;

/// Failed logins per address.
#[derive(Debug, Default)]
pub struct LoginBackoff {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl LoginBackoff {
    /// Count a failed login from `ip`; the delay before its refusal is sent.
    pub fn failed(&self, ip: IpAddr) -> Duration {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= TRACKED && !map.contains_key(&ip) {
            map.retain(|_, (_, last)| now.duration_since(*last) < FORGET);
            if map.len() >= TRACKED {
                // Still full: forget everyone rather than grow.
                map.clear();
            }
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FORGET {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        let doublings = entry.0.saturating_sub(1).min(16);
        FIRST.saturating_mul(1 << doublings).min(MOST)
    }

    /// A successful login from `ip` clears its count.
    pub fn succeeded(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_most_and_clears_on_success() {
        let b = LoginBackoff::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        let delays: Vec<_> = (0..8).map(|_| b.failed(ip)).collect();
        assert_eq!(delays[0], FIRST);
        assert_eq!(delays[1], FIRST * 2);
        assert_eq!(delays[2], FIRST * 4);
        assert_eq!(*delays.last().unwrap(), MOST);
        b.succeeded(ip);
        assert_eq!(b.failed(ip), FIRST);
        let other: IpAddr = [10, 0, 0, 2].into();
        assert_eq!(b.failed(other), FIRST, "per address");
    }

    #[test]
    fn memory_is_bounded() {
        let b = LoginBackoff::default();
        for i in 0..(TRACKED as u32 + 10) {
            b.failed(IpAddr::from(i.to_be_bytes()));
        }
        assert!(b.failures.lock().unwrap().len() <= TRACKED);
    }
}
