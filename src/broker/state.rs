//! The broker state shared by every connection task: configuration, logger, session
//! table, subscription tree, retained store and statistics, with the operations that
//! span them — routing a message to its subscribers (in the publisher's task),
//! ending a session, publishing a will.

use super::config::Config;
use super::live::LiveConfig;
use super::log::{LogTypes, Logger, blog};
use super::message::Message;
use super::retain::RetainedStore;
use super::router::{Router, Subscriber};
use super::security::{RealmId, Security};
use super::session::{Delivery, Enqueue, QueueLimits, Session, SessionState, SubEntry, lock};
use super::stats::{DropReason, Stats};
use crate::protocol::{QoS, SubscriptionOptions, Will};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Hard cap of a session queue when `max_queued_messages` is 0 (no unbounded queue).
const QUEUE_HARD_CAP: usize = 100_000;

/// Hard cap of a session queue's payload bytes when `max_queued_bytes` is 0.
const QUEUE_HARD_CAP_BYTES: usize = 32 << 20;

/// How [`State::watch`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// The deadline passed.
    Deadline,
    /// The condition held.
    Done,
    /// The broker is shutting down.
    Shutdown,
}

/// State shared by all connections of one broker.
#[derive(Debug)]
pub struct State {
    /// The configuration in force: see [`State::config`] and [`State::cfg`].
    config: LiveConfig,
    /// Authentication and ACLs, built from the configuration and its files; replaced
    /// whole when they are reloaded (see [`State::security`]).
    security: RwLock<Arc<Security>>,
    /// Whether the security in force has an ACL file: read on every PUBLISH without
    /// taking the lock, since most brokers have none.
    acl_in_force: AtomicBool,
    /// Failed logins per address, to slow down guessing.
    pub login_backoff: super::security::backoff::LoginBackoff,
    /// Logger.
    pub log: Logger,
    /// Sessions by client identifier.
    pub sessions: Mutex<HashMap<Arc<str>, Arc<Session>>>,
    /// Subscription tree.
    pub router: RwLock<Router>,
    /// Retained messages.
    pub retained: RwLock<RetainedStore>,
    /// Counters for `$SYS`.
    pub stats: Stats,
    /// Source of session keys and connection generations.
    next_key: AtomicU64,
    /// Start time (uptime).
    pub started: Instant,
    /// Becomes true at shutdown.
    pub shutdown: watch::Receiver<bool>,
    /// Keeps the shutdown channel open when the handle is dropped (the broker keeps
    /// running until `shutdown` or the end of the runtime).
    pub shutdown_tx: watch::Sender<bool>,
    /// Notified once, at shutdown, after `shutdown` became true: what each
    /// connection waits on (see [`stopping`]).
    pub stopping: tokio::sync::Notify,
    /// The store, with `persistence true` (`None`: everything lives in memory).
    pub store: Option<Arc<super::store::Store>>,
    /// The broker-wide budget of queued bytes (`memory_limit`), shared by every
    /// session's queue.
    pub budget: Arc<super::budget::QueueBudget>,
}

impl State {
    /// New state.
    pub fn new(
        config: Config,
        security: Security,
        log: Logger,
        shutdown_tx: watch::Sender<bool>,
    ) -> State {
        let shutdown = shutdown_tx.subscribe();
        State {
            budget: Arc::new(super::budget::QueueBudget::new(config.memory_limit)),
            config: LiveConfig::new(config),
            acl_in_force: AtomicBool::new(security.has_acl()),
            security: RwLock::new(Arc::new(security)),
            login_backoff: Default::default(),
            log,
            sessions: Mutex::new(HashMap::new()),
            router: RwLock::new(Router::default()),
            retained: RwLock::new(RetainedStore::default()),
            stats: Stats::default(),
            next_key: AtomicU64::new(1),
            started: Instant::now(),
            shutdown,
            shutdown_tx,
            stopping: tokio::sync::Notify::new(),
            store: None,
        }
    }

    /// The number of the last store operation submitted (0 without a store): taken
    /// before a packet is handled, so that its acknowledgement can wait for what
    /// the handling stored ([`State::stored_since`]).
    pub fn store_mark(&self) -> u64 {
        self.store.as_ref().map_or(0, |s| s.submitted())
    }

    /// Wait until what was stored since `mark` is committed: an error when the
    /// store cannot commit (the acknowledgement is then not sent).
    pub async fn stored_since(&self, mark: u64) -> Result<(), super::store::StoreError> {
        match &self.store {
            Some(s) => s.wait_since(mark).await,
            None => Ok(()),
        }
    }

    /// The configuration in force: a snapshot, unaffected by a reload that happens
    /// while it is used (for a CONNECT, and what runs rarely).
    pub fn config(&self) -> Arc<Config> {
        self.config.load()
    }

    /// One value of the configuration in force, for the paths every message takes:
    /// no lock and no shared reference count ([`LiveConfig::with`]).
    pub fn cfg<R>(&self, f: impl FnOnce(&Config) -> R) -> R {
        self.config.with(f)
    }

    /// Put a reloaded configuration in force: new connections and every later
    /// check see it; connected clients keep what they were granted at CONNECT.
    pub fn set_config(&self, config: Config) {
        self.config.store(config);
    }

    /// The security in force: a snapshot, unaffected by a reload that happens while
    /// it is used.
    pub fn security(&self) -> Arc<Security> {
        self.security
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Read the password and ACL files again and put them in force at once; on an
    /// error the files in force stay. Connected clients are not disconnected.
    pub fn reload_security(&self) -> Result<(), super::security::SecurityError> {
        let fresh = Security::from_config(&self.config())?;
        self.put_security(fresh);
        Ok(())
    }

    /// Put security built from a reloaded configuration in force.
    pub fn put_security(&self, fresh: Security) {
        for w in fresh.warnings() {
            blog!(self.log, LogTypes::WARNING, "Warning: {w}");
        }
        let acl = fresh.has_acl();
        *self.security.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        self.acl_in_force.store(acl, Ordering::Release);
    }

    /// Whether the client may publish to `topic`: without an ACL file, always,
    /// and without taking the security's lock (this runs for every PUBLISH).
    pub fn may_publish(
        &self,
        realm: RealmId,
        client_id: &str,
        username: Option<&str>,
        topic: &str,
    ) -> bool {
        !self.acl_in_force.load(Ordering::Acquire)
            || self
                .security()
                .realm(realm)
                .may_publish(client_id, username, topic)
    }

    /// A fresh unique number.
    pub fn next_key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }

    /// Queue limits from the configuration.
    pub fn queue_limits(&self) -> QueueLimits {
        self.cfg(|c| QueueLimits {
            max_queued: match c.max_queued_messages {
                0 => QUEUE_HARD_CAP,
                n => n,
            },
            max_bytes: match c.max_queued_bytes {
                0 => QUEUE_HARD_CAP_BYTES,
                n => n,
            },
            queue_qos0: c.queue_qos0_messages,
        })
    }

    /// Route a message to every matching subscription (and the retained store when
    /// it is retained), waiting while a QoS 1/2 subscriber queue is full
    /// (backpressure). Returns the number of subscribers.
    pub async fn publish(&self, msg: Arc<Message>) -> usize {
        let (n, waiting) = self.route(msg);
        self.deliver_waiting(waiting).await;
        n
    }

    /// Queue the deliveries [`State::route`] found waiting for room, all against one
    /// deadline: a message holds its publisher up for at most
    /// [`Config::queue_wait`](super::Config::queue_wait), however many of its
    /// subscribers are stuck.
    pub async fn deliver_waiting(&self, waiting: Vec<(Arc<Session>, Delivery)>) {
        for (session, d) in waiting {
            self.deliver_paced(&session, d).await;
        }
    }

    /// Route a message without waiting: queue it for every subscriber with room and
    /// return the number of subscribers and the deliveries that found a QoS 1/2 queue
    /// full, for the publisher to wait on ([`State::deliver`]). Runs in the
    /// publisher's task, synchronously, so that the common case costs no future state
    /// in every connection task.
    pub fn route(&self, msg: Arc<Message>) -> (usize, Vec<(Arc<Session>, Delivery)>) {
        if msg.retain && self.cfg(|c| c.retain_available) {
            // [MQTT-3.3.1-5], [MQTT-3.3.1-10]
            match self.retained.write() {
                Ok(mut r) => r.set(msg.clone()),
                Err(e) => e.into_inner().set(msg.clone()),
            }
            // `$SYS` is the broker's own, made again after a restart.
            if let Some(store) = self
                .store
                .as_ref()
                .filter(|_| !msg.topic.starts_with("$SYS/"))
            {
                // An empty payload clears it [MQTT-3.3.1-10].
                let record = (!msg.payload.is_empty())
                    .then(|| super::session::stored_message(&msg).encode());
                store.push(super::store::Op::Retain(msg.topic.to_string(), record));
            }
        }
        let targets = {
            let router = self.router.read().unwrap_or_else(|e| e.into_inner());
            router.route(&msg.topic, msg.origin.as_deref())
        };
        let n = targets.len();
        let mut waiting = Vec::new();
        let routed = (n > 0).then(Instant::now);
        let security = self
            .acl_in_force
            .load(Ordering::Acquire)
            .then(|| self.security());
        for t in targets {
            // Each delivery needs read access to the topic, under an ACL file.
            if let Some(security) = &security {
                let (user, realm) = lock(&t.session.state).principal();
                if !security.realm(realm).may_read(
                    &t.session.client_id,
                    user.as_deref(),
                    &msg.topic,
                ) {
                    continue;
                }
            }
            let d = Delivery {
                msg: msg.clone(),
                // Downgraded to the granted QoS [MQTT-3.8.4-8].
                qos: msg.qos.min(t.qos),
                // Retain flag only with Retain As Published [MQTT-3.3.1-12], [MQTT-3.3.1-13].
                retain: msg.retain && t.retain_as_published,
                sub_ids: t.sub_ids,
                seq: 0,
                routed,
            };
            // A publisher never waits for its own queue: its reader would stop
            // reading the acknowledgements that drain it.
            let own = msg.origin.as_deref() == Some(&*t.session.client_id);
            if let Some(d) = self.offer(&t.session, d, !own) {
                waiting.push((t.session, d));
            }
        }
        (n, waiting)
    }

    /// Try to queue one delivery: `Some` gives it back when the queue is full and
    /// the caller may `wait` for room; otherwise it is queued, or dropped and counted.
    fn offer(&self, session: &Session, d: Delivery, wait: bool) -> Option<Delivery> {
        match session.enqueue(d, self.queue_limits()) {
            Enqueue::Queued => None,
            Enqueue::Discarded => {
                self.stats.dropped(DropReason::OfflineQos0, 1);
                None
            }
            Enqueue::Dropped | Enqueue::QueuedDroppingQos0 => {
                self.stats.dropped(DropReason::QueueFull, 1);
                self.note_dropping(session);
                None
            }
            Enqueue::Full(back) if wait => Some(back),
            Enqueue::Full(_) => {
                self.give_up(session);
                None
            }
        }
    }

    /// A full queue did not drain in time: drop the message and mark the subscriber
    /// congested, so one stuck subscriber cannot stall publishers.
    fn give_up(&self, session: &Session) {
        lock(&session.state).set_congested();
        self.stats.dropped(DropReason::StuckSubscriber, 1);
        self.note_dropping(session);
    }

    /// Log, as mosquitto does, when a client's queue starts dropping messages.
    fn note_dropping(&self, session: &Session) {
        if lock(&session.state).start_dropping() {
            blog!(
                self.log,
                LogTypes::NOTICE,
                "Outgoing messages are being dropped for client {}.",
                session.client_id
            );
        }
    }

    /// Queue one delivery without waiting: dropped and counted if the queue is full.
    pub fn deliver_now(&self, session: &Session, d: Delivery) {
        self.offer(session, d, false);
    }

    /// Queue one delivery whose subscriber's queue is full: wait for room as long
    /// as the subscriber's writer makes progress (the publisher is paced, nothing is
    /// lost); once it has made none for [`Config::queue_wait`](super::Config::queue_wait)
    /// the subscriber is stuck: the message is dropped for it alone, and it is
    /// marked congested, so that the next ones are dropped without waiting until its
    /// writer runs again. A stuck subscriber thus holds a publisher up once per
    /// episode, for at most that grace.
    async fn deliver_paced(&self, session: &Session, mut d: Delivery) {
        let grace = self.cfg(|c| c.queue_wait);
        loop {
            let notified = session.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.offer(session, d, true) {
                None => return,
                Some(back) => d = back,
            }
            let stalled = lock(&session.state).link().map(|l| l.stalled_for());
            let Some(stalled) = stalled.filter(|s| *s < grace) else {
                self.give_up(session);
                return;
            };
            // Woken when the writer frees room; checked again once the grace
            // would be over.
            let _ = tokio::time::timeout(grace - stalled, notified).await;
        }
    }

    /// Wait (at most [`Config::queue_wait`](super::Config::queue_wait)) until the
    /// session's queue has room: used before queueing retained messages for a new
    /// subscription in the subscriber's own task, so its writer can drain the queue
    /// in between. False when the queue stayed full.
    pub async fn wait_for_room(&self, session: &Session) -> bool {
        let limits = self.queue_limits();
        let deadline = tokio::time::Instant::now() + self.cfg(|c| c.queue_wait);
        loop {
            let notified = session.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = lock(&session.state);
                if !s.queue_full(limits) || s.link().is_none() || s.is_ended() {
                    return true;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    /// Publish a will message [MQTT-3.1.2-8], if the ACL lets its client publish to
    /// its topic.
    pub async fn publish_will(
        &self,
        will: Will,
        client_id: &Arc<str>,
        (username, realm): (Option<&str>, RealmId),
    ) {
        if !self.may_publish(realm, client_id, username, &will.topic) {
            blog!(
                self.log,
                LogTypes::DEBUG,
                "Denied will of {client_id} on '{}'.",
                will.topic
            );
            return;
        }
        let mut props = will.properties;
        props.will_delay_interval = None;
        let msg = Message::new(
            will.topic,
            will.payload,
            will.qos.min(self.cfg(|c| c.max_qos)),
            will.retain,
            props,
            Some(client_id.clone()),
        );
        self.publish(Arc::new(msg)).await;
    }

    /// Subscribe a session to `filter`, in the subscription tree and in the session
    /// (which a session that ended meanwhile refuses: the tree then forgets it
    /// again). Returns whether the subscription existed (Retain Handling 1).
    pub fn subscribe(
        &self,
        session: &Arc<Session>,
        filter: &str,
        options: SubscriptionOptions,
        id: Option<u32>,
    ) -> bool {
        let existed = self
            .router
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .subscribe(
                filter,
                Subscriber {
                    session: session.clone(),
                    options,
                    id,
                },
            );
        let kept =
            lock(&session.state).add_subscription(filter.to_string(), SubEntry { options, id });
        if !kept {
            let mut r = self.router.write().unwrap_or_else(|e| e.into_inner());
            r.unsubscribe(filter, session.key);
        }
        existed
    }

    /// Unsubscribe a session from `filter`: whether it was subscribed.
    pub fn unsubscribe(&self, session: &Session, filter: &str) -> bool {
        let existed = self
            .router
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .unsubscribe(filter, session.key);
        lock(&session.state).remove_subscription(filter);
        existed
    }

    /// Discard a session: its subscriptions, queued and in-flight messages
    /// [MQTT-3.1.2-6].
    pub fn end_session(&self, session: &Arc<Session>) {
        let subs = { lock(&session.state).discard() };
        if !subs.is_empty() {
            let mut r = self.router.write().unwrap_or_else(|e| e.into_inner());
            for f in subs.keys() {
                r.unsubscribe(f, session.key);
            }
        }
        {
            let mut m = lock(&self.sessions);
            if m.get(&session.client_id)
                .is_some_and(|s| s.key == session.key)
            {
                m.remove(&session.client_id);
            }
        }
        session.space.notify_waiters();
    }

    /// Session expiry [MQTT-3.1.2-23]: end the session `delay` after its connection
    /// closed, unless it was resumed or ended meanwhile. Returns as soon as either
    /// happens (or the broker shuts down), so a client that comes back leaves no timer
    /// behind.
    pub async fn expire(&self, session: &Arc<Session>, attach_count: u64, delay: Duration) {
        let unresumed = |s: &SessionState| {
            s.link().is_none() && s.attach_count() == attach_count && !s.is_ended()
        };
        let deadline = tokio::time::Instant::now() + delay;
        if self.watch(session, deadline, |s| !unresumed(s)).await != Watched::Deadline {
            return;
        }
        {
            // Checked and taken out of the table under the table's lock, where a
            // CONNECT resuming the session claims it: either the CONNECT finds it
            // gone and starts afresh, or this finds it resumed.
            let mut sessions = lock(&self.sessions);
            let mut s = lock(&session.state);
            if !unresumed(&s) {
                return;
            }
            s.mark_ended();
            if sessions
                .get(&session.client_id)
                .is_some_and(|t| t.key == session.key)
            {
                sessions.remove(&session.client_id);
            }
        }
        self.stats.clients_expired.fetch_add(1, Ordering::Relaxed);
        blog!(
            self.log,
            LogTypes::NOTICE,
            "Expiring client {} due to timeout.",
            session.client_id
        );
        self.end_session(session);
    }

    /// Wait until `deadline`, until `done` holds for the session's state, or until
    /// the broker shuts down. `done` is checked at first and whenever the session's
    /// `space` is signalled, which also happens when a connection attaches and when
    /// the session ends.
    pub async fn watch(
        &self,
        session: &Session,
        deadline: tokio::time::Instant,
        done: impl Fn(&SessionState) -> bool,
    ) -> Watched {
        let mut shutdown = self.shutdown.clone();
        loop {
            let changed = session.space.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(&lock(&session.state)) {
                return Watched::Done;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return Watched::Deadline,
                () = stopped(&mut shutdown) => return Watched::Shutdown,
                () = &mut changed => {}
            }
        }
    }

    /// Largest packet accepted from clients (0 = the protocol's limit).
    pub fn max_packet_in(&self) -> usize {
        usize::try_from(self.cfg(|c| c.max_packet_size)).unwrap_or(0)
    }

    /// The QoS granted for a requested one.
    pub fn grant(&self, requested: QoS) -> QoS {
        requested.min(self.cfg(|c| c.max_qos))
    }
}

/// Resolves once the broker is shutting down: like [`stopped`], for a task that
/// waits on it for its whole life (a connection). Its future is a third of
/// `stopped`'s, and every connection's task holds one.
pub async fn stopping(state: &State) {
    // Created before the flag is read: a notification in between is not missed.
    let notified = state.stopping.notified();
    if *state.shutdown.borrow() {
        return;
    }
    notified.await;
}

/// Resolves once the broker is shutting down (or its handle's sender is gone).
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
