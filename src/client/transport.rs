//! The byte stream under MQTT: TCP, TLS over TCP, or WebSocket over either, all as one
//! `AsyncRead + AsyncWrite` so that the event loop does not care which.
//!
//! Over WebSocket, MQTT control packets travel in binary frames [MQTT-6.0.0-1]; a
//! packet may span frames and a frame may hold several packets [MQTT-6.0.0-2], which
//! the byte-stream view handles for free. The client offers the `mqtt` subprotocol
//! [MQTT-6.0.0-3].

use super::options::{ConnectOptions, Scheme};
use super::{Error, socks5, tls};
use crate::ws::WsStream;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// A duplex byte stream to the server.
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> ByteStream for T {}

/// The connected transport.
pub type Transport = Box<dyn ByteStream>;

/// Open the transport `opts` asks for, every step before `deadline`.
pub async fn connect(opts: &ConnectOptions, deadline: Instant) -> Result<Transport, Error> {
    if let Some(connector) = &opts.connector {
        return (connector.0)().map_err(Error::Io);
    }
    let tcp = timeout_at(deadline, raw_connect(opts))
        .await
        .map_err(|_| Error::Timeout("connecting to the server"))??;
    let stream: Transport = if opts.scheme.is_tls() {
        let config = tls::client_config(&opts.tls)?;
        let name = tls::server_name(&opts.host)?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tls = timeout_at(deadline, connector.connect(name, tcp))
            .await
            .map_err(|_| Error::Timeout("in the TLS handshake"))?
            .map_err(|e| tls::handshake_error(e, &opts.host_port()))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    if !opts.scheme.is_websocket() {
        return Ok(stream);
    }
    let http = if opts.scheme == Scheme::Wss {
        "wss"
    } else {
        "ws"
    };
    let path = if opts.ws_path.starts_with('/') {
        opts.ws_path.clone()
    } else {
        format!("/{}", opts.ws_path)
    };
    let url = format!("{http}://{}{path}", opts.host_port());
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::WebSocket(format!("{url}: {e}")))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    let (ws, _response) = timeout_at(deadline, tokio_tungstenite::client_async(request, stream))
        .await
        .map_err(|_| Error::Timeout("in the WebSocket handshake"))?
        .map_err(|e| Error::WebSocket(format!("{url}: {e}")))?;
    Ok(Box::new(WsStream::new(ws)))
}

/// The byte stream under TLS/WebSocket: a Unix domain socket (`--unix`), TCP through a
/// SOCKS5 proxy (`--proxy`), or plain TCP (bound to `-A` if given).
async fn raw_connect(opts: &ConnectOptions) -> Result<Transport, Error> {
    if let Some(path) = &opts.unix_socket {
        return unix_connect(path).await;
    }
    let bind = opts.bind_address.as_deref();
    if let Some(proxy) = &opts.proxy {
        let mut tcp = tcp_connect(&proxy.host, proxy.port, bind, opts.nodelay).await?;
        socks5::handshake(&mut tcp, proxy, &opts.host, opts.port).await?;
        return Ok(Box::new(tcp));
    }
    Ok(Box::new(
        tcp_connect(&opts.host, opts.port, bind, opts.nodelay).await?,
    ))
}

/// Connect to a Unix domain socket.
#[cfg(unix)]
async fn unix_connect(path: &std::path::Path) -> Result<Transport, Error> {
    match tokio::net::UnixStream::connect(path).await {
        Ok(s) => Ok(Box::new(s)),
        Err(e) => Err(Error::Io(io::Error::new(
            e.kind(),
            format!("cannot connect to Unix socket {}: {e}", path.display()),
        ))),
    }
}

/// Unix domain sockets need a Unix platform.
#[cfg(not(unix))]
async fn unix_connect(path: &std::path::Path) -> Result<Transport, Error> {
    Err(Error::Io(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "cannot connect to {}: Unix domain sockets (--unix) are not supported on this platform",
            path.display()
        ),
    )))
}

/// Resolve the local address to bind to (`-A`), in the family of `target`.
async fn bind_addr(bind: &str, target: SocketAddr) -> Result<SocketAddr, Error> {
    let host = bind.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| Error::Dns(format!("cannot resolve bind address '{bind}': {e}")))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4() == target.is_ipv4())
        .copied()
        .ok_or_else(|| {
            Error::Io(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("bind address '{bind}' has no address of the same family as {target}"),
            ))
        })
}

/// Connect to `addr`, first binding the socket to `bind` if given.
async fn connect_one(addr: SocketAddr, bind: Option<&str>) -> Result<TcpStream, Error> {
    let Some(bind) = bind else {
        return TcpStream::connect(addr)
            .await
            .map_err(|e| connect_error(e, addr));
    };
    let local = bind_addr(bind, addr).await?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| connect_error(e, addr))?;
    socket.bind(local).map_err(|e| {
        Error::Io(io::Error::new(
            e.kind(),
            format!("cannot bind to local address {bind} ({local}): {e}"),
        ))
    })?;
    socket
        .connect(addr)
        .await
        .map_err(|e| connect_error(e, addr))
}

/// A failed TCP connect, naming the address.
fn connect_error(e: io::Error, addr: SocketAddr) -> Error {
    let msg = match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            format!("connection refused by {addr} (is a broker running?)")
        }
        _ => format!("cannot connect to {addr}: {e}"),
    };
    Error::Io(io::Error::new(e.kind(), msg))
}

/// Resolve `host` (IPv4, IPv6 or a name) and connect to the first address that answers.
async fn tcp_connect(
    host: &str,
    port: u16,
    bind: Option<&str>,
    nodelay: bool,
) -> Result<TcpStream, Error> {
    let addrs: Vec<SocketAddr> = if host.eq_ignore_ascii_case("localhost") {
        // The loopback addresses, without asking the resolver (RFC 6761 section
        // 6.3): a name lookup runs on a thread of its own, and starting that thread
        // was a third of a one-shot `mq pub`'s run. IPv4 first, then IPv6.
        vec![
            SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)),
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
        ]
    } else {
        tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| Error::Dns(format!("cannot resolve host '{host}': {e}")))?
            .collect()
    };
    let mut last = None;
    for addr in addrs {
        match connect_one(addr, bind).await {
            Ok(s) => {
                // Small MQTT packets must not wait for Nagle's algorithm (--nodelay;
                // on by default).
                s.set_nodelay(nodelay).map_err(|e| {
                    Error::Io(io::Error::new(e.kind(), format!("TCP_NODELAY: {e}")))
                })?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Dns(format!("host '{host}' has no address"))))
}
