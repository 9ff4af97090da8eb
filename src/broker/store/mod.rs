//! The store seam: what the broker has acknowledged, kept where a restart or a
//! `kill -9` cannot take it.
//!
//! The session methods (subscribe, enqueue, take what is ready, acknowledge,
//! claim, discard) and the retained store describe every durable change as an
//! [`Op`] and hand it to the [`Store`]; nothing else writes. Without `persistence`
//! there is no store at all: the sessions in memory are the in-memory store, and no
//! operation is even built. With it, one thread applies the operations to the
//! database in batches — everything that arrived while the previous commit was
//! being made goes into the next transaction and its one fsync (group commit) —
//! and publishes how far it has committed. A connection that owes a PUBACK, PUBREC
//! or SUBACK waits until the operations its packet caused are committed
//! ([`Store::wait`]), so nothing is acknowledged before it is durable, while many
//! acknowledgements share one fsync.
//!
//! The backend is [`redb`] (pure Rust, ACID, one file): see [`redb_store`].

pub mod record;
pub mod redb_store;

use super::log::{LogTypes, Logger};
use super::stats::Histogram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// One durable change.
#[derive(Debug)]
pub enum Op {
    /// Set (`Some`: a [`record::StoredMessage`] record) or clear a retained message.
    Retain(String, Option<Vec<u8>>),
    /// Create or update a session ([`record::SessionRecord`]).
    PutSession(Arc<str>, Vec<u8>),
    /// Delete a session with its subscriptions, messages and QoS 2 state.
    DeleteSession(Arc<str>),
    /// Add (`Some`: a [`record::StoredSubscription`]) or remove a subscription.
    Subscription(Arc<str>, String, Option<Vec<u8>>),
    /// Add or update (`Some`: a [`record::StoredDelivery`]) or remove one queued or
    /// in-flight message of a session, by its sequence number.
    Message(Arc<str>, u64, Option<Vec<u8>>),
    /// Record (`true`) or forget a QoS 2 packet identifier awaiting PUBREL.
    Qos2(Arc<str>, u16, bool),
}

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file cannot be opened or read: named, with the cause.
    #[error("{file}: {message}")]
    File {
        /// The store file.
        file: PathBuf,
        /// The cause.
        message: String,
    },
    /// A commit failed (a full disk): what was not committed is not acknowledged.
    #[error("the store could not commit: {0}")]
    Commit(String),
}

/// A backend: applies batches of operations durably.
pub trait Backend: Send + 'static {
    /// Apply `ops` in one transaction and make it durable before returning.
    fn apply(&mut self, ops: &[Op]) -> Result<(), StoreError>;
}

/// How far the store has committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Committed {
    /// Every operation up to this sequence number is durable.
    seq: u64,
    /// A commit failed: nothing later is acknowledged.
    failed: bool,
}

/// The handle the broker writes through: operations are numbered in the order
/// they are submitted, and [`Store::wait`] waits until one is durable.
#[derive(Debug)]
pub struct Store {
    /// The sender and the last number given, together: the thread sees operations
    /// in the order of their numbers.
    submit: Mutex<(std::sync::mpsc::Sender<(u64, Op)>, u64)>,
    /// The last number given (read without the lock).
    submitted: AtomicU64,
    committed: watch::Receiver<Committed>,
    /// How long each commit (one transaction and its fsync) took.
    commit_latency: Arc<Histogram>,
}

/// Most operations in one transaction.
const BATCH: usize = 8192;

impl Store {
    /// Start the writer thread over `backend`.
    pub fn start(mut backend: impl Backend, log: Logger) -> Arc<Store> {
        let (tx, rx) = std::sync::mpsc::channel::<(u64, Op)>();
        let (done_tx, done_rx) = watch::channel(Committed::default());
        let commit_latency = Arc::new(Histogram::default());
        let store = Arc::new(Store {
            submit: Mutex::new((tx, 0)),
            submitted: AtomicU64::new(0),
            committed: done_rx,
            commit_latency: commit_latency.clone(),
        });
        let thread_log = log.clone();
        let spawned = std::thread::Builder::new()
            .name("mq-store".into())
            .spawn(move || {
                let mut batch = Vec::new();
                // Ends when every sender is gone (the broker's state is dropped).
                while let Ok(first) = rx.recv() {
                    batch.clear();
                    let mut last = first.0;
                    batch.push(first.1);
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok((seq, op)) => {
                                last = seq;
                                batch.push(op);
                            }
                            Err(_) => break,
                        }
                    }
                    let started = std::time::Instant::now();
                    let applied = backend.apply(&batch);
                    commit_latency.record(started.elapsed());
                    match applied {
                        Ok(()) => {
                            done_tx.send_modify(|c| c.seq = last);
                        }
                        Err(e) => {
                            thread_log.log(
                                LogTypes::ERROR,
                                format_args!(
                                    "Error: {e}; what was not stored is not acknowledged."
                                ),
                            );
                            done_tx.send_modify(|c| c.failed = true);
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            // Without the thread nothing commits: every wait reports the failure.
            log.log(
                LogTypes::ERROR,
                format_args!("Error: cannot start the store's thread: {e}"),
            );
        }
        store
    }

    /// Submit one operation; returns its number.
    pub fn push(&self, op: Op) -> u64 {
        let mut s = self.submit.lock().unwrap_or_else(|e| e.into_inner());
        s.1 += 1;
        let seq = s.1;
        // A send fails only once the thread has ended, which `wait` reports.
        let _ = s.0.send((seq, op));
        self.submitted.store(seq, Ordering::Release);
        seq
    }

    /// How long the commits took (`/metrics`).
    pub fn commit_latency(&self) -> &Histogram {
        &self.commit_latency
    }

    /// The number of the last operation submitted.
    pub fn submitted(&self) -> u64 {
        self.submitted.load(Ordering::Acquire)
    }

    /// Wait until operation `seq` (and every one before it) is durable; an error
    /// when a commit failed or the store's thread is gone.
    pub async fn wait(&self, seq: u64) -> Result<(), StoreError> {
        if seq == 0 {
            return Ok(());
        }
        let mut rx = self.committed.clone();
        match rx.wait_for(|c| c.seq >= seq || c.failed).await {
            Ok(c) if !c.failed => Ok(()),
            Ok(_) => Err(StoreError::Commit("an earlier commit failed".into())),
            Err(_) => Err(StoreError::Commit("the store's thread has ended".into())),
        }
    }

    /// Wait for whatever was submitted after `before` (nothing to wait for when
    /// nothing was).
    pub async fn wait_since(&self, before: u64) -> Result<(), StoreError> {
        let now = self.submitted();
        if now > before {
            self.wait(now).await
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::log::LogDest;
    use std::sync::atomic::AtomicUsize;

    /// A backend that records what it committed and fails every batch from the
    /// `fail_from`-th on, as a full disk does.
    struct Disk {
        committed: Arc<Mutex<Vec<String>>>,
        batches: Arc<AtomicUsize>,
        fail_from: usize,
        /// How long each commit takes (an fsync).
        fsync: std::time::Duration,
    }

    impl Backend for Disk {
        fn apply(&mut self, ops: &[Op]) -> Result<(), StoreError> {
            std::thread::sleep(self.fsync);
            let n = self.batches.fetch_add(1, Ordering::SeqCst);
            if n >= self.fail_from {
                return Err(StoreError::Commit("no space left on device".into()));
            }
            let mut c = self.committed.lock().unwrap();
            for op in ops {
                if let Op::Retain(topic, _) = op {
                    c.push(topic.clone());
                }
            }
            Ok(())
        }
    }

    fn store(fail_from: usize) -> (Arc<Store>, Arc<Mutex<Vec<String>>>) {
        let committed = Arc::new(Mutex::new(Vec::new()));
        let disk = Disk {
            committed: committed.clone(),
            batches: Arc::new(AtomicUsize::new(0)),
            fail_from,
            fsync: std::time::Duration::ZERO,
        };
        let log = quiet_log();
        (Store::start(disk, log), committed)
    }

    fn quiet_log() -> Logger {
        let config = crate::broker::Config {
            log_dest: LogDest::None,
            ..Default::default()
        };
        Logger::new(config.log_settings()).unwrap()
    }

    fn retain(topic: &str) -> Op {
        Op::Retain(topic.into(), Some(vec![1]))
    }

    #[tokio::test]
    async fn an_operation_is_reported_durable_once_its_batch_is_committed() {
        let (store, committed) = store(usize::MAX);
        let a = store.push(retain("a"));
        let b = store.push(retain("b"));
        store.wait(b).await.unwrap();
        store.wait(a).await.unwrap();
        assert_eq!(*committed.lock().unwrap(), ["a", "b"]);
        // Nothing submitted since: nothing to wait for.
        store.wait_since(store.submitted()).await.unwrap();
    }

    #[tokio::test]
    async fn what_a_failed_commit_held_is_never_reported_durable() {
        // The first batch commits, every later one fails (the disk is full): the
        // broker must not acknowledge what the failed batches held, nor anything
        // submitted after them.
        let (store, committed) = store(1);
        let first = store.push(retain("kept"));
        store.wait(first).await.unwrap();
        let lost = store.push(retain("lost"));
        assert!(matches!(store.wait(lost).await, Err(StoreError::Commit(_))));
        let later = store.push(retain("later"));
        assert!(matches!(
            store.wait(later).await,
            Err(StoreError::Commit(_))
        ));
        assert!(store.wait_since(first).await.is_err());
        assert_eq!(*committed.lock().unwrap(), ["kept"]);
    }

    #[tokio::test]
    async fn operations_waiting_together_share_commits() {
        // Submitted while a 2 ms commit is being made: the operations that arrive
        // meanwhile go into the next batch, so there are fewer batches than
        // operations, all durable, in order.
        let committed = Arc::new(Mutex::new(Vec::new()));
        let batches = Arc::new(AtomicUsize::new(0));
        let disk = Disk {
            committed: committed.clone(),
            batches: batches.clone(),
            fail_from: usize::MAX,
            fsync: std::time::Duration::from_millis(2),
        };
        let log = quiet_log();
        let store = Store::start(disk, log);
        let topics: Vec<String> = (0..2000).map(|i| format!("t/{i}")).collect();
        let mut last = 0;
        for t in &topics {
            last = store.push(retain(t));
        }
        store.wait(last).await.unwrap();
        assert_eq!(*committed.lock().unwrap(), topics);
        assert!(batches.load(Ordering::SeqCst) < topics.len());
    }
}
