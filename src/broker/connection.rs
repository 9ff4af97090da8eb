//! One client connection, in one task: wait for CONNECT (with a timeout), then run
//! the reader (decode, handle) and the writer (drain control packets and the
//! session queue into one buffer per wake-up, one write per batch) side by side, and
//! finally tear down: will message (with its delay), session expiry, log line.
//!
//! Buffers are allocated on demand: the read buffer only once the socket is
//! readable, the write buffer only while there is something to write; both are
//! released when idle, so an idle connection costs its session and little else.

use super::connect::{self, ConnInfo, Refusal};
use super::inbound::{Exit, Inbound, Wait, Why};
use super::log::LogTypes;
use super::origin::Origin;
use super::session::{OutAliases, encode_for_client, lock};
use super::state::State;
use super::stats::{DropReason, LocalHistogram};
use super::transport::PacketRead;
use crate::protocol::{
    self, ConnAck, Disconnect, Packet, ProtocolVersion, ReasonCode, Will, decode,
};
use bytes::BytesMut;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// A batch is flushed once it reaches this size.
const WRITE_BUDGET: usize = 64 * 1024;
/// Buffers larger than this are released after use.
const KEEP_BUFFER: usize = 4 * 1024;
/// First read into an empty buffer.
const READ_FIRST: usize = 1024;
/// Later reads, while a packet is incomplete or several arrive at once: at most this
/// much more at a time, and no more than the packet still needs.
const READ_MORE: usize = 16 * 1024;
/// The same before CONNECT, so that connections that never complete one cost little.
const READ_MORE_CONNECT: usize = 4 * 1024;
/// The read buffer grows when less than this is free.
const READ_MIN_SPARE: usize = 512;
/// The reader yields to other tasks after this many packets in a row. Each yield
/// lets the subscribers' writers send what it routed, one write each: at 32, a
/// fan-out to 8 subscribers made 8 writes of about 2 KB per 32 messages, and the
/// kernel's wake-ups of the readers bounded it (1.4 M deliveries/s here); at 256 it
/// reached 2.7 M, and fan-in rose too, with latency at 1000 msg/s unchanged. 256
/// small packets take a few hundred microseconds, so the other tasks still wait
/// little; 1024 gave no more.
const YIELD_EVERY: u32 = 256;
/// How long a closing connection may take to flush its last packets.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a connection the broker closes keeps discarding the client's input
/// after its last packet (see [`drain`]).
const DRAIN_TIME: Duration = Duration::from_secs(1);
/// After a takeover, how long the old connection waits for more of what the client
/// had sent before the new CONNECT: enough for readiness the runtime has not
/// reported yet, short enough not to delay the new connection noticeably.
const TAKEOVER_GRACE: Duration = Duration::from_millis(10);
/// The same while the broker shuts down, so shutdown stays quick.
const DRAIN_TIME_AT_SHUTDOWN: Duration = Duration::from_millis(200);
/// Most routing times a writer keeps room for between batches.
const KEEP_ROUTED: usize = 1024;
/// Most bytes discarded while draining.
const DRAIN_BYTES: usize = 1 << 20;

/// Read until one packet is decoded. `Ok(None)` on end of stream. The buffer grows
/// by at most `grow` bytes at a time.
#[allow(clippy::manual_async_fn)] // an `async fn` would store its arguments twice
fn read_packet(
    state: &State,
    rd: &mut impl PacketRead,
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max: usize,
    grow: usize,
) -> impl Future<Output = Result<Option<Packet>, Exit>> {
    async move {
        loop {
            match decode(buf, version, max) {
                Ok(Some(p)) => {
                    state
                        .stats
                        .messages_received
                        .fetch_add(1, Ordering::Relaxed);
                    if buf.is_empty() && buf.capacity() > KEEP_BUFFER {
                        *buf = BytesMut::new();
                    }
                    return Ok(Some(p));
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(Exit::Protocol(e.reason_code(), Why::Decode(e)));
                }
            }
            // An idle connection holds no read buffer.
            if buf.is_empty() && buf.capacity() > 0 {
                *buf = BytesMut::new();
            }
            // Start small, since most packets are and decoded packets share this
            // allocation (a retained message or a will would pin it); grow once a read
            // leaves a partial packet, by no more than the packet still needs.
            let reserve = |buf: &mut BytesMut| {
                if buf.capacity() - buf.len() < READ_MIN_SPARE {
                    buf.reserve(if buf.is_empty() {
                        READ_FIRST
                    } else {
                        protocol::frame_len(buf).map_or(grow, |total| {
                            total.saturating_sub(buf.len()).clamp(READ_MIN_SPARE, grow)
                        })
                    });
                }
            };
            match rd.read_more(buf, reserve).await {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    state
                        .stats
                        .bytes_received
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Exit::Io(e.to_string())),
            }
        }
    }
}

/// Serve one accepted connection to the end, over any transport: `rd` and `wr` are
/// the halves of its stream, `origin` the client's address and its listener (boxed:
/// it is needed only until CONNACK, and its room in the task would stay); `held`
/// is dropped when the connection is over (the listener's count of open connections
/// and its connection limit).
///
/// This future is most of what an idle connection costs, so its size is watched:
/// it is an `async` block rather than an `async fn`, whose arguments the compiler
/// stores twice (as arguments and as the body's locals), and it is what the
/// connection's task runs, with no wrapper future around it.
#[allow(clippy::manual_async_fn)] // an `async fn` would store its arguments twice
pub fn serve<R: PacketRead, W: AsyncWrite + Unpin + Send, H: Send>(
    state: Arc<State>,
    mut rd: R,
    mut wr: W,
    origin: Box<Origin>,
    held: H,
) -> impl Future<Output = ()> + Send {
    async move {
        // Captured, and so kept, until the connection is over.
        let _held = &held;
        if state.log.connections(LogTypes::NOTICE) {
            state.log.log(
                LogTypes::NOTICE,
                format_args!(
                    "New connection from {} on port {}.",
                    origin.peer, origin.listener.port
                ),
            );
        }
        let mut rbuf = BytesMut::new();
        // Boxed: the handshake's future is large, and needed only until CONNACK; inline,
        // it would be part of every connection's task for the connection's lifetime.
        // It takes the origin's box, which is freed with it (moved out of here, the box
        // would be freed only when this task ends).
        let Some(mut info) = Box::pin(handshake(&state, &mut rd, &mut wr, &mut rbuf, origin)).await
        else {
            return;
        };
        let will = info.will.take();

        let writer = write_loop(&state, &info, &mut wr);
        tokio::pin!(writer);
        let mut writer_done = false;
        let exit = {
            let mut inbound = Inbound::new(&state, &info);
            let handling = AtomicBool::new(false);
            let exit = {
                let reader = read_loop(&state, &info, &mut inbound, &mut rd, &mut rbuf, &handling);
                tokio::pin!(reader);
                tokio::select! {
                    exit = &mut reader => {
                        let reason = match &exit {
                            Exit::Protocol(rc, _) => Some(*rc),
                            Exit::KeepAlive => Some(ReasonCode::KEEP_ALIVE_TIMEOUT),
                            _ => None,
                        };
                        info.link.close(reason);
                        exit
                    }
                    () = &mut writer => {
                        writer_done = true;
                        finish_handling(&state, &handling, &mut reader).await;
                        Exit::Closed
                    }
                    // Closed by the broker (takeover) while the writer may be stuck on a
                    // client that does not read: stop reading it too [MQTT-3.1.4-3].
                    () = info.link.closing.notified() => {
                        finish_handling(&state, &handling, &mut reader).await;
                        Exit::Closed
                    }
                    () = super::state::stopping(&state) => {
                        info.link.close(Some(ReasonCode::SERVER_SHUTTING_DOWN));
                        Exit::Closed
                    }
                }
            };
            if exit == Exit::Closed && info.link.is_taken_over() {
                Box::pin(finish_received(
                    &state,
                    &info,
                    &mut inbound,
                    &mut rd,
                    &mut rbuf,
                ))
                .await
            } else {
                exit
            }
        };
        let broker_closed = matches!(exit, Exit::Protocol(..) | Exit::KeepAlive | Exit::Closed);
        // Boxed: its future is large and only needed once, at the end.
        Box::pin(teardown(&state, &info, will, exit)).await;
        // The writer sends what is queued and the DISCONNECT, if any, within a bounded
        // time: a client that does not read cannot hold the connection open.
        if !writer_done {
            let _ = tokio::time::timeout(FLUSH_TIMEOUT, &mut writer).await;
        }
        if broker_closed {
            Box::pin(drain(&state, &mut rd, &mut rbuf)).await;
        }
    }
}

/// After a takeover, handle what the client had already sent on this connection
/// before the session passes to the new one (see [`takeover`](super::takeover)):
/// the packets in the read buffer and those that arrive within
/// [`TAKEOVER_GRACE`], for at most [`DRAIN_TIME`] in all. A DISCONNECT among them
/// deletes the will [MQTT-3.1.2-10] and may end the session.
async fn finish_received(
    state: &State,
    info: &ConnInfo,
    inbound: &mut Inbound<'_>,
    rd: &mut impl PacketRead,
    rbuf: &mut BytesMut,
) -> Exit {
    let deadline = tokio::time::Instant::now() + DRAIN_TIME;
    loop {
        if tokio::time::Instant::now() >= deadline {
            return Exit::Closed;
        }
        let next = read_packet(state, rd, rbuf, info.version, info.max_packet_in, READ_MORE);
        let read = match tokio::time::timeout(TAKEOVER_GRACE, next).await {
            Ok(read) => read,
            // Nothing more had been received.
            Err(_) => return Exit::Closed,
        };
        match handle(inbound, read) {
            Ok(None) => {}
            Ok(Some(wait)) => {
                let limit = deadline + state.config().queue_wait;
                match tokio::time::timeout_at(limit, wait).await {
                    Ok(Ok(())) => {}
                    Ok(Err(exit)) => return exit,
                    Err(_) => return Exit::Closed,
                }
            }
            Err(exit) => return exit,
        }
    }
}

/// Let a reader that is in the middle of a packet (a message waiting for room in
/// subscriber queues) finish it before the connection closes, so the message is not
/// half delivered: a resent copy would not be routed again [MQTT-4.3.3-10]. The
/// reader stops by itself after that packet (its link is closed), within the
/// backpressure deadline.
async fn finish_handling(
    state: &State,
    handling: &AtomicBool,
    reader: &mut (impl Future<Output = Exit> + Unpin),
) {
    if handling.load(Ordering::Acquire) {
        let limit = state.config().queue_wait + FLUSH_TIMEOUT;
        let _ = tokio::time::timeout(limit, reader).await;
    }
}

/// Wait for the CONNECT (within the connect timeout) and accept or refuse it:
/// `None` when the connection is over.
async fn handshake(
    state: &Arc<State>,
    rd: &mut impl PacketRead,
    wr: &mut (impl AsyncWrite + Unpin),
    rbuf: &mut BytesMut,
    origin: Box<Origin>,
) -> Option<ConnInfo> {
    let max_in = state.max_packet_in();

    // The first packet must be a CONNECT [MQTT-3.1.0-1], within the connect timeout.
    let first = tokio::select! {
        r = tokio::time::timeout(
            state.config().connect_timeout,
            read_packet(state, rd, rbuf, ProtocolVersion::V311, max_in, READ_MORE_CONNECT),
        ) => r,
        () = super::state::stopping(state) => return None,
    };
    let connect = match first {
        Ok(Ok(Some(Packet::Connect(c)))) => c,
        Ok(Err(Exit::Protocol(rc, why))) => {
            // Unsupported protocol level: CONNACK 0x01 (3.1.1) before closing
            // [MQTT-3.1.2-2].
            let refused = rc == ReasonCode::UNSUPPORTED_PROTOCOL_VERSION;
            connect::log_bad_connect(state, &origin.peer, rc, &why);
            if refused {
                let mut out = BytesMut::new();
                let ack = Packet::ConnAck(ConnAck {
                    reason: rc,
                    ..ConnAck::default()
                });
                let _ = protocol::encode(&ack, ProtocolVersion::V311, &mut out);
                let _ = wr.write_all(&out).await;
                let _ = wr.shutdown().await;
            }
            if refused {
                drain(state, rd, rbuf).await;
            }
            return None;
        }
        Ok(Ok(Some(_))) => {
            state.log.connection(format_args!(
                "Client <unknown> disconnected due to protocol error."
            ));
            return None;
        }
        Ok(Ok(None)) | Ok(Err(_)) => {
            state
                .log
                .connection(format_args!("Client <unknown> closed its connection."));
            return None;
        }
        Err(_) => {
            state.log.connection(format_args!(
                "Client <unknown> has exceeded timeout, disconnecting."
            ));
            return None;
        }
    };
    let version = connect.protocol;
    let client_max = connect::client_max_packet_size(&connect);
    let mut out = BytesMut::new();
    match connect::accept(state, *connect, &origin).await {
        Ok(info) => return Some(info),
        Err(Refusal::ConnAck(mut ack)) => {
            if !version.is_v5() {
                ack.properties = Default::default();
            }
            // Without its Reason String if that would make it too large for the
            // client [MQTT-3.2.2-19]; not at all if it still is [MQTT-3.1.2-24].
            encode_for_client(&Packet::ConnAck(*ack), version, client_max, &mut out);
        }
        Err(Refusal::Close) => {}
    }
    let _ = wr.write_all(&out).await;
    let _ = wr.shutdown().await;
    drain(state, rd, rbuf).await;
    None
}

/// Close gracefully once the write half is shut down: discard what the client still
/// sends until it closes, for at most [`DRAIN_TIME`] and [`DRAIN_BYTES`]. Closing a
/// socket with unread input makes the kernel reset the connection, which can
/// destroy the last packets (a DISCONNECT with its reason code) before the client
/// reads them.
async fn drain(state: &State, rd: &mut impl PacketRead, buf: &mut BytesMut) {
    let limit = if *state.shutdown.borrow() {
        DRAIN_TIME_AT_SHUTDOWN
    } else {
        DRAIN_TIME
    };
    let deadline = tokio::time::Instant::now() + limit;
    let mut left = DRAIN_BYTES;
    buf.clear();
    while left > 0 {
        let reserve = |buf: &mut BytesMut| {
            if buf.capacity() < 1024 {
                buf.reserve(4 * 1024);
            }
        };
        match tokio::time::timeout_at(deadline, rd.read_more(buf, reserve)).await {
            Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            _ => return,
        }
        buf.clear();
    }
}

/// Handle what [`read_packet`] returned: end of stream is [`Exit::Eof`]. Nothing
/// is handled once the broker closes the connection, but for a takeover: what the
/// client sent before it is handled before the new connection goes on.
fn handle<'a>(
    inbound: &'a mut Inbound<'_>,
    read: Result<Option<Packet>, Exit>,
) -> Result<Option<Wait<'a>>, Exit> {
    if !inbound.info.link.handles_more() {
        return Err(Exit::Closed);
    }
    match read {
        Ok(Some(p)) => inbound.handle(p),
        Ok(None) => Err(Exit::Eof),
        Err(e) => Err(e),
    }
}

#[allow(clippy::manual_async_fn)] // an `async fn` would store its arguments twice
fn read_loop(
    state: &State,
    info: &ConnInfo,
    inbound: &mut Inbound<'_>,
    rd: &mut impl PacketRead,
    rbuf: &mut BytesMut,
    handling: &AtomicBool,
) -> impl Future<Output = Exit> {
    async move {
        let mut handled: u32 = 0;
        // Keep alive: close after 1.5 times the interval without a packet [MQTT-3.1.2-24].
        let mut keep_alive =
            (info.keep_alive > 0).then(|| KeepAlive::new(u32::from(info.keep_alive) * 1500));
        loop {
            // A connection the broker closes reads nothing more (after a takeover,
            // `finish_received` handles what had arrived) [MQTT-3.1.4-3].
            if info.link.closed.load(Ordering::Acquire) {
                return Exit::Closed;
            }
            let next = read_packet(state, rd, rbuf, info.version, info.max_packet_in, READ_MORE);
            // The packet is handled within the match, so that no decoded packet is kept
            // in this future's state across an await.
            let handled_now = match &mut keep_alive {
                Some(k) => match k.guard(std::pin::pin!(next)).await {
                    Some(r) => {
                        k.received();
                        handle(inbound, r)
                    }
                    None => return Exit::KeepAlive,
                },
                None => handle(inbound, next.await),
            };
            match handled_now {
                Ok(None) => {}
                Ok(Some(wait)) => {
                    // The keep alive runs on while handling waits: a client that stops
                    // reading makes the broker stop reading it, and then must not hold
                    // its connection for ever [MQTT-3.1.2-24].
                    handling.store(true, Ordering::Release);
                    let done = match &mut keep_alive {
                        Some(k) => match k.guard(std::pin::pin!(wait)).await {
                            Some(r) => r,
                            None => return Exit::KeepAlive,
                        },
                        None => wait.await,
                    };
                    handling.store(false, Ordering::Release);
                    if let Err(exit) = done {
                        return exit;
                    }
                }
                Err(exit) => return exit,
            }
            // Fairness: a publisher flooding a full read buffer must not keep the worker
            // thread from the subscribers' writers for long.
            handled += 1;
            if handled.is_multiple_of(YIELD_EVERY) {
                tokio::task::yield_now().await;
            }
        }
    }
}

/// The keep-alive deadline of a connection: one timer for the connection's life,
/// moved on only when it fires. A timeout around each read put an entry into the
/// runtime's timer wheel and took it out again for every packet; now a packet
/// costs one clock read.
///
/// Kept small, since it lives in every connection's task: the grace and the time
/// of the last packet are milliseconds, the latter counted from when the timer was
/// last set (its deadline less the grace).
struct KeepAlive {
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    grace_ms: u32,
    /// The last packet, in milliseconds after the timer was set, rounded up: the
    /// deadline is never early.
    last_ms: u32,
}

impl KeepAlive {
    fn new(grace_ms: u32) -> Self {
        let grace = Duration::from_millis(u64::from(grace_ms));
        KeepAlive {
            timer: Box::pin(tokio::time::sleep(grace)),
            grace_ms,
            last_ms: 0,
        }
    }

    fn grace(&self) -> Duration {
        Duration::from_millis(u64::from(self.grace_ms))
    }

    /// A packet arrived: the grace starts again from now.
    fn received(&mut self) {
        let now = tokio::time::Instant::now();
        // The deadline is at least the grace after the runtime's start.
        let set = self
            .timer
            .deadline()
            .checked_sub(self.grace())
            .unwrap_or(now);
        let since = now.saturating_duration_since(set);
        self.last_ms = u32::try_from(since.as_micros().div_ceil(1000)).unwrap_or(u32::MAX);
    }

    /// When the grace since the last packet ends.
    fn due(&self) -> tokio::time::Instant {
        self.timer.deadline() + Duration::from_millis(u64::from(self.last_ms))
    }

    /// Run `fut` to its end, or `None` once the grace has passed since the last
    /// packet. (A hand-written future: an `async fn` with `select!` here made
    /// every connection's task 300 bytes larger.)
    fn guard<F: Future + Unpin>(&mut self, fut: F) -> Guarded<'_, F> {
        Guarded {
            fut,
            keep_alive: self,
        }
    }
}

/// See [`KeepAlive::guard`].
struct Guarded<'a, F> {
    fut: F,
    keep_alive: &'a mut KeepAlive,
}

impl<F: Future + Unpin> Future for Guarded<'_, F> {
    type Output = Option<F::Output>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.get_mut();
        if let std::task::Poll::Ready(r) = std::pin::Pin::new(&mut this.fut).poll(cx) {
            return std::task::Poll::Ready(Some(r));
        }
        let k = &mut *this.keep_alive;
        // Fired: over if no packet came within the grace, else moved on to the new
        // deadline (and polled again, to be woken then).
        while k.timer.as_mut().poll(cx).is_ready() {
            let due = k.due();
            if tokio::time::Instant::now() >= due {
                return std::task::Poll::Ready(None);
            }
            k.timer.as_mut().reset(due);
            k.last_ms = 0;
        }
        std::task::Poll::Pending
    }
}

#[allow(clippy::manual_async_fn)] // an `async fn` would store its arguments twice
fn write_loop(
    state: &State,
    info: &ConnInfo,
    wr: &mut (impl AsyncWrite + Unpin),
) -> impl Future<Output = ()> {
    async move {
        let link = &info.link;
        let session = &info.session;
        let mut aliases = OutAliases::default();
        let mut buf = BytesMut::new();
        let log = &state.log;
        let debug = log.enabled(LogTypes::DEBUG);
        // The last store operation of this session the writer waited for.
        let mut stored = 0;
        // When the messages of the batch were routed, for the delivery latency.
        let mut routed: Vec<Instant> = Vec::new();
        loop {
            link.wake.notified().await;
            loop {
                let (close, sent, more, durable) = {
                    let mut st = lock(&session.state);
                    let close = {
                        let mut ob = lock(&link.outbox);
                        buf.extend_from_slice(&ob.control);
                        if ob.control.capacity() > KEEP_BUFFER {
                            ob.control = BytesMut::new();
                        } else {
                            ob.control.clear();
                        }
                        ob.close.take()
                    };
                    let current = st.is_attached(link.generation);
                    let (sent, more) = if close.is_none() && current && !st.is_ended() {
                        let mut on_send = |d: &super::session::Delivery, mid: u16, dup: bool| {
                            routed.extend(d.routed);
                            state
                                .stats
                                .publish_bytes_sent
                                .fetch_add(d.msg.len() as u64, Ordering::Relaxed);
                            if debug {
                                log.log(
                                LogTypes::DEBUG,
                                format_args!(
                                    "Sending PUBLISH to {} (d{}, q{}, r{}, m{}, '{}', ... ({} bytes))",
                                    info.client_id,
                                    u8::from(dup),
                                    d.qos.as_u8(),
                                    u8::from(d.retain),
                                    mid,
                                    d.msg.topic,
                                    d.msg.len()
                                ),
                            );
                            }
                        };
                        let filled = st.fill(
                            &info.caps,
                            &mut aliases,
                            &mut buf,
                            WRITE_BUDGET,
                            &mut on_send,
                        );
                        count_undelivered(state, st.take_undelivered());
                        filled
                    } else {
                        (0, false)
                    };
                    // A durable session's packet identifiers are committed before the
                    // packets go out: after a restart they are resent with the same
                    // identifiers and DUP, so the client sees no new message twice.
                    let durable = st.store().cloned().map(|s| (s, st.last_store_op()));
                    (close, sent, more, durable)
                };
                if let Some((store, op)) = durable
                    && op > stored
                {
                    // Boxed: only durable sessions wait, and every connection's task
                    // would otherwise carry room for this future.
                    if Box::pin(store.wait(op)).await.is_err() {
                        return;
                    }
                    stored = op;
                }
                if sent > 0 {
                    state
                        .stats
                        .publish_sent
                        .fetch_add(sent as u64, Ordering::Relaxed);
                    session.space.notify_waiters();
                }
                let close = close.or_else(|| {
                    let st = lock(&session.state);
                    (!st.is_attached(link.generation) || st.is_ended()).then_some(None)
                });
                if let Some(Some(rc)) = close {
                    encode_for_client(
                        &Packet::Disconnect(Disconnect::with_reason(rc)),
                        info.version,
                        info.caps.max_packet_size,
                        &mut buf,
                    );
                }
                if !buf.is_empty() {
                    // Flushed: a layered stream (WebSocket) sends its frame only then; for
                    // TCP it costs nothing.
                    if write_progressing(wr, &buf, link).await.is_err() || wr.flush().await.is_err()
                    {
                        return;
                    }
                    record_latencies(state, &mut routed);
                    state
                        .stats
                        .bytes_sent
                        .fetch_add(buf.len() as u64, Ordering::Relaxed);
                    state
                        .stats
                        .messages_sent
                        .fetch_add(sent as u64 + 1, Ordering::Relaxed);
                }
                if buf.capacity() > KEEP_BUFFER {
                    buf = BytesMut::new();
                } else {
                    buf.clear();
                }
                link.drained.notify_waiters();
                if close.is_some() {
                    let _ = wr.shutdown().await;
                    return;
                }
                if !more {
                    break;
                }
            }
        }
    }
}

/// Record the delivery latency of the messages just written (routed at the times
/// in `routed`, which is emptied): gathered here, merged into the shared histogram
/// at once, so a batch costs one atomic add per bucket it touches.
fn record_latencies(state: &State, routed: &mut Vec<Instant>) {
    if routed.is_empty() {
        return;
    }
    let now = Instant::now();
    let mut latency = LocalHistogram::default();
    for t in routed.drain(..) {
        latency.record(now.saturating_duration_since(t));
    }
    state.stats.delivery_latency.merge(&latency);
    if routed.capacity() > KEEP_ROUTED {
        *routed = Vec::new();
    }
}

/// Count what the writer left out of its batch: (expired, too large).
fn count_undelivered(state: &State, (expired, too_large): (u64, u64)) {
    if expired > 0 {
        state.stats.dropped(DropReason::Expired, expired);
    }
    if too_large > 0 {
        state.stats.dropped(DropReason::TooLarge, too_large);
    }
}

/// Write all of `buf`, marking the link's progress at each part the socket takes:
/// a subscriber that reads slowly makes progress, however long the whole batch
/// takes; only one that takes nothing for the grace is stuck.
async fn write_progressing(
    wr: &mut (impl AsyncWrite + Unpin),
    mut buf: &[u8],
    link: &super::session::Link,
) -> std::io::Result<()> {
    link.progressed();
    while !buf.is_empty() {
        let n = wr.write(buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
        link.progressed();
    }
    Ok(())
}

/// After the connection: session end or expiry [MQTT-3.1.2-23], will
/// [MQTT-3.1.2-8] (not after a normal DISCONNECT [MQTT-3.1.2-10]; after the Will
/// Delay Interval unless the session resumes [MQTT-3.1.3-9]), log line; then the
/// connection is marked finished for a takeover that waits for it.
async fn teardown(state: &Arc<State>, info: &ConnInfo, will: Option<Box<Will>>, exit: Exit) {
    let id = &info.client_id;
    let log = &state.log;
    let (current, expiry, attach_count) = detach(state, info);
    state.stats.client_disconnected();
    if let Exit::Protocol(_, why) = &exit {
        tracing::debug!("client {id} broke the protocol: {why}");
    }
    if log.connections(LogTypes::NOTICE) {
        // Like mosquitto, no line for a connection taken over by a new one with the
        // same client id or closed at shutdown.
        let quiet = !current
            || (exit == Exit::Closed && info.link.is_taken_over())
            || *state.shutdown.borrow();
        if let Some(line) = exit.log_line(id, quiet) {
            log.log(LogTypes::NOTICE, format_args!("{line}"));
        }
    }
    if current {
        if expiry == 0 {
            state.end_session(&info.session);
        } else if expiry != u32::MAX {
            let state = state.clone();
            let session = info.session.clone();
            tokio::spawn(async move {
                let delay = Duration::from_secs(u64::from(expiry));
                state.expire(&session, attach_count, delay).await;
            });
        }
    }
    let will = match exit {
        Exit::Disconnect { will: false } => None,
        _ => will,
    };
    let delayed = will.as_ref().is_some_and(|w| {
        w.properties.will_delay_interval.unwrap_or(0) > 0 && current && expiry > 0
    });
    if current && !delayed {
        // Deleted, or published now: a restart must not publish it again.
        lock(&info.session.state).store_will(None);
    }
    if let Some(will) = will {
        let delay = will.properties.will_delay_interval.unwrap_or(0);
        if delay == 0 || !current || expiry == 0 {
            // Taken over without waiting: a new connection arrived, so a delayed
            // will is cancelled.
            if delay == 0 || current {
                state
                    .publish_will(*will, id, (info.username.as_deref(), info.realm))
                    .await;
            }
        } else {
            lock(&info.session.state).set_will_pending(true);
            spawn_delayed_will(
                state.clone(),
                info.session.clone(),
                *will,
                (id.clone(), info.username.clone(), info.realm),
                attach_count,
                delay.min(expiry),
            );
        }
    }
    info.link.finish();
}

/// Detach the connection from its session under the session table's lock, where a
/// CONNECT claims sessions: a session that ends with its connection (expiry 0) is
/// marked ended in the same step, so no new connection resumes it in between
/// [MQTT-3.1.2-6]. Returns whether this was the session's connection, and the
/// session's expiry and attach count.
fn detach(state: &State, info: &ConnInfo) -> (bool, u32, u64) {
    let _table = lock(&state.sessions);
    let current = info.session.detach(info.link.generation);
    let mut st = lock(&info.session.state);
    if current && st.expiry() == 0 {
        st.mark_ended();
    }
    (current, st.expiry(), st.attach_count())
}

pub(super) fn spawn_delayed_will(
    state: Arc<State>,
    session: Arc<super::session::Session>,
    will: Will,
    (id, username, realm): (Arc<str>, Option<Arc<str>>, super::security::RealmId),
    attach_count: u64,
    delay: u32,
) {
    tokio::spawn(async move {
        // Due when the delay has passed or the session ends, whichever comes first
        // [MQTT-3.1.2-8] (a Clean Start reconnection ends it early); cancelled when
        // the session resumes (attached again, not ended) [MQTT-3.1.3-9].
        let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(delay));
        state
            .watch(&session, deadline, |s| {
                s.is_ended() || !s.will_pending() || s.attach_count() != attach_count
            })
            .await;
        let due = {
            let mut s = lock(&session.state);
            let resumed = s.attach_count() != attach_count && !s.is_ended();
            let pending = s.will_pending();
            s.set_will_pending(false);
            pending && !resumed
        };
        if due {
            state
                .publish_will(will, &id, (username.as_deref(), realm))
                .await;
            lock(&session.state).store_will(None);
        }
    });
}
