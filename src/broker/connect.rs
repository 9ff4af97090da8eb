//! CONNECT handling (section 3.1): validate the request, pick or create the session
//! (clean start, takeover of a connected client id, session present), and build the
//! CONNACK — or the refusal CONNACK with the right 3.1.1 return code / 5.0 reason.

use super::log::{LogTypes, blog};
use super::session::{Caps, Link, Session, lock};
use super::state::State;
use crate::protocol::{
    self, ConnAck, Connect, Packet, Properties, ProtocolVersion, QoS, ReasonCode, Will,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// What an accepted connection works with.
#[derive(Debug)]
pub struct ConnInfo {
    /// Protocol version.
    pub version: ProtocolVersion,
    /// Client identifier (assigned if the client sent none).
    pub client_id: Arc<str>,
    /// The session.
    pub session: Arc<Session>,
    /// Link to this connection's writer.
    pub link: Arc<Link>,
    /// Keep alive in force (seconds, 0 = none).
    pub keep_alive: u16,
    /// The will, until a normal DISCONNECT deletes it. Boxed: most clients have
    /// none, and it is kept in every connection's task for the whole connection.
    pub will: Option<Box<Will>>,
    /// What may be sent to the client.
    pub caps: Caps,
    /// Topic Alias Maximum we granted (client to server).
    pub topic_alias_max: u16,
    /// Receive Maximum we granted (client to server).
    pub receive_max: u16,
    /// Session Expiry Interval of the CONNECT.
    pub expiry_at_connect: u32,
    /// Largest packet accepted from the client (0 = no limit).
    pub max_packet_in: usize,
}

/// The `p` value of mosquitto's "New client connected" line.
pub fn protocol_tag(v: ProtocolVersion) -> u8 {
    match v {
        ProtocolVersion::V31 => 1,
        ProtocolVersion::V311 => 2,
        ProtocolVersion::V5 => 5,
    }
}

fn refuse(reason: ReasonCode, text: &str) -> Box<ConnAck> {
    let properties = Properties {
        reason_string: Some(text.to_string()),
        ..Properties::default()
    };
    Box::new(ConnAck {
        session_present: false,
        reason,
        properties,
    })
}

/// The client's Maximum Packet Size in bytes (0 = none) [MQTT-3.1.2-24].
pub fn client_max_packet_size(c: &Connect) -> usize {
    c.properties
        .maximum_packet_size
        .map(|m| usize::try_from(m).unwrap_or(usize::MAX))
        .unwrap_or(0)
}

fn assigned_id(state: &State) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}{:08x}{:08x}",
        state.config.auto_id_prefix,
        nanos,
        state.next_key() as u32
    )
}

/// Accept or refuse a CONNECT. On refusal, the CONNACK to send before closing (its
/// log lines are written here).
pub fn accept(state: &State, c: Connect, peer: SocketAddr) -> Result<ConnInfo, Box<ConnAck>> {
    let version = c.protocol;
    let client_id = c.client_id.clone();
    let result = decide(state, c, peer);
    if let Err(ack) = &result {
        log_refusal(state, version, &client_id, peer, ack.reason);
    }
    result
}

/// mosquitto's lines for a refused CONNECT: the CONNACK, addressed to the client's
/// IP address (mosquitto has not taken the client identifier yet, except when the
/// authentication method is refused), then the connection's end.
fn log_refusal(
    state: &State,
    version: ProtocolVersion,
    client_id: &str,
    peer: SocketAddr,
    reason: ReasonCode,
) {
    let log = &state.log;
    let code = if version.is_v5() {
        reason.0
    } else {
        reason.to_v3_connack()
    };
    if reason == ReasonCode::BAD_AUTHENTICATION_METHOD && !client_id.is_empty() {
        blog!(
            log,
            LogTypes::DEBUG,
            "Sending CONNACK to {client_id} (0, {code})"
        );
    } else {
        blog!(
            log,
            LogTypes::DEBUG,
            "Sending CONNACK to {} (0, {code})",
            peer.ip()
        );
    }
    if reason == ReasonCode::NOT_AUTHORIZED || reason == ReasonCode::BAD_USER_NAME_OR_PASSWORD {
        log.connection(format_args!(
            "Client <unknown> disconnected, not authorised."
        ));
    } else {
        log.connection(format_args!(
            "Client <unknown> disconnected due to {}.",
            super::inbound::cause(reason)
        ));
    }
}

/// mosquitto's lines for a connection whose first packet could not be decoded
/// (`rc`, `why`: the decoding error): anything wrong before a CONNECT is accepted is
/// a protocol error for mosquitto, and an unsupported protocol level gets CONNACK
/// 0x01 [MQTT-3.1.2-2], which is logged here, before it is sent.
pub fn log_bad_connect(state: &State, peer: SocketAddr, rc: ReasonCode, why: &str) {
    let log = &state.log;
    let ip = peer.ip();
    if rc == ReasonCode::UNSUPPORTED_PROTOCOL_VERSION {
        if let Some(level) = unsupported_level(why) {
            blog!(
                log,
                LogTypes::INFORMATION,
                "Invalid protocol version {level} in CONNECT from {ip}."
            );
        }
        blog!(
            log,
            LogTypes::DEBUG,
            "Sending CONNACK to {ip} (0, {})",
            rc.to_v3_connack()
        );
    } else if why == protocol::Error::InvalidProtocolName.to_string() {
        // mosquitto quotes the protocol name, which the decoder does not keep.
        blog!(
            log,
            LogTypes::INFORMATION,
            "Invalid protocol in CONNECT from {ip}."
        );
    }
    tracing::debug!("bad CONNECT from {ip}: {why}");
    let cause = if rc == ReasonCode::PACKET_TOO_LARGE {
        "oversize packet"
    } else {
        "protocol error"
    };
    log.connection(format_args!(
        "Client <unknown> disconnected due to {cause}."
    ));
}

/// The protocol level named by an [`protocol::Error::UnsupportedProtocolLevel`]
/// message (the connection keeps only the error's text).
fn unsupported_level(why: &str) -> Option<u8> {
    (0..=u8::MAX).find(|&l| protocol::Error::UnsupportedProtocolLevel(l).to_string() == why)
}

fn decide(state: &State, c: Connect, peer: SocketAddr) -> Result<ConnInfo, Box<ConnAck>> {
    let config = &state.config;
    let version = c.protocol;
    let v5 = version.is_v5();
    let mut assigned = None;
    let client_id: Arc<str> = if c.client_id.is_empty() {
        // [MQTT-3.1.3-8] (3.1.1: only with clean session), [MQTT-3.2.2-16] (5.0).
        if (!v5 && !c.clean_start)
            || version == ProtocolVersion::V31
            || !config.allow_zero_length_clientid
        {
            return Err(refuse(
                ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                "an empty client identifier needs clean session",
            ));
        }
        let id = assigned_id(state);
        assigned = Some(id.clone());
        id.into()
    } else {
        if version == ProtocolVersion::V31 && c.client_id.len() > 23 {
            return Err(refuse(
                ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                "MQTT 3.1 client identifiers are at most 23 characters",
            ));
        }
        c.client_id.as_str().into()
    };
    if c.username.is_none() && !config.anonymous_allowed() {
        return Err(refuse(
            ReasonCode::NOT_AUTHORIZED,
            "anonymous access is not allowed",
        ));
    }
    if v5
        && c.properties.authentication_data.is_some()
        && c.properties.authentication_method.is_none()
    {
        // Section 3.1.2.11.10: Authentication Data without an Authentication Method
        // is a Protocol Error [MQTT-3.1.4-1].
        return Err(refuse(
            ReasonCode::PROTOCOL_ERROR,
            "Authentication Data without an Authentication Method",
        ));
    }
    if v5 && c.properties.authentication_method.is_some() {
        // Enhanced authentication is not offered [MQTT-4.12.0-1].
        return Err(refuse(
            ReasonCode::BAD_AUTHENTICATION_METHOD,
            "enhanced authentication is not supported",
        ));
    }
    let mut keep_alive = c.keep_alive;
    let mut server_keep_alive = None;
    if c.keep_alive > config.max_keepalive
        || (v5 && c.keep_alive == 0 && config.max_keepalive < u16::MAX)
    {
        if v5 {
            keep_alive = config.max_keepalive;
            server_keep_alive = Some(keep_alive);
        } else if c.keep_alive > config.max_keepalive {
            return Err(refuse(
                ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                "keep alive too large",
            ));
        }
    }
    if let Some(w) = &c.will {
        if w.retain && !config.retain_available {
            return Err(refuse(
                ReasonCode::RETAIN_NOT_SUPPORTED,
                "retained messages are not supported",
            ));
        }
        if v5 && w.qos > config.max_qos {
            return Err(refuse(
                ReasonCode::QOS_NOT_SUPPORTED,
                "will QoS above the maximum QoS",
            ));
        }
    }

    let expiry_at_connect = if v5 {
        c.properties.session_expiry_interval.unwrap_or(0)
    } else if c.clean_start {
        0
    } else {
        u32::MAX
    };
    let mut expiry = expiry_at_connect;
    if let Some(limit) = config.persistent_client_expiration {
        let limit = u32::try_from(limit.as_secs()).unwrap_or(u32::MAX);
        expiry = expiry.min(limit);
    }

    // Find, take over or create the session [MQTT-3.1.2-4], [MQTT-3.1.2-5], [MQTT-3.1.4-3].
    let generation = state.next_key();
    let client_max_packet = client_max_packet_size(&c);
    let link = Arc::new(Link::new(generation, version, client_max_packet));
    let mut to_end = None;
    let (session, present) = {
        let mut sessions = lock(&state.sessions);
        // A session that has just ended (expired) but is still in the table is gone.
        let existing = sessions
            .get(&client_id)
            .filter(|s| !lock(&s.state).ended)
            .cloned();
        let resumed = match existing {
            Some(old) => {
                // A session with expiry 0 (3.1.1: clean session) lasts as long as its
                // connection, so a takeover ends it, as does Clean Start 1: no session
                // present (5.0 section 3.1.4, [MQTT-3.1.2-6]).
                let (old_link, ends) = {
                    let mut st = lock(&old.state);
                    let ends = c.clean_start || st.expiry == 0;
                    if ends {
                        // Set before the old connection is closed, so that its
                        // teardown sees the session ending and sends the will now,
                        // whatever its delay [MQTT-3.1.2-8].
                        st.expiry = 0;
                    }
                    (st.link.clone(), ends)
                };
                if let Some(l) = old_link {
                    // A connection message, which mosquitto logs as an error.
                    if state.log.connections(LogTypes::ERROR) {
                        state.log.log(
                            LogTypes::ERROR,
                            format_args!(
                                "Client {client_id} already connected, closing old connection."
                            ),
                        );
                    }
                    l.close(Some(ReasonCode::SESSION_TAKEN_OVER));
                }
                if ends {
                    to_end = Some(old);
                    None
                } else {
                    Some(old)
                }
            }
            None => None,
        };
        let (session, present) = match resumed {
            Some(s) => (s, true),
            None => (
                Arc::new(Session::new(state.next_key(), client_id.clone(), expiry)),
                false,
            ),
        };
        {
            let mut st = lock(&session.state);
            st.expiry = expiry;
            // Claimed under the table's lock: a session expiry or will-delay timer
            // that looks now sees the session resumed (see `State::expire`).
            st.attach_count += 1;
        }
        sessions.insert(client_id.clone(), session.clone());
        (session, present)
    };
    if let Some(old) = to_end {
        state.end_session(&old);
    }

    let receive_max = match config.max_inflight_messages {
        0 => u16::MAX,
        n => n,
    };
    let mut props = Properties::default();
    if v5 {
        if receive_max != u16::MAX {
            props.receive_maximum = Some(receive_max);
        }
        if config.max_topic_alias > 0 {
            props.topic_alias_maximum = Some(config.max_topic_alias);
        }
        if config.max_packet_size > 0 {
            props.maximum_packet_size = Some(config.max_packet_size);
        }
        if !config.retain_available {
            props.retain_available = Some(0);
        }
        if config.max_qos < QoS::ExactlyOnce {
            props.maximum_qos = Some(config.max_qos.as_u8());
        }
        if expiry != expiry_at_connect {
            props.session_expiry_interval = Some(expiry);
        }
        props.assigned_client_identifier = assigned;
        props.server_keep_alive = server_keep_alive;
    }
    let connack = ConnAck {
        session_present: present,
        reason: ReasonCode::SUCCESS,
        properties: props,
    };
    let log = &state.log;
    if log.connections(LogTypes::NOTICE) {
        let user = c
            .username
            .as_deref()
            .map(|u| format!(", u'{u}'"))
            .unwrap_or_default();
        log.log(
            LogTypes::NOTICE,
            format_args!(
                "New client connected from {}:{} as {} (p{}, c{}, k{}{}).",
                peer.ip(),
                peer.port(),
                client_id,
                protocol_tag(version),
                u8::from(c.clean_start),
                c.keep_alive,
                user
            ),
        );
    }
    // The will lines belong to the connection messages.
    match &c.will {
        _ if !state.config.connection_messages => {}
        Some(w) => {
            blog!(
                log,
                LogTypes::DEBUG,
                "Will message specified ({} bytes) (r{}, q{}).",
                w.payload.len(),
                u8::from(w.retain),
                w.qos.as_u8()
            );
            blog!(log, LogTypes::DEBUG, "\t{}", w.topic);
        }
        None => blog!(log, LogTypes::DEBUG, "No will message specified."),
    }
    blog!(
        log,
        LogTypes::DEBUG,
        "Sending CONNACK to {} ({}, 0)",
        client_id,
        u8::from(present)
    );
    link.send(&Packet::ConnAck(connack));

    let client_receive_max = c.properties.receive_maximum.unwrap_or(u16::MAX);
    let caps = Caps {
        version,
        receive_max: usize::from(client_receive_max.min(receive_max)),
        max_packet_size: client_max_packet,
        topic_alias_max: if v5 {
            c.properties.topic_alias_maximum.unwrap_or(0)
        } else {
            0
        },
    };
    session.attach(link.clone());
    state.stats.client_connected();
    Ok(ConnInfo {
        version,
        client_id,
        session,
        link,
        keep_alive,
        // Kept for the whole connection: in its own allocations, not slices of the
        // read buffer that held the CONNECT.
        will: c.will.map(|mut w| {
            super::message::own_bytes(&mut w.topic, &mut w.payload, &mut w.properties);
            Box::new(w)
        }),
        caps,
        topic_alias_max: if v5 { config.max_topic_alias } else { 0 },
        receive_max,
        expiry_at_connect,
        max_packet_in: state.max_packet_in(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_level_read_back_from_the_error_text() {
        let why = protocol::Error::UnsupportedProtocolLevel(7).to_string();
        assert_eq!(unsupported_level(&why), Some(7));
        assert_eq!(unsupported_level("invalid protocol name in CONNECT"), None);
    }
}
