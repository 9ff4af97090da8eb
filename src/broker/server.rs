//! Listeners: bind the configured addresses (TCP, or Unix domain sockets), accept
//! connections (one task each), enforce `max_connections`, open each connection's
//! transport (TLS and WebSocket handshakes, within the CONNECT timeout) and stop
//! accepting at shutdown.

use super::Error;
use super::config::CertIdentity;
use super::connection;
use super::log::{LogTypes, blog};
use super::origin::{ListenerCtx, Origin, Peer};
use super::state::State;
use super::stats::ListenerStats;
use super::transport::{Layered, Tcp};
use crate::ws::WsStream;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;

/// An address to bind, with its connection limit.
#[derive(Clone, Debug)]
pub struct Bind {
    /// Address (port 0 = any free port, shared by the other port-0 addresses of the
    /// same listener group).
    pub addr: BindAddr,
    /// Connection limit.
    pub max_connections: Option<usize>,
    /// Group: addresses of one group that ask for port 0 get the same port.
    pub group: usize,
    /// A failure to bind this address is tolerated (IPv6 loopback on a machine
    /// without IPv6).
    pub optional: bool,
    /// What the listener speaks over TCP.
    pub transport: Transport,
    /// What the listener decides for its clients.
    pub ctx: Arc<ListenerCtx>,
}

/// Where a listener listens.
#[derive(Clone, Debug)]
pub enum BindAddr {
    /// A TCP address.
    Net(SocketAddr),
    /// A Unix domain socket's path.
    Unix(PathBuf),
}

impl std::fmt::Display for BindAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindAddr::Net(a) => write!(f, "{a}"),
            BindAddr::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// What a listener speaks over TCP: MQTT, or WebSocket, either one over TLS or not.
#[derive(Clone, Default)]
pub struct Transport {
    /// TLS, with the listener's certificate.
    pub tls: Option<TlsAcceptor>,
    /// MQTT over WebSocket [MQTT-6.0.0-1].
    pub websocket: bool,
    /// Where the user name of a client with a certificate comes from.
    pub identity: CertIdentity,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("tls", &self.tls.is_some())
            .field("websocket", &self.websocket)
            .field("identity", &self.identity)
            .finish()
    }
}

/// Largest WebSocket frame or message accepted: bounds what one client can make
/// the broker buffer (an MQTT packet may span several frames).
const WS_MAX_MESSAGE: usize = 16 << 20;

/// A listening socket.
pub enum Socket {
    /// TCP.
    Tcp(TcpListener),
    /// A Unix domain socket, and its path (removed at the end).
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, Arc<std::path::Path>),
}

/// An accepted connection's stream.
enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl Socket {
    async fn accept(&self) -> std::io::Result<(Stream, Peer)> {
        match self {
            Socket::Tcp(l) => l
                .accept()
                .await
                .map(|(s, peer)| (Stream::Tcp(s), Peer::Net(peer))),
            #[cfg(unix)]
            Socket::Unix(l, path) => l
                .accept()
                .await
                .map(|(s, _)| (Stream::Unix(s), Peer::Unix(path.clone()))),
        }
    }

    /// The TCP address bound (port 0 resolved); `None` for a Unix socket.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Socket::Tcp(l) => l.local_addr().ok(),
            #[cfg(unix)]
            Socket::Unix(..) => None,
        }
    }
}

/// A bound listener: its socket, connection limit, transport and decisions.
pub struct Bound {
    /// The socket.
    pub socket: Socket,
    max_connections: Option<usize>,
    transport: Transport,
    ctx: Arc<ListenerCtx>,
}

/// Open a listening socket. The IPv6 wildcard address is bound IPv6-only, so that a
/// `listener PORT` line can serve both `0.0.0.0` and `[::]` on the same port
/// whatever the system's dual-stack default is.
fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // As tokio's own bind: a restarted broker can reuse its port at once.
    #[cfg(not(windows))]
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// Open a Unix domain socket listener. A socket file left by a broker that did not
/// end cleanly is replaced, as mosquitto does; any other file is left alone.
#[cfg(unix)]
fn listen_unix(path: &std::path::Path) -> std::io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            ));
        }
        std::fs::remove_file(path)?;
    }
    tokio::net::UnixListener::bind(path)
}

#[cfg(not(unix))]
fn listen_unix(_path: &std::path::Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "Unix socket listeners need a Unix system",
    ))
}

/// Bind a Unix socket listener, with mosquitto's log line.
fn bind_unix(state: &State, b: &Bind, path: &std::path::Path) -> Result<Bound, Error> {
    let failed = |source| Error::Bind {
        addr: path.display().to_string(),
        source,
    };
    #[cfg(unix)]
    {
        let listener = listen_unix(path).map_err(failed)?;
        blog!(
            state.log,
            LogTypes::INFORMATION,
            "Opening unix listen socket on path {}.",
            path.display()
        );
        let stats = Arc::new(ListenerStats::new(format!("0/{}/unix", path.display())));
        state.stats.add_listener(stats.clone());
        Ok(Bound {
            socket: Socket::Unix(listener, path.into()),
            max_connections: b.max_connections,
            transport: b.transport.clone(),
            ctx: Arc::new(ListenerCtx {
                port: b.ctx.port,
                realm: b.ctx.realm,
                mount_point: b.ctx.mount_point.clone(),
                stats,
            }),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (state, b);
        listen_unix(path).map_err(failed)?;
        Err(Error::NoListener)
    }
}

/// Bind every address. Port 0 in a group resolves to the port of its first bound
/// address.
pub async fn bind(state: &State, binds: &[Bind]) -> Result<Vec<Bound>, Error> {
    let mut out: Vec<Bound> = Vec::new();
    let mut group_ports: Vec<(usize, u16)> = Vec::new();
    for b in binds {
        let mut addr = match &b.addr {
            BindAddr::Net(addr) => *addr,
            BindAddr::Unix(path) => {
                out.push(bind_unix(state, b, path)?);
                continue;
            }
        };
        if addr.port() == 0
            && let Some((_, p)) = group_ports.iter().find(|(g, _)| *g == b.group)
        {
            addr.set_port(*p);
        }
        let listener = match listen(addr) {
            Ok(l) => l,
            Err(e) if b.optional => {
                tracing::debug!("not listening on {addr}: {e}");
                continue;
            }
            Err(source) => {
                return Err(Error::Bind {
                    addr: addr.to_string(),
                    source,
                });
            }
        };
        let local = listener.local_addr().map_err(|source| Error::Bind {
            addr: addr.to_string(),
            source,
        })?;
        if !group_ports.iter().any(|(g, _)| *g == b.group) {
            group_ports.push((b.group, local.port()));
        }
        let family = if b.transport.websocket {
            "websockets"
        } else if local.is_ipv4() {
            "ipv4"
        } else {
            "ipv6"
        };
        blog!(
            state.log,
            LogTypes::INFORMATION,
            "Opening {family} listen socket on port {}.",
            local.port()
        );
        // The listener's port, once port 0 is resolved, and the socket's counters.
        let proto = if b.transport.websocket { "ws" } else { "mqtt" };
        let tls = if b.transport.tls.is_some() { "s" } else { "" };
        let stats = Arc::new(ListenerStats::new(format!(
            "{}/{}/{proto}{tls}",
            local.port(),
            local.ip()
        )));
        state.stats.add_listener(stats.clone());
        let ctx = Arc::new(ListenerCtx {
            port: local.port(),
            realm: b.ctx.realm,
            mount_point: b.ctx.mount_point.clone(),
            stats,
        });
        out.push(Bound {
            socket: Socket::Tcp(listener),
            max_connections: b.max_connections,
            transport: b.transport.clone(),
            ctx,
        });
    }
    if out.is_empty() {
        return Err(Error::NoListener);
    }
    Ok(out)
}

/// Accept connections until shutdown, or until the listener is closed (`stop`
/// becomes true or its sender is dropped: a reload removed it); each connection
/// task holds a clone of `done`.
pub async fn accept_loop(
    state: Arc<State>,
    bound: Bound,
    done: mpsc::Sender<()>,
    mut stop: watch::Receiver<bool>,
) {
    let Bound {
        socket,
        max_connections,
        transport,
        ctx,
    } = bound;
    let limit = max_connections.map(|n| Arc::new(Semaphore::new(n)));
    let mut shutdown = state.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            r = socket.accept() => r,
            _ = super::state::stopped(&mut shutdown) => break,
            _ = super::state::stopped(&mut stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait a little, keep serving.
                blog!(state.log, LogTypes::ERROR, "Error: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let permit = match &limit {
            Some(sem) => match sem.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
                    blog!(
                        state.log,
                        LogTypes::NOTICE,
                        "Client connection from {} denied: max_connections exceeded.",
                        peer.host()
                    );
                    drop(stream);
                    continue;
                }
            },
            None => None,
        };
        state.stats.connections.fetch_add(1, Ordering::Relaxed);
        ctx.stats.accepted.fetch_add(1, Ordering::Relaxed);
        ctx.stats.open.fetch_add(1, Ordering::Relaxed);
        let held = Held {
            listener: ctx.clone(),
            _permit: permit.map(Box::new),
            _done: done.clone(),
        };
        open(
            state.clone(),
            stream,
            Origin::new(peer, ctx.clone()),
            transport.clone(),
            held,
        );
    }
    #[cfg(unix)]
    if let Socket::Unix(_, path) = &socket {
        // As mosquitto: the socket file goes with the broker.
        let _ = std::fs::remove_file(path);
    }
}

/// What a connection's task holds for its listener until the connection is over.
/// The permit is boxed: only listeners with `max_connections` have one, and inline
/// it would make every connection's task 8 bytes larger (enough, today, to cost
/// the task another 128 bytes of alignment).
struct Held {
    listener: Arc<ListenerCtx>,
    _permit: Option<Box<tokio::sync::OwnedSemaphorePermit>>,
    _done: mpsc::Sender<()>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.listener.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Spawn the task that serves an accepted connection over the listener's
/// transport. A plain connection's task is [`connection::serve`] itself, with no
/// future around it: that task is most of what an idle connection costs.
fn open(state: Arc<State>, stream: Stream, origin: Origin, t: Transport, held: Held) {
    let stream = match stream {
        Stream::Tcp(s) => s,
        #[cfg(unix)]
        Stream::Unix(s) => return open_unix(state, s, origin, t, held),
    };
    if state.config().set_tcp_nodelay {
        let _ = stream.set_nodelay(true);
    }
    if t.tls.is_none() && !t.websocket {
        let (rd, wr) = stream.into_split();
        tokio::spawn(connection::serve(
            state,
            Tcp(rd),
            wr,
            Box::new(origin),
            held,
        ));
    } else {
        spawn_layered(state, stream, origin, t, held);
    }
}

/// Spawn a TLS or WebSocket connection's task: a task of its own type, since the
/// handshakes and streams are large and must not make plain connections' tasks
/// larger.
fn spawn_layered<S>(state: Arc<State>, stream: S, origin: Origin, t: Transport, held: Held)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    tokio::spawn(async move {
        open_layered(state, stream, origin, t).await;
        drop(held);
    });
}

/// A Unix socket connection: plain MQTT, or the listener's layers over it.
#[cfg(unix)]
fn open_unix(
    state: Arc<State>,
    stream: tokio::net::UnixStream,
    origin: Origin,
    t: Transport,
    held: Held,
) {
    if t.tls.is_none() && !t.websocket {
        let (rd, wr) = stream.into_split();
        tokio::spawn(connection::serve(
            state,
            super::transport::Unix(rd),
            wr,
            Box::new(origin),
            held,
        ));
    } else {
        spawn_layered(state, stream, origin, t, held);
    }
}

/// TLS, WebSocket or both: each handshake must end within the CONNECT timeout; a
/// failed one is one log line with the client's address and the cause.
async fn open_layered<S>(state: Arc<State>, stream: S, mut origin: Origin, t: Transport)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let Some(acceptor) = t.tls else {
        websocket(state, stream, origin).await;
        return;
    };
    let tls =
        match tokio::time::timeout(state.config().connect_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => return handshake_failed(&state, &origin.peer, "TLS", &e.to_string()),
            Err(_) => return handshake_failed(&state, &origin.peer, "TLS", "timed out"),
        };
    if t.identity != CertIdentity::Connect {
        let cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
        origin.cert_username = Some(cert.and_then(|c| super::tls::identity(c, t.identity)));
    }
    if t.websocket {
        websocket(state, tls, origin).await;
    } else {
        layered(state, tls, origin).await;
    }
}

/// Serve a connection over a stream with a layer of its own (TLS, WebSocket).
async fn layered<S>(state: Arc<State>, stream: S, origin: Origin)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    connection::serve(state, Layered(rd), wr, Box::new(origin), ()).await;
}

/// The WebSocket handshake, choosing the `mqtt` subprotocol when the client offers
/// it [MQTT-6.0.0-3] [MQTT-6.0.0-4], then MQTT over binary frames.
async fn websocket<S>(state: Arc<State>, stream: S, origin: Origin)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    // The callback's type is tungstenite's, large error response included.
    #[allow(clippy::result_large_err)]
    let choose_mqtt = |req: &Request, mut resp: Response| {
        let offers_mqtt = req
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim().eq_ignore_ascii_case("mqtt"));
        if offers_mqtt {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        }
        Ok(resp)
    };
    let mut config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
    config.max_message_size = Some(WS_MAX_MESSAGE);
    config.max_frame_size = Some(WS_MAX_MESSAGE);
    let handshake =
        tokio_tungstenite::accept_hdr_async_with_config(stream, choose_mqtt, Some(config));
    match tokio::time::timeout(state.config().connect_timeout, handshake).await {
        Ok(Ok(ws)) => layered(state, WsStream::new(ws), origin).await,
        Ok(Err(e)) => handshake_failed(&state, &origin.peer, "WebSocket", &e.to_string()),
        Err(_) => handshake_failed(&state, &origin.peer, "WebSocket", "timed out"),
    }
}

fn handshake_failed(state: &State, peer: &Peer, what: &str, why: &str) {
    blog!(
        state.log,
        LogTypes::NOTICE,
        "Client connection from {} failed: {what} handshake: {why}.",
        peer.host()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::config::Config;
    use crate::broker::log::Logger;
    use crate::broker::security::Security;

    /// A plain TCP connection's task is most of what an idle connection costs. The
    /// runtime stores the future with 104 bytes of its own and rounds the whole up
    /// to 128 bytes: a future of at most 1048 bytes takes 1152, one byte more takes
    /// 1280. This fails when a change crosses that line (in a release build; a
    /// test build lays futures out much the same, and its bound is the same).
    #[tokio::test]
    async fn a_plain_connection_task_stays_within_1152_bytes() {
        let config = Config::default();
        let security = Security::from_config(&config).unwrap();
        let (tx, _rx) = watch::channel(false);
        let state = Arc::new(State::new(config, security, Logger::silent(), tx));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        let (rd, wr) = server.into_split();
        let ctx = Arc::new(ListenerCtx::default());
        let (done, _done_rx) = mpsc::channel(1);
        let held = Held {
            listener: ctx.clone(),
            _permit: None,
            _done: done,
        };
        let origin = Box::new(Origin::new(Peer::Net(peer), ctx));
        let task = connection::serve(state, Tcp(rd), wr, origin, held);
        let size = std::mem::size_of_val(&task);
        assert!(size <= 1048, "a connection's future is {size} bytes");
        drop((task, client));
    }
}
