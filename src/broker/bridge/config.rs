//! The options of one `connection NAME` section of mosquitto.conf: where the
//! remote broker is, which topics go which way, how the bridge identifies itself
//! on either side, and when it (re)connects. Parsed line by line by
//! [`super::super::config`], which hands every bridge option to [`apply`].

use crate::protocol::{ProtocolVersion, QoS, topic};
use std::path::PathBuf;
use std::time::Duration;

/// Which way a `topic` line forwards messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Remote to local.
    In,
    /// Local to remote (the default).
    Out,
    /// Both ways.
    Both,
}

impl Direction {
    /// Whether local messages go to the remote broker.
    pub fn out(self) -> bool {
        matches!(self, Direction::Out | Direction::Both)
    }

    /// Whether remote messages come to the local broker.
    pub fn inward(self) -> bool {
        matches!(self, Direction::In | Direction::Both)
    }
}

/// One `topic PATTERN [in|out|both] [QOS] [LOCAL_PREFIX] [REMOTE_PREFIX]` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeTopic {
    /// The pattern ("" = the prefixes are the whole topics).
    pub pattern: String,
    /// Which way.
    pub direction: Direction,
    /// The QoS of the subscriptions (default 0).
    pub qos: QoS,
    /// Prefix of the topics on the local broker.
    pub local_prefix: String,
    /// Prefix of the topics on the remote broker.
    pub remote_prefix: String,
}

impl BridgeTopic {
    /// The filter subscribed to on the local broker (`out`, `both`).
    pub fn local_filter(&self) -> String {
        format!("{}{}", self.local_prefix, self.pattern)
    }

    /// The filter subscribed to on the remote broker (`in`, `both`).
    pub fn remote_filter(&self) -> String {
        format!("{}{}", self.remote_prefix, self.pattern)
    }

    /// The remote topic of a local message that matches [`Self::local_filter`]:
    /// the local prefix taken off, the remote prefix put on.
    pub fn to_remote(&self, local: &str) -> Option<String> {
        if !self.direction.out() || !topic::matches(&self.local_filter(), local) {
            return None;
        }
        let rest = local.strip_prefix(self.local_prefix.as_str())?;
        Some(format!("{}{rest}", self.remote_prefix))
    }

    /// The local topic of a remote message that matches [`Self::remote_filter`].
    pub fn to_local(&self, remote: &str) -> Option<String> {
        if !self.direction.inward() || !topic::matches(&self.remote_filter(), remote) {
            return None;
        }
        let rest = remote.strip_prefix(self.remote_prefix.as_str())?;
        Some(format!("{}{rest}", self.local_prefix))
    }
}

/// When a bridge connects again after its connection failed (`restart_timeout`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Restart {
    /// Always this long.
    Constant(Duration),
    /// mosquitto's "decorrelated jitter": from `base`, each delay a random time
    /// between `base` and three times the last one, at most `cap`.
    Backoff {
        /// The first delay.
        base: Duration,
        /// The largest delay.
        cap: Duration,
    },
}

impl Restart {
    /// The delay after `last` (`None`: the first failure).
    pub fn next(&self, last: Option<Duration>, random: f64) -> Duration {
        match *self {
            Restart::Constant(d) => d,
            Restart::Backoff { base, cap } => {
                let Some(last) = last else {
                    return base.min(cap);
                };
                let hi = (last * 3).max(base);
                let span = hi.saturating_sub(base).as_secs_f64() * random.clamp(0.0, 1.0);
                (base + Duration::from_secs_f64(span)).min(cap)
            }
        }
    }
}

/// `start_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartType {
    /// Start with the broker, restart after a failure (the default).
    Automatic,
    /// Start with the broker, never restart.
    Once,
    /// Connect once `threshold` messages wait for the remote; disconnect after
    /// `idle_timeout` without a message either way (mosquitto's `lazy`).
    Lazy,
}

/// The TLS options of a bridge (`bridge_cafile`... ); TLS is on when
/// `bridge_cafile` or `bridge_capath` is given, as in mosquitto.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BridgeTls {
    /// `bridge_cafile`.
    pub cafile: Option<PathBuf>,
    /// `bridge_capath`.
    pub capath: Option<PathBuf>,
    /// `bridge_certfile`.
    pub certfile: Option<PathBuf>,
    /// `bridge_keyfile`.
    pub keyfile: Option<PathBuf>,
    /// `bridge_insecure`: do not check the remote's host name.
    pub insecure: bool,
    /// `bridge_alpn`.
    pub alpn: Option<String>,
    /// `bridge_tls_version`.
    pub version: Option<String>,
}

impl BridgeTls {
    /// Whether the bridge connects over TLS.
    pub fn enabled(&self) -> bool {
        self.cafile.is_some() || self.capath.is_some()
    }
}

/// One `connection` section.
#[derive(Clone, Debug, PartialEq)]
pub struct BridgeConfig {
    /// The connection's name.
    pub name: String,
    /// `address`/`addresses`: tried in turn, from the first.
    pub addresses: Vec<(String, u16)>,
    /// `topic` lines.
    pub topics: Vec<BridgeTopic>,
    /// `remote_clientid` (default `<hostname>.<name>`).
    pub remote_clientid: Option<String>,
    /// `local_clientid` (default `local.<remote_clientid>`).
    pub local_clientid: Option<String>,
    /// `remote_username`.
    pub remote_username: Option<String>,
    /// `remote_password`.
    pub remote_password: Option<String>,
    /// `local_username`: the user the local side's ACLs are checked for.
    pub local_username: Option<String>,
    /// `local_password`: with it, the local side logs in like any client.
    pub local_password: Option<String>,
    /// `cleansession` (default false).
    pub cleansession: bool,
    /// `local_cleansession` (default: `cleansession`).
    pub local_cleansession: Option<bool>,
    /// `bridge_protocol_version` (default 3.1.1).
    pub protocol: ProtocolVersion,
    /// `try_private` (default true).
    pub try_private: bool,
    /// `notifications` (default true).
    pub notifications: bool,
    /// `notifications_local_only` (default false).
    pub notifications_local_only: bool,
    /// `notification_topic`.
    pub notification_topic: Option<String>,
    /// `keepalive_interval` in seconds (default 60).
    pub keepalive: u16,
    /// `restart_timeout` (default: backoff from 5 s to 30 s).
    pub restart: Restart,
    /// `start_type`.
    pub start_type: StartType,
    /// `threshold`: messages waiting for the remote that make a lazy bridge
    /// connect (default 10).
    pub threshold: usize,
    /// `idle_timeout`: how long a lazy bridge stays connected without a message
    /// (default 60 s).
    pub idle_timeout: Duration,
    /// TLS to the remote.
    pub tls: BridgeTls,
    /// `bridge_max_packet_size` (0 = none).
    pub max_packet_size: u32,
    /// `bridge_outgoing_retain` (default true).
    pub outgoing_retain: bool,
    /// `bridge_attempt_unsubscribe` (default true).
    pub attempt_unsubscribe: bool,
    /// `bridge_bind_address`.
    pub bind_address: Option<String>,
    /// The line of the `connection` line, for messages.
    pub line: usize,
}

impl BridgeConfig {
    /// A section with mosquitto's defaults.
    pub fn new(name: String, line: usize) -> BridgeConfig {
        BridgeConfig {
            name,
            addresses: Vec::new(),
            topics: Vec::new(),
            remote_clientid: None,
            local_clientid: None,
            remote_username: None,
            remote_password: None,
            local_username: None,
            local_password: None,
            cleansession: false,
            local_cleansession: None,
            protocol: ProtocolVersion::V311,
            try_private: true,
            notifications: true,
            notifications_local_only: false,
            notification_topic: None,
            keepalive: 60,
            restart: Restart::Backoff {
                base: Duration::from_secs(5),
                cap: Duration::from_secs(30),
            },
            start_type: StartType::Automatic,
            threshold: 10,
            idle_timeout: Duration::from_secs(60),
            tls: BridgeTls::default(),
            max_packet_size: 0,
            outgoing_retain: true,
            attempt_unsubscribe: true,
            bind_address: None,
            line,
        }
    }

    /// The client identifier on the remote broker: `remote_clientid`, else
    /// `<hostname>.<name>` as mosquitto makes it.
    pub fn remote_id(&self) -> String {
        match &self.remote_clientid {
            Some(id) => id.clone(),
            None => format!("{}.{}", hostname(), self.name),
        }
    }

    /// The client identifier on the local broker.
    pub fn local_id(&self) -> String {
        match &self.local_clientid {
            Some(id) => id.clone(),
            None => format!("local.{}", self.remote_id()),
        }
    }

    /// The notification topic: `notification_topic`, else
    /// `$SYS/broker/connection/<remote_clientid>/state`.
    pub fn state_topic(&self) -> String {
        match &self.notification_topic {
            Some(t) => t.clone(),
            None => format!("$SYS/broker/connection/{}/state", self.remote_id()),
        }
    }

    /// What a section needs once read whole (called at its end).
    pub fn check(&self) -> Result<(), String> {
        if self.addresses.is_empty() {
            return Err(format!("connection {} has no address", self.name));
        }
        if self.topics.is_empty() {
            return Err(format!("connection {} has no topic", self.name));
        }
        if self.remote_password.is_some() && self.remote_username.is_none() {
            return Err(format!(
                "connection {}: remote_password needs remote_username",
                self.name
            ));
        }
        if self.local_password.is_some() && self.local_username.is_none() {
            return Err(format!(
                "connection {}: local_password needs local_username",
                self.name
            ));
        }
        if self.tls.certfile.is_some() != self.tls.keyfile.is_some() {
            return Err(format!(
                "connection {}: bridge_certfile and bridge_keyfile go together",
                self.name
            ));
        }
        let tls_only = self.tls.certfile.is_some()
            || self.tls.insecure
            || self.tls.alpn.is_some()
            || self.tls.version.is_some();
        if tls_only && !self.tls.enabled() {
            return Err(format!(
                "connection {}: the bridge TLS options need bridge_cafile or bridge_capath",
                self.name
            ));
        }
        Ok(())
    }
}

/// This machine's host name, for the default remote client identifier.
fn hostname() -> String {
    let from_kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    from_kernel
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "mq".to_string())
}

/// Bridge options of mosquitto's that `mq broker` does not have yet.
const NOT_YET: &[&str] = &[
    "bridge_identity",
    "bridge_psk",
    "bridge_require_ocsp",
    "bridge_reload_type",
    "bridge_receive_maximum",
    "bridge_session_expiry_interval",
    "bridge_tcp_keepalive",
    "bridge_tcp_user_timeout",
];

/// Whether `key` is a bridge option (it then belongs to the last `connection`).
pub fn is_bridge_option(key: &str) -> bool {
    matches!(
        key,
        "address"
            | "addresses"
            | "topic"
            | "remote_clientid"
            | "clientid"
            | "local_clientid"
            | "remote_username"
            | "username"
            | "remote_password"
            | "password"
            | "local_username"
            | "local_password"
            | "cleansession"
            | "local_cleansession"
            | "bridge_protocol_version"
            | "try_private"
            | "notifications"
            | "notifications_local_only"
            | "notification_topic"
            | "keepalive_interval"
            | "restart_timeout"
            | "start_type"
            | "threshold"
            | "idle_timeout"
            | "round_robin"
            | "bridge_cafile"
            | "bridge_capath"
            | "bridge_certfile"
            | "bridge_keyfile"
            | "bridge_insecure"
            | "bridge_alpn"
            | "bridge_tls_version"
            | "bridge_max_packet_size"
            | "bridge_outgoing_retain"
            | "bridge_attempt_unsubscribe"
            | "bridge_bind_address"
    ) || NOT_YET.contains(&key)
}

fn need<'a>(key: &str, value: &'a str) -> Result<&'a str, String> {
    if value.is_empty() {
        Err(format!("option '{key}' needs a value"))
    } else {
        Ok(value)
    }
}

fn flag(key: &str, value: &str) -> Result<bool, String> {
    match need(key, value)? {
        "true" => Ok(true),
        "false" => Ok(false),
        v => Err(format!("option '{key}' takes true or false, not '{v}'")),
    }
}

fn seconds(key: &str, value: &str) -> Result<Duration, String> {
    match value.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "option '{key}': '{value}' is not a number of seconds above 0"
        )),
    }
}

/// Apply one bridge option to the section it is in.
pub fn apply(b: &mut BridgeConfig, key: &str, value: &str) -> Result<(), String> {
    match key {
        "address" | "addresses" => {
            for a in need(key, value)?.split_whitespace() {
                b.addresses.push(address(a)?);
            }
        }
        "topic" => b.topics.push(topic_line(need(key, value)?)?),
        "remote_clientid" | "clientid" => b.remote_clientid = Some(id(key, value)?),
        "local_clientid" => b.local_clientid = Some(id(key, value)?),
        "remote_username" | "username" => b.remote_username = Some(need(key, value)?.into()),
        "remote_password" | "password" => b.remote_password = Some(need(key, value)?.into()),
        "local_username" => b.local_username = Some(need(key, value)?.into()),
        "local_password" => b.local_password = Some(need(key, value)?.into()),
        "cleansession" => b.cleansession = flag(key, value)?,
        "local_cleansession" => b.local_cleansession = Some(flag(key, value)?),
        "bridge_protocol_version" => {
            b.protocol = match need(key, value)? {
                "mqttv311" => ProtocolVersion::V311,
                "mqttv50" => ProtocolVersion::V5,
                "mqttv31" => ProtocolVersion::V31,
                v => {
                    return Err(format!(
                        "bridge_protocol_version takes mqttv50, mqttv311 or mqttv31, not '{v}'"
                    ));
                }
            }
        }
        "try_private" => b.try_private = flag(key, value)?,
        "notifications" => b.notifications = flag(key, value)?,
        "notifications_local_only" => b.notifications_local_only = flag(key, value)?,
        "notification_topic" => {
            let t = need(key, value)?;
            topic::validate_name(t)
                .map_err(|why| format!("notification_topic '{t}' is not a valid topic: {why}"))?;
            b.notification_topic = Some(t.into());
        }
        "keepalive_interval" => {
            let n: u16 = need(key, value)?.parse().map_err(|_| {
                format!("option '{key}': '{value}' is not a number of seconds (5-65535)")
            })?;
            if n < 5 {
                return Err("keepalive_interval must be at least 5 seconds".into());
            }
            b.keepalive = n;
        }
        "restart_timeout" => b.restart = restart(need(key, value)?)?,
        "threshold" => {
            b.threshold = match need(key, value)?.parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(format!(
                        "option '{key}': '{value}' is not a number of messages (1 or more)"
                    ));
                }
            }
        }
        "idle_timeout" => b.idle_timeout = seconds(key, need(key, value)?)?,
        "start_type" => {
            b.start_type = match need(key, value)? {
                "automatic" => StartType::Automatic,
                "once" => StartType::Once,
                "lazy" => StartType::Lazy,
                v => {
                    return Err(format!(
                        "start_type takes automatic, lazy or once, not '{v}'"
                    ));
                }
            }
        }
        "round_robin" => {
            // mq tries the addresses in turn and stays on the one that answers:
            // mosquitto's round_robin true.
            if !flag(key, value)? {
                return Err(
                    "round_robin false (going back to the first address) is not supported yet: \
                     mq tries the addresses in turn, as round_robin true"
                        .into(),
                );
            }
        }
        "bridge_cafile" => b.tls.cafile = Some(need(key, value)?.into()),
        "bridge_capath" => b.tls.capath = Some(need(key, value)?.into()),
        "bridge_certfile" => b.tls.certfile = Some(need(key, value)?.into()),
        "bridge_keyfile" => b.tls.keyfile = Some(need(key, value)?.into()),
        "bridge_insecure" => b.tls.insecure = flag(key, value)?,
        "bridge_alpn" => b.tls.alpn = Some(need(key, value)?.into()),
        "bridge_tls_version" => {
            let v = need(key, value)?;
            crate::client::TlsVersion::parse(v).map_err(|e| e.to_string())?;
            b.tls.version = Some(v.into());
        }
        "bridge_max_packet_size" => {
            b.max_packet_size = need(key, value)?
                .parse()
                .map_err(|_| format!("option '{key}': '{value}' is not a valid number"))?;
        }
        "bridge_outgoing_retain" => b.outgoing_retain = flag(key, value)?,
        "bridge_attempt_unsubscribe" => b.attempt_unsubscribe = flag(key, value)?,
        "bridge_bind_address" => b.bind_address = Some(need(key, value)?.into()),
        k => return Err(format!("bridge option '{k}' is not supported yet")),
    }
    Ok(())
}

fn id(key: &str, value: &str) -> Result<String, String> {
    let v = need(key, value)?;
    if v.len() > usize::from(u16::MAX) {
        return Err(format!("{key} is too long"));
    }
    Ok(v.to_string())
}

/// `host[:port]`, `[v6]:port` or `v6:port` (mosquitto: an IPv6 address needs its
/// port); 1883 by default.
fn address(a: &str) -> Result<(String, u16), String> {
    let bad = || format!("address '{a}' is not host[:port]");
    let port = |p: &str| match p.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("address '{a}': invalid port '{p}'")),
    };
    if let Some(inner) = a.strip_prefix('[') {
        let (host, rest) = inner.split_once(']').ok_or_else(bad)?;
        let p = match rest.strip_prefix(':') {
            Some(p) => port(p)?,
            None if rest.is_empty() => 1883,
            None => return Err(bad()),
        };
        return Ok((host.to_string(), p));
    }
    match a.rsplit_once(':') {
        Some((host, p)) if !host.is_empty() => Ok((host.to_string(), port(p)?)),
        Some(_) => Err(bad()),
        None => Ok((a.to_string(), 1883)),
    }
}

/// `restart_timeout constant` or `restart_timeout base cap`.
fn restart(value: &str) -> Result<Restart, String> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    match parts[..] {
        [c] => Ok(Restart::Constant(seconds("restart_timeout", c)?)),
        [base, cap] => {
            let (base, cap) = (
                seconds("restart_timeout", base)?,
                seconds("restart_timeout", cap)?,
            );
            if cap < base {
                return Err("restart_timeout: the cap is smaller than the base".into());
            }
            Ok(Restart::Backoff { base, cap })
        }
        _ => Err("restart_timeout takes a constant or a base and a cap (seconds)".into()),
    }
}

/// A `topic` line's value, with mosquitto's rules for `""` (an empty pattern or
/// prefix).
fn topic_line(value: &str) -> Result<BridgeTopic, String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.len() > 5 {
        return Err(format!(
            "topic takes a pattern, a direction, a QoS and two prefixes, not '{}'",
            words[5]
        ));
    }
    let unquote = |w: &str| {
        if w == "\"\"" {
            String::new()
        } else {
            w.to_string()
        }
    };
    let pattern = unquote(words[0]);
    let direction = match words.get(1).copied() {
        None | Some("out") => Direction::Out,
        Some("in") => Direction::In,
        Some("both") => Direction::Both,
        Some(d) => return Err(format!("topic: direction '{d}' is not in, out or both")),
    };
    let qos = match words.get(2).copied() {
        None => QoS::AtMostOnce,
        Some(q) => q
            .parse::<u8>()
            .ok()
            .and_then(QoS::from_u8)
            .ok_or_else(|| format!("topic: QoS '{q}' is not 0, 1 or 2"))?,
    };
    let local_prefix = words.get(3).map_or_else(String::new, |w| unquote(w));
    let remote_prefix = words.get(4).map_or_else(String::new, |w| unquote(w));
    for (what, p) in [("local", &local_prefix), ("remote", &remote_prefix)] {
        if p.contains(['#', '+']) {
            return Err(format!("topic: the {what} prefix '{p}' has a wildcard"));
        }
    }
    if pattern.is_empty() && (local_prefix.is_empty() || remote_prefix.is_empty()) {
        return Err("topic: an empty pattern (\"\") needs both a local and a remote prefix".into());
    }
    let t = BridgeTopic {
        pattern,
        direction,
        qos,
        local_prefix,
        remote_prefix,
    };
    for f in [t.local_filter(), t.remote_filter()] {
        topic::validate_filter(&f)
            .map_err(|why| format!("topic: '{f}' is not a valid topic filter: {why}"))?;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_lines_as_mosquitto_reads_them() {
        let t = topic_line("sensors/# both 2 lab/ campus/lab1/").unwrap();
        assert_eq!(t.direction, Direction::Both);
        assert_eq!(t.qos, QoS::ExactlyOnce);
        assert_eq!(t.local_filter(), "lab/sensors/#");
        assert_eq!(t.remote_filter(), "campus/lab1/sensors/#");
        assert_eq!(
            t.to_remote("lab/sensors/t1").as_deref(),
            Some("campus/lab1/sensors/t1")
        );
        assert_eq!(
            t.to_local("campus/lab1/sensors/t1").as_deref(),
            Some("lab/sensors/t1")
        );
        assert_eq!(t.to_local("other/x"), None);
        let t = topic_line("#").unwrap();
        assert_eq!((t.direction, t.qos), (Direction::Out, QoS::AtMostOnce));
        assert_eq!(t.to_local("a"), None);
        let t = topic_line("\"\" in 1 local/one remote/one").unwrap();
        assert_eq!(t.to_local("remote/one").as_deref(), Some("local/one"));
        let t = topic_line("a/+ out 1 \"\" r/").unwrap();
        assert_eq!(t.to_remote("a/b").as_deref(), Some("r/a/b"));
    }

    #[test]
    fn bad_topic_lines() {
        for bad in [
            "a sideways",
            "a in 3",
            "\"\" in 0 l/",
            "\"\" in 0 \"\" r/",
            "a in 0 l/+/ r/",
            "a/#/b",
            "a in 0 l r x",
        ] {
            assert!(topic_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(address("h").unwrap(), ("h".into(), 1883));
        assert_eq!(address("h:1884").unwrap(), ("h".into(), 1884));
        assert_eq!(address("[::1]:1885").unwrap(), ("::1".into(), 1885));
        assert_eq!(address("::1:1885").unwrap(), ("::1".into(), 1885));
        assert!(address("h:0").is_err() && address(":1").is_err());
    }

    #[test]
    fn restart_timeouts() {
        let c = restart("20").unwrap();
        assert_eq!(c.next(None, 0.5), Duration::from_secs(20));
        let b = restart("5 30").unwrap();
        assert_eq!(b.next(None, 0.9), Duration::from_secs(5));
        let d = b.next(Some(Duration::from_secs(5)), 1.0);
        assert_eq!(d, Duration::from_secs(15));
        assert_eq!(
            b.next(Some(Duration::from_secs(20)), 1.0),
            Duration::from_secs(30)
        );
        assert!(restart("30 5").is_err() && restart("0").is_err() && restart("x").is_err());
    }

    #[test]
    fn identifiers_default_as_mosquitto() {
        let mut b = BridgeConfig::new("campus".into(), 1);
        b.remote_clientid = Some("lab1".into());
        assert_eq!(b.local_id(), "local.lab1");
        assert_eq!(b.state_topic(), "$SYS/broker/connection/lab1/state");
        assert!(BridgeConfig::new("x".into(), 1).remote_id().ends_with(".x"));
    }
}
