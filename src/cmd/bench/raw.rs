//! A deliberately small MQTT connection driven directly by [`crate::protocol`]:
//! CONNECT/CONNACK, SUBSCRIBE/SUBACK, then the caller takes the socket and its read
//! buffer and runs its own event loop (see `load.rs`). No task, channel or lock stands
//! between the bench and the socket.
//!
//! Plain `mqtt://` (no `--unix`, `--proxy` or `-A`) is a bare [`TcpStream`]; every
//! other transport (TLS, WebSocket [MQTT-6.0.0-1], Unix socket, SOCKS5, bound source
//! address) is opened by [`crate::client::transport::connect`], the same code the
//! client uses, and carried boxed. [`BenchStream`] holds either, and splits each
//! variant its own way so the TCP path stays exactly as cheap as before.

use crate::client::transport::{self, Transport};
use crate::client::{ConnectOptions, Scheme};
use crate::protocol::{
    self, ConnAck, Connect, Packet, ProtocolVersion, QoS, ReasonCode, SubAck, Subscribe,
    SubscribeFilter, SubscriptionOptions,
};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp;

/// Where and how the load modes connect.
#[derive(Clone, Debug)]
pub struct Target {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Protocol version of every connection.
    pub version: ProtocolVersion,
    /// User name, if any.
    pub username: Option<String>,
    /// Password, if any.
    pub password: Option<Bytes>,
    /// Keep alive in seconds (0 = off); the event loops send PINGREQ when idle.
    pub keep_alive: u16,
    /// Prefix of the generated client identifiers.
    pub client_id_prefix: String,
    /// Time allowed for TCP connect + CONNECT/CONNACK.
    pub connect_timeout: Duration,
    /// `None`: plain TCP to `host:port` (the fast path). `Some`: open the transport
    /// these options describe (TLS, WebSocket, `--unix`, `--proxy`, `-A`) with the
    /// client layer; only their transport fields are used, the MQTT fields above win.
    pub transport: Option<ConnectOptions>,
}

impl Target {
    /// The target the client options describe. Plain `mqtt://` without `--unix`,
    /// `--proxy` or `-A` connects with a bare `TcpStream`; anything else goes through
    /// the client layer's transport. Client ids are `<id>-<n>`, or
    /// `mq-bench-<run id>-<n>` when the options have none.
    pub fn from_options(opts: ConnectOptions) -> Target {
        let prefix = if opts.client_id.is_empty() {
            format!("mq-bench-{:08x}-", super::template::run_id())
        } else {
            format!("{}-", opts.client_id)
        };
        let plain_tcp = opts.scheme == Scheme::Mqtt
            && opts.unix_socket.is_none()
            && opts.proxy.is_none()
            && opts.bind_address.is_none();
        Target {
            host: opts.host.clone(),
            port: opts.port,
            version: opts.version,
            username: opts.username.clone(),
            password: opts.password.clone(),
            keep_alive: opts.keep_alive,
            client_id_prefix: prefix,
            connect_timeout: opts.connect_timeout,
            transport: if plain_tcp { None } else { Some(opts) },
        }
    }

    /// `mqtt://host:port` (or the transport's URL) for messages.
    pub fn display(&self) -> String {
        if let Some(opts) = &self.transport {
            return opts.server_display();
        }
        if self.host.contains(':') {
            format!("mqtt://[{}]:{}", self.host, self.port)
        } else {
            format!("mqtt://{}:{}", self.host, self.port)
        }
    }
}

/// Why a bench connection failed.
#[derive(Debug)]
pub enum ConnError {
    /// A socket error.
    Io(std::io::Error),
    /// A step did not finish in time.
    Timeout(&'static str),
    /// CONNACK with a failure code.
    Refused(ReasonCode, ProtocolVersion),
    /// The broker broke the protocol (or sent something we cannot decode).
    Protocol(String),
    /// The broker closed the socket.
    Closed,
    /// The broker sent DISCONNECT.
    Disconnected(ReasonCode),
    /// Opening the transport failed (DNS, TLS, WebSocket, proxy): the client layer's
    /// message.
    Transport(String),
}

impl ConnError {
    /// A short, stable key for "errors by kind" in the summary.
    pub fn kind(&self) -> String {
        match self {
            ConnError::Io(e) => {
                // The kind is short and stable ("connection refused"); errors std does
                // not categorise (EMFILE: too many open files) keep their OS message.
                let kind = e.kind().to_string();
                if kind == "uncategorized error" || e.kind() == std::io::ErrorKind::Other {
                    format!("io: {e}")
                } else {
                    format!("io: {kind}")
                }
            }
            ConnError::Timeout(step) => format!("timeout: {step}"),
            ConnError::Refused(r, v) => {
                if v.is_v5() {
                    format!("refused: {r}")
                } else {
                    format!(
                        "refused: {}",
                        ReasonCode::v3_connack_text(r.to_v3_connack())
                    )
                }
            }
            ConnError::Protocol(_) => "protocol error".to_string(),
            ConnError::Closed => "closed by broker".to_string(),
            ConnError::Disconnected(r) => format!("disconnected: {r}"),
            ConnError::Transport(m) => m.clone(),
        }
    }
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "{e}"),
            ConnError::Protocol(m) => write!(f, "protocol error: {m}"),
            _ => f.write_str(&self.kind()),
        }
    }
}

impl From<std::io::Error> for ConnError {
    fn from(e: std::io::Error) -> Self {
        ConnError::Io(e)
    }
}

impl From<crate::client::Error> for ConnError {
    fn from(e: crate::client::Error) -> Self {
        match e {
            crate::client::Error::Io(e) => ConnError::Io(e),
            crate::client::Error::Timeout(step) => ConnError::Timeout(step),
            other => ConnError::Transport(other.to_string()),
        }
    }
}

impl From<protocol::Error> for ConnError {
    fn from(e: protocol::Error) -> Self {
        ConnError::Protocol(e.to_string())
    }
}

/// One connected client: the socket, the bytes read but not yet decoded, and packets
/// that arrived while waiting for a specific reply.
pub struct RawConn {
    /// The socket (Nagle off unless `--nodelay false`).
    pub stream: BenchStream,
    /// Undecoded input.
    pub rbuf: BytesMut,
    /// Packets received before the caller's event loop started.
    pub pending: VecDeque<Packet>,
    /// The connection's protocol version.
    pub version: ProtocolVersion,
    /// The broker's CONNACK.
    pub connack: ConnAck,
    /// Time from starting the TCP connect to receiving CONNACK.
    pub connect_time: Duration,
}

impl RawConn {
    /// Open TCP, send CONNECT (clean start), wait for CONNACK.
    pub async fn connect(target: &Target, client_id: &str) -> Result<RawConn, ConnError> {
        let started = Instant::now();
        let work = async {
            let stream = match &target.transport {
                None => {
                    let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
                    tcp.set_nodelay(true)?;
                    BenchStream::Tcp(tcp)
                }
                Some(opts) => {
                    let deadline = tokio::time::Instant::now() + target.connect_timeout;
                    BenchStream::Boxed(transport::connect(opts, deadline).await?)
                }
            };
            let mut conn = RawConn {
                stream,
                rbuf: BytesMut::with_capacity(4096),
                pending: VecDeque::new(),
                version: target.version,
                connack: ConnAck::default(),
                connect_time: Duration::ZERO,
            };
            let connect = Connect {
                protocol: target.version,
                clean_start: true,
                keep_alive: target.keep_alive,
                client_id: client_id.to_string(),
                username: target.username.clone(),
                password: target.password.clone(),
                ..Connect::default()
            };
            conn.send(&Packet::Connect(Box::new(connect))).await?;
            match conn.recv().await? {
                Packet::ConnAck(ack) => {
                    if ack.reason.is_error() {
                        return Err(ConnError::Refused(ack.reason, target.version));
                    }
                    conn.connack = ack;
                    Ok(conn)
                }
                other => Err(ConnError::Protocol(format!(
                    "expected CONNACK, got {}",
                    other.packet_type().name()
                ))),
            }
        };
        let mut conn = tokio::time::timeout(target.connect_timeout, work)
            .await
            .map_err(|_| ConnError::Timeout("waiting for CONNACK"))??;
        conn.connect_time = started.elapsed();
        Ok(conn)
    }

    /// Encode and write one packet.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), ConnError> {
        let mut out = BytesMut::new();
        protocol::encode(packet, self.version, &mut out)?;
        self.stream.write_all(&out).await?;
        // A WebSocket write queues a frame until flushed; TCP's flush is a no-op.
        self.stream.flush().await?;
        Ok(())
    }

    /// Read until one whole packet is decoded.
    pub async fn recv(&mut self) -> Result<Packet, ConnError> {
        if let Some(p) = self.pending.pop_front() {
            return Ok(p);
        }
        loop {
            if let Some(p) = protocol::decode(&mut self.rbuf, self.version, 0)? {
                return Ok(p);
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                return Err(ConnError::Closed);
            }
        }
    }

    /// Subscribe to the filters (packet identifier 1) and wait for the SUBACK; other
    /// packets received meanwhile are kept in `pending`.
    pub async fn subscribe(
        &mut self,
        filters: &[(String, QoS)],
        timeout: Duration,
    ) -> Result<SubAck, ConnError> {
        let sub = Subscribe {
            packet_id: 1,
            filters: filters
                .iter()
                .map(|(f, q)| SubscribeFilter {
                    filter: f.clone(),
                    options: SubscriptionOptions::qos(*q),
                })
                .collect(),
            properties: Default::default(),
        };
        self.send(&Packet::Subscribe(sub)).await?;
        let mut held = VecDeque::new();
        let wait = async {
            loop {
                match self.recv().await? {
                    Packet::SubAck(ack) if ack.packet_id == 1 => return Ok(ack),
                    Packet::Disconnect(d) => return Err(ConnError::Disconnected(d.reason)),
                    other => held.push_back(other),
                }
            }
        };
        let res = tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ConnError::Timeout("waiting for SUBACK"))?;
        self.pending.extend(held);
        res
    }
}

/// A plain TCP stream (or one of its halves) on the fast path, or the boxed
/// transport of the client layer (or one of its halves) for everything else. One
/// generic type so the I/O traits are implemented once for the stream and both halves.
pub enum Either<T, B> {
    /// Plain TCP: `mqtt://` without `--unix`, `--proxy` or `-A`.
    Tcp(T),
    /// TLS, WebSocket, Unix socket, proxy or bound TCP, from the client layer.
    Boxed(B),
}

/// A bench connection's socket.
pub type BenchStream = Either<TcpStream, Transport>;
/// The read half of a [`BenchStream`].
pub type BenchRead<'a> = Either<tcp::ReadHalf<'a>, tokio::io::ReadHalf<&'a mut Transport>>;
/// The write half of a [`BenchStream`].
pub type BenchWrite<'a> = Either<tcp::WriteHalf<'a>, tokio::io::WriteHalf<&'a mut Transport>>;

impl BenchStream {
    /// Borrow independent read and write halves, for one `select!` loop that reads
    /// and writes at once. TCP splits for free; the boxed transport goes through
    /// [`tokio::io::split`].
    pub fn split(&mut self) -> (BenchRead<'_>, BenchWrite<'_>) {
        match self {
            Either::Tcp(s) => {
                let (r, w) = s.split();
                (Either::Tcp(r), Either::Tcp(w))
            }
            Either::Boxed(s) => {
                let (r, w) = tokio::io::split(s);
                (Either::Boxed(r), Either::Boxed(w))
            }
        }
    }
}

impl<T, B> Either<T, B> {
    /// Whether written bytes may wait in a buffer until `flush` (a WebSocket frame,
    /// TLS records): the event loops flush once their write buffer is empty. A TCP
    /// write is on the wire already, so the fast path never flushes.
    pub fn needs_flush(&self) -> bool {
        matches!(self, Either::Boxed(_))
    }
}

impl<T: AsyncRead + Unpin, B: AsyncRead + Unpin> AsyncRead for Either<T, B> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Either::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Either::Boxed(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl<T: AsyncWrite + Unpin, B: AsyncWrite + Unpin> AsyncWrite for Either<T, B> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Either::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Either::Boxed(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Either::Tcp(s) => Pin::new(s).poll_flush(cx),
            Either::Boxed(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Either::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Either::Boxed(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
