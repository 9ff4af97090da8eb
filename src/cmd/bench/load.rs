//! The load modes `pub`, `sub` and `pubsub`: one task per connection, each running a
//! single-threaded event loop over its own socket (read, write and produce in one
//! `select!`), so no channel or lock sits on the message path. Workers batch their
//! counter updates; the orchestrator ramps connections, stops the run at `--limit`,
//! `--duration` or Ctrl-C, drains what is in flight, and merges the results.

use super::payload::{HEADER_LEN, Header};
use super::raw::{ConnError, RawConn, Target};
use super::report::{
    Connections, Live, Messages, Rates, SCHEMA, Sample, Summary, progress, version_name,
};
use super::stats::{Delivery, Latency, SeqTracker};
use crate::protocol::{
    self, Ack, ByteStr, Disconnect, Packet, ProtocolVersion, Publish, QoS, topic,
};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// Stop producing when this much is waiting to be written.
const HIGH_WATER: usize = 64 * 1024;
/// Most messages produced in one step before the loop looks at the socket again.
const BATCH: usize = 512;
/// Lateness of a paced send that is blamed on the timer, not on the broker: tokio
/// timers round deadlines up to 1 ms ticks and the driver parks in whole milliseconds,
/// so a message due at t is written up to ~2 ms later even when nothing pushes back.
/// A message written at most this late is timed from the moment it was written; a
/// later one from its intended time plus this slack.
const TIMER_SLACK_NS: u64 = 2_000_000;

/// Everything a load run needs, already validated.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// `pub`, `sub` or `pubsub`.
    pub mode: &'static str,
    /// Broker and connection parameters.
    pub target: Target,
    /// Publishing connections.
    pub publishers: u32,
    /// Subscribing connections.
    pub subscribers: u32,
    /// Publish topic template (`%i`, `%c`, `%s`).
    pub topic: String,
    /// Subscription filter.
    pub sub_filter: String,
    /// QoS of publishes and subscriptions.
    pub qos: QoS,
    /// Publish with the retain flag.
    pub retain: bool,
    /// Payload size (at least [`HEADER_LEN`]).
    pub size: usize,
    /// Interval between two messages of one publisher (None = as fast as possible).
    pub interval: Option<Duration>,
    /// The total rate that interval was derived from, for the summary.
    pub target_rate: Option<f64>,
    /// Maximum unacknowledged QoS 1/2 messages per publisher.
    pub inflight: u16,
    /// Stop after this many messages (published for pub/pubsub, received for sub).
    pub limit: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// New connections per second (None = all at once).
    pub conn_rate: Option<f64>,
    /// Longest wait for acknowledgements and deliveries after the stop.
    pub drain: Duration,
    /// No progress output.
    pub quiet: bool,
    /// Notified once every subscriber has its SUBACK (or failed), before any publisher
    /// starts: lets a caller (a test) act between the two phases.
    pub ready: Option<Arc<tokio::sync::Notify>>,
}

/// A wall clock read through the monotonic clock: one Unix-epoch anchor taken at start,
/// then `Instant` differences, so timestamps never jump backwards inside a run.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base: Instant,
    base_unix_ns: u64,
}

impl Clock {
    /// Anchor now.
    pub fn new() -> Clock {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Clock {
            base: Instant::now(),
            base_unix_ns: unix,
        }
    }

    /// Nanoseconds since the Unix epoch at `t`.
    pub fn at(&self, t: Instant) -> u64 {
        let since = t.saturating_duration_since(self.base).as_nanos() as u64;
        self.base_unix_ns + since
    }

    /// Nanoseconds since the Unix epoch now.
    pub fn now_ns(&self) -> u64 {
        self.at(Instant::now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// A random-enough 32-bit id for this run, without a random-number crate: the std
/// hasher is randomly keyed per process.
pub fn run_id() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish() as u32
}

/// A topic template: `%i` client index, `%c` client id, `%s` message sequence, `%%`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicTemplate {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Lit(String),
    Index,
    ClientId,
    Seq,
}

impl TopicTemplate {
    /// Parse a template; an unknown `%x` is an error.
    pub fn parse(s: &str) -> Result<TopicTemplate, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            let p = match chars.next() {
                Some('i') => Part::Index,
                Some('c') => Part::ClientId,
                Some('s') => Part::Seq,
                Some('%') => {
                    lit.push('%');
                    continue;
                }
                Some(o) => {
                    return Err(format!(
                        "unknown placeholder %{o} in topic '{s}' (use %i, %c, %s)"
                    ));
                }
                None => return Err(format!("topic '{s}' ends with a lone %")),
            };
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(p);
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        let t = TopicTemplate { parts };
        topic::validate_name(&t.render(0, "c", 0))
            .map_err(|e| format!("invalid topic '{s}': {e}"))?;
        Ok(t)
    }

    /// Whether the topic changes with every message.
    pub fn has_seq(&self) -> bool {
        self.parts.contains(&Part::Seq)
    }

    /// The topic for one message.
    pub fn render(&self, index: u32, client_id: &str, seq: u64) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => s.push_str(l),
                Part::Index => s.push_str(&index.to_string()),
                Part::ClientId => s.push_str(client_id),
                Part::Seq => s.push_str(&seq.to_string()),
            }
        }
        s
    }

    /// The filter that matches every topic of the template: each level holding a
    /// placeholder becomes `+` (`bench/%i` -> `bench/+`).
    pub fn matching_filter(template: &str) -> String {
        template
            .split('/')
            .map(|l| if l.contains('%') { "+" } else { l })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// A PUBLISH encoded once by the codec; each message copies it and patches the
/// payload header (and packet identifier) in place.
pub struct PublishTemplate {
    bytes: Bytes,
    payload_off: usize,
    pid_off: Option<usize>,
}

impl PublishTemplate {
    /// Encode the template for a fixed topic.
    pub fn new(
        topic: &str,
        qos: QoS,
        retain: bool,
        size: usize,
        version: ProtocolVersion,
    ) -> Result<PublishTemplate, protocol::Error> {
        let publish = Publish {
            qos,
            retain,
            topic: ByteStr::from(topic),
            packet_id: if qos == QoS::AtMostOnce { 0 } else { 1 },
            payload: Bytes::from(vec![0u8; size]),
            ..Publish::default()
        };
        let mut b = BytesMut::new();
        protocol::encode(&Packet::Publish(publish), version, &mut b)?;
        let payload_off = b.len() - size;
        // Variable header: topic, packet identifier (QoS > 0), properties (5.0: an
        // empty block is one zero byte) [MQTT-3.3.2].
        let props = usize::from(version.is_v5());
        let pid_off = (qos != QoS::AtMostOnce).then(|| payload_off - props - 2);
        Ok(PublishTemplate {
            bytes: b.freeze(),
            payload_off,
            pid_off,
        })
    }

    /// Append one message.
    pub fn append(&self, out: &mut BytesMut, header: &Header, packet_id: u16) {
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        header.write(&mut out[start + self.payload_off..]);
        if let Some(o) = self.pid_off {
            out[start + o..start + o + 2].copy_from_slice(&packet_id.to_be_bytes());
        }
    }
}

struct Ctx {
    plan: LoadPlan,
    topic: TopicTemplate,
    run_id: u32,
    clock: Clock,
    live: Arc<Live>,
    /// Messages claimed by publishers (for `--limit`).
    claimed: AtomicU64,
    /// Messages received by all subscribers (for `--limit` in `sub`).
    received_total: AtomicU64,
    /// Set when `sub` reached its limit.
    limit_reached: watch::Sender<bool>,
    /// First and last receive time, µs since `t0`.
    first_recv_us: AtomicU64,
    last_recv_us: AtomicU64,
    t0: Instant,
    /// In `pubsub`, messages of other runs are foreign.
    own_run_only: bool,
}

#[derive(Default)]
struct WorkerResult {
    connected: bool,
    connect_us: Option<u64>,
    sent: u64,
    acked: u64,
    received: u64,
    foreign: u64,
    ack_latency: Latency,
    latency: Latency,
    /// Publisher index -> sent count (publishers only).
    published: Option<(u64, u64)>,
    trackers: HashMap<u64, SeqTracker>,
    errors: BTreeMap<String, u64>,
}

impl WorkerResult {
    fn error(&mut self, live: &Live, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
        Live::add(&live.errors, 1);
    }
}

fn sleep_until(t: Instant) -> tokio::time::Sleep {
    tokio::time::sleep_until(tokio::time::Instant::from_std(t))
}

async fn run_publisher(ctx: Arc<Ctx>, index: u32, stop: watch::Receiver<bool>) -> WorkerResult {
    let mut res = WorkerResult::default();
    let client_id = format!("{}p{index}", ctx.plan.target.client_id_prefix);
    let conn = match RawConn::connect(&ctx.plan.target, &client_id).await {
        Ok(c) => c,
        Err(e) => {
            res.error(&ctx.live, e.kind());
            return res;
        }
    };
    res.connected = true;
    res.connect_us = Some(conn.connect_time.as_micros() as u64);
    Live::add(&ctx.live.connected, 1);
    if let Err(e) = publish_loop(&ctx, index, &client_id, conn, stop, &mut res).await {
        res.error(&ctx.live, e.kind());
    }
    ctx.live.connected.fetch_sub(1, Ordering::Relaxed);
    let key = (u64::from(ctx.run_id) << 32) | u64::from(index);
    res.published = Some((key, res.sent));
    res
}

async fn publish_loop(
    ctx: &Ctx,
    index: u32,
    client_id: &str,
    mut conn: RawConn,
    mut stop: watch::Receiver<bool>,
    res: &mut WorkerResult,
) -> Result<(), ConnError> {
    let plan = &ctx.plan;
    let version = conn.version;
    let qos0 = plan.qos == QoS::AtMostOnce;
    let mut window = usize::from(plan.inflight.max(1));
    if let Some(rm) = conn.connack.properties.receive_maximum {
        window = window.min(usize::from(rm.max(1)));
    }
    let template = if ctx.topic.has_seq() {
        None
    } else {
        let t = ctx.topic.render(index, client_id, 0);
        Some(PublishTemplate::new(
            &t,
            plan.qos,
            plan.retain,
            plan.size,
            version,
        )?)
    };
    let mut rbuf = std::mem::take(&mut conn.rbuf);
    let mut wbuf = BytesMut::with_capacity(HIGH_WATER * 2);
    let mut inflight: Vec<u64> = if qos0 { Vec::new() } else { vec![0; 65536] };
    let mut inflight_n = 0usize;
    let mut next_pid: u16 = 0;
    let mut seq: u64 = 0;
    let interval_ns = plan.interval.map(|d| d.as_nanos().max(1) as u64);
    // Spread paced publishers over one interval so they do not all fire together.
    let stagger = interval_ns.map_or(0, |iv| {
        iv.saturating_mul(u64::from(index)) / u64::from(plan.publishers.max(1))
    });
    let start = Instant::now() + Duration::from_nanos(stagger);
    let keep_alive = Duration::from_secs(u64::from(plan.target.keep_alive));
    let mut last_send = Instant::now();
    let mut stopping = false;
    let mut exhausted = false;
    let mut deadline = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let (mut rd, mut wr) = conn.stream.split();

    loop {
        let finishing = stopping || exhausted;
        if finishing && wbuf.is_empty() && inflight_n == 0 {
            break;
        }
        if finishing && Instant::now() >= deadline {
            if inflight_n > 0 {
                *res.errors
                    .entry("unacknowledged at stop".into())
                    .or_default() += inflight_n as u64;
                Live::add(&ctx.live.errors, inflight_n as u64);
            }
            break;
        }
        let can_produce = !finishing && wbuf.len() < HIGH_WATER && (qos0 || inflight_n < window);
        let next_due = match interval_ns {
            Some(iv) => start + Duration::from_nanos(iv.saturating_mul(seq)),
            None => Instant::now(),
        };
        let ping_at = last_send + keep_alive;
        let mut produce = false;
        tokio::select! {
            biased;
            r = rd.read_buf(&mut rbuf) => {
                if r? == 0 {
                    return Err(ConnError::Closed);
                }
                let now_ns = ctx.clock.now_ns();
                let mut acked = 0u64;
                while let Some(p) = protocol::decode(&mut rbuf, version, 0)? {
                    match p {
                        Packet::PubAck(a) | Packet::PubComp(a) => {
                            let Some(sent_ns) = inflight.get_mut(usize::from(a.packet_id)).filter(|t| **t != 0).map(std::mem::take) else {
                                res.error(&ctx.live, "ack for an unknown packet identifier".into());
                                continue;
                            };
                            inflight_n -= 1;
                            acked += 1;
                            res.ack_latency.record_ns(now_ns.saturating_sub(sent_ns));
                            if a.reason.is_error() {
                                res.error(&ctx.live, format!("publish refused: {}", a.reason));
                            }
                        }
                        Packet::PubRec(a) => {
                            if a.reason.is_error() {
                                if let Some(t) = inflight.get_mut(usize::from(a.packet_id)).filter(|t| **t != 0) {
                                    *t = 0;
                                    inflight_n -= 1;
                                }
                                res.error(&ctx.live, format!("publish refused: {}", a.reason));
                            } else {
                                protocol::encode(&Packet::PubRel(Ack::new(a.packet_id)), version, &mut wbuf)?;
                            }
                        }
                        Packet::Disconnect(d) => return Err(ConnError::Disconnected(d.reason)),
                        _ => {}
                    }
                }
                res.acked += acked;
                Live::add(&ctx.live.acked, acked);
            }
            r = wr.write(&wbuf), if !wbuf.is_empty() => {
                let n = r?;
                wbuf.advance(n);
                last_send = Instant::now();
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                deadline = deadline.min(Instant::now() + plan.drain);
            }
            _ = sleep_until(next_due), if can_produce && interval_ns.is_some() => produce = true,
            _ = std::future::ready(()), if can_produce && interval_ns.is_none() => produce = true,
            _ = sleep_until(ping_at), if !keep_alive.is_zero() => {
                protocol::encode(&Packet::PingReq, version, &mut wbuf)?;
                last_send = Instant::now();
            }
            _ = sleep_until(deadline), if finishing => {}
        }
        if !produce {
            continue;
        }
        // An unpaced producer is always ready: spend the task's cooperative budget so
        // it yields to the other connections (its own subscribers included) instead of
        // starving them.
        tokio::task::consume_budget().await;
        let now = Instant::now();
        let now_ns = ctx.clock.at(now);
        let mut produced = 0u64;
        while produced < BATCH as u64 && wbuf.len() < HIGH_WATER && (qos0 || inflight_n < window) {
            let due = match interval_ns {
                Some(iv) => {
                    let d = start + Duration::from_nanos(iv.saturating_mul(seq));
                    if d > now {
                        break;
                    }
                    Some(d)
                }
                None => None,
            };
            if let Some(limit) = plan.limit {
                if ctx.claimed.fetch_add(1, Ordering::Relaxed) >= limit {
                    exhausted = true;
                    deadline = deadline.min(Instant::now() + plan.drain);
                    break;
                }
            }
            let header = Header {
                run_id: ctx.run_id,
                publisher: index,
                seq,
                // Paced: the intended send time, so a stalled sender shows up as
                // latency (no coordinated omission) — less the timer's own lateness
                // (up to TIMER_SLACK_NS), which is not the broker's doing.
                timestamp_ns: due.map_or(now_ns, |d| {
                    now_ns.min(ctx.clock.at(d).saturating_add(TIMER_SLACK_NS))
                }),
            };
            let mut pid = 0u16;
            if !qos0 {
                loop {
                    next_pid = next_pid.wrapping_add(1).max(1);
                    if inflight[usize::from(next_pid)] == 0 {
                        break;
                    }
                }
                pid = next_pid;
                inflight[usize::from(pid)] = now_ns.max(1);
                inflight_n += 1;
            }
            match &template {
                Some(t) => t.append(&mut wbuf, &header, pid),
                None => {
                    let mut payload = vec![0u8; plan.size];
                    header.write(&mut payload);
                    let p = Publish {
                        qos: plan.qos,
                        retain: plan.retain,
                        topic: ByteStr::from(ctx.topic.render(index, client_id, seq)),
                        packet_id: pid,
                        payload: Bytes::from(payload),
                        ..Publish::default()
                    };
                    protocol::encode(&Packet::Publish(p), version, &mut wbuf)?;
                }
            }
            seq += 1;
            produced += 1;
        }
        res.sent += produced;
        Live::add(&ctx.live.sent, produced);
        if qos0 {
            res.acked += produced;
            Live::add(&ctx.live.acked, produced);
        }
    }
    let _ = protocol::encode(
        &Packet::Disconnect(Disconnect::default()),
        version,
        &mut wbuf,
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), wr.write_all(&wbuf)).await;
    let _ = wr.shutdown().await;
    Ok(())
}

async fn run_subscriber(
    ctx: Arc<Ctx>,
    index: u32,
    stop: watch::Receiver<bool>,
    ready: mpsc::Sender<()>,
) -> WorkerResult {
    let mut res = WorkerResult::default();
    let client_id = format!("{}s{index}", ctx.plan.target.client_id_prefix);
    let conn = match RawConn::connect(&ctx.plan.target, &client_id).await {
        Ok(c) => c,
        Err(e) => {
            res.error(&ctx.live, e.kind());
            let _ = ready.send(()).await;
            return res;
        }
    };
    res.connected = true;
    res.connect_us = Some(conn.connect_time.as_micros() as u64);
    Live::add(&ctx.live.connected, 1);
    if let Err(e) = subscribe_loop(&ctx, conn, stop, ready, &mut res).await {
        res.error(&ctx.live, e.kind());
    }
    ctx.live.connected.fetch_sub(1, Ordering::Relaxed);
    res
}

async fn subscribe_loop(
    ctx: &Ctx,
    mut conn: RawConn,
    mut stop: watch::Receiver<bool>,
    ready: mpsc::Sender<()>,
    res: &mut WorkerResult,
) -> Result<(), ConnError> {
    let plan = &ctx.plan;
    let sub = conn
        .subscribe(
            &[(plan.sub_filter.clone(), plan.qos)],
            plan.target.connect_timeout,
        )
        .await;
    let _ = ready.send(()).await;
    let ack = sub?;
    if let Some(code) = ack.reason_codes.first().filter(|c| c.is_error()) {
        return Err(ConnError::Protocol(format!("subscription refused: {code}")));
    }
    let version = conn.version;
    let mut rbuf = std::mem::take(&mut conn.rbuf);
    let mut pending: Vec<Packet> = conn.pending.drain(..).collect();
    let mut wbuf = BytesMut::new();
    let keep_alive = Duration::from_secs(u64::from(plan.target.keep_alive));
    let mut last_send = Instant::now();
    let mut lat_batch: Vec<u64> = Vec::new();
    let (mut rd, mut wr) = conn.stream.split();
    loop {
        if !pending.is_empty() || !rbuf.is_empty() {
            let now_ns = ctx.clock.now_ns();
            let mut got = 0u64;
            let mut packets = std::mem::take(&mut pending);
            while let Some(p) = protocol::decode(&mut rbuf, version, 0)? {
                packets.push(p);
            }
            for p in packets {
                match p {
                    Packet::Publish(p) => {
                        match Header::read(&p.payload)
                            .filter(|h| !ctx.own_run_only || h.run_id == ctx.run_id)
                        {
                            Some(h) => {
                                res.trackers
                                    .entry(h.publisher_key())
                                    .or_default()
                                    .observe(h.seq);
                                let lat = now_ns.saturating_sub(h.timestamp_ns);
                                res.latency.record_ns(lat);
                                lat_batch.push(lat);
                                got += 1;
                            }
                            None => res.foreign += 1,
                        }
                        match p.qos {
                            QoS::AtMostOnce => {}
                            QoS::AtLeastOnce => protocol::encode(
                                &Packet::PubAck(Ack::new(p.packet_id)),
                                version,
                                &mut wbuf,
                            )?,
                            QoS::ExactlyOnce => protocol::encode(
                                &Packet::PubRec(Ack::new(p.packet_id)),
                                version,
                                &mut wbuf,
                            )?,
                        }
                    }
                    Packet::PubRel(a) => protocol::encode(
                        &Packet::PubComp(Ack::new(a.packet_id)),
                        version,
                        &mut wbuf,
                    )?,
                    Packet::Disconnect(d) => return Err(ConnError::Disconnected(d.reason)),
                    _ => {}
                }
            }
            if got > 0 {
                res.received += got;
                Live::add(&ctx.live.received, got);
                if let Ok(mut l) = ctx.live.interval_latency.lock() {
                    for v in lat_batch.drain(..) {
                        l.record_ns(v);
                    }
                }
                lat_batch.clear();
                let t = ctx.t0.elapsed().as_micros() as u64;
                ctx.first_recv_us.fetch_min(t, Ordering::Relaxed);
                ctx.last_recv_us.fetch_max(t, Ordering::Relaxed);
                let total = ctx.received_total.fetch_add(got, Ordering::Relaxed) + got;
                if plan.mode == "sub" && plan.limit.is_some_and(|l| total >= l) {
                    ctx.limit_reached.send_replace(true);
                }
            }
        }
        let ping_at = last_send + keep_alive;
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            r = rd.read_buf(&mut rbuf) => {
                if r? == 0 {
                    return Err(ConnError::Closed);
                }
            }
            r = wr.write(&wbuf), if !wbuf.is_empty() => {
                wbuf.advance(r?);
                last_send = Instant::now();
            }
            _ = sleep_until(ping_at), if !keep_alive.is_zero() => {
                protocol::encode(&Packet::PingReq, version, &mut wbuf)?;
                last_send = Instant::now();
            }
        }
    }
    let _ = protocol::encode(
        &Packet::Disconnect(Disconnect::default()),
        version,
        &mut wbuf,
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), wr.write_all(&wbuf)).await;
    let _ = wr.shutdown().await;
    Ok(())
}

/// Start `n` workers at `rate` per second (all at once without a rate), stopping the
/// ramp early when `stop` turns true.
async fn ramp<F, Fut>(
    n: u32,
    rate: Option<f64>,
    mut stop: watch::Receiver<bool>,
    mut spawn: F,
) -> Vec<tokio::task::JoinHandle<WorkerResult>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = WorkerResult> + Send + 'static,
{
    let begin = Instant::now();
    let mut handles = Vec::with_capacity(n as usize);
    for i in 0..n {
        if let Some(r) = rate {
            let at = begin + Duration::from_secs_f64(f64::from(i) / r);
            tokio::select! {
                _ = sleep_until(at) => {}
                _ = stop.changed() => break,
            }
        }
        if *stop.borrow() {
            break;
        }
        handles.push(tokio::spawn(spawn(i)));
    }
    handles
}

/// Resolves once every task has ended (every subscriber failed or was disconnected).
async fn all_finished(handles: &[tokio::task::JoinHandle<WorkerResult>]) {
    while !handles.iter().all(|h| h.is_finished()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn join_all(handles: Vec<tokio::task::JoinHandle<WorkerResult>>) -> Vec<WorkerResult> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        match h.await {
            Ok(r) => out.push(r),
            Err(e) => {
                let mut r = WorkerResult::default();
                r.errors.insert(format!("worker failed: {e}"), 1);
                out.push(r);
            }
        }
    }
    out
}

/// Run a load and return its summary and per-second samples. `interrupt` resolving
/// (Ctrl-C) stops the run as `--duration` would.
pub async fn run_load<I>(plan: LoadPlan, interrupt: I) -> Result<(Summary, Vec<Sample>), String>
where
    I: Future<Output = ()>,
{
    if plan.publishers > 0 && plan.size < HEADER_LEN {
        return Err(format!(
            "--size must be at least {HEADER_LEN} bytes (the sequence and timestamp header)"
        ));
    }
    let topic = TopicTemplate::parse(&plan.topic)?;
    if plan.subscribers > 0 {
        topic::validate_filter(&plan.sub_filter)
            .map_err(|e| format!("invalid filter '{}': {e}", plan.sub_filter))?;
    }
    let (limit_tx, mut limit_rx) = watch::channel(false);
    let t0 = Instant::now();
    let ctx = Arc::new(Ctx {
        topic,
        run_id: run_id(),
        clock: Clock::new(),
        live: Arc::new(Live::default()),
        claimed: AtomicU64::new(0),
        received_total: AtomicU64::new(0),
        limit_reached: limit_tx,
        first_recv_us: AtomicU64::new(u64::MAX),
        last_recv_us: AtomicU64::new(0),
        t0,
        own_run_only: plan.mode == "pubsub",
        plan,
    });
    let plan = &ctx.plan;
    let (done_tx, done_rx) = watch::channel(false);
    let reporter = tokio::spawn(progress(ctx.live.clone(), t0, plan.quiet, done_rx));
    let (sub_stop_tx, sub_stop_rx) = watch::channel(false);
    let (pub_stop_tx, pub_stop_rx) = watch::channel(false);
    tokio::pin!(interrupt);
    let mut interrupted = false;

    // 1. Subscribers first, and wait until each has its SUBACK (or failed).
    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(plan.subscribers.max(1) as usize);
    let sub_handles = {
        let c = ctx.clone();
        let stop = sub_stop_rx.clone();
        let ready = ready_tx.clone();
        ramp(
            plan.subscribers,
            plan.conn_rate,
            pub_stop_rx.clone(),
            move |i| run_subscriber(c.clone(), i, stop.clone(), ready.clone()),
        )
        .await
    };
    drop(ready_tx);
    let mut ready_count = 0usize;
    while ready_count < sub_handles.len() {
        tokio::select! {
            r = ready_rx.recv() => match r { Some(()) => ready_count += 1, None => break },
            _ = &mut interrupt => { interrupted = true; break; }
        }
    }

    if let Some(n) = &plan.ready {
        n.notify_one();
    }

    // 2. Publishers, ramped, in their own task so the stop conditions are watched
    // meanwhile.
    let load_start = Instant::now();
    let publishers = {
        let c = ctx.clone();
        let n = if interrupted { 0 } else { plan.publishers };
        let rate = plan.conn_rate;
        let ramp_stop = pub_stop_rx.clone();
        let worker_stop = pub_stop_rx.clone();
        tokio::spawn(async move {
            let h = ramp(n, rate, ramp_stop, move |i| {
                run_publisher(c.clone(), i, worker_stop.clone())
            })
            .await;
            join_all(h).await
        })
    };
    tokio::pin!(publishers);
    let far = Duration::from_secs(100 * 365 * 24 * 3600);
    let end_at = load_start + plan.duration.unwrap_or(far);
    let mut stopped_by;
    let mut pub_results = None;
    if interrupted {
        stopped_by = "interrupt";
    } else {
        tokio::select! {
            r = &mut publishers, if plan.publishers > 0 => {
                pub_results = Some(r.unwrap_or_default());
                stopped_by = if plan.limit.is_some() { "limit" } else { "completed" };
            }
            _ = sleep_until(end_at) => stopped_by = "duration",
            _ = &mut interrupt => stopped_by = "interrupt",
            _ = limit_rx.wait_for(|v| *v) => stopped_by = "limit",
            _ = all_finished(&sub_handles), if plan.publishers == 0 => stopped_by = "completed",
        }
    }
    pub_stop_tx.send_replace(true);
    let pub_results = match pub_results {
        Some(r) => r,
        None => publishers.await.unwrap_or_default(),
    };
    let pub_end = Instant::now();

    // 3. pubsub: wait until every subscriber has everything, or nothing arrives for a
    // second, or the drain time is up.
    let sent: u64 = pub_results.iter().map(|r| r.sent).sum();
    if plan.subscribers > 0 && plan.publishers > 0 {
        let expected = sent.saturating_mul(ready_count as u64);
        let deadline = Instant::now() + plan.drain;
        let mut last = (ctx.received_total.load(Ordering::Relaxed), Instant::now());
        while Instant::now() < deadline {
            let got = ctx.received_total.load(Ordering::Relaxed);
            if got >= expected {
                break;
            }
            if got != last.0 {
                last = (got, Instant::now());
            } else if last.1.elapsed() > Duration::from_secs(1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    sub_stop_tx.send_replace(true);
    let sub_results = join_all(sub_handles).await;
    let end = if plan.publishers > 0 {
        pub_end
    } else {
        Instant::now()
    };
    done_tx.send_replace(true);
    let samples = reporter.await.unwrap_or_default();

    // 4. Merge.
    let mut connections = Connections::default();
    let mut connect = Latency::new();
    let mut messages = Messages::default();
    let mut ack_latency = Latency::new();
    let mut latency = Latency::new();
    let mut errors = BTreeMap::new();
    let mut published: HashMap<u64, u64> = HashMap::new();
    for r in pub_results.iter().chain(sub_results.iter()) {
        connections.attempted += 1;
        if r.connected {
            connections.succeeded += 1;
        } else {
            connections.failed += 1;
        }
        if let Some(us) = r.connect_us {
            connect.record_us(us);
        }
        messages.sent += r.sent;
        messages.acked += r.acked;
        messages.received += r.received;
        messages.foreign += r.foreign;
        ack_latency.merge(&r.ack_latency);
        latency.merge(&r.latency);
        for (k, v) in &r.errors {
            *errors.entry(k.clone()).or_default() += v;
        }
        if let Some((k, n)) = r.published {
            published.insert(k, n);
        }
    }
    let delivery = (plan.subscribers > 0).then(|| {
        let mut d = Delivery::default();
        for r in sub_results.iter().filter(|r| r.connected) {
            for (k, t) in &r.trackers {
                d.add(t, published.get(k).copied());
            }
            if plan.mode == "pubsub" {
                // Publishers this subscriber never heard from at all.
                for (k, n) in &published {
                    if !r.trackers.contains_key(k) {
                        d.lost += n;
                    }
                }
            }
        }
        d
    });
    let duration = end.duration_since(load_start).as_secs_f64().max(1e-9);
    let recv_span = if plan.mode == "sub" {
        let (f, l) = (
            ctx.first_recv_us.load(Ordering::Relaxed),
            ctx.last_recv_us.load(Ordering::Relaxed),
        );
        if f < l {
            (l - f) as f64 / 1e6
        } else {
            duration
        }
    } else {
        let l = ctx.last_recv_us.load(Ordering::Relaxed) as f64 / 1e6
            - load_start.duration_since(t0).as_secs_f64();
        l.max(duration)
    };
    let rates = Rates {
        sent_per_s: messages.sent as f64 / duration,
        acked_per_s: messages.acked as f64 / duration,
        received_per_s: messages.received as f64 / recv_span.max(1e-9),
    };
    if connections.succeeded == 0 && connections.attempted > 0 {
        stopped_by = "failed";
    }
    let mut notes = Vec::new();
    if plan.mode == "sub" {
        notes.push(
            "lost counts gaps in each publisher's sequence, including messages sent before this subscriber joined; messages after the last one received cannot be known here".to_string(),
        );
    }
    let summary = Summary {
        schema: SCHEMA,
        mode: plan.mode,
        broker: plan.target.display(),
        protocol: version_name(plan.target.version),
        qos: Some(plan.qos.as_u8()),
        payload_bytes: (plan.publishers > 0).then_some(plan.size),
        publishers: u64::from(plan.publishers),
        subscribers: u64::from(plan.subscribers),
        target_rate_per_s: plan.target_rate,
        duration_s: (duration * 1000.0).round() / 1000.0,
        stopped_by,
        connections: Connections {
            connect_us: connect.summary(),
            ..connections
        },
        messages,
        rates,
        delivery,
        latency_us: latency.summary(),
        ack_latency_us: ack_latency.summary(),
        errors,
        notes,
    };
    Ok((summary, samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_templates() {
        let t = TopicTemplate::parse("bench/%i/%c/%s/100%%").expect("valid template");
        assert_eq!(t.render(3, "cid", 42), "bench/3/cid/42/100%");
        assert!(t.has_seq());
        assert!(TopicTemplate::parse("bench/%x").is_err());
        assert!(
            TopicTemplate::parse("bench/#").is_err(),
            "wildcards are not topic names"
        );
        assert_eq!(TopicTemplate::matching_filter("bench/%i"), "bench/+");
        assert_eq!(TopicTemplate::matching_filter("a/x%c/b"), "a/+/b");
    }

    #[test]
    fn template_encoding_matches_the_codec() {
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                let t = PublishTemplate::new("bench/7", qos, true, 40, version).expect("encodes");
                let h = Header {
                    run_id: 9,
                    publisher: 7,
                    seq: 5,
                    timestamp_ns: 77,
                };
                let mut fast = BytesMut::new();
                t.append(&mut fast, &h, 0x1234);
                let mut payload = vec![0u8; 40];
                h.write(&mut payload);
                let p = Publish {
                    qos,
                    retain: true,
                    topic: ByteStr::from("bench/7"),
                    packet_id: if qos == QoS::AtMostOnce { 0 } else { 0x1234 },
                    payload: Bytes::from(payload),
                    ..Publish::default()
                };
                let mut slow = BytesMut::new();
                protocol::encode(&Packet::Publish(p), version, &mut slow).expect("encodes");
                assert_eq!(fast, slow, "{version:?} {qos:?}");
            }
        }
    }
}
