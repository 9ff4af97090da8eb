//! Listeners: bind the configured addresses, accept connections (one task each),
//! enforce `max_connections`, open each connection's transport (TLS and WebSocket
//! handshakes, within the CONNECT timeout) and stop accepting at shutdown.

use super::Error;
use super::connection;
use super::log::{LogTypes, blog};
use super::state::State;
use super::transport::{Layered, Tcp};
use crate::ws::WsStream;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;

/// An address to bind, with its connection limit.
#[derive(Clone, Debug)]
pub struct Bind {
    /// Address (port 0 = any free port, shared by the other port-0 addresses of the
    /// same listener group).
    pub addr: SocketAddr,
    /// Connection limit.
    pub max_connections: Option<usize>,
    /// Group: addresses of one group that ask for port 0 get the same port.
    pub group: usize,
    /// A failure to bind this address is tolerated (IPv6 loopback on a machine
    /// without IPv6).
    pub optional: bool,
    /// What the listener speaks over TCP.
    pub transport: Transport,
}

/// What a listener speaks over TCP: MQTT, or WebSocket, either one over TLS or not.
#[derive(Clone, Default)]
pub struct Transport {
    /// TLS, with the listener's certificate.
    pub tls: Option<TlsAcceptor>,
    /// MQTT over WebSocket [MQTT-6.0.0-1].
    pub websocket: bool,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("tls", &self.tls.is_some())
            .field("websocket", &self.websocket)
            .finish()
    }
}

/// Largest WebSocket frame or message accepted: bounds what one client can make
/// the broker buffer (an MQTT packet may span several frames).
const WS_MAX_MESSAGE: usize = 16 << 20;

/// A bound listener: its socket, connection limit and transport.
pub type Bound = (TcpListener, Option<usize>, Transport);

/// Bind every address. Port 0 in a group resolves to the port of its first bound
/// address.
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

pub async fn bind(state: &State, binds: &[Bind]) -> Result<Vec<Bound>, Error> {
    let mut out: Vec<Bound> = Vec::new();
    let mut group_ports: Vec<(usize, u16)> = Vec::new();
    for b in binds {
        let mut addr = b.addr;
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
        out.push((listener, b.max_connections, b.transport.clone()));
    }
    if out.is_empty() {
        return Err(Error::NoListener);
    }
    Ok(out)
}

/// Accept connections until shutdown; each connection task holds a clone of `done`.
pub async fn accept_loop(
    state: Arc<State>,
    (listener, max_connections, transport): Bound,
    done: mpsc::Sender<()>,
) {
    let limit = max_connections.map(|n| Arc::new(Semaphore::new(n)));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let mut shutdown = state.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = super::state::stopped(&mut shutdown) => return,
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
                    blog!(
                        state.log,
                        LogTypes::NOTICE,
                        "Client connection from {} denied: max_connections exceeded.",
                        peer.ip()
                    );
                    drop(stream);
                    continue;
                }
            },
            None => None,
        };
        state.stats.connections.fetch_add(1, Ordering::Relaxed);
        let state = state.clone();
        let done = done.clone();
        let transport = transport.clone();
        tokio::spawn(async move {
            open(state, stream, peer, port, transport).await;
            drop(permit);
            drop(done);
        });
    }
}

/// Open the listener's transport over an accepted TCP connection and serve it.
async fn open(state: Arc<State>, stream: TcpStream, peer: SocketAddr, port: u16, t: Transport) {
    if state.config.set_tcp_nodelay {
        let _ = stream.set_nodelay(true);
    }
    if t.tls.is_none() && !t.websocket {
        let (rd, wr) = stream.into_split();
        connection::serve(state, Tcp(rd), wr, peer, port).await;
    } else {
        // Boxed: the TLS and WebSocket handshakes and streams are large; inline,
        // every plain TCP connection's task would be as large as they are.
        Box::pin(open_layered(state, stream, peer, port, t)).await;
    }
}

/// TLS, WebSocket or both: each handshake must end within the CONNECT timeout; a
/// failed one is one log line with the client's address and the cause.
async fn open_layered(
    state: Arc<State>,
    stream: TcpStream,
    peer: SocketAddr,
    port: u16,
    t: Transport,
) {
    let Some(acceptor) = t.tls else {
        websocket(state, stream, peer, port).await;
        return;
    };
    let tls =
        match tokio::time::timeout(state.config.connect_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => return handshake_failed(&state, peer, "TLS", &e.to_string()),
            Err(_) => return handshake_failed(&state, peer, "TLS", "timed out"),
        };
    if t.websocket {
        websocket(state, tls, peer, port).await;
    } else {
        layered(state, tls, peer, port).await;
    }
}

/// Serve a connection over a stream with a layer of its own (TLS, WebSocket).
async fn layered<S>(state: Arc<State>, stream: S, peer: SocketAddr, port: u16)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    connection::serve(state, Layered(rd), wr, peer, port).await;
}

/// The WebSocket handshake, choosing the `mqtt` subprotocol when the client offers
/// it [MQTT-6.0.0-3] [MQTT-6.0.0-4], then MQTT over binary frames.
async fn websocket<S>(state: Arc<State>, stream: S, peer: SocketAddr, port: u16)
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
    match tokio::time::timeout(state.config.connect_timeout, handshake).await {
        Ok(Ok(ws)) => layered(state, WsStream::new(ws), peer, port).await,
        Ok(Err(e)) => handshake_failed(&state, peer, "WebSocket", &e.to_string()),
        Err(_) => handshake_failed(&state, peer, "WebSocket", "timed out"),
    }
}

fn handshake_failed(state: &State, peer: SocketAddr, what: &str, why: &str) {
    blog!(
        state.log,
        LogTypes::NOTICE,
        "Client connection from {} failed: {what} handshake: {why}.",
        peer.ip()
    );
}
