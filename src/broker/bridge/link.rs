//! One bridge's loop: a client of the local broker (over an in-process stream,
//! through the same connection handling as any client, so routing, ACLs,
//! retained messages and persistence all apply to it) and a client of the remote
//! broker, both from [`crate::client`], with two lanes of messages between them.
//!
//! Each lane keeps the order of its source and acknowledges a message to its
//! source only once the other side has it: a QoS 1 message is PUBACKed (QoS 2:
//! PUBRECed) to the remote when the local broker has acknowledged it to the
//! bridge, and to the local broker when the remote has. Until then the source
//! keeps it, and sends it again if the bridge goes away [MQTT-4.4.0-1].
//!
//! Nothing here waits on one side while the other is stuck: the loop always reads
//! what the local broker sends (QoS 1/2 are bounded by the bridge's Receive
//! Maximum, QoS 0 beyond a bound are dropped and counted), so acknowledgements
//! keep flowing both ways, and the broker never waits on a bridge for longer than
//! it waits on any slow subscriber.

use super::config::{BridgeConfig, StartType};
use super::lane::{Forward, Lane, acknowledge, filter, onward, start, state_message};
use super::remote::{Remote, remote_event, remote_options};
use crate::broker::connection;
use crate::broker::log::{LogTypes, blog};
use crate::broker::origin::{ListenerCtx, Origin, Peer};
use crate::broker::state::{State, stopped};
use crate::broker::transport::Layered;
use crate::client::{self, Client, ConnectOptions, Connector, Event, Events, PublishToken};
use crate::protocol::{
    Ack, Packet, Properties, ProtocolVersion, Publish, QoS, ReasonCode, SubscribeFilter,
    encoded_len,
};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// QoS 1/2 messages the local broker may have unacknowledged with the bridge
/// (the bridge's Receive Maximum on its local side).
const LOCAL_WINDOW: u16 = 64;
/// QoS 1/2 messages the bridge has in flight to either side.
pub(super) const SEND_WINDOW: u16 = 20;
/// Messages from the local broker waiting for the remote; QoS 0 beyond this are
/// dropped (QoS 1/2 are bounded by [`LOCAL_WINDOW`]).
const OUT_QUEUE: usize = 1000;
/// Messages from the remote waiting for the local broker; the remote is not read
/// while this many wait.
const IN_QUEUE: usize = 256;
/// How long a stopping bridge waits for its last packets.
const STOP_WAIT: Duration = Duration::from_secs(1);
/// How long acknowledgements of a lost remote connection may take to fail.
const LOST_WAIT: Duration = Duration::from_secs(5);
/// The in-process stream's buffer.
const LOCAL_BUFFER: usize = 64 * 1024;

/// Why the local side's run ended.
enum End {
    Stop,
    LocalLost(String),
}

/// A failure that concerns one message, not the connection.
fn per_message(e: &client::Error) -> bool {
    matches!(
        e,
        client::Error::PacketTooLarge { .. }
            | client::Error::NotSupportedByServer(_)
            | client::Error::Invalid(_)
    )
}

/// A uniform random number in [0, 1).
fn random() -> f64 {
    (crate::random::entropy() % 1_000_000) as f64 / 1_000_000.0
}

/// One bridge.
pub struct Link {
    state: Arc<State>,
    cfg: BridgeConfig,
    stop: watch::Receiver<bool>,
    out: Lane,
    inward: Lane,
    /// Remote connections made so far (each is one `link` of [`Forward`]).
    remote_link: u64,
    /// The address to try next.
    index: usize,
    /// The last delay before a new attempt (for the backoff).
    last_delay: Option<Duration>,
    /// `try_private`, until the remote refuses it.
    try_private: bool,
    /// QoS 0 messages dropped since the last report.
    dropped: u64,
    /// When a message last came from either side (or the remote connected): a
    /// lazy bridge idle for `idle_timeout` since then disconnects.
    last_traffic: Instant,
}

/// Run one bridge until `stop` turns true.
pub async fn run(state: Arc<State>, cfg: BridgeConfig, stop: watch::Receiver<bool>) {
    let try_private = cfg.try_private;
    let mut link = Link {
        state,
        cfg,
        stop,
        out: Lane::default(),
        inward: Lane::default(),
        remote_link: 0,
        index: 0,
        last_delay: None,
        try_private,
        dropped: 0,
        last_traffic: Instant::now(),
    };
    link.run().await;
}

impl Link {
    fn log(&self, t: LogTypes, msg: std::fmt::Arguments<'_>) {
        self.state.log.log(t, msg);
    }

    async fn run(&mut self) {
        loop {
            let Some((local, mut events)) = self.connect_local().await else {
                return;
            };
            self.subscribe_local(&local);
            let end = self.serve(&local, &mut events).await;
            let _ = tokio::time::timeout(STOP_WAIT, local.disconnect()).await;
            match end {
                End::Stop => return,
                End::LocalLost(why) => {
                    self.log(
                        LogTypes::WARNING,
                        format_args!(
                            "Warning: bridge {}: local connection lost: {why}",
                            self.cfg.name
                        ),
                    );
                    // A new local session starts from what the broker kept.
                    self.out = Lane::default();
                    self.inward = Lane::default();
                    if !self.pause(Duration::from_secs(1)).await {
                        return;
                    }
                }
            }
        }
    }

    /// Wait `d`, or until stopped (false).
    async fn pause(&mut self, d: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = stopped(&mut self.stop) => false,
        }
    }

    /// The options of the local side: 5.0 (No Local, Retain As Published), over
    /// an in-process stream served by the broker's own connection handling.
    fn local_options(&self) -> ConnectOptions {
        let cfg = &self.cfg;
        let state = self.state.clone();
        let name: Arc<str> = cfg.name.as_str().into();
        let connector = Connector(Arc::new(move || {
            let (ours, theirs) = tokio::io::duplex(LOCAL_BUFFER);
            let (rd, wr) = tokio::io::split(theirs);
            let mut origin =
                Origin::new(Peer::Bridge(name.clone()), Arc::new(ListenerCtx::default()));
            origin.internal = true;
            tokio::spawn(connection::serve(
                state.clone(),
                Layered(rd),
                wr,
                Box::new(origin),
                (),
            ));
            Ok(Box::new(ours) as client::transport::Transport)
        }));
        let clean = cfg.local_cleansession.unwrap_or(cfg.cleansession);
        let mut o = ConnectOptions {
            version: ProtocolVersion::V5,
            client_id: cfg.local_id(),
            keep_alive: 0,
            clean_start: clean,
            session_expiry: (!clean).then_some(u32::MAX),
            username: cfg.local_username.clone(),
            password: cfg.local_password.clone().map(Bytes::from),
            max_inflight: SEND_WINDOW,
            manual_ack: true,
            manual_ack_qos2: true,
            connector: Some(connector),
            ..ConnectOptions::default()
        };
        o.properties.receive_maximum = Some(LOCAL_WINDOW);
        o
    }

    /// Connect the local side, again after a delay while it fails; `None` once
    /// stopped.
    async fn connect_local(&mut self) -> Option<(Client, Events)> {
        loop {
            let attempt = Client::connect(self.local_options());
            let result = tokio::select! {
                r = attempt => r,
                () = stopped(&mut self.stop) => return None,
            };
            match result {
                Ok(c) => return Some(c),
                Err(e) => {
                    self.log(
                        LogTypes::ERROR,
                        format_args!(
                            "Error: bridge {}: the local broker refused its connection: {e}",
                            self.cfg.name
                        ),
                    );
                    let delay = self.next_delay();
                    if !self.pause(delay).await {
                        return None;
                    }
                }
            }
        }
    }

    /// Subscribe the local side to the `out` and `both` topics (in its own task:
    /// retained messages may come before the SUBACK, and must be read meanwhile).
    fn subscribe_local(&self, local: &Client) {
        let filters: Vec<SubscribeFilter> = self
            .cfg
            .topics
            .iter()
            .filter(|t| t.direction.out())
            .map(|t| filter(t.local_filter(), t.qos))
            .collect();
        if filters.is_empty() {
            return;
        }
        let (client, state, name) = (local.clone(), self.state.clone(), self.cfg.name.clone());
        tokio::spawn(async move {
            report_suback(
                &state,
                &name,
                "local",
                client.subscribe(filters, Properties::default()).await,
            );
        });
    }

    /// The delay before the next attempt (`restart_timeout`).
    fn next_delay(&mut self) -> Duration {
        let d = self.cfg.restart.next(self.last_delay, random());
        self.last_delay = Some(d);
        d
    }

    /// Forward both ways until stopped or the local side is lost; the remote side
    /// comes and goes meanwhile.
    async fn serve(&mut self, local: &Client, l_events: &mut Events) -> End {
        let mut rc: Option<Client> = None;
        let lazy = self.cfg.start_type == StartType::Lazy;
        let mut remote = if lazy {
            Remote::Idle
        } else {
            self.connect_remote()
        };
        // The remote subscriptions being made: the bridge is up once they are.
        let mut subscribing: Option<JoinHandle<()>> = None;
        loop {
            self.out.settle_front();
            self.inward.settle_front();
            if matches!(remote, Remote::Finished) && self.inward.is_idle() {
                return End::Stop;
            }
            if matches!(remote, Remote::Idle) && self.out.queue.len() >= self.lazy_threshold() {
                remote = self.connect_remote();
            }
            // A lazy bridge with nothing to do for `idle_timeout` disconnects.
            let idle_at = self.last_traffic + self.cfg.idle_timeout;
            let may_idle = lazy
                && rc.is_some()
                && subscribing.is_none()
                && self.out.is_idle()
                && self.inward.is_idle();
            let out_next = rc.as_ref().and(self.out.next_publish());
            let in_next = self.inward.next_publish();
            let room_in = self.inward.queue.len() < IN_QUEUE;
            let step = tokio::select! {
                () = stopped(&mut self.stop) => Step::Stop,
                ev = l_events.recv() => Step::Local(ev),
                ev = remote_event(&mut remote), if room_in => ev,
                _ = joined(&mut subscribing), if subscribing.is_some() => Step::Subscribed,
                r = start(rc.as_ref(), out_next.clone()), if out_next.is_some() => Step::OutStarted(r),
                r = start(Some(local), in_next.clone()), if in_next.is_some() => Step::InStarted(r),
                Some((f, r)) = self.out.flight.next(), if !self.out.flight.is_empty() => {
                    Step::OutDone(f, r)
                }
                Some((f, r)) = self.inward.flight.next(), if !self.inward.flight.is_empty() => {
                    Step::InDone(f, r)
                }
                () = tokio::time::sleep_until(idle_at), if may_idle => Step::Idle,
            };
            let end = self
                .handle(step, local, &mut rc, &mut remote, &mut subscribing)
                .await;
            if let Some(end) = end {
                return end;
            }
        }
    }

    /// Act on one step of [`Link::serve`]; `Some` ends it.
    async fn handle(
        &mut self,
        step: Step,
        local: &Client,
        rc: &mut Option<Client>,
        remote: &mut Remote,
        subscribing: &mut Option<JoinHandle<()>>,
    ) -> Option<End> {
        match step {
            Step::Stop => {
                self.stop_remote(local, rc.take()).await;
                return Some(End::Stop);
            }
            Step::Local(Some(Event::Message(p))) => self.local_message(p),
            Step::Local(Some(Event::ServerDisconnect(_) | Event::Reconnected { .. })) => {}
            Step::Local(Some(Event::Disconnected(e))) => {
                return Some(End::LocalLost(e.to_string()));
            }
            Step::Local(None) => return Some(End::LocalLost("closed".into())),
            Step::Remote(p) => self.remote_message(p),
            Step::RemoteConnected(c, ev) => {
                self.last_traffic = Instant::now();
                *remote = Remote::Up(ev);
                *subscribing = Some(self.remote_up(&c));
                *rc = Some(c);
            }
            Step::Subscribed => {
                *subscribing = None;
                if rc.is_some() {
                    self.notify_local(true);
                }
            }
            Step::RemoteFailed(e) => *remote = self.remote_failed(&e),
            Step::RemoteLost(why) => *remote = self.remote_lost(rc, &why, None).await,
            Step::RemoteDue => *remote = self.due(),
            Step::Idle => {
                self.log(
                    LogTypes::NOTICE,
                    format_args!(
                        "Bridge {}: no message for {} s, disconnecting until {} wait (start_type lazy)",
                        self.cfg.name,
                        self.cfg.idle_timeout.as_secs_f64(),
                        self.lazy_threshold()
                    ),
                );
                self.stop_remote(local, rc.take()).await;
                *remote = Remote::Idle;
            }
            Step::OutStarted(Ok(token)) => self.out.started(token),
            Step::OutStarted(Err(e)) if per_message(&e) => {
                self.dropped_message("to the remote", &e);
                self.out.skip_front();
            }
            Step::OutStarted(Err(e)) => *remote = self.remote_lost(rc, &e.to_string(), None).await,
            Step::InStarted(Ok(token)) => self.inward.started(token),
            Step::InStarted(Err(e)) if per_message(&e) => {
                self.dropped_message("to the local broker", &e);
                self.inward.skip_front();
            }
            Step::InStarted(Err(e)) => return Some(End::LocalLost(e.to_string())),
            Step::OutDone(f, r) => match r {
                Err(e) if !per_message(&e) => {
                    // Sent again, first, once the remote is back.
                    *remote = self.remote_lost(rc, &e.to_string(), Some(f)).await;
                }
                _ => acknowledge(local, f.source_id).await,
            },
            Step::InDone(f, r) => match r {
                Ok(ack) => {
                    if ack.reason.is_error() {
                        self.log(
                            LogTypes::DEBUG,
                            format_args!(
                                "Bridge {}: the local broker refused a message ({})",
                                self.cfg.name, ack.reason
                            ),
                        );
                    }
                    if let Some(c) = rc.as_ref()
                        && f.link == self.remote_link
                    {
                        acknowledge(c, f.source_id).await;
                    }
                }
                Err(e) if per_message(&e) => {}
                Err(e) => return Some(End::LocalLost(e.to_string())),
            },
        }
        None
    }

    /// Messages waiting for the remote that make a lazy bridge connect: its
    /// `threshold`, at most the QoS 1/2 messages the local broker lets it hold.
    fn lazy_threshold(&self) -> usize {
        self.cfg.threshold.min(usize::from(LOCAL_WINDOW))
    }

    /// The time for the next attempt has come: a lazy bridge connects only if
    /// enough messages still wait.
    fn due(&mut self) -> Remote {
        if self.cfg.start_type == StartType::Lazy && self.out.queue.len() < self.lazy_threshold() {
            return Remote::Idle;
        }
        self.connect_remote()
    }

    /// A message from the local broker, to go to the remote.
    fn local_message(&mut self, p: Publish) {
        self.last_traffic = Instant::now();
        let source_id = if p.qos == QoS::AtMostOnce {
            0
        } else {
            p.packet_id
        };
        let topic = self.cfg.topics.iter().find_map(|t| t.to_remote(&p.topic));
        let publish = topic.and_then(|t| {
            let retain = p.retain && self.cfg.outgoing_retain;
            let out = onward(p, t, retain);
            let max = self.cfg.max_packet_size as usize;
            if max > 0 && encoded_len(&Packet::Publish(out.clone()), self.cfg.protocol) > max {
                self.log(
                    LogTypes::NOTICE,
                    format_args!(
                        "Bridge {}: a message on {} is larger than bridge_max_packet_size: dropped",
                        self.cfg.name, out.topic
                    ),
                );
                return None;
            }
            Some(out)
        });
        if source_id == 0 && (publish.is_none() || self.out.queue.len() >= OUT_QUEUE) {
            if publish.is_some() {
                self.count_dropped();
            }
            return;
        }
        self.out.queue.push_back(Forward {
            publish,
            source_id,
            link: 0,
        });
    }

    /// A message from the remote broker, to go to the local one.
    fn remote_message(&mut self, p: Publish) {
        self.last_traffic = Instant::now();
        let source_id = if p.qos == QoS::AtMostOnce {
            0
        } else {
            p.packet_id
        };
        let topic = self.cfg.topics.iter().find_map(|t| t.to_local(&p.topic));
        let publish = topic.map(|t| {
            let retain = p.retain;
            onward(p, t, retain)
        });
        if source_id == 0 && publish.is_none() {
            return;
        }
        self.inward.queue.push_back(Forward {
            publish,
            source_id,
            link: self.remote_link,
        });
    }

    fn count_dropped(&mut self) {
        self.dropped += 1;
        if self.dropped.is_power_of_two() {
            self.log(
                LogTypes::WARNING,
                format_args!(
                    "Warning: bridge {}: {} QoS 0 messages dropped while the remote could not take them",
                    self.cfg.name, self.dropped
                ),
            );
        }
    }

    fn dropped_message(&self, to: &str, e: &client::Error) {
        self.log(
            LogTypes::NOTICE,
            format_args!(
                "Bridge {}: a message could not be sent {to}: {e}; dropped",
                self.cfg.name
            ),
        );
    }

    /// The bridge's state, retained on the local broker (`notifications`).
    fn notify_local(&mut self, up: bool) {
        if self.cfg.notifications {
            self.inward.queue.push_back(Forward {
                publish: Some(state_message(&self.cfg.state_topic(), up)),
                source_id: 0,
                link: 0,
            });
        }
    }

    /// Start connecting to the next address.
    fn connect_remote(&mut self) -> Remote {
        let (host, port) = self.cfg.addresses[self.index % self.cfg.addresses.len()].clone();
        self.log(
            LogTypes::NOTICE,
            format_args!("Connecting bridge {} ({host}:{port})", self.cfg.name),
        );
        match remote_options(&self.cfg, self.try_private, &host, port) {
            Ok(opts) => Remote::Connecting(Box::pin(Client::connect(opts))),
            Err(e) => {
                self.log(
                    LogTypes::ERROR,
                    format_args!("Error: bridge {}: {e}", self.cfg.name),
                );
                self.retry_later()
            }
        }
    }

    /// Connected: subscribe to the `in` topics; the bridge is up (and says so)
    /// once they are granted.
    fn remote_up(&mut self, c: &Client) -> JoinHandle<()> {
        self.remote_link += 1;
        self.last_delay = None;
        let (host, port) = &self.cfg.addresses[self.index % self.cfg.addresses.len()];
        self.log(
            LogTypes::NOTICE,
            format_args!("Bridge {} connected to {host}:{port}", self.cfg.name),
        );
        self.subscribe_remote(c)
    }

    /// Subscribe to the `in` topics on the remote, after unsubscribing from the
    /// `out`-only ones a kept session may still have (`bridge_attempt_unsubscribe`),
    /// then publish "1" there (`notifications`). In a task of its own: messages
    /// may come before the SUBACK, and are read meanwhile.
    fn subscribe_remote(&self, c: &Client) -> JoinHandle<()> {
        let topics = &self.cfg.topics;
        let filters: Vec<SubscribeFilter> = topics
            .iter()
            .filter(|t| t.direction.inward())
            .map(|t| filter(t.remote_filter(), t.qos))
            .collect();
        let stale: Vec<String> = if self.cfg.attempt_unsubscribe && !self.cfg.cleansession {
            topics
                .iter()
                .filter(|t| !t.direction.inward())
                .map(|t| t.remote_filter())
                .collect()
        } else {
            Vec::new()
        };
        let up = (self.cfg.notifications && !self.cfg.notifications_local_only)
            .then(|| state_message(&self.cfg.state_topic(), true));
        let (client, state, name) = (c.clone(), self.state.clone(), self.cfg.name.clone());
        tokio::spawn(async move {
            if !stale.is_empty() {
                let _ = client.unsubscribe(stale, Properties::default()).await;
            }
            if !filters.is_empty() {
                let r = client.subscribe(filters, Properties::default()).await;
                report_suback(&state, &name, "remote", r);
            }
            if let Some(m) = up {
                // Not waited for: its acknowledgement comes among the messages.
                let _ = client.start_publish(m).await;
            }
        })
    }

    /// A connection attempt failed.
    fn remote_failed(&mut self, e: &client::Error) -> Remote {
        let (host, port) = self.cfg.addresses[self.index % self.cfg.addresses.len()].clone();
        if let client::Error::ConnectionRefused { reason, .. } = e
            && *reason == ReasonCode::UNSUPPORTED_PROTOCOL_VERSION
            && self.try_private
        {
            // The remote does not know bridges (try_private): as an ordinary client.
            self.log(
                LogTypes::NOTICE,
                format_args!(
                    "Bridge {}: {host}:{port} refused try_private; connecting as a client",
                    self.cfg.name
                ),
            );
            self.try_private = false;
            return self.connect_remote();
        }
        self.log(
            LogTypes::WARNING,
            format_args!(
                "Warning: bridge {}: cannot connect to {host}:{port}: {e}",
                self.cfg.name
            ),
        );
        self.index += 1;
        self.retry_later()
    }

    /// The remote connection was lost: what was in flight to it is sent again
    /// once it is back, in order.
    async fn remote_lost(
        &mut self,
        rc: &mut Option<Client>,
        why: &str,
        failed: Option<Forward>,
    ) -> Remote {
        *rc = None;
        self.log(
            LogTypes::NOTICE,
            format_args!("Bridge {} disconnected: {why}", self.cfg.name),
        );
        let mut again: VecDeque<Forward> = failed.into_iter().collect();
        let drained = tokio::time::timeout(LOST_WAIT, async {
            while let Some((mut f, r)) = self.out.flight.next().await {
                if r.is_ok() {
                    // Taken by the remote: acknowledged in its turn.
                    f.publish = None;
                }
                again.push_back(f);
            }
        })
        .await;
        if drained.is_err() {
            self.out.flight = FuturesOrdered::new();
        }
        again.extend(self.out.queue.drain(..));
        self.out.queue = again;
        self.notify_local(false);
        self.index += 1;
        self.retry_later()
    }

    fn retry_later(&mut self) -> Remote {
        if self.cfg.start_type == StartType::Once {
            return Remote::Finished;
        }
        Remote::Down(Instant::now() + self.next_delay())
    }

    /// Stopping: "0" on both sides, then DISCONNECT.
    async fn stop_remote(&mut self, local: &Client, remote: Option<Client>) {
        if let Some(c) = remote {
            if self.cfg.notifications && !self.cfg.notifications_local_only {
                let m = state_message(&self.cfg.state_topic(), false);
                let _ = tokio::time::timeout(STOP_WAIT, c.publish(m)).await;
            }
            let _ = tokio::time::timeout(STOP_WAIT, c.disconnect()).await;
            if self.cfg.notifications {
                let m = state_message(&self.cfg.state_topic(), false);
                let _ = tokio::time::timeout(STOP_WAIT, local.start_publish(m)).await;
            }
        }
    }
}

/// What one turn of [`Link::serve`] got.
pub(super) enum Step {
    Stop,
    Local(Option<Event>),
    Remote(Publish),
    RemoteConnected(Client, Events),
    RemoteFailed(client::Error),
    RemoteLost(String),
    RemoteDue,
    Idle,
    Subscribed,
    OutStarted(Result<PublishToken, client::Error>),
    InStarted(Result<PublishToken, client::Error>),
    OutDone(Forward, Result<Ack, client::Error>),
    InDone(Forward, Result<Ack, client::Error>),
}

/// The end of a task, if there is one.
async fn joined(task: &mut Option<JoinHandle<()>>) {
    match task {
        Some(t) => {
            let _ = t.await;
        }
        None => std::future::pending().await,
    }
}

/// Log a refused bridge subscription.
fn report_suback(
    state: &State,
    name: &str,
    side: &str,
    r: Result<crate::protocol::SubAck, client::Error>,
) {
    match r {
        Ok(ack) if ack.reason_codes.iter().any(|c| c.is_error()) => blog!(
            state.log,
            LogTypes::WARNING,
            "Warning: bridge {name}: the {side} broker refused a subscription ({:?})",
            ack.reason_codes
        ),
        Ok(_) => {}
        Err(e) => blog!(
            state.log,
            LogTypes::WARNING,
            "Warning: bridge {name}: cannot subscribe on the {side} broker: {e}"
        ),
    }
}
