//! The broker's configuration: [`Config`] with mosquitto's defaults, and a parser for
//! the `mosquitto.conf` options we support (`mq broker -c FILE`).
//!
//! Unknown or misspelled options are rejected with the file, the line and a
//! suggestion instead of being ignored; options that mosquitto has and we will support
//! later (TLS, websockets, password files, ACLs, persistence) fail with a clear "not
//! supported yet" naming the option.

use super::bridge::config::{self as bridge_config, BridgeConfig};
use super::log::{LogDest, LogFormat, LogSettings, LogTypes, Timestamp};
use crate::protocol::QoS;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One listener: a TCP port on an address (none = every address of the machine for
/// a `listener` line, loopback for the default local-only listener), or a Unix
/// domain socket (`listener 0 /path`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    /// TCP port; 0 picks a free one (0 for a Unix socket).
    pub port: u16,
    /// Host or address to bind; `None` binds all interfaces (IPv4 and IPv6).
    pub address: Option<String>,
    /// The path of a Unix domain socket listener (mosquitto 2 writes it as
    /// `listener 0 /path/to/socket`).
    pub unix_path: Option<PathBuf>,
    /// `mount_point`: a prefix added to every topic this listener's clients use, and
    /// removed from what they receive, so that their clients see only their own
    /// part of the topic tree.
    pub mount_point: Option<String>,
    /// Security options of this listener, used when `per_listener_settings true`.
    pub security: SecuritySettings,
    /// Largest number of clients connected through this listener (`None` = no limit).
    pub max_connections: Option<usize>,
    /// What the listener speaks (`protocol`).
    pub protocol: ListenerProtocol,
    /// TLS settings: the listener speaks TLS when it has a certificate and key.
    pub tls: ListenerTls,
    /// `socket_domain`: only IPv4 or only IPv6 for a listener without an address
    /// (`None` = both).
    pub ipv6: Option<bool>,
    /// Bind the loopback addresses only (127.0.0.1, and ::1 where there is IPv6),
    /// as the local-only listener does; for listeners made by command-line
    /// shortcuts in local-only mode.
    pub loopback: bool,
}

impl Listener {
    /// A plain MQTT listener on `port`.
    pub fn new(port: u16, address: Option<String>) -> Listener {
        Listener {
            port,
            address,
            max_connections: None,
            protocol: ListenerProtocol::Mqtt,
            tls: ListenerTls::default(),
            ipv6: None,
            unix_path: None,
            mount_point: None,
            security: SecuritySettings::default(),
            loopback: false,
        }
    }
}

/// mosquitto's "security options": global, or per listener with
/// `per_listener_settings true`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecuritySettings {
    /// Allow clients without a user name (`None` = mosquitto's default: true in
    /// local-only mode, false when listeners are configured).
    pub allow_anonymous: Option<bool>,
    /// `password_file`: users and password hashes, as mosquitto_passwd writes them.
    pub password_file: Option<PathBuf>,
    /// `acl_file`: which topics each client may read and write.
    pub acl_file: Option<PathBuf>,
    /// Accept an empty client identifier (one is assigned).
    pub allow_zero_length_clientid: bool,
    /// Prefix of assigned client identifiers.
    pub auto_id_prefix: String,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            allow_anonymous: None,
            password_file: None,
            acl_file: None,
            allow_zero_length_clientid: true,
            auto_id_prefix: "auto-".to_string(),
        }
    }
}

/// Where a client certificate's user name comes from, on a listener with
/// `require_certificate true`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CertIdentity {
    /// The CONNECT's user name (and password), as without a certificate.
    #[default]
    Connect,
    /// `use_identity_as_username`: the certificate's Common Name; the CONNECT's user
    /// name and password are not used.
    CommonName,
    /// `use_subject_as_username`: the certificate's whole subject, as an RFC 2253
    /// string (`CN=alice,O=lab,C=DE`).
    Subject,
}
/// A listener's `protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ListenerProtocol {
    /// MQTT over TCP (or TLS).
    #[default]
    Mqtt,
    /// MQTT over WebSocket (or WebSocket over TLS) [MQTT-6.0.0-1].
    WebSockets,
}

/// A listener's TLS options, as mosquitto names them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ListenerTls {
    /// `certfile`: the server's certificate chain (PEM).
    pub certfile: Option<PathBuf>,
    /// `keyfile`: its private key (PEM).
    pub keyfile: Option<PathBuf>,
    /// `cafile`: certificates that client certificates must chain to (PEM).
    pub cafile: Option<PathBuf>,
    /// `capath`: a directory of such certificates (PEM files).
    pub capath: Option<PathBuf>,
    /// `require_certificate`: clients must present a valid certificate.
    pub require_certificate: bool,
    /// `tls_version`: only this version (`tlsv1.2` or `tlsv1.3`); `None` = both.
    pub tls_version: Option<String>,
    /// `use_identity_as_username` / `use_subject_as_username`.
    pub identity: CertIdentity,
}

impl ListenerTls {
    /// Whether the listener speaks TLS.
    pub fn enabled(&self) -> bool {
        self.certfile.is_some() || self.keyfile.is_some()
    }
}

/// The HTTP listener for health and metrics (`http_listener PORT [ADDRESS]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpListener {
    /// TCP port (0 = a free port).
    pub port: u16,
    /// Address to bind (a name or an IP address); `None` = 0.0.0.0, or 127.0.0.1
    /// in local-only mode or with [`HttpListener::loopback`].
    pub address: Option<String>,
    /// Bind the loopback address without an address (`--http` in local-only mode).
    pub loopback: bool,
}

/// The full broker configuration. [`Config::default`] has mosquitto 2's defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// Listeners from `listener` lines. Empty = local-only mode: 127.0.0.1 and ::1 on
    /// port 1883 (or the port of `-p`), anonymous access allowed.
    pub listeners: Vec<Listener>,
    /// Port of the local-only listener (`-p`; default 1883). Ignored when
    /// `listeners` is not empty, as in mosquitto.
    pub port: Option<u16>,
    /// The security options (`allow_anonymous`, `password_file`, `acl_file`,
    /// `allow_zero_length_clientid`, `auto_id_prefix`) for every listener, or for the
    /// default listener with `per_listener_settings true`.
    pub security: SecuritySettings,
    /// `per_listener_settings true`: each listener has its own security options
    /// ([`Listener::security`]).
    pub per_listener_settings: bool,
    /// Client limit of the default listener (`None` = no limit).
    pub max_connections: Option<usize>,
    /// Largest PUBLISH payload accepted in bytes (0 = the protocol's limit).
    pub message_size_limit: usize,
    /// Largest packet accepted in bytes, sent to 5.0 clients as Maximum Packet Size
    /// (0 = the protocol's limit).
    pub max_packet_size: u32,
    /// Outgoing QoS 1/2 messages in flight per client; also our Receive Maximum
    /// (0 = 65535).
    pub max_inflight_messages: u16,
    /// Messages queued per client beyond those in flight (0 = no limit but a hard cap).
    pub max_queued_messages: usize,
    /// Payload bytes queued per client beyond those in flight (0 = no limit but a
    /// hard cap of 32 MiB, so that a client that does not read costs bounded memory
    /// whatever the message sizes).
    pub max_queued_bytes: usize,
    /// `memory_limit`: the broker-wide budget of queued payload bytes, all sessions
    /// together (0: the default, 1 GiB). Unlike mosquitto's, it bounds the queues,
    /// not the whole heap.
    pub memory_limit: usize,
    /// Largest keep alive accepted (5.0: sent as Server Keep Alive when exceeded).
    pub max_keepalive: u16,
    /// Whether retained messages are supported.
    pub retain_available: bool,
    /// Interval of the `$SYS/broker/...` updates (zero disables them).
    pub sys_interval: Duration,
    /// Drop durable sessions of clients that have been away this long (`None` = never).
    pub persistent_client_expiration: Option<Duration>,
    /// Which log messages are written.
    pub log_types: LogTypes,
    /// Where log messages go: the first `log_dest` line (stderr without one).
    pub log_dest: LogDest,
    /// The destinations of further `log_dest` lines: each adds one, as in
    /// mosquitto.
    pub log_dest_more: Vec<LogDest>,
    /// Prefix log lines with `<unix-seconds>: ` (or the `log_timestamp_format` time).
    pub log_timestamp: bool,
    /// `log_timestamp_format`: a `strftime` format for the time prefix, in local
    /// time (`TZ`), e.g. `%Y-%m-%dT%H:%M:%S`.
    pub log_timestamp_format: Option<String>,
    /// `log_format text|json`.
    pub log_format: LogFormat,
    /// The syslog facility number: 3 (daemon), or 16 + N for `log_facility N`.
    pub log_facility: u8,
    /// The socket `log_dest syslog` writes to (the platform's, `/dev/log` on
    /// Linux); not a configuration file option.
    pub syslog_socket: PathBuf,
    /// Log client connections and disconnections.
    pub connection_messages: bool,
    /// Topic Alias Maximum offered to 5.0 clients.
    pub max_topic_alias: u16,
    /// Highest QoS the broker accepts.
    pub max_qos: QoS,
    /// Queue QoS 0 messages for disconnected durable sessions.
    pub queue_qos0_messages: bool,
    /// Disable Nagle's algorithm on client sockets.
    pub set_tcp_nodelay: bool,
    /// Close connections that do not send a CONNECT within this time.
    pub connect_timeout: Duration,
    /// The grace of a subscriber whose queue is full: while its writer makes
    /// progress, publishers wait for room (they are paced, nothing is lost); once it
    /// has made none for this long, it is stuck: what does not fit its queue is
    /// dropped for it alone, and publishers no longer wait for it until it reads
    /// again. A stuck subscriber holds a publisher up once per episode, this long.
    pub queue_wait: Duration,
    /// `persistence true`: keep retained messages and durable sessions in the
    /// store file, committed before they are acknowledged.
    pub persistence: bool,
    /// `persistence_location`: the store's directory (default: the working
    /// directory).
    pub persistence_location: Option<PathBuf>,
    /// `persistence_file`: the store's file name.
    pub persistence_file: String,
    /// The configuration file, for the `Config loaded from` line.
    pub source: Option<String>,
    /// `http_listener`: serve `/healthz`, `/metrics` and `/clients` (`None` = no).
    pub http_listener: Option<HttpListener>,
    /// `connection` sections: bridges to other brokers.
    pub bridges: Vec<BridgeConfig>,
}

impl Config {
    /// The store file: `persistence_location` joined with `persistence_file`.
    pub fn store_file(&self) -> PathBuf {
        match &self.persistence_location {
            Some(dir) => dir.join(&self.persistence_file),
            None => PathBuf::from(&self.persistence_file),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listeners: Vec::new(),
            port: None,
            security: SecuritySettings::default(),
            per_listener_settings: false,
            max_connections: None,
            message_size_limit: 0,
            max_packet_size: 0,
            max_inflight_messages: 20,
            max_queued_messages: 1000,
            max_queued_bytes: 0,
            memory_limit: 0,
            max_keepalive: 65535,
            retain_available: true,
            sys_interval: Duration::from_secs(10),
            persistent_client_expiration: None,
            log_types: LogTypes::DEFAULT,
            log_dest: LogDest::Stderr,
            log_dest_more: Vec::new(),
            log_timestamp: true,
            log_timestamp_format: None,
            log_format: LogFormat::Text,
            log_facility: 3,
            syslog_socket: super::log::default_syslog_socket(),
            connection_messages: true,
            max_topic_alias: 10,
            max_qos: QoS::ExactlyOnce,
            queue_qos0_messages: false,
            set_tcp_nodelay: true,
            connect_timeout: Duration::from_secs(10),
            queue_wait: Duration::from_millis(250),
            persistence: false,
            persistence_location: None,
            // Not mosquitto's `mosquitto.db`: the formats differ, and a mosquitto
            // file is left alone.
            persistence_file: "mq.db".to_string(),
            source: None,
            http_listener: None,
            bridges: Vec::new(),
        }
    }
}

/// A configuration file error, printed as `FILE:LINE: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The 1-based line (0 = the file itself).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// Options we read.
const SUPPORTED: &[&str] = &[
    "listener",
    "http_listener",
    "port",
    "bind_address",
    "allow_anonymous",
    "password_file",
    "acl_file",
    "max_connections",
    "message_size_limit",
    "max_packet_size",
    "max_inflight_messages",
    "max_queued_messages",
    "max_queued_bytes",
    "memory_limit",
    "max_keepalive",
    "retain_available",
    "sys_interval",
    "persistent_client_expiration",
    "log_type",
    "log_dest",
    "log_timestamp",
    "log_timestamp_format",
    "log_format",
    "log_facility",
    "connection_messages",
    "max_topic_alias",
    "max_qos",
    "maximum_qos",
    "allow_zero_length_clientid",
    "auto_id_prefix",
    "queue_qos0_messages",
    "set_tcp_nodelay",
    "protocol",
    "certfile",
    "keyfile",
    "cafile",
    "capath",
    "require_certificate",
    "tls_version",
    "socket_domain",
    "per_listener_settings",
    "mount_point",
    "use_identity_as_username",
    "use_subject_as_username",
    "persistence",
    "persistence_file",
    "persistence_location",
    "autosave_interval",
    "autosave_on_changes",
    "connection",
    "address",
    "topic",
];

/// Options mosquitto has that a later release of `mq broker` will support.
const NOT_YET: &[&str] = &[
    "crlfile",
    "http_dir",
    "websockets_log_level",
    "websockets_headers_size",
    "plugin",
    "auth_plugin",
    "include_dir",
    "pid_file",
    "user",
    "bind_interface",
    "max_inflight_bytes",
    "upgrade_outgoing_qos",
    "check_retain_source",
    "use_username_as_clientid",
];

impl Config {
    /// Read a mosquitto.conf file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read the configuration file: {e}"),
        })?;
        let mut config = Config::parse(&text, &file)?;
        config.source = Some(file);
        Ok(config)
    }

    /// Parse mosquitto.conf text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut seen = Seen::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| ConfigError {
                file: file.to_string(),
                line: i + 1,
                message,
            };
            let (key, value) = match line.split_once(char::is_whitespace) {
                Some((k, v)) => (k, v.trim()),
                None => (line, ""),
            };
            if key == "connection" {
                let name = need(key, value).map_err(err)?;
                if config.bridges.iter().any(|b| b.name == name) {
                    return Err(err(format!("a second connection named '{name}'")));
                }
                config
                    .bridges
                    .push(BridgeConfig::new(name.to_string(), i + 1));
                continue;
            }
            if bridge_config::is_bridge_option(key) {
                let Some(b) = config.bridges.last_mut() else {
                    return Err(err(format!(
                        "'{key}' is a bridge option: it needs a connection line before it"
                    )));
                };
                bridge_config::apply(b, key, value).map_err(err)?;
                continue;
            }
            apply(&mut config, key, value, &mut seen).map_err(err)?;
        }
        for b in &config.bridges {
            b.check().map_err(|message| ConfigError {
                file: file.to_string(),
                line: b.line,
                message,
            })?;
        }
        Ok(config)
    }

    /// The logger's settings.
    pub fn log_settings(&self) -> LogSettings {
        let mut dests = vec![self.log_dest.clone()];
        dests.extend(self.log_dest_more.iter().cloned());
        let timestamp = match (&self.log_timestamp_format, self.log_timestamp) {
            (_, false) => Timestamp::None,
            (Some(f), true) => Timestamp::Format(f.clone()),
            (None, true) => Timestamp::Unix,
        };
        LogSettings {
            types: self.log_types,
            dests,
            timestamp,
            format: self.log_format,
            connection_messages: self.connection_messages,
            facility: self.log_facility,
            syslog_socket: self.syslog_socket.clone(),
        }
    }

    /// Whether clients without a user name may connect (the global setting).
    pub fn anonymous_allowed(&self) -> bool {
        self.security
            .allow_anonymous
            .unwrap_or(self.listeners.is_empty())
    }
}

fn need<'a>(key: &str, value: &'a str) -> Result<&'a str, String> {
    if value.is_empty() {
        Err(format!("option '{key}' needs a value"))
    } else {
        Ok(value)
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool, String> {
    match need(key, value)? {
        "true" => Ok(true),
        "false" => Ok(false),
        v => Err(format!("option '{key}' takes true or false, not '{v}'")),
    }
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
    need(key, value)?
        .parse()
        .map_err(|_| format!("option '{key}': '{value}' is not a valid number"))
}

/// mosquitto's durations: a number with h, d, w, m or y (hours, days, weeks, months,
/// years).
fn parse_expiration(value: &str) -> Result<Duration, String> {
    let (num, unit) = value.split_at(value.len().saturating_sub(1));
    let n: u64 = num.parse().map_err(|_| {
        format!(
            "persistent_client_expiration: '{value}' is not a duration like 2h, 14d, 1w, 1m or 1y"
        )
    })?;
    let secs = match unit {
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "m" => 30 * 86_400,
        "y" => 365 * 86_400,
        _ => {
            return Err(format!(
                "persistent_client_expiration: '{value}' is not a duration like 2h, 14d, 1w, 1m or 1y"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// Options whose first line replaces the default and whose later lines add to it.
#[derive(Default)]
struct Seen {
    log_type: bool,
    log_dest: bool,
}

fn apply(config: &mut Config, key: &str, value: &str, seen: &mut Seen) -> Result<(), String> {
    match key {
        "listener" => {
            let mut parts = need(key, value)?.split_whitespace();
            let port: u16 = parse_num(key, parts.next().unwrap_or_default())?;
            let address = parts.next().map(str::to_string);
            if let Some(extra) = parts.next() {
                return Err(format!(
                    "listener takes a port and an address, not '{extra}'"
                ));
            }
            config.listeners.push(unix_or_net(port, address)?);
        }
        "port" => {
            let port: u16 = parse_num(key, value)?;
            config.listeners.push(Listener::new(port, None));
        }
        "bind_address" => {
            need(key, value)?;
            match config.listeners.last_mut() {
                Some(l) => l.address = Some(value.to_string()),
                None => return Err("bind_address needs a port or listener line before it".into()),
            }
        }
        "allow_anonymous" => {
            let allowed = parse_bool(key, value)?;
            security(config, key)?.allow_anonymous = Some(allowed);
        }
        "password_file" => security(config, key)?.password_file = Some(need(key, value)?.into()),
        "acl_file" => security(config, key)?.acl_file = Some(need(key, value)?.into()),
        "max_connections" => {
            let n: i64 = parse_num(key, value)?;
            let limit = usize::try_from(n).ok();
            match config.listeners.last_mut() {
                Some(l) => l.max_connections = limit,
                None => config.max_connections = limit,
            }
        }
        "message_size_limit" => config.message_size_limit = parse_num(key, value)?,
        "max_packet_size" => config.max_packet_size = parse_num(key, value)?,
        "max_inflight_messages" => config.max_inflight_messages = parse_num(key, value)?,
        "max_queued_messages" => config.max_queued_messages = parse_num(key, value)?,
        "max_queued_bytes" => config.max_queued_bytes = parse_num(key, value)?,
        "memory_limit" => config.memory_limit = parse_num(key, value)?,
        "max_keepalive" => config.max_keepalive = parse_num(key, value)?,
        "retain_available" => config.retain_available = parse_bool(key, value)?,
        "sys_interval" => config.sys_interval = Duration::from_secs(parse_num(key, value)?),
        "persistent_client_expiration" => {
            config.persistent_client_expiration = Some(parse_expiration(need(key, value)?)?)
        }
        "log_type" => {
            if !seen.log_type {
                config.log_types = LogTypes::NONE;
                seen.log_type = true;
            }
            let t = LogTypes::from_name(need(key, value)?).ok_or_else(|| {
                format!(
                    "log_type '{value}' is not one of debug, error, warning, notice, information, subscribe, unsubscribe, websockets, none, all"
                )
            })?;
            config.log_types = config.log_types.union(t);
        }
        "log_dest" => {
            let dest = log_dest(need(key, value)?)?;
            if seen.log_dest {
                config.log_dest_more.push(dest);
            } else {
                config.log_dest = dest;
                seen.log_dest = true;
            }
        }
        "log_timestamp_format" => config.log_timestamp_format = Some(need(key, value)?.into()),
        "log_format" => {
            config.log_format = match need(key, value)? {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                v => return Err(format!("log_format '{v}' is not one of text, json")),
            }
        }
        "log_facility" => {
            let n: u8 = parse_num(key, value)?;
            if n > 7 {
                return Err(format!(
                    "log_facility must be 0 to 7 (local0 to local7), not {n}"
                ));
            }
            config.log_facility = 16 + n;
        }
        "log_timestamp" => config.log_timestamp = parse_bool(key, value)?,
        "connection_messages" => config.connection_messages = parse_bool(key, value)?,
        "max_topic_alias" => config.max_topic_alias = parse_num(key, value)?,
        // mosquitto 2.0 reads `maximum_qos` as well as `max_qos`.
        "max_qos" | "maximum_qos" => {
            let q: u8 = parse_num(key, value)?;
            config.max_qos =
                QoS::from_u8(q).ok_or_else(|| format!("{key} must be 0, 1 or 2, not {q}"))?;
        }
        "allow_zero_length_clientid" => {
            let allowed = parse_bool(key, value)?;
            security(config, key)?.allow_zero_length_clientid = allowed;
        }
        "auto_id_prefix" => security(config, key)?.auto_id_prefix = value.to_string(),
        "mount_point" => {
            let prefix = mount_point(need(key, value)?)?;
            listener(config, key)?.mount_point = Some(prefix);
        }
        "use_identity_as_username" | "use_subject_as_username" => {
            if parse_bool(key, value)? {
                let tls = &mut listener(config, key)?.tls;
                tls.identity = if key == "use_identity_as_username" {
                    CertIdentity::CommonName
                } else {
                    CertIdentity::Subject
                };
            }
        }
        "queue_qos0_messages" => config.queue_qos0_messages = parse_bool(key, value)?,
        "set_tcp_nodelay" => config.set_tcp_nodelay = parse_bool(key, value)?,
        "protocol" => {
            let protocol = match need(key, value)? {
                "mqtt" => ListenerProtocol::Mqtt,
                "websockets" => ListenerProtocol::WebSockets,
                v => return Err(format!("protocol '{v}' is not one of mqtt, websockets")),
            };
            listener(config, key)?.protocol = protocol;
        }
        "certfile" => listener(config, key)?.tls.certfile = Some(need(key, value)?.into()),
        "keyfile" => listener(config, key)?.tls.keyfile = Some(need(key, value)?.into()),
        "cafile" => listener(config, key)?.tls.cafile = Some(need(key, value)?.into()),
        "capath" => listener(config, key)?.tls.capath = Some(need(key, value)?.into()),
        "require_certificate" => {
            let required = parse_bool(key, value)?;
            listener(config, key)?.tls.require_certificate = required;
        }
        "tls_version" => {
            let v = match need(key, value)? {
                v @ ("tlsv1.2" | "tlsv1.3") => v.to_string(),
                "tlsv1" | "tlsv1.1" => {
                    return Err(format!(
                        "tls_version {value} is not supported: rustls offers tlsv1.2 and tlsv1.3"
                    ));
                }
                v => return Err(format!("tls_version '{v}' is not one of tlsv1.2, tlsv1.3")),
            };
            listener(config, key)?.tls.tls_version = Some(v);
        }
        "ciphers" | "ciphers_tls1.3" | "tls_engine" | "tls_keyform" | "psk_file" | "psk_hint"
        | "dhparamfile" => {
            return Err(format!(
                "option '{key}' is not supported: rustls has no equivalent (mq uses rustls's \
                 safe defaults; PSK and OpenSSL engines are not offered)"
            ));
        }
        "socket_domain" => {
            let ipv6 = match need(key, value)? {
                "ipv4" => false,
                "ipv6" => true,
                v => return Err(format!("socket_domain '{v}' is not one of ipv4, ipv6")),
            };
            listener(config, key)?.ipv6 = Some(ipv6);
        }
        "persistence" => config.persistence = parse_bool(key, value)?,
        "persistence_file" => config.persistence_file = need(key, value)?.to_string(),
        // mosquitto appends the file name to the location as written, so it ends
        // with a `/`; a directory without one works too.
        "persistence_location" => config.persistence_location = Some(need(key, value)?.into()),
        // mq commits every acknowledged change as it happens: there is no
        // snapshot to schedule.
        "autosave_interval" => {
            let _: i64 = parse_num(key, value)?;
        }
        "autosave_on_changes" => {
            parse_bool(key, value)?;
        }
        "per_listener_settings" => {
            let per_listener = parse_bool(key, value)?;
            // Which settings earlier lines meant would change: mosquitto asks for
            // it at the top as well.
            if !config.listeners.is_empty() || config.security != SecuritySettings::default() {
                return Err(
                    "per_listener_settings must come before every listener and security option"
                        .into(),
                );
            }
            config.per_listener_settings = per_listener;
        }
        "http_listener" => {
            let mut parts = need(key, value)?.split_whitespace();
            let port: u16 = parse_num(key, parts.next().unwrap_or_default())?;
            let address = parts.next().map(str::to_string);
            if let Some(extra) = parts.next() {
                return Err(format!(
                    "http_listener takes a port and an address, not '{extra}'"
                ));
            }
            config.http_listener = Some(HttpListener {
                port,
                address,
                loopback: false,
            });
        }
        k if NOT_YET.contains(&k) => {
            return Err(format!("option '{k}' is not supported yet"));
        }
        k => {
            let mut msg = format!("unknown option '{k}'");
            if let Some(s) = suggest(k) {
                msg.push_str(&format!(" (did you mean '{s}'?)"));
            }
            return Err(msg);
        }
    }
    Ok(())
}

/// A `log_dest` value: `stderr`, `stdout`, `file PATH`, `syslog` or `none`.
fn log_dest(value: &str) -> Result<LogDest, String> {
    let (kind, rest) = match value.split_once(char::is_whitespace) {
        Some((k, r)) => (k, r.trim()),
        None => (value, ""),
    };
    let dest = match kind {
        "stderr" => LogDest::Stderr,
        "stdout" => LogDest::Stdout,
        "none" => LogDest::None,
        "syslog" if cfg!(unix) => LogDest::Syslog,
        "syslog" => return Err("log_dest syslog is not supported on this platform".into()),
        "file" if rest.is_empty() => return Err("log_dest file needs a path".into()),
        "file" => return Ok(LogDest::File(rest.into())),
        "topic" | "dlt" => return Err(format!("log_dest {kind} is not supported yet")),
        _ => {
            return Err(format!(
                "log_dest '{value}' is not one of stderr, stdout, file PATH, syslog, none"
            ));
        }
    };
    if !rest.is_empty() {
        return Err(format!("log_dest {kind} takes no argument, not '{rest}'"));
    }
    Ok(dest)
}

/// A `listener PORT [ADDRESS]` line: an address starting with `/` is a Unix socket
/// path, which mosquitto writes with port 0.
fn unix_or_net(port: u16, address: Option<String>) -> Result<Listener, String> {
    match address {
        Some(path) if path.starts_with('/') => {
            if port != 0 {
                return Err(format!(
                    "a Unix socket listener is written 'listener 0 {path}' (port 0, not {port})"
                ));
            }
            if cfg!(not(unix)) {
                return Err("Unix socket listeners need a Unix system".into());
            }
            let mut l = Listener::new(0, None);
            l.unix_path = Some(path.into());
            Ok(l)
        }
        address => Ok(Listener::new(port, address)),
    }
}

/// A `mount_point`: a topic prefix, so no wildcards; like mosquitto, it is used
/// as written (a trailing `/` is the usual way to make it a level of its own).
fn mount_point(value: &str) -> Result<String, String> {
    if value.contains(['+', '#']) || value.starts_with('$') || value.contains('\0') {
        return Err(format!(
            "mount_point '{value}' must be a topic prefix without '+', '#' or a leading '$'"
        ));
    }
    Ok(value.to_string())
}

/// The security options an option line sets: the last listener's with
/// `per_listener_settings true`, else the global ones.
fn security<'a>(config: &'a mut Config, key: &str) -> Result<&'a mut SecuritySettings, String> {
    if config.per_listener_settings {
        Ok(&mut listener(config, key)?.security)
    } else {
        Ok(&mut config.security)
    }
}

/// The listener a per-listener option applies to: the last `listener` line.
fn listener<'a>(config: &'a mut Config, key: &str) -> Result<&'a mut Listener, String> {
    config.listeners.last_mut().ok_or_else(|| {
        format!("option '{key}' applies to a listener: put it after a 'listener' line")
    })
}

/// The known option closest to a misspelled one, if any is close enough.
fn suggest(word: &str) -> Option<&'static str> {
    SUPPORTED
        .iter()
        .chain(NOT_YET)
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supported_options() {
        let c = Config::parse(
            "# comment\nlistener 1884 127.0.0.1\nmax_connections 5\nallow_anonymous true\nmax_queued_messages 10\nmax_queued_bytes 4096\nsys_interval 0\nlog_type all\npersistent_client_expiration 2h\n",
            "m.conf",
        )
        .unwrap();
        assert_eq!(c.listeners.len(), 1);
        assert_eq!(c.listeners[0].port, 1884);
        assert_eq!(c.listeners[0].max_connections, Some(5));
        assert_eq!(c.max_queued_messages, 10);
        assert_eq!(c.max_queued_bytes, 4096);
        assert!(c.sys_interval.is_zero());
        assert_eq!(
            c.persistent_client_expiration,
            Some(Duration::from_secs(7200))
        );
        assert!(c.anonymous_allowed());
    }

    #[test]
    fn each_log_dest_line_adds_a_destination() {
        let c = Config::parse(
            "log_dest file /var/log/mq.log\nlog_dest stdout\nlog_timestamp_format %H:%M\n\
             log_format json\nlog_facility 5\n",
            "m.conf",
        )
        .unwrap();
        let s = c.log_settings();
        assert_eq!(
            s.dests,
            vec![LogDest::File("/var/log/mq.log".into()), LogDest::Stdout]
        );
        assert_eq!(s.timestamp, Timestamp::Format("%H:%M".into()));
        assert_eq!(s.format, LogFormat::Json);
        assert_eq!(s.facility, 21);
        assert_eq!(
            Config::default().log_settings().dests,
            vec![LogDest::Stderr]
        );
        let quiet = Config::parse("log_timestamp false\n", "m.conf").unwrap();
        assert_eq!(quiet.log_settings().timestamp, Timestamp::None);
    }

    #[test]
    fn unknown_option_has_line_and_suggestion() {
        let e = Config::parse("\nmax_conections 4\n", "m.conf").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.to_string()
                .starts_with("m.conf:2: unknown option 'max_conections'")
        );
        assert!(e.to_string().contains("max_connections"), "{e}");
    }

    #[test]
    fn not_supported_yet_names_option() {
        let e = Config::parse("crlfile /etc/crl.pem\n", "m.conf").unwrap_err();
        assert!(
            e.to_string().contains("'crlfile' is not supported yet"),
            "{e}"
        );
    }

    #[test]
    fn listener_options_follow_their_listener() {
        let c = Config::parse(
            "listener 1883\nlistener 8883\ncertfile c.pem\nkeyfile k.pem\nrequire_certificate true\n\
             listener 8080\nprotocol websockets\nmaximum_qos 1\n",
            "m.conf",
        )
        .unwrap();
        assert!(!c.listeners[0].tls.enabled());
        assert!(c.listeners[1].tls.enabled() && c.listeners[1].tls.require_certificate);
        assert_eq!(c.listeners[2].protocol, ListenerProtocol::WebSockets);
        assert_eq!(c.max_qos, QoS::AtLeastOnce);
        let c = Config::parse("listener 1883\nsocket_domain ipv4\n", "m.conf").unwrap();
        assert_eq!(c.listeners[0].ipv6, Some(false));
        let e = Config::parse("certfile c.pem\n", "m.conf").unwrap_err();
        assert!(
            e.to_string().contains("put it after a 'listener' line"),
            "{e}"
        );
    }
}
