//! The event loop: one tokio task that owns the socket of a client connection.
//!
//! It reads and decodes packets, answers the server's QoS 1/2 flows, turns the
//! handles' requests into packets, keeps the connection alive with PINGREQ, and
//! (optionally) reconnects with backoff. Everything queued in one wake-up is encoded
//! into one buffer and written with one write. Every channel is bounded: a full event
//! stream stops the reading of the socket (nothing is acknowledged before it is
//! queued), and a full inflight window stops `start_publish`.

use super::handshake::{Established, our_max_packet_size};
use super::reconnect::fail_command;
use super::state::{AckReply, Awaiting, Outgoing, QueuedPublish, Session};
use super::transport::Transport;
use super::{Command, ConnectOptions, Direction, Error, Event};
use crate::protocol::{
    Ack, ByteStr, ConnAck, Disconnect, Packet, Publish, QoS, decode, encode, encoded_len,
};
use bytes::BytesMut;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::{Instant, timeout};

/// Requests handled per wake-up before the socket gets a turn.
const COMMAND_BATCH: usize = 64;
/// Above this many unwritten bytes, neither requests nor the socket are read until
/// the server takes some: the write buffer stays bounded.
const WRITE_HIGH_WATER: usize = 1 << 20;
/// An idle buffer larger than this is released.
const IDLE_BUFFER_MAX: usize = 64 * 1024;
/// Time allowed to write the final DISCONNECT.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Start the event loop task for an established connection.
pub(super) fn spawn(
    opts: ConnectOptions,
    first: Established,
    cmd_rx: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    window: Arc<Semaphore>,
    ended: super::EndedBy,
) {
    let ev = EventLoop {
        ended,
        our_max_packet: our_max_packet_size(&opts),
        topic_alias_max: if opts.version.is_v5() {
            opts.properties.topic_alias_maximum.unwrap_or(0)
        } else {
            0
        },
        opts,
        cmd_rx,
        events,
        events_closed: false,
        window,
        session: Session::default(),
        link: 0,
        offline: VecDeque::new(),
        receive_max: usize::from(u16::MAX),
        max_packet: 0,
        keep_alive: Duration::ZERO,
        aliases: HashMap::new(),
        wbuf: BytesMut::new(),
        need_flush: false,
        encoded: 0,
        qos0: VecDeque::new(),
        ping_sent: None,
        last_in: Instant::now(),
        last_out: Instant::now(),
        blocked: None,
        settle_waiters: Vec::new(),
    };
    tokio::spawn(ev.run(first));
}

/// How a connection ended (rare, so its size does not matter).
#[allow(clippy::large_enum_variant)]
enum Exit {
    /// Closed on request (or every handle was dropped).
    Done,
    /// Lost: the socket broke, the server misbehaved or disconnected us.
    Lost(Error),
}

/// An incoming message waiting for room in the event stream, with the acknowledgement
/// to send once it is queued.
pub(super) struct Blocked {
    pub(super) publish: Publish,
    pub(super) ack: Option<Packet>,
    pub(super) qos2_id: Option<u16>,
}

pub(super) struct EventLoop {
    pub(super) opts: ConnectOptions,
    pub(super) cmd_rx: mpsc::Receiver<Command>,
    pub(super) events: mpsc::Sender<Event>,
    /// The application dropped `Events`: messages are acknowledged and discarded
    /// (QoS 1 with `manual_ack`: discarded unacknowledged, so that a kept session
    /// gets them again on the next connection).
    pub(super) events_closed: bool,
    pub(super) window: Arc<Semaphore>,
    /// Set to the error that ended the connection for good (see [`super::EndedBy`]).
    pub(super) ended: super::EndedBy,
    pub(super) session: Session,
    /// Which connection this is: the number of connections lost before it (tells a
    /// late `manual_ack` acknowledgement from one for the current connection).
    pub(super) link: u64,
    /// Subscribe/unsubscribe requests received while reconnecting.
    pub(super) offline: VecDeque<Command>,
    pub(super) our_max_packet: usize,
    pub(super) topic_alias_max: u16,
    // Per connection:
    /// The server's Receive Maximum: QoS 1/2 publishes we may have unacknowledged.
    pub(super) receive_max: usize,
    /// The server's Maximum Packet Size, 0 = none.
    pub(super) max_packet: usize,
    pub(super) keep_alive: Duration,
    /// Topic aliases set by the server; never carried to the next connection
    /// [MQTT-3.3.2-7].
    pub(super) aliases: HashMap<u16, ByteStr>,
    pub(super) wbuf: BytesMut,
    pub(super) need_flush: bool,
    /// Bytes encoded on this connection (written = encoded - wbuf.len()).
    pub(super) encoded: u64,
    /// QoS 0 publishes waiting to be written: (end offset, reply).
    pub(super) qos0: VecDeque<(u64, AckReply)>,
    pub(super) ping_sent: Option<Instant>,
    pub(super) last_in: Instant,
    pub(super) last_out: Instant,
    pub(super) blocked: Option<Blocked>,
    /// `settle_incoming` callers waiting for `session.incoming_qos2` to empty.
    pub(super) settle_waiters: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl EventLoop {
    async fn run(mut self, first: Established) {
        let mut est = first;
        let mut reconnected = false;
        loop {
            self.start_link(&est.connack);
            if reconnected {
                let present = est.connack.session_present;
                self.resume(present);
                self.emit(Event::Reconnected {
                    session_present: present,
                })
                .await;
            }
            let exit = self.run_link(est.transport, est.rbuf).await;
            let err = match exit {
                Exit::Done => break,
                Exit::Lost(e) => e,
            };
            tracing::debug!("connection to {} lost: {err}", self.opts.server_display());
            self.link_lost(&err).await;
            self.link += 1;
            if let Error::ServerDisconnected(Some(d)) = &err {
                self.emit(Event::ServerDisconnect(d.clone())).await;
            }
            // A server that broke the protocol would break it again: no reconnect.
            let retry = !matches!(err, Error::Protocol(_));
            let Some(backoff) = self.opts.reconnect.clone().filter(|_| retry) else {
                self.shut(&err);
                self.emit(Event::Disconnected(err)).await;
                break;
            };
            self.emit(Event::Disconnected(err)).await;
            match self.reconnect(&backoff).await {
                Some(e) => est = e,
                None => break,
            }
            reconnected = true;
        }
    }

    /// Queue an event for the application, waiting for room.
    async fn emit(&mut self, event: Event) {
        if !self.events_closed && self.events.send(event).await.is_err() {
            self.events_closed = true;
        }
    }

    /// The connection is gone: unwritten QoS 0 messages fail, a message waiting for
    /// the event stream is still delivered (its acknowledgement is lost with the
    /// connection; a re-sent QoS 2 copy will be recognised).
    async fn link_lost(&mut self, err: &Error) {
        for (_, reply) in self.qos0.drain(..) {
            let _ = reply.send(Err(err.duplicate()));
        }
        if let Some(b) = self.blocked.take() {
            if let Some(id) = b.qos2_id {
                self.session.incoming_qos2.insert(id);
            }
            self.handed_over(b.publish.packet_id, b.publish.qos);
            self.emit(Event::Message(b.publish)).await;
        }
    }

    /// The client is finished: fail everything still waiting.
    pub(super) fn shut(&mut self, err: &Error) {
        if !matches!(err, Error::Closed) {
            *self.ended.lock().unwrap_or_else(|e| e.into_inner()) = Some(err.duplicate());
        }
        self.session.fail_all(err);
        for c in self.offline.drain(..) {
            fail_command(c, err);
        }
        self.window.close();
        self.cmd_rx.close();
    }

    /// Reset the per-connection state from a new CONNACK.
    fn start_link(&mut self, connack: &ConnAck) {
        let p = &connack.properties;
        self.receive_max = usize::from(p.receive_maximum.unwrap_or(u16::MAX).max(1));
        self.max_packet = p.maximum_packet_size.unwrap_or(0) as usize;
        // The server's keep alive replaces ours [MQTT-3.2.2-21].
        self.keep_alive = Duration::from_secs(u64::from(
            p.server_keep_alive.unwrap_or(self.opts.keep_alive),
        ));
        self.aliases.clear();
        self.wbuf.clear();
        self.need_flush = false;
        self.encoded = 0;
        self.ping_sent = None;
        self.last_in = Instant::now();
        self.last_out = Instant::now();
    }

    /// Drive one connection until it ends.
    async fn run_link(&mut self, transport: Transport, mut rbuf: BytesMut) -> Exit {
        let (mut rd, mut wr) = tokio::io::split(transport);
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        loop {
            if self.blocked.is_none()
                && let Err(e) = self.process(&mut rbuf)
            {
                return self.abort(&mut wr, e).await;
            }
            sleep.as_mut().reset(self.next_deadline());
            if rbuf.is_empty() && rbuf.capacity() > IDLE_BUFFER_MAX {
                rbuf = BytesMut::new();
            }
            if rbuf.capacity() - rbuf.len() < 1024 {
                rbuf.reserve(8 * 1024);
            }
            let events = &self.events;
            let congested = self.wbuf.len() >= WRITE_HIGH_WATER;
            tokio::select! {
                r = rd.read_buf(&mut rbuf), if self.blocked.is_none() && !congested => match r {
                    Ok(0) => return Exit::Lost(Error::ConnectionClosed),
                    Ok(_) => self.last_in = Instant::now(),
                    Err(e) => return Exit::Lost(self.io_error(e, "reading from")),
                },
                permit = async { events.clone().reserve_owned().await }, if self.blocked.is_some() => {
                    if let Some(b) = self.blocked.take() {
                        match permit {
                            Ok(p) => {
                                self.handed_over(b.publish.packet_id, b.publish.qos);
                                p.send(Event::Message(b.publish));
                            }
                            Err(_) => self.events_closed = true,
                        }
                        if let Err(e) = self.delivered(b.ack, b.qos2_id) {
                            return self.abort(&mut wr, e).await;
                        }
                    }
                }
                cmd = self.cmd_rx.recv(), if !congested => {
                    let mut next = cmd;
                    for _ in 0..COMMAND_BATCH {
                        match next {
                            None => return self.close(&mut wr, Disconnect::default(), None).await,
                            Some(Command::Disconnect { disconnect, reply }) => {
                                return self.close(&mut wr, disconnect, Some(reply)).await;
                            }
                            Some(c) => self.on_command(c),
                        }
                        match self.cmd_rx.try_recv() {
                            Ok(c) => next = Some(c),
                            Err(mpsc::error::TryRecvError::Empty) => break,
                            Err(mpsc::error::TryRecvError::Disconnected) => next = None,
                        }
                    }
                }
                r = flush_out(&mut wr, &mut self.wbuf), if self.need_flush => match r {
                    Ok(flushed) => {
                        self.need_flush = !flushed;
                        if flushed && self.wbuf.capacity() > IDLE_BUFFER_MAX {
                            self.wbuf = BytesMut::new();
                        }
                        self.last_out = Instant::now();
                        self.complete_qos0();
                    }
                    Err(e) => return Exit::Lost(self.io_error(e, "writing to")),
                },
                _ = &mut sleep => {
                    if let Err(e) = self.on_timer() {
                        return Exit::Lost(e);
                    }
                }
            }
        }
    }

    fn io_error(&self, e: io::Error, what: &str) -> Error {
        let kind = e.kind();
        match kind {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe => Error::ConnectionClosed,
            _ => Error::Io(io::Error::new(
                kind,
                format!("{what} {}: {e}", self.opts.host_port()),
            )),
        }
    }

    /// When the timer must fire next: PINGRESP deadline, or the keep alive.
    fn next_deadline(&self) -> Instant {
        if self.keep_alive.is_zero() {
            return Instant::now() + Duration::from_secs(3600);
        }
        match self.ping_sent {
            Some(t) => t + self.ping_timeout(),
            None => self.last_in.min(self.last_out) + self.keep_alive,
        }
    }

    /// How long a PINGRESP may take: half the keep alive, at least one second.
    fn ping_timeout(&self) -> Duration {
        (self.keep_alive / 2).max(Duration::from_secs(1))
    }

    /// Send PINGREQ when nothing went either way for the keep alive interval
    /// [MQTT-3.1.2-22] (3.1.1: [MQTT-3.1.2-23]); fail when its PINGRESP is late.
    fn on_timer(&mut self) -> Result<(), Error> {
        if self.keep_alive.is_zero() {
            return Ok(());
        }
        let now = Instant::now();
        if let Some(sent) = self.ping_sent {
            if now >= sent + self.ping_timeout() {
                if self.blocked.is_some() {
                    // We are not reading (the application is slow), so the PINGRESP
                    // may well be waiting in the socket: not the server's fault.
                    self.ping_sent = Some(now);
                } else {
                    return Err(Error::KeepAliveTimeout);
                }
            }
            return Ok(());
        }
        if now >= self.last_out + self.keep_alive || now >= self.last_in + self.keep_alive {
            self.send(&Packet::PingReq)?;
            self.ping_sent = Some(now);
        }
        Ok(())
    }

    /// Encode `packet` into the write buffer, refusing what exceeds the server's
    /// Maximum Packet Size [MQTT-3.2.2-15].
    pub(super) fn send(&mut self, packet: &Packet) -> Result<(), Error> {
        let v = self.opts.version;
        if self.max_packet > 0 {
            let size = encoded_len(packet, v);
            if size > self.max_packet {
                return Err(Error::PacketTooLarge {
                    size,
                    max: self.max_packet,
                });
            }
        }
        let before = self.wbuf.len();
        encode(packet, v, &mut self.wbuf).map_err(|e| {
            Error::Invalid(format!(
                "cannot encode {}: {e}",
                packet.packet_type().name()
            ))
        })?;
        self.encoded += (self.wbuf.len() - before) as u64;
        self.need_flush = true;
        if let Some(trace) = &self.opts.packet_trace {
            trace.call(Direction::Sent, packet);
        }
        Ok(())
    }

    fn complete_qos0(&mut self) {
        let written = self.encoded - self.wbuf.len() as u64;
        while self.qos0.front().is_some_and(|(end, _)| *end <= written) {
            if let Some((_, reply)) = self.qos0.pop_front() {
                let _ = reply.send(Ok(Ack::default()));
            }
        }
    }

    /// Handle a request from a handle.
    pub(super) fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Publish {
                publish,
                permit,
                reply,
            } => {
                if publish.qos == QoS::AtMostOnce {
                    let mut publish = publish;
                    publish.packet_id = 0;
                    publish.dup = false;
                    match self.send(&Packet::Publish(publish)) {
                        Ok(()) => self.qos0.push_back((self.encoded, reply)),
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                    }
                } else {
                    self.session.queued.push_back(QueuedPublish {
                        publish,
                        permit,
                        reply,
                    });
                    self.drain_queued();
                }
            }
            Command::Subscribe {
                mut subscribe,
                reply,
            } => {
                let Some(id) = self.session.alloc_id() else {
                    let _ = reply.send(Err(no_free_id()));
                    return;
                };
                subscribe.packet_id = id;
                match self.send(&Packet::Subscribe(subscribe.clone())) {
                    Ok(()) => self.session.insert(
                        id,
                        Outgoing::Subscribe {
                            subscribe,
                            reply: Some(reply),
                        },
                    ),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Unsubscribe {
                mut unsubscribe,
                reply,
            } => {
                let Some(id) = self.session.alloc_id() else {
                    let _ = reply.send(Err(no_free_id()));
                    return;
                };
                unsubscribe.packet_id = id;
                match self.send(&Packet::Unsubscribe(unsubscribe.clone())) {
                    Ok(()) => self.session.insert(
                        id,
                        Outgoing::Unsubscribe {
                            unsubscribe,
                            reply: Some(reply),
                        },
                    ),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Disconnect { reply, .. } => {
                // Handled by the loop; not reached.
                let _ = reply.send(Ok(()));
            }
            Command::Settle { reply } => {
                self.settle_waiters.push(reply);
                self.release_settled();
            }
            Command::Ack { packet_id } => self.app_acknowledged(packet_id),
        }
    }

    /// Answer the `settle_incoming` callers once no incoming QoS 2 message awaits
    /// its PUBREL.
    pub(super) fn release_settled(&mut self) {
        if self.session.incoming_qos2.is_empty() && self.blocked.is_none() {
            for w in self.settle_waiters.drain(..) {
                let _ = w.send(());
            }
        }
    }

    /// Send queued QoS 1/2 publishes while the server's Receive Maximum allows
    /// [MQTT-4.9.0-2].
    pub(super) fn drain_queued(&mut self) {
        while self.session.inflight < self.receive_max {
            let Some(q) = self.session.queued.pop_front() else {
                break;
            };
            let Some(id) = self.session.alloc_id() else {
                let _ = q.reply.send(Err(no_free_id()));
                continue;
            };
            let mut publish = q.publish;
            publish.packet_id = id;
            publish.dup = false;
            if let Err(e) = self.send(&Packet::Publish(publish.clone())) {
                let _ = q.reply.send(Err(e));
                continue;
            }
            let stage = if publish.qos == QoS::AtLeastOnce {
                Awaiting::PubAck
            } else {
                Awaiting::PubRec
            };
            self.session.insert(
                id,
                Outgoing::Publish {
                    publish,
                    stage,
                    reply: Some(q.reply),
                    _permit: q.permit,
                },
            );
        }
    }

    /// Decode and handle every complete packet in `rbuf` (until a delivery blocks).
    fn process(&mut self, rbuf: &mut BytesMut) -> Result<(), Error> {
        while self.blocked.is_none() {
            match decode(rbuf, self.opts.version, self.our_max_packet)? {
                Some(packet) => {
                    if let Some(trace) = &self.opts.packet_trace {
                        trace.call(Direction::Received, &packet);
                    }
                    self.on_packet(packet)?
                }
                None => break,
            }
        }
        Ok(())
    }

    /// A protocol error: tell a 5.0 server why (section 4.13.1), then drop the link.
    async fn abort<W: AsyncWrite>(&mut self, wr: &mut WriteHalf<W>, err: Error) -> Exit {
        if let Error::Protocol(e) = &err
            && self.opts.version.is_v5()
        {
            let _ = self.send(&Packet::Disconnect(Disconnect::with_reason(
                e.reason_code(),
            )));
            let _ = timeout(Duration::from_secs(1), write_all_out(wr, &mut self.wbuf)).await;
        }
        Exit::Lost(err)
    }

    /// Graceful close: DISCONNECT, flush, shut the socket down.
    async fn close<W: AsyncWrite>(
        &mut self,
        wr: &mut WriteHalf<W>,
        disconnect: Disconnect,
        reply: Option<tokio::sync::oneshot::Sender<Result<(), Error>>>,
    ) -> Exit {
        let mut result = self.send(&Packet::Disconnect(disconnect));
        if result.is_ok() {
            result = match timeout(CLOSE_TIMEOUT, write_all_out(wr, &mut self.wbuf)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(self.io_error(e, "writing to")),
                Err(_) => Err(Error::Timeout("sending DISCONNECT")),
            };
        }
        self.complete_qos0();
        let _ = timeout(Duration::from_secs(1), wr.shutdown()).await;
        self.shut(&Error::Closed);
        for (_, r) in self.qos0.drain(..) {
            let _ = r.send(Err(Error::Closed));
        }
        if let Some(r) = reply {
            let _ = r.send(result);
        }
        Exit::Done
    }
}

fn no_free_id() -> Error {
    Error::Invalid("no free packet identifier (65535 requests in flight)".to_string())
}

/// One write of everything buffered, then a flush once the buffer is empty. Returns
/// whether the flush happened. Cancel-safe: progress is kept in `wbuf`.
async fn flush_out<W: AsyncWrite>(wr: &mut WriteHalf<W>, wbuf: &mut BytesMut) -> io::Result<bool> {
    if !wbuf.is_empty() {
        let n = wr.write_buf(wbuf).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "socket closed"));
        }
    }
    if wbuf.is_empty() {
        wr.flush().await?;
        return Ok(true);
    }
    Ok(false)
}

async fn write_all_out<W: AsyncWrite>(
    wr: &mut WriteHalf<W>,
    wbuf: &mut BytesMut,
) -> io::Result<()> {
    while !flush_out(wr, wbuf).await? {}
    Ok(())
}
