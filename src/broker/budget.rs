//! The broker-wide budget of queued messages (`memory_limit`): every session's queue
//! is bounded on its own (`max_queued_messages`, `max_queued_bytes`), and all of them
//! together by this, so that memory stays bounded however many clients subscribe and
//! stop reading.
//!
//! Each session's queue adds and takes back its payload bytes here as it changes
//! (see `SessionState`), and gives back what it still holds when it is dropped.
//! When the budget is spent, every queue that holds something counts as full: a
//! subscriber that keeps reading paces its publishers as at its own limit, a stuck
//! one has what does not fit dropped for it alone. A queue that is empty still takes
//! one message, so that no subscriber is starved by the others' queues.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The default budget when `memory_limit` is not set (or 0): 1 GiB of queued payload.
pub const DEFAULT_BUDGET: usize = 1 << 30;

/// Queued payload bytes of every session, against a limit.
#[derive(Debug)]
pub struct QueueBudget {
    used: AtomicUsize,
    /// Changed by a reload; read on every enqueue.
    limit: AtomicUsize,
}

impl QueueBudget {
    /// A budget of `limit` bytes (0: [`DEFAULT_BUDGET`]).
    pub fn new(limit: usize) -> QueueBudget {
        QueueBudget {
            used: AtomicUsize::new(0),
            limit: AtomicUsize::new(effective(limit)),
        }
    }

    /// A reload changed `memory_limit` (0: the default). Queues over a lower limit
    /// keep what they hold; they take nothing more until they are under it.
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(effective(limit), Ordering::Relaxed);
    }

    /// Bytes queued now, in every session.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Whether the budget is spent.
    pub fn spent(&self) -> bool {
        self.used() >= self.limit()
    }

    /// A queue took `n` more bytes.
    pub(super) fn take(&self, n: usize) {
        self.used.fetch_add(n, Ordering::Relaxed);
    }

    /// A queue gave `n` bytes back.
    pub(super) fn give_back(&self, n: usize) {
        // Every give_back matches an earlier take of the same queue; saturating
        // keeps a mistake from wrapping to "spent" for ever.
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(n))
            });
    }
}

/// `memory_limit` as configured (0: unset) to the limit in force.
fn effective(limit: usize) -> usize {
    if limit == 0 { DEFAULT_BUDGET } else { limit }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_spent_at_its_limit_and_a_reload_moves_it() {
        let b = QueueBudget::new(100);
        b.take(99);
        assert!(!b.spent());
        b.take(1);
        assert!(b.spent());
        b.set_limit(1000);
        assert!(!b.spent());
        b.set_limit(0);
        assert_eq!(b.limit(), DEFAULT_BUDGET);
        b.give_back(150);
        assert_eq!(b.used(), 0, "never below zero");
    }
}
