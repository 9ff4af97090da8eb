//! The MQTT 3.1.1 + 5.0 broker behind `mq broker` (MQTT 3.1 clients accepted too).
//!
//! Embed it with [`Broker::builder`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mq::broker::Broker;
//! let handle = Broker::builder().listen("127.0.0.1:0".parse()?).start().await?;
//! println!("listening on {}", handle.local_addr());
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Design: one task per connection; PUBLISH is routed in the publisher's task
//! against a shared subscription tree ([`router`]) behind a read-mostly lock never
//! held across `.await`; each session has a bounded queue ([`session`]) — QoS 0 is
//! dropped and counted when it is full, QoS 1/2 make the publisher wait (bounded) —
//! and the connection's writer drains control packets and queued messages into one
//! buffer per wake-up. An encoded PUBLISH is shared as `Bytes` by all subscribers
//! that get the same bytes ([`message`]).

pub mod bridge;
pub mod budget;
pub mod config;
mod connect;
mod connection;
pub mod http;
mod inbound;
mod listeners;
mod live;
pub mod log;
pub mod message;
mod metrics;
mod origin;
mod reload;
mod restore;
pub mod retain;
pub mod router;
pub mod security;
mod server;
pub mod session;
mod state;
pub mod stats;
pub mod store;
pub mod sys;
mod takeover;
pub mod tls;
mod transport;

pub use config::{Config, ConfigError, HttpListener, Listener, ListenerProtocol, ListenerTls};
pub use log::{LogDest, LogError, LogFormat, LogTypes};
pub use reload::ReloadError;

use log::blog;
use origin::ListenerCtx;
use server::{Bind, BindAddr};
use state::State;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Errors starting the broker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// A listener address could not be resolved.
    #[error("cannot resolve listener address {0}")]
    Resolve(String),
    /// No listener could be opened.
    #[error("no listener could be opened")]
    NoListener,
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A password or ACL file cannot be used.
    #[error(transparent)]
    Security(#[from] security::SecurityError),
    /// A log destination cannot be opened.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The store (`persistence true`) cannot be opened or read.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A bridge cannot be started (a TLS file it needs is missing...).
    #[error("{0}")]
    Bridge(String),
    /// A listener's TLS settings cannot be used.
    #[error("listener on port {port}: {source}")]
    Tls {
        /// The listener's port.
        port: u16,
        /// Why.
        source: tls::TlsError,
    },
}

/// The broker: see [`Broker::builder`].
#[derive(Debug)]
pub struct Broker;

impl Broker {
    /// A builder with no listener (127.0.0.1:1883 and [::1]:1883 unless
    /// [`BrokerBuilder::listen`] or the configuration's listeners say otherwise).
    pub fn builder() -> BrokerBuilder {
        BrokerBuilder::default()
    }
}

/// Configures and starts a broker.
#[derive(Debug, Default)]
pub struct BrokerBuilder {
    listen: Vec<SocketAddr>,
    config: Option<Config>,
    sys_interval: Option<Duration>,
}

impl BrokerBuilder {
    /// Listen on an address (port 0 = a free port); may be called several times.
    /// Replaces the configuration's listeners.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen.push(addr);
        self
    }

    /// The full configuration. Without it the broker uses [`Config::default`] with
    /// logging to stderr turned off (an embedded broker is quiet; its log lines are
    /// still emitted as `tracing` events).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Interval of the `$SYS` updates (zero disables them).
    pub fn sys_interval(mut self, interval: Duration) -> Self {
        self.sys_interval = Some(interval);
        self
    }

    /// Bind the listeners, spawn the accept loops and return at once.
    pub async fn start(self) -> Result<BrokerHandle, Error> {
        let mut config = self.config.unwrap_or_else(|| Config {
            log_dest: LogDest::None,
            ..Config::default()
        });
        if let Some(i) = self.sys_interval {
            config.sys_interval = i;
        }
        let fixed = !self.listen.is_empty();
        let local_only = config.listeners.is_empty() && !fixed;
        settle(&mut config);
        // Resolved, with their TLS files read, before anything starts: a bad one
        // stops the broker here, naming it.
        let mut planned = Vec::new();
        if fixed {
            planned.push((None, fixed_binds(&config, &self.listen)));
        } else {
            for (i, l) in listener_specs(&config).into_iter().enumerate() {
                let binds = binds_of(&config, i, &l).await?;
                planned.push((Some(l), binds));
            }
        }
        let logger = log::Logger::new(config.log_settings())?;
        let (tx, _) = watch::channel(false);
        let version = env!("CARGO_PKG_VERSION");
        blog!(
            logger,
            LogTypes::INFORMATION,
            "mq version {version} starting"
        );
        match &config.source {
            Some(f) => blog!(logger, LogTypes::INFORMATION, "Config loaded from {f}."),
            None => blog!(logger, LogTypes::INFORMATION, "Using default config."),
        }
        if local_only {
            blog!(
                logger,
                LogTypes::WARNING,
                "Starting in local only mode. Connections will only be possible from clients running on this machine."
            );
            blog!(
                logger,
                LogTypes::WARNING,
                "Create a configuration file which defines a listener to allow remote access."
            );
            blog!(
                logger,
                LogTypes::WARNING,
                // mosquitto points to its own page; mq's options are in its README.
                "For more details see \"Securing your broker\" in mq's README (README.md#securing-your-broker)."
            );
        }
        let sys_interval = config.sys_interval;
        let http_addr = match &config.http_listener {
            Some(h) => Some(http_addr(h, local_only).await?),
            None => None,
        };
        bridge::check_all(&config.bridges).map_err(Error::Bridge)?;
        let security = security::Security::from_config(&config)?;
        for w in security.warnings() {
            blog!(logger, LogTypes::WARNING, "Warning: {w}");
        }
        // The store is read whole before any listener opens: a bad file stops
        // the broker here, naming it.
        let opened = if config.persistence {
            Some(restore::open(&config.store_file())?)
        } else {
            None
        };
        let mut state = State::new(config, security, logger.clone(), tx.clone());
        let mut snapshot = None;
        if let Some((backend, snap)) = opened {
            state.store = Some(store::Store::start(backend, logger));
            snapshot = Some(snap);
        }
        let state = Arc::new(state);
        if let (Some(store), Some(snap)) = (&state.store, snapshot) {
            restore::restore(&state, store, snap);
        }
        let opened = listeners::bind_all(&state, planned).await?;
        if opened.is_empty() {
            return Err(Error::NoListener);
        }
        // Bound before any listener accepts: a port in use stops the broker here.
        let http = match http_addr {
            Some(addr) => Some(http::start(state.clone(), addr).await?),
            None => None,
        };
        let (done_tx, done_rx) = mpsc::channel::<()>(1);
        let running: Vec<_> = opened
            .into_iter()
            .map(|o| listeners::spawn(&state, o, &done_tx))
            .collect();
        let addrs = running.iter().flat_map(|r| r.addrs.clone()).collect();
        if !sys_interval.is_zero() {
            tokio::spawn(sys::run(state.clone(), sys_interval));
        }
        let bridges = bridge::Bridges::default();
        bridges.apply(&state, &state.config().bridges).await;
        blog!(
            state.log,
            LogTypes::INFORMATION,
            "mq version {version} running"
        );
        Ok(BrokerHandle {
            bridges,
            running: tokio::sync::Mutex::new(running),
            addrs: std::sync::Mutex::new(addrs),
            fixed,
            done_tx: std::sync::Mutex::new(Some(done_tx)),
            shutdown: tx,
            done: tokio::sync::Mutex::new(done_rx),
            state,
            http,
        })
    }
}

/// Defaults that depend on the rest of the configuration: anonymous access in
/// local-only mode unless the file says otherwise (mosquitto 2).
fn settle(config: &mut Config) {
    if config.listeners.is_empty() && config.security.allow_anonymous.is_none() {
        config.security.allow_anonymous = Some(true);
    }
}

/// The builder's addresses to bind (they replace the configuration's listeners,
/// which a reload then leaves alone).
fn fixed_binds(config: &Config, listen: &[SocketAddr]) -> Vec<Bind> {
    listen
        .iter()
        .enumerate()
        .map(|(group, addr)| Bind {
            addr: BindAddr::Net(*addr),
            max_connections: config.max_connections,
            group,
            optional: false,
            transport: server::Transport::default(),
            ctx: Arc::new(ListenerCtx {
                port: addr.port(),
                ..ListenerCtx::default()
            }),
        })
        .collect()
}

/// The listeners a configuration asks for: its `listener` lines, else mosquitto
/// 2's local-only listener (127.0.0.1 and ::1, port 1883 or `-p`).
fn listener_specs(config: &Config) -> Vec<Listener> {
    if config.listeners.is_empty() {
        let mut l = Listener::new(config.port.unwrap_or(1883), None);
        l.loopback = true;
        return vec![l];
    }
    config.listeners.clone()
}

/// The addresses to bind for listener number `group` of the configuration.
async fn binds_of(config: &Config, group: usize, l: &Listener) -> Result<Vec<Bind>, Error> {
    let mut out = Vec::new();
    let max_connections = l.max_connections.or(config.max_connections);
    let transport = listener_transport(l)?;
    let ctx = Arc::new(ListenerCtx {
        port: l.port,
        realm: security::Security::realm_of(config, Some(group)),
        mount_point: l.mount_point.as_deref().map(Into::into),
        stats: Default::default(),
    });
    if let Some(path) = &l.unix_path {
        out.push(Bind {
            addr: BindAddr::Unix(path.clone()),
            max_connections,
            group,
            optional: false,
            transport,
            ctx,
        });
        return Ok(out);
    }
    let bind = |ip: IpAddr, optional: bool| Bind {
        addr: BindAddr::Net(SocketAddr::new(ip, l.port)),
        max_connections,
        group,
        optional,
        transport: transport.clone(),
        ctx: ctx.clone(),
    };
    // Both families unless `socket_domain` picks one.
    let family_ok = |ip: &IpAddr| l.ipv6.is_none_or(|v6| ip.is_ipv6() == v6);
    match &l.address {
        None if l.loopback => {
            out.push(bind(Ipv4Addr::LOCALHOST.into(), false));
            out.push(bind(Ipv6Addr::LOCALHOST.into(), true));
        }
        None => {
            for ip in [Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into()] {
                if family_ok(&ip) {
                    // Without `socket_domain`, IPv6 is tolerated missing.
                    out.push(bind(ip, ip.is_ipv6() && l.ipv6.is_none()));
                }
            }
        }
        Some(host) => {
            let resolved = tokio::net::lookup_host((host.as_str(), l.port))
                .await
                .map_err(|_| Error::Resolve(host.clone()))?;
            for addr in resolved.filter(|a| family_ok(&a.ip())) {
                out.push(bind(addr.ip(), false));
            }
        }
    }
    Ok(out)
}

/// The HTTP listener's address: its own, else 0.0.0.0 (127.0.0.1 in local-only
/// mode, as the MQTT listener).
async fn http_addr(h: &config::HttpListener, local_only: bool) -> Result<SocketAddr, Error> {
    let Some(host) = &h.address else {
        let ip: IpAddr = if h.loopback || local_only {
            Ipv4Addr::LOCALHOST.into()
        } else {
            Ipv4Addr::UNSPECIFIED.into()
        };
        return Ok(SocketAddr::new(ip, h.port));
    };
    tokio::net::lookup_host((host.as_str(), h.port))
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| Error::Resolve(host.clone()))
}

/// What a configured listener speaks: its TLS files are read here, so a missing or
/// bad one stops the broker at start, naming the file.
fn listener_transport(l: &config::Listener) -> Result<server::Transport, Error> {
    let tls = if l.tls.enabled() {
        Some(tls::acceptor(&l.tls).map_err(|source| Error::Tls {
            port: l.port,
            source,
        })?)
    } else {
        let t = &l.tls;
        if t.cafile.is_some()
            || t.capath.is_some()
            || t.require_certificate
            || t.tls_version.is_some()
            || t.identity != config::CertIdentity::Connect
        {
            return Err(Error::Tls {
                port: l.port,
                source: tls::TlsError::Settings(
                    "cafile, capath, require_certificate, tls_version, use_identity_as_username \
                     and use_subject_as_username need certfile and keyfile"
                        .into(),
                ),
            });
        }
        None
    };
    Ok(server::Transport {
        tls,
        websocket: l.protocol == config::ListenerProtocol::WebSockets,
        identity: l.tls.identity,
    })
}

/// mosquitto 2's local-only mode: loopback IPv4 and IPv6 on `port`.
pub fn local_only(port: u16, max_connections: Option<usize>) -> Vec<Bind> {
    vec![
        Bind {
            addr: BindAddr::Net(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
            max_connections,
            group: 0,
            optional: false,
            transport: server::Transport::default(),
            ctx: Arc::new(ListenerCtx {
                port,
                ..ListenerCtx::default()
            }),
        },
        Bind {
            addr: BindAddr::Net(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port)),
            max_connections,
            group: 0,
            optional: true,
            transport: server::Transport::default(),
            ctx: Arc::new(ListenerCtx {
                port,
                ..ListenerCtx::default()
            }),
        },
    ]
}

pub use server::Bind as ListenAddress;

/// A running broker. Dropping the handle leaves it running until the runtime stops;
/// call [`BrokerHandle::shutdown`] to stop it.
#[derive(Debug)]
pub struct BrokerHandle {
    /// The listeners open; locked for a whole reload, so reloads run one at a
    /// time.
    running: tokio::sync::Mutex<Vec<listeners::Running>>,
    /// Their TCP addresses.
    addrs: std::sync::Mutex<Vec<SocketAddr>>,
    /// Listeners given to the builder: a reload leaves them alone.
    fixed: bool,
    /// Handed to the accept loops of listeners a reload opens; dropped at shutdown.
    done_tx: std::sync::Mutex<Option<mpsc::Sender<()>>>,
    shutdown: watch::Sender<bool>,
    done: tokio::sync::Mutex<mpsc::Receiver<()>>,
    state: Arc<State>,
    http: Option<http::HttpServer>,
    /// The `connection` sections running.
    bridges: bridge::Bridges,
}

impl BrokerHandle {
    /// Write a line to the broker's log (when its type is enabled), in the same
    /// format as the broker's own lines.
    pub fn log(&self, types: LogTypes, msg: std::fmt::Arguments<'_>) {
        self.state.log.log(types, msg);
    }

    /// Reload the configuration file the broker was started with
    /// ([`Config::source`]; without one, the configuration in force, which reads
    /// the password and ACL files again): see [`BrokerHandle::reload_with`].
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let source = self.state.config().source.clone();
        let in_force = self.state.config();
        self.reload_with(move || match source {
            Some(file) => Config::from_file(std::path::Path::new(&file)),
            None => Ok((*in_force).clone()),
        })
        .await
    }

    /// Reload the whole configuration (SIGHUP): `load` reads it, then limits,
    /// security files, log settings and listeners (added ones opened, removed ones
    /// closed) are put in force; the log says what needs a restart instead. On an
    /// error (logged, with the file and line for a broken file) the configuration
    /// in force stays. Connected clients stay connected.
    pub async fn reload_with(
        &self,
        load: impl FnOnce() -> Result<Config, ConfigError>,
    ) -> Result<(), ReloadError> {
        let mut running = self.running.lock().await;
        blog!(self.state.log, LogTypes::NOTICE, "Reloading config.");
        let done = self
            .done_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let result = match load() {
            Ok(fresh) => {
                reload::Reload {
                    state: &self.state,
                    running: &mut running,
                    fixed: self.fixed,
                    done,
                    bridges: &self.bridges,
                }
                .apply(fresh)
                .await
            }
            Err(e) => Err(e.into()),
        };
        *self.addrs.lock().unwrap_or_else(|e| e.into_inner()) =
            running.iter().flat_map(|r| r.addrs.clone()).collect();
        match &result {
            Ok(()) => match &self.state.config().source {
                Some(f) => blog!(
                    self.state.log,
                    LogTypes::NOTICE,
                    "Config reloaded from {f}."
                ),
                None => blog!(self.state.log, LogTypes::NOTICE, "Config reloaded."),
            },
            Err(e) => blog!(
                self.state.log,
                LogTypes::ERROR,
                "Error: {e}; keeping the configuration in force."
            ),
        }
        result
    }

    /// The first bound TCP listener address (port 0 resolved); `0.0.0.0:0` for a
    /// broker that listens on Unix sockets only.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addrs()
            .first()
            .copied()
            .unwrap_or_else(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0))
    }

    /// The HTTP listener's address (`http_listener`), if there is one.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|h| h.local_addr())
    }

    /// Every bound listener address (those a reload opened included).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.addrs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Number of clients connected now.
    pub fn clients_connected(&self) -> u64 {
        self.state
            .stats
            .clients_connected
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stop accepting, send DISCONNECT 0x8B (Server shutting down) to 5.0 clients,
    /// close every connection and wait (at most a few seconds) for them to end.
    /// The HTTP listener answers 503 on `/healthz` meanwhile and closes last.
    pub async fn shutdown(&self) {
        // First, while the broker still takes their last messages.
        self.bridges.stop_all().await;
        let first = !self.shutdown.send_replace(true);
        self.state.stopping.notify_waiters();
        // The accept loops and connections hold the others.
        drop(
            self.done_tx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let mut done = self.done.lock().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), done.recv()).await;
        if let Some(store) = &self.state.store {
            // What the connections' ends changed (sessions detached, wills).
            let last = store.submitted();
            if tokio::time::timeout(Duration::from_secs(5), store.wait(last))
                .await
                .is_err()
            {
                blog!(
                    self.state.log,
                    LogTypes::ERROR,
                    "Error: the store did not commit the last changes within 5 s."
                );
            }
        }
        if first {
            blog!(
                self.state.log,
                LogTypes::INFORMATION,
                "mq version {} terminating",
                env!("CARGO_PKG_VERSION")
            );
        }
        // `/healthz` answered 503 until here.
        if let Some(http) = &self.http {
            http.stop().await;
        }
        // The last lines out, unless the log output is stuck: it never holds up
        // the shutdown for long.
        let log = self.state.log.clone();
        let _ = tokio::task::spawn_blocking(move || log.flush(Duration::from_secs(1))).await;
    }
}
