//! Where a connection comes from: the client's address, and what the listener that
//! accepted it decides for its clients (the security realm, the mount point, a user
//! name taken from the client certificate). Built by the listener, carried by the
//! connection from CONNECT to its end.

use super::security::RealmId;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

/// The client's end of a connection.
#[derive(Clone, Debug)]
pub enum Peer {
    /// A TCP connection (plain, TLS or WebSocket).
    Net(SocketAddr),
    /// A Unix domain socket connection: the listener's path, since the client's
    /// end has no name.
    Unix(Arc<Path>),
    /// The local side of one of the broker's own bridges: its `connection` name.
    Bridge(Arc<str>),
}

impl Peer {
    /// The address as mosquitto logs it on its own: the IP address, or the socket
    /// path.
    pub fn host(&self) -> PeerHost<'_> {
        PeerHost(self)
    }

    /// The client's port (0 on a Unix socket, as mosquitto logs it).
    pub fn port(&self) -> u16 {
        match self {
            Peer::Net(a) => a.port(),
            Peer::Unix(_) | Peer::Bridge(_) => 0,
        }
    }

    /// The address failed logins are counted by: local processes on a Unix
    /// socket share the loopback address's count.
    pub fn backoff_key(&self) -> IpAddr {
        match self {
            Peer::Net(a) => a.ip(),
            Peer::Unix(_) | Peer::Bridge(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        }
    }
}

/// `host:port`, as in mosquitto's "New connection from H:P" (`bridge NAME` for a
/// bridge's local side).
impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Bridge(_) => write!(f, "{}", self.host()),
            _ => write!(f, "{}:{}", self.host(), self.port()),
        }
    }
}

/// See [`Peer::host`].
pub struct PeerHost<'a>(&'a Peer);

impl fmt::Display for PeerHost<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Peer::Net(a) => write!(f, "{}", a.ip()),
            Peer::Unix(p) => write!(f, "{}", p.display()),
            Peer::Bridge(name) => write!(f, "bridge {name}"),
        }
    }
}

/// What one listener decides for every client it accepts.
#[derive(Debug, Default)]
pub struct ListenerCtx {
    /// The port clients connected to (0 on a Unix socket).
    pub port: u16,
    /// The security realm its clients are checked in.
    pub realm: RealmId,
    /// `mount_point`: the prefix of every topic its clients use.
    pub mount_point: Option<Arc<str>>,
    /// The listening socket's name and connection counters (`/metrics`).
    pub stats: Arc<super::stats::ListenerStats>,
}

/// A connection's origin: who, through which listener.
#[derive(Clone, Debug)]
pub struct Origin {
    /// The client's address.
    pub peer: Peer,
    /// The listener's decisions.
    pub listener: Arc<ListenerCtx>,
    /// The user name from the client certificate (`use_identity_as_username`,
    /// `use_subject_as_username`); `Some(None)` when the listener takes it from a
    /// certificate and the client presented none usable.
    pub cert_username: Option<Option<String>>,
    /// A connection the broker opened itself (a bridge's local side). Without a
    /// password it is taken as authenticated, with the user name of its CONNECT
    /// (for the ACLs), since the configuration file that asked for it is trusted;
    /// with one (`local_password`) it logs in like any client.
    pub internal: bool,
}

impl Origin {
    /// A connection through `listener` from `peer`, user name from CONNECT.
    pub fn new(peer: Peer, listener: Arc<ListenerCtx>) -> Origin {
        Origin {
            peer,
            listener,
            cert_username: None,
            internal: false,
        }
    }
}

/// `topic` under a listener's mount point; `None` when the result would be longer
/// than a topic may be (65,535 bytes).
pub fn mount_topic(mount: &str, topic: &str) -> Option<String> {
    let full = format!("{mount}{topic}");
    (full.len() <= usize::from(u16::MAX)).then_some(full)
}

/// A subscription filter under a listener's mount point: a shared subscription
/// shares the mounted filter (`$share/g/F` becomes `$share/g/MOUNT F`).
pub fn mount_filter(mount: &str, filter: &str) -> Option<String> {
    match crate::protocol::topic::parse_shared(filter) {
        Some((group, f)) => {
            let full = format!("$share/{group}/{mount}{f}");
            (full.len() <= usize::from(u16::MAX)).then_some(full)
        }
        None => mount_topic(mount, filter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_point_prefixes_topics_and_shared_filters() {
        assert_eq!(mount_topic("lab1/", "a/b").as_deref(), Some("lab1/a/b"));
        assert_eq!(mount_filter("lab1/", "#").as_deref(), Some("lab1/#"));
        assert_eq!(
            mount_filter("lab1/", "$share/g/a/+").as_deref(),
            Some("$share/g/lab1/a/+")
        );
        assert_eq!(mount_topic("m", &"x".repeat(65535)), None);
    }

    #[test]
    fn peers_print_as_mosquitto_does() {
        let net = Peer::Net("127.0.0.1:5000".parse().unwrap());
        assert_eq!(net.to_string(), "127.0.0.1:5000");
        let unix = Peer::Unix(std::path::Path::new("/tmp/mq.sock").into());
        assert_eq!(unix.to_string(), "/tmp/mq.sock:0");
        assert_eq!(unix.host().to_string(), "/tmp/mq.sock");
    }
}
