//! One task per connection: the publisher and subscriber event loops. Each runs a
//! single `select!` over its own socket (read, write and produce), so no channel or
//! lock sits on the message path; counters are updated in batches.

use super::load::LoadPlan;
use super::payload::Header;
use super::raw::{BenchWrite, ConnError, RawConn};
use super::report::Live;
use super::stats::{Latency, SeqTracker};
use super::template::{Clock, PublishTemplate, TopicTemplate};
use crate::protocol::{self, Ack, ByteStr, Disconnect, Packet, Publish, QoS};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
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

pub(super) struct Ctx {
    pub(super) plan: LoadPlan,
    pub(super) topic: TopicTemplate,
    pub(super) run_id: u32,
    pub(super) clock: Clock,
    pub(super) live: Arc<Live>,
    /// Messages claimed by publishers (for `--limit`).
    pub(super) claimed: AtomicU64,
    /// Messages received by all subscribers (for `--limit` in `sub`).
    pub(super) received_total: AtomicU64,
    /// Set when `sub` reached its limit.
    pub(super) limit_reached: watch::Sender<bool>,
    /// First and last receive time, µs since `t0`.
    pub(super) first_recv_us: AtomicU64,
    pub(super) last_recv_us: AtomicU64,
    pub(super) t0: Instant,
    /// In `pubsub`, messages of other runs are foreign.
    pub(super) own_run_only: bool,
}

#[derive(Default)]
pub(super) struct WorkerResult {
    pub(super) connected: bool,
    pub(super) connect_us: Option<u64>,
    pub(super) sent: u64,
    pub(super) acked: u64,
    pub(super) received: u64,
    pub(super) foreign: u64,
    pub(super) ack_latency: Latency,
    pub(super) latency: Latency,
    /// Publisher index -> sent count (publishers only).
    pub(super) published: Option<(u64, u64)>,
    pub(super) trackers: HashMap<u64, SeqTracker>,
    pub(super) errors: BTreeMap<String, u64>,
}

impl WorkerResult {
    fn error(&mut self, live: &Live, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
        Live::add(&live.errors, 1);
    }
}

pub(super) fn sleep_until(t: Instant) -> tokio::time::Sleep {
    tokio::time::sleep_until(tokio::time::Instant::from_std(t))
}

pub(super) async fn run_publisher(
    ctx: Arc<Ctx>,
    index: u32,
    stop: watch::Receiver<bool>,
) -> WorkerResult {
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
    let needs_flush = wr.needs_flush();
    let mut unflushed = false;

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
            r = write_or_flush(&mut wr, &wbuf), if !wbuf.is_empty() || unflushed => {
                let n = r?;
                if n == 0 {
                    unflushed = false;
                } else {
                    wbuf.advance(n);
                    last_send = Instant::now();
                    unflushed = needs_flush;
                }
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
            if let Some(limit) = plan.limit
                && ctx.claimed.fetch_add(1, Ordering::Relaxed) >= limit
            {
                exhausted = true;
                deadline = deadline.min(Instant::now() + plan.drain);
                break;
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

pub(super) async fn run_subscriber(
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
    let needs_flush = wr.needs_flush();
    let mut unflushed = false;
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
            r = write_or_flush(&mut wr, &wbuf), if !wbuf.is_empty() || unflushed => {
                let n = r?;
                if n == 0 {
                    unflushed = false;
                } else {
                    wbuf.advance(n);
                    last_send = Instant::now();
                    unflushed = needs_flush;
                }
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

/// Write some of `buf`; with nothing left to write, flush what the transport holds
/// back (see [`BenchWrite::needs_flush`]) and return 0. A write of 0 bytes from a
/// non-empty buffer is an error, so 0 always means "flushed".
async fn write_or_flush(wr: &mut BenchWrite<'_>, buf: &[u8]) -> std::io::Result<usize> {
    if buf.is_empty() {
        wr.flush().await?;
        return Ok(0);
    }
    match wr.write(buf).await? {
        0 => Err(std::io::ErrorKind::WriteZero.into()),
        n => Ok(n),
    }
}
