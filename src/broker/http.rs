//! The optional HTTP listener (`http_listener PORT [ADDR]`, `--http PORT`) for
//! health checks and monitoring, served by `hyper` (HTTP/1.1):
//!
//! - `GET /healthz`: 200 while the broker accepts connections, 503 once it is
//!   shutting down (the listener stays up until the shutdown is over, so a load
//!   balancer sees the broker leave);
//! - `GET /metrics`: the Prometheus text format (see `metrics.rs`);
//! - `GET /clients`: every session as JSON ([`super::stats::ClientFigures`]);
//! - 404 for any other path, 405 for any other method.
//!
//! Bounded like the MQTT listeners: at most [`MAX_CONNECTIONS`] at once (more are
//! closed at once), request headers within [`HEADER_TIMEOUT`], a connection at most
//! [`CONNECTION_TIMEOUT`] in all, small read buffers.

use super::Error;
use super::log::{LogTypes, blog};
use super::state::{State, stopped};
use super::stats::{Detail, Snapshot};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Most HTTP connections served at once.
pub const MAX_CONNECTIONS: usize = 32;
/// A client must send its request headers within this time.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest life of one HTTP connection (keep-alive included).
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the connections in progress may take to finish once the broker is
/// shut down.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Read buffer of a connection (hyper's smallest).
const READ_BUFFER: usize = 8192;

/// A running HTTP listener; [`HttpServer::stop`] ends it.
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl HttpServer {
    /// The address it listens on (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, let the requests in progress finish (briefly) and wait until
    /// every connection is closed.
    pub async fn stop(&self) {
        self.stop.send_replace(true);
        let _ = tokio::time::timeout(CLOSE_TIMEOUT * 2, self.stop.closed()).await;
    }
}

/// Bind `addr` and serve until [`HttpServer::stop`] (or, when the server's handle
/// is dropped without it, until the broker shuts down).
pub async fn start(state: Arc<State>, addr: SocketAddr) -> Result<HttpServer, Error> {
    let failed = |source| Error::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(failed)?;
    let local = listener.local_addr().map_err(failed)?;
    blog!(
        state.log,
        LogTypes::INFORMATION,
        "Opening http listen socket on port {}.",
        local.port()
    );
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(accept_loop(state, listener, stop_rx));
    Ok(HttpServer { addr: local, stop })
}

/// Resolves once the server is to stop.
async fn stop_requested(stop: &mut watch::Receiver<bool>, state: &State) {
    if stop.wait_for(|s| *s).await.is_err() {
        // The handle is gone without a stop: serve as long as the broker runs.
        stopped(&mut state.shutdown.clone()).await;
    }
}

async fn accept_loop(state: Arc<State>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = stop_requested(&mut stop, &state) => return,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait a little, keep serving.
                blog!(state.log, LogTypes::ERROR, "Error: http accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            blog!(
                state.log,
                LogTypes::NOTICE,
                "HTTP connection from {} denied: {MAX_CONNECTIONS} connections already.",
                peer.ip()
            );
            continue;
        };
        let state = state.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            serve(state, stream, stop).await;
            drop(permit);
        });
    }
}

/// Serve one connection, within [`CONNECTION_TIMEOUT`].
async fn serve(state: Arc<State>, stream: tokio::net::TcpStream, mut stop: watch::Receiver<bool>) {
    let service_state = state.clone();
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let response = respond(&service_state, &req);
        async move { Ok::<_, Infallible>(response) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(READ_BUFFER)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = tokio::time::sleep(CONNECTION_TIMEOUT) => {}
        () = stop_requested(&mut stop, &state) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn).await;
        }
    }
}

/// The response to one request.
fn respond<B>(state: &State, req: &Request<B>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET is allowed\n");
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    match req.uri().path() {
        "/healthz" if *state.shutdown.borrow() => {
            text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
        }
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/metrics" => {
            let body = super::metrics::render(&Snapshot::take(state, Detail::Figures));
            with_type(StatusCode::OK, body.into(), super::metrics::CONTENT_TYPE)
        }
        "/clients" => {
            let snap = Snapshot::take(state, Detail::Clients);
            match serde_json::to_vec(&snap.clients) {
                Ok(body) => with_type(StatusCode::OK, body.into(), "application/json"),
                Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "cannot encode\n"),
            }
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /healthz, /metrics or /clients\n",
        ),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    with_type(
        status,
        Bytes::from_static(body.as_bytes()),
        "text/plain; charset=utf-8",
    )
}

fn with_type(status: StatusCode, body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
