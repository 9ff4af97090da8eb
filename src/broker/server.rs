//! Listeners: bind the configured addresses, accept connections (one task each),
//! enforce `max_connections`, and stop accepting at shutdown.

use super::Error;
use super::connection;
use super::log::{LogTypes, blog};
use super::state::State;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};

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
}

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

pub async fn bind(
    state: &State,
    binds: &[Bind],
) -> Result<Vec<(TcpListener, Option<usize>)>, Error> {
    let mut out: Vec<(TcpListener, Option<usize>)> = Vec::new();
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
        let family = if local.is_ipv4() { "ipv4" } else { "ipv6" };
        blog!(
            state.log,
            LogTypes::INFORMATION,
            "Opening {family} listen socket on port {}.",
            local.port()
        );
        out.push((listener, b.max_connections));
    }
    if out.is_empty() {
        return Err(Error::NoListener);
    }
    Ok(out)
}

/// Accept connections until shutdown; each connection task holds a clone of `done`.
pub async fn accept_loop(
    state: Arc<State>,
    listener: TcpListener,
    max_connections: Option<usize>,
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
        tokio::spawn(async move {
            connection::serve(state, stream, peer, port).await;
            drop(permit);
            drop(done);
        });
    }
}
