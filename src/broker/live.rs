//! The configuration in force, replaced whole by a reload: readers take a snapshot
//! ([`LiveConfig::load`]) where they need many values (a CONNECT), or read one
//! value through a per-thread cached snapshot ([`LiveConfig::with`]) on the paths
//! every message takes, so that those never touch a lock or a shared reference
//! count: they read one atomic generation number, which only a reload writes.

use super::config::Config;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Snapshots one thread keeps: a few, for processes that run several brokers.
const CACHED: usize = 4;

/// Source of [`LiveConfig`] identities (never reused, unlike addresses).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// (configuration identity, generation, snapshot), most recent last.
    static CACHE: RefCell<Vec<(u64, u64, Arc<Config>)>> = const { RefCell::new(Vec::new()) };
}

/// A configuration that a reload can replace.
#[derive(Debug)]
pub struct LiveConfig {
    id: u64,
    /// Bumped after each replacement.
    generation: AtomicU64,
    current: RwLock<Arc<Config>>,
}

impl LiveConfig {
    /// The configuration in force at start.
    pub fn new(config: Config) -> LiveConfig {
        LiveConfig {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            current: RwLock::new(Arc::new(config)),
        }
    }

    /// A snapshot, unaffected by a reload that happens while it is used.
    pub fn load(&self) -> Arc<Config> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Put a new configuration in force; snapshots taken before keep the old one.
    pub fn store(&self, config: Config) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Read the configuration in force through this thread's cached snapshot.
    pub fn with<R>(&self, f: impl FnOnce(&Config) -> R) -> R {
        let generation = self.generation.load(Ordering::Acquire);
        let mut f = Some(f);
        let cached = CACHE.try_with(|cache| {
            let current =
                |(id, g, _): &&(u64, u64, Arc<Config>)| *id == self.id && *g == generation;
            if !cache.borrow().iter().any(|e| current(&e)) {
                // Only a call made from inside `f` finds the cache borrowed.
                let Ok(mut entries) = cache.try_borrow_mut() else {
                    return None;
                };
                entries.retain(|(id, _, _)| *id != self.id);
                if entries.len() >= CACHED {
                    entries.remove(0);
                }
                entries.push((self.id, generation, self.load()));
            }
            let entries = cache.borrow();
            let snapshot = entries.iter().rev().find(current)?;
            f.take().map(|f| f(&snapshot.2))
        });
        match (cached, f) {
            (Ok(Some(r)), _) => r,
            // The thread is ending, or a nested call: no cache.
            (_, Some(f)) => f(&self.load()),
            // `f` ran exactly when it returned a value.
            (_, None) => unreachable!("the cached read returned no value after running"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_configuration_is_seen_at_once() {
        let live = LiveConfig::new(Config::default());
        assert_eq!(live.with(|c| c.max_queued_messages), 1000);
        let old = live.load();
        live.store(Config {
            max_queued_messages: 7,
            ..Config::default()
        });
        assert_eq!(live.with(|c| c.max_queued_messages), 7);
        assert_eq!(live.load().max_queued_messages, 7);
        assert_eq!(old.max_queued_messages, 1000);
        // Another configuration does not take this one's cached snapshot.
        let other = LiveConfig::new(Config::default());
        assert_eq!(other.with(|c| c.max_queued_messages), 1000);
        assert_eq!(live.with(|c| c.max_queued_messages), 7);
    }
}
