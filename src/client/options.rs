//! Connection options, from flags and from broker URLs
//! (`mqtt://[user[:pass]@]host[:port][/topic]`, `mqtts://`, `ws://`, `wss://`).

use super::Error;
use crate::protocol::{Packet, Properties, ProtocolVersion, Will};
use bytes::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The transport a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// MQTT over TCP (`mqtt://`, port 1883).
    #[default]
    Mqtt,
    /// MQTT over TLS (`mqtts://`, port 8883).
    Mqtts,
    /// MQTT over WebSocket (`ws://`, port 80).
    Ws,
    /// MQTT over WebSocket over TLS (`wss://`, port 443).
    Wss,
}

impl Scheme {
    /// The URL scheme name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Mqtt => "mqtt",
            Scheme::Mqtts => "mqtts",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }

    /// The port used when the URL or the flags give none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Mqtt => 1883,
            Scheme::Mqtts => 8883,
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }

    /// Whether the transport runs over TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Scheme::Mqtts | Scheme::Wss)
    }

    /// Whether the transport is a WebSocket.
    pub fn is_websocket(self) -> bool {
        matches!(self, Scheme::Ws | Scheme::Wss)
    }
}

/// TLS settings, used for `mqtts://` and `wss://`.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// PEM CA bundle; `None` = the bundled webpki roots.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM).
    pub cert_file: Option<PathBuf>,
    /// Client private key (PEM).
    pub key_file: Option<PathBuf>,
    /// Skip the check of the server's host name against its certificate (`--insecure`,
    /// as mosquitto); the certificate chain is still verified against the trusted CAs.
    pub insecure: bool,
    /// ALPN protocol names to offer.
    pub alpn: Vec<String>,
    /// A directory of CA certificates (PEM): every certificate in every file is
    /// trusted, as well as `ca_file` (`--capath`).
    pub ca_path: Option<PathBuf>,
    /// The only TLS version to offer (`--tls-version`); `None` = TLS 1.2 and 1.3.
    pub version: Option<TlsVersion>,
    /// Trust the operating system's CA bundle (`--tls-use-os-certs`): on Unix the
    /// PEM bundle named by `SSL_CERT_FILE` or found at the usual places
    /// (`/etc/ssl/certs/ca-certificates.crt`, ...); not supported yet on Windows.
    pub os_certs: bool,
}

/// A TLS protocol version (rustls speaks 1.2 and 1.3 only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    /// Parse mosquitto's spelling: `tlsv1.3` or `tlsv1.2` (older versions are refused:
    /// rustls does not implement them).
    pub fn parse(s: &str) -> Result<TlsVersion, Error> {
        match s {
            "tlsv1.3" => Ok(TlsVersion::Tls13),
            "tlsv1.2" => Ok(TlsVersion::Tls12),
            "tlsv1.1" | "tlsv1" => Err(Error::Tls(format!(
                "TLS version {s} is not supported: mq speaks TLS 1.2 and 1.3 only (use tlsv1.2 or tlsv1.3)"
            ))),
            _ => Err(Error::Tls(format!(
                "invalid TLS version '{s}': use tlsv1.3 or tlsv1.2"
            ))),
        }
    }
}

/// A SOCKS5 proxy (`socks5h://[user:pass@]host:port`): the proxy resolves the broker's
/// host name (RFC 1928), with optional user name/password authentication (RFC 1929).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy's host.
    pub host: String,
    /// The proxy's port (default 1080).
    pub port: u16,
    /// User name for RFC 1929 authentication.
    pub username: Option<String>,
    /// Password for RFC 1929 authentication.
    pub password: Option<String>,
}

impl Proxy {
    /// Parse `socks5h://[user[:pass]@]host[:port]` (IPv6 in brackets; user and password
    /// percent-decoded, each at most 255 bytes as RFC 1929 requires).
    pub fn from_url(url: &str) -> Result<Proxy, Error> {
        let bad = |why: &str| Error::InvalidUrl(format!("proxy {url}: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected socks5h://host:port"))?;
        if !scheme.eq_ignore_ascii_case("socks5h") {
            return Err(bad(&format!(
                "unsupported proxy scheme '{scheme}' (only socks5h:// is supported)"
            )));
        }
        let authority = rest.trim_end_matches('/');
        if authority.contains('/') {
            return Err(bad("a proxy URL has no path"));
        }
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (mut username, mut password) = (None, None);
        if let Some(info) = userinfo {
            let (u, p) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            let u = percent_decode(u).map_err(|e| bad(&e))?;
            let p = match p {
                Some(p) => percent_decode(p).map_err(|e| bad(&e))?,
                None => String::new(),
            };
            if u.is_empty() || u.len() > 255 || p.len() > 255 {
                return Err(bad(
                    "the user name must be 1-255 bytes and the password at most 255 (RFC 1929)",
                ));
            }
            username = Some(u);
            password = Some(p);
        }
        let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
            let end = inner.find(']').ok_or_else(|| bad("unclosed '['"))?;
            let port = inner[end + 1..].strip_prefix(':');
            if port.is_none() && !inner[end + 1..].is_empty() {
                return Err(bad("expected ':port' after ']'"));
            }
            (&inner[..end], port)
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => 1080,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(bad(&format!("invalid port '{p}'"))),
            },
        };
        Ok(Proxy {
            host: host.to_string(),
            port,
            username,
            password,
        })
    }
}

/// Which way a traced packet went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Written to the server.
    Sent,
    /// Read from the server.
    Received,
}

/// A hook called with every control packet sent or received (CONNECT and CONNACK
/// included), in order, from the task that reads and writes the connection. Keep it
/// quick: it runs inline. Used by `mq pub -d` and `mq sub -d`.
#[derive(Clone)]
pub struct PacketTrace(pub Arc<TraceFn>);

/// The function a [`PacketTrace`] calls.
pub type TraceFn = dyn Fn(Direction, &Packet) + Send + Sync;

impl PacketTrace {
    /// Wrap a closure.
    pub fn new(f: impl Fn(Direction, &Packet) + Send + Sync + 'static) -> PacketTrace {
        PacketTrace(Arc::new(f))
    }

    /// Call the hook.
    pub fn call(&self, dir: Direction, packet: &Packet) {
        (self.0)(dir, packet)
    }
}

impl std::fmt::Debug for PacketTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PacketTrace(..)")
    }
}

/// Automatic reconnect: the delay starts at `initial` and doubles up to `max`.
#[derive(Clone, Debug)]
pub struct Backoff {
    /// First delay after a connection loss.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Transport (default `Mqtt`).
    pub scheme: Scheme,
    /// Host name or IP address; an IPv6 literal without brackets (default "localhost").
    pub host: String,
    /// Port (default 1883; 8883 mqtts, 80 ws, 443 wss).
    pub port: u16,
    /// HTTP path of the WebSocket endpoint (default "/mqtt").
    pub ws_path: String,
    /// TLS settings for `Mqtts` and `Wss`.
    pub tls: TlsOptions,
    /// Protocol version (default 3.1.1).
    pub version: ProtocolVersion,
    /// Client identifier; "" lets a 5.0 server assign one, and makes the client
    /// generate `mq-<random>` under 3.1.x.
    pub client_id: String,
    /// Keep alive in seconds (default 60; 0 = off).
    pub keep_alive: u16,
    /// Clean Session (3.1.1) / Clean Start (5.0) (default true).
    pub clean_start: bool,
    /// 5.0 Session Expiry Interval in seconds.
    pub session_expiry: Option<u32>,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Bytes>,
    /// Will message.
    pub will: Option<Will>,
    /// Extra 5.0 CONNECT properties (user properties, receive maximum, topic alias
    /// maximum...).
    pub properties: Properties,
    /// Time allowed for TCP + TLS + WebSocket + CONNACK (default 10 s).
    pub connect_timeout: Duration,
    /// Automatic reconnect; `None` (default) = a lost connection ends the client.
    pub reconnect: Option<Backoff>,
    /// Our own cap on outgoing QoS 1/2 messages in flight (default 20); the window is
    /// the smaller of this and the server's Receive Maximum.
    pub max_inflight: u16,
    /// Incoming QoS 1 messages are acknowledged only when the application says so
    /// ([`Client::acknowledge`](super::Client::acknowledge)), not as soon as they are
    /// queued to `Events` (default false). For a persistent session whose consumer
    /// must not lose a message it had not finished with when it stopped or crashed:
    /// an unacknowledged message is sent again on the next connection
    /// [MQTT-4.4.0-1]. QoS 2 flows are not affected.
    pub manual_ack: bool,
    /// The `/topic` part of an `mqtt://` URL, if any.
    pub url_topic: Option<String>,
    /// Bind the outgoing TCP socket to this local address (`-A`): an IP address or a
    /// host name resolving to one.
    pub bind_address: Option<String>,
    /// Connect over this Unix domain socket instead of TCP (`--unix`; Unix only).
    /// `host` is still used for TLS and the WebSocket `Host` header.
    pub unix_socket: Option<PathBuf>,
    /// Connect through a SOCKS5 proxy (`--proxy`).
    pub proxy: Option<Proxy>,
    /// Disable Nagle's algorithm on TCP (default true: MQTT packets are small).
    pub nodelay: bool,
    /// Called with every control packet sent or received (`-d`).
    pub packet_trace: Option<PacketTrace>,
    /// Connect as a bridge of another broker (mosquitto's `try_private`): under
    /// 3.1 and 3.1.1 the protocol level has bit 7 set, which tells a broker that
    /// knows it not to send our own messages back and to keep their retain flag.
    /// Ignored under 5.0 (No Local and Retain As Published say the same).
    pub bridge: bool,
    /// With `manual_ack`, hold the PUBREC of incoming QoS 2 messages too until
    /// the application acknowledges them (default false: PUBREC once queued to
    /// `Events`). PUBREC tells the server that the message is ours [MQTT-4.3.3-9]:
    /// a bridge sends it only once the broker on its other side has it.
    pub manual_ack_qos2: bool,
    /// Open the byte stream with this instead of TCP, TLS or WebSocket (a server
    /// in the same process; `scheme`, `host` and the TLS options are then unused).
    pub connector: Option<Connector>,
}

/// Opens the byte stream to a server in the same process: see
/// [`ConnectOptions::connector`].
#[derive(Clone)]
pub struct Connector(pub Arc<ConnectFn>);

/// The function a [`Connector`] calls, once per connection attempt.
pub type ConnectFn = dyn Fn() -> std::io::Result<super::transport::Transport> + Send + Sync;

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector(..)")
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            scheme: Scheme::Mqtt,
            host: "localhost".to_string(),
            port: 1883,
            ws_path: "/mqtt".to_string(),
            tls: TlsOptions::default(),
            version: ProtocolVersion::V311,
            client_id: String::new(),
            keep_alive: 60,
            clean_start: true,
            session_expiry: None,
            username: None,
            password: None,
            will: None,
            properties: Properties::default(),
            connect_timeout: Duration::from_secs(10),
            reconnect: None,
            max_inflight: 20,
            manual_ack: false,
            url_topic: None,
            bind_address: None,
            unix_socket: None,
            proxy: None,
            nodelay: true,
            packet_trace: None,
            bridge: false,
            manual_ack_qos2: false,
            connector: None,
        }
    }
}

impl ConnectOptions {
    /// Options for `host:port` over TCP, everything else default.
    pub fn new(host: impl Into<String>, port: u16) -> ConnectOptions {
        ConnectOptions {
            host: host.into(),
            port,
            ..ConnectOptions::default()
        }
    }

    /// Parse `mqtt://[user[:pass]@]host[:port][/topic]`, `mqtts://...`,
    /// `ws://[user[:pass]@]host[:port][/path]` or `wss://...`. IPv6 literals go in
    /// brackets (`mqtt://[::1]:1883`); user and password are percent-decoded. For
    /// ws/wss the path is the WebSocket path (default `/mqtt`); for mqtt/mqtts it is a
    /// topic (`url_topic`).
    pub fn from_url(url: &str) -> Result<ConnectOptions, Error> {
        let bad = |why: &str| Error::InvalidUrl(format!("{url}: {why}"));
        let (scheme_name, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://host, e.g. mqtt://localhost:1883"))?;
        let scheme = match scheme_name.to_ascii_lowercase().as_str() {
            "mqtt" | "tcp" => Scheme::Mqtt,
            "mqtts" | "ssl" | "tls" => Scheme::Mqtts,
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            other => {
                return Err(bad(&format!(
                    "unknown scheme '{other}' (use mqtt, mqtts, ws or wss)"
                )));
            }
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let mut opts = ConnectOptions {
            scheme,
            port: scheme.default_port(),
            ..ConnectOptions::default()
        };
        if let Some(info) = userinfo {
            let (user, pass) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            opts.username = Some(percent_decode(user).map_err(|e| bad(&e))?);
            if let Some(p) = pass {
                opts.password = Some(Bytes::from(percent_decode(p).map_err(|e| bad(&e))?));
            }
        }
        let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
            let end = inner
                .find(']')
                .ok_or_else(|| bad("unclosed '[' in an IPv6 address"))?;
            let after = &inner[end + 1..];
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("expected ':port' after ']'"))?,
                ),
            };
            (&inner[..end], port)
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => {
                    if p.contains(':') {
                        return Err(bad("put an IPv6 address in brackets, e.g. [::1]"));
                    }
                    (h, Some(p))
                }
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        opts.host = host.to_string();
        if let Some(p) = port {
            opts.port = match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(bad(&format!("invalid port '{p}'"))),
            };
        }
        if scheme.is_websocket() {
            if !path.is_empty() {
                opts.ws_path = path.to_string();
            }
        } else {
            let topic = path.strip_prefix('/').unwrap_or(path);
            if !topic.is_empty() {
                opts.url_topic = Some(percent_decode(topic).map_err(|e| bad(&e))?);
            }
        }
        Ok(opts)
    }

    /// The server as a URL, for messages: `mqtt://127.0.0.1:1883`, `ws://[::1]:80/mqtt`.
    pub fn server_display(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let mut s = format!("{}://{}:{}", self.scheme.as_str(), host, self.port);
        if self.scheme.is_websocket() {
            s.push_str(&self.ws_path);
        }
        s
    }

    /// `host:port`, with brackets around an IPv6 literal.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Decode `%XX` escapes; the result must be UTF-8.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in '{s}'"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("'{s}' is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_host_gets_default_port() {
        let o = ConnectOptions::from_url("mqtt://broker.example").unwrap();
        assert_eq!(o.scheme, Scheme::Mqtt);
        assert_eq!(o.host, "broker.example");
        assert_eq!(o.port, 1883);
        assert_eq!(o.url_topic, None);
        assert_eq!(o.username, None);
    }

    #[test]
    fn user_pass_port_topic() {
        let o = ConnectOptions::from_url("mqtt://alice:s%40cret@127.0.0.1:1884/a/b/%23").unwrap();
        assert_eq!(o.username.as_deref(), Some("alice"));
        assert_eq!(o.password.as_deref(), Some(&b"s@cret"[..]));
        assert_eq!(o.host, "127.0.0.1");
        assert_eq!(o.port, 1884);
        assert_eq!(o.url_topic.as_deref(), Some("a/b/#"));
    }

    #[test]
    fn user_without_password() {
        let o = ConnectOptions::from_url("mqtt://bob@localhost").unwrap();
        assert_eq!(o.username.as_deref(), Some("bob"));
        assert_eq!(o.password, None);
    }

    #[test]
    fn password_may_contain_at_sign_before_the_last_one() {
        let o = ConnectOptions::from_url("mqtt://u:p@ss@h:1").unwrap();
        assert_eq!(o.username.as_deref(), Some("u"));
        assert_eq!(o.password.as_deref(), Some(&b"p@ss"[..]));
        assert_eq!(o.host, "h");
    }

    #[test]
    fn ipv6_in_brackets() {
        let o = ConnectOptions::from_url("mqtt://[::1]:1885").unwrap();
        assert_eq!(o.host, "::1");
        assert_eq!(o.port, 1885);
        assert_eq!(o.server_display(), "mqtt://[::1]:1885");
        let o = ConnectOptions::from_url("mqtts://[fe80::1]").unwrap();
        assert_eq!(o.host, "fe80::1");
        assert_eq!(o.port, 8883);
    }

    #[test]
    fn ipv6_without_brackets_is_refused() {
        assert!(matches!(
            ConnectOptions::from_url("mqtt://::1:1883"),
            Err(Error::InvalidUrl(_))
        ));
    }

    #[test]
    fn default_ports_per_scheme() {
        for (url, scheme, port) in [
            ("mqtt://h", Scheme::Mqtt, 1883),
            ("mqtts://h", Scheme::Mqtts, 8883),
            ("ws://h", Scheme::Ws, 80),
            ("wss://h", Scheme::Wss, 443),
        ] {
            let o = ConnectOptions::from_url(url).unwrap();
            assert_eq!((o.scheme, o.port), (scheme, port), "{url}");
        }
    }

    #[test]
    fn websocket_path() {
        let o = ConnectOptions::from_url("ws://h:8080").unwrap();
        assert_eq!(o.ws_path, "/mqtt");
        let o = ConnectOptions::from_url("wss://h:8443/broker/ws").unwrap();
        assert_eq!(o.ws_path, "/broker/ws");
        assert_eq!(o.url_topic, None);
        assert_eq!(o.server_display(), "wss://h:8443/broker/ws");
    }

    #[test]
    fn invalid_urls() {
        for url in [
            "localhost:1883",
            "http://h",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:99999",
            "mqtt://h:x",
            "mqtt://[::1",
            "mqtt://[::1]x",
            "mqtt://u:%zz@h",
        ] {
            assert!(
                matches!(ConnectOptions::from_url(url), Err(Error::InvalidUrl(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn proxy_urls() {
        let p = Proxy::from_url("socks5h://u:p%40ss@proxy.example:1081").unwrap();
        assert_eq!(p.host, "proxy.example");
        assert_eq!(p.port, 1081);
        assert_eq!(p.username.as_deref(), Some("u"));
        assert_eq!(p.password.as_deref(), Some("p@ss"));
        let p = Proxy::from_url("socks5h://[::1]").unwrap();
        assert_eq!((p.host.as_str(), p.port, p.username), ("::1", 1080, None));
        for bad in [
            "socks5://h:1",
            "http://h:1",
            "h:1",
            "socks5h://",
            "socks5h://h:0",
        ] {
            assert!(Proxy::from_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tls_versions() {
        assert_eq!(TlsVersion::parse("tlsv1.3").unwrap(), TlsVersion::Tls13);
        assert_eq!(TlsVersion::parse("tlsv1.2").unwrap(), TlsVersion::Tls12);
        let e = TlsVersion::parse("tlsv1.1").unwrap_err().to_string();
        assert!(e.contains("not supported"), "{e}");
        assert!(TlsVersion::parse("ssl3").is_err());
    }

    #[test]
    fn defaults() {
        let o = ConnectOptions::default();
        assert_eq!(o.host, "localhost");
        assert_eq!(o.port, 1883);
        assert_eq!(o.keep_alive, 60);
        assert!(o.clean_start);
        assert_eq!(o.max_inflight, 20);
        assert_eq!(o.version, ProtocolVersion::V311);
        assert_eq!(o.connect_timeout, Duration::from_secs(10));
        assert_eq!(o.server_display(), "mqtt://localhost:1883");
        let o = ConnectOptions::new("10.0.0.1", 1999);
        assert_eq!(o.host_port(), "10.0.0.1:1999");
    }
}
