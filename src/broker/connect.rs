//! CONNECT handling (section 3.1): validate the request, pick or create the session
//! (clean start, takeover of a connected client id, session present), and build the
//! CONNACK — or the refusal CONNACK with the right 3.1.1 return code / 5.0 reason.

use super::inbound::Why;
use super::log::{LogTypes, blog};
use super::origin::{Origin, Peer};
use super::security::RealmId;
use super::session::{Caps, Link, Session, lock};
use super::state::State;
use super::takeover;
use crate::protocol::{
    self, ConnAck, Connect, Packet, Properties, ProtocolVersion, QoS, ReasonCode, Will,
};
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
    /// The user name of the CONNECT (checked against the password file, if any), or
    /// the one from the client certificate.
    pub username: Option<Arc<str>>,
    /// The security realm of the listener the client connected through.
    pub realm: RealmId,
    /// The listener's `mount_point`, prefixed to every topic the client uses.
    pub mount: Option<Arc<str>>,
    /// The client said it is a bridge (protocol level with bit 7 set, mosquitto's
    /// `try_private`): its subscriptions get No Local and Retain As Published, so
    /// that its own messages are not sent back to it and keep their retain flag.
    pub bridge: bool,
    /// The broker's own connection (a bridge's local side), which may publish in
    /// `$SYS` (the bridge's state).
    pub internal: bool,
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

fn assigned_id(state: &State, prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}{:08x}{:08x}", prefix, nanos, state.next_key() as u32)
}

/// Why a CONNECT was not accepted.
#[derive(Debug)]
pub enum Refusal {
    /// Send this CONNACK, then close (its log lines are written).
    ConnAck(Box<ConnAck>),
    /// Close without a CONNACK: even the smallest one is larger than the client's
    /// Maximum Packet Size [MQTT-3.1.2-24].
    Close,
}

/// Accept or refuse a CONNECT. When the client identifier is connected already,
/// the old connection is closed and ends first (see [`takeover`]).
pub async fn accept(state: &State, mut c: Connect, origin: &Origin) -> Result<ConnInfo, Refusal> {
    let peer = &origin.peer;
    let realm = origin.listener.realm;
    if let Err(ack) = apply_listener(&mut c, origin) {
        log_refusal(state, c.protocol, &c.client_id, peer, ack.reason);
        return Err(Refusal::ConnAck(ack));
    }
    // A bridge's local side without `local_password` is the broker's own.
    let trusted = origin.internal && c.password.is_none();
    let checked = match check(state, &c, realm, trusted) {
        Ok(checked) => checked,
        Err(ack) => {
            log_refusal(state, c.protocol, &c.client_id, peer, ack.reason);
            return Err(Refusal::ConnAck(ack));
        }
    };
    // A user name from the client certificate is already authenticated.
    let authenticated = origin.cert_username.is_some() || trusted;
    if !authenticated && !authenticate(state, &c, realm).await {
        // Never the password.
        blog!(
            state.log,
            LogTypes::NOTICE,
            "Failed login from {} as '{}': unknown user name or wrong password.",
            peer.host(),
            c.username.as_deref().unwrap_or_default()
        );
        state
            .stats
            .auth_failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // An address that keeps failing waits longer and longer for its answer.
        tokio::time::sleep(state.login_backoff.failed(peer.backoff_key())).await;
        let ack = refuse(ReasonCode::NOT_AUTHORIZED, "not authorised");
        log_refusal(state, c.protocol, &c.client_id, peer, ack.reason);
        return Err(Refusal::ConnAck(ack));
    }
    let props = if c.protocol.is_v5() {
        connack_properties(state, &checked)
    } else {
        Properties::default()
    };
    // Checked before the session is touched: the Session Present flag does not
    // change the size.
    let max = client_max_packet_size(&c);
    let ack = ConnAck {
        session_present: false,
        reason: ReasonCode::SUCCESS,
        properties: props,
    };
    if max > 0 && protocol::encoded_len(&Packet::ConnAck(ack.clone()), c.protocol) > max {
        state.log.connection(format_args!(
            "Client {} disconnected: a CONNACK is larger than its Maximum Packet Size ({max} bytes).",
            checked.client_id
        ));
        return Err(Refusal::Close);
    }
    if c.username.is_some() {
        state.login_backoff.succeeded(peer.backoff_key());
    }
    takeover::take_over(state, &checked.client_id, c.clean_start).await;
    Ok(attach(state, c, checked, ack, origin))
}

/// What the listener changes in a CONNECT: the user name from the client
/// certificate (the CONNECT's user name and password are then not used, as in
/// mosquitto), and the will's topic under the mount point.
fn apply_listener(c: &mut Connect, origin: &Origin) -> Result<(), Box<ConnAck>> {
    if let Some(name) = &origin.cert_username {
        let Some(name) = name else {
            return Err(refuse(
                ReasonCode::NOT_AUTHORIZED,
                "the client certificate has no usable name",
            ));
        };
        c.username = Some(name.clone());
        c.password = None;
    }
    if let (Some(mount), Some(w)) = (&origin.listener.mount_point, &mut c.will) {
        let Some(topic) = super::origin::mount_topic(mount, &w.topic) else {
            return Err(refuse(
                ReasonCode::TOPIC_NAME_INVALID,
                "the will topic is too long under the mount point",
            ));
        };
        w.topic = topic.into();
    }
    Ok(())
}

/// mosquitto's lines for a refused CONNECT: the CONNACK, addressed to the client's
/// IP address (mosquitto has not taken the client identifier yet, except when the
/// authentication method is refused), then the connection's end.
fn log_refusal(
    state: &State,
    version: ProtocolVersion,
    client_id: &str,
    peer: &Peer,
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
            peer.host()
        );
    }
    if reason == ReasonCode::NOT_AUTHORIZED || reason == ReasonCode::BAD_USER_NAME_OR_PASSWORD {
        log.connection(format_args!(
            "Client <unknown> disconnected, not authorised."
        ));
    } else {
        // A CONNECT is refused as too large only for its will's payload.
        let cause = if reason == ReasonCode::PACKET_TOO_LARGE {
            "oversize payload"
        } else {
            super::inbound::cause(reason)
        };
        log.connection(format_args!(
            "Client <unknown> disconnected due to {cause}."
        ));
    }
}

/// mosquitto's lines for a connection whose first packet could not be decoded
/// (`rc`, `why`: the decoding error): anything wrong before a CONNECT is accepted is
/// a protocol error for mosquitto, and an unsupported protocol level gets CONNACK
/// 0x01 [MQTT-3.1.2-2], which is logged here, before it is sent.
pub fn log_bad_connect(state: &State, peer: &Peer, rc: ReasonCode, why: &Why) {
    let log = &state.log;
    let ip = peer.host();
    if rc == ReasonCode::UNSUPPORTED_PROTOCOL_VERSION {
        if let Why::Decode(protocol::Error::UnsupportedProtocolLevel(level)) = why {
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
    } else if *why == Why::Decode(protocol::Error::InvalidProtocolName) {
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

/// What a CONNECT asks for, once checked.
struct Checked {
    /// The client identifier (assigned when the client sent none).
    client_id: Arc<str>,
    /// The identifier the broker assigned, for the CONNACK [MQTT-3.2.2-16].
    assigned: Option<String>,
    /// Keep alive in force.
    keep_alive: u16,
    /// Server Keep Alive for the CONNACK, when it differs from the client's.
    server_keep_alive: Option<u16>,
    /// Session Expiry Interval of the CONNECT (3.1.1: 0 or never).
    expiry_at_connect: u32,
    /// The same capped by `persistent_client_expiration`.
    expiry: u32,
}

/// The CONNECT's user name and password against the password file; the hashing
/// runs off the routing threads, so that a storm of logins does not hold up message
/// delivery. Refused as mosquitto refuses: 3.1.1 return code 5, 5.0 0x87.
async fn authenticate(state: &State, c: &Connect, realm: RealmId) -> bool {
    let security = state.security();
    let (user, password) = (c.username.clone(), c.password.clone());
    if !security.realm(realm).checks_passwords(user.as_deref()) {
        return security
            .realm(realm)
            .authenticate(user.as_deref(), password.as_deref());
    }
    tokio::task::spawn_blocking(move || {
        security
            .realm(realm)
            .authenticate(user.as_deref(), password.as_deref())
    })
    .await
    .unwrap_or(false)
}

/// Every check of a CONNECT that may refuse it, in mosquitto's order.
fn check(
    state: &State,
    c: &Connect,
    realm: RealmId,
    trusted: bool,
) -> Result<Checked, Box<ConnAck>> {
    let (client_id, assigned) = check_client_id(state, c, realm)?;
    if !trusted {
        check_authentication(state, c, realm)?;
    }
    let (keep_alive, server_keep_alive) = check_keep_alive(state, c)?;
    check_will(state, c)?;
    let (expiry_at_connect, expiry) = session_expiry(state, c);
    Ok(Checked {
        client_id,
        assigned,
        keep_alive,
        server_keep_alive,
        expiry_at_connect,
        expiry,
    })
}

/// The client identifier, assigned when empty where that is allowed
/// [MQTT-3.1.3-8] (3.1.1: only with clean session), [MQTT-3.2.2-16] (5.0).
fn check_client_id(
    state: &State,
    c: &Connect,
    realm: RealmId,
) -> Result<(Arc<str>, Option<String>), Box<ConnAck>> {
    let version = c.protocol;
    if c.client_id.is_empty() {
        let security = state.security();
        let realm = security.realm(realm);
        if (!version.is_v5() && !c.clean_start)
            || version == ProtocolVersion::V31
            || !realm.allows_zero_length_id()
        {
            return Err(refuse(
                ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                "an empty client identifier needs clean session",
            ));
        }
        let id = assigned_id(state, realm.auto_id_prefix());
        return Ok((id.as_str().into(), Some(id)));
    }
    if version == ProtocolVersion::V31 && c.client_id.len() > 23 {
        return Err(refuse(
            ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
            "MQTT 3.1 client identifiers are at most 23 characters",
        ));
    }
    Ok((c.client_id.as_str().into(), None))
}

/// Anonymous access and the authentication method.
fn check_authentication(state: &State, c: &Connect, realm: RealmId) -> Result<(), Box<ConnAck>> {
    if !state.security().realm(realm).may_try(c.username.as_deref()) {
        return Err(refuse(
            ReasonCode::NOT_AUTHORIZED,
            "anonymous access is not allowed",
        ));
    }
    if !c.protocol.is_v5() {
        return Ok(());
    }
    if c.properties.authentication_data.is_some() && c.properties.authentication_method.is_none() {
        // Section 3.1.2.11.10: Authentication Data without an Authentication Method
        // is a Protocol Error [MQTT-3.1.4-1].
        return Err(refuse(
            ReasonCode::PROTOCOL_ERROR,
            "Authentication Data without an Authentication Method",
        ));
    }
    if c.properties.authentication_method.is_some() {
        // Enhanced authentication is not offered [MQTT-4.12.0-1].
        return Err(refuse(
            ReasonCode::BAD_AUTHENTICATION_METHOD,
            "enhanced authentication is not supported",
        ));
    }
    Ok(())
}

/// The keep alive in force and, for 5.0, the Server Keep Alive to announce when
/// `max_keepalive` lowers it [MQTT-3.2.2-21]; 3.1.1 has no way to lower it, so a
/// larger one is refused.
fn check_keep_alive(state: &State, c: &Connect) -> Result<(u16, Option<u16>), Box<ConnAck>> {
    let max = state.config().max_keepalive;
    let v5 = c.protocol.is_v5();
    if c.keep_alive > max || (v5 && c.keep_alive == 0 && max < u16::MAX) {
        if v5 {
            return Ok((max, Some(max)));
        }
        if c.keep_alive > max {
            return Err(refuse(
                ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                "keep alive too large",
            ));
        }
    }
    Ok((c.keep_alive, None))
}

/// A will is a message: the broker's limits on messages apply to it.
fn check_will(state: &State, c: &Connect) -> Result<(), Box<ConnAck>> {
    let Some(w) = &c.will else {
        return Ok(());
    };
    let config = state.config();
    if w.retain && !config.retain_available {
        return Err(refuse(
            ReasonCode::RETAIN_NOT_SUPPORTED,
            "retained messages are not supported",
        ));
    }
    if c.protocol.is_v5() && w.qos > config.max_qos {
        return Err(refuse(
            ReasonCode::QOS_NOT_SUPPORTED,
            "will QoS above the maximum QoS",
        ));
    }
    let limit = config.message_size_limit;
    if limit > 0 && w.payload.len() > limit {
        // mosquitto's words and reasons: 0x95 under 5.0, return code 5 under 3.1.1.
        blog!(
            state.log,
            LogTypes::DEBUG,
            "Client {} connected with too large Will payload",
            c.client_id
        );
        return Err(refuse(
            ReasonCode::PACKET_TOO_LARGE,
            "will payload larger than message_size_limit",
        ));
    }
    Ok(())
}

/// The Session Expiry Interval asked for (3.1.1: 0 for a clean session, else
/// never), and the one granted under `persistent_client_expiration`.
fn session_expiry(state: &State, c: &Connect) -> (u32, u32) {
    let asked = if c.protocol.is_v5() {
        c.properties.session_expiry_interval.unwrap_or(0)
    } else if c.clean_start {
        0
    } else {
        u32::MAX
    };
    let granted = match state.config().persistent_client_expiration {
        Some(limit) => asked.min(u32::try_from(limit.as_secs()).unwrap_or(u32::MAX)),
        None => asked,
    };
    (asked, granted)
}

/// The Receive Maximum the broker grants its clients (`max_inflight_messages`).
fn granted_receive_max(state: &State) -> u16 {
    match state.config().max_inflight_messages {
        0 => u16::MAX,
        n => n,
    }
}

/// The properties of a successful 5.0 CONNACK: the broker's limits, and what it
/// changed of the client's request.
fn connack_properties(state: &State, checked: &Checked) -> Properties {
    let config = state.config();
    let receive_max = granted_receive_max(state);
    Properties {
        receive_maximum: (receive_max != u16::MAX).then_some(receive_max),
        topic_alias_maximum: (config.max_topic_alias > 0).then_some(config.max_topic_alias),
        maximum_packet_size: (config.max_packet_size > 0).then_some(config.max_packet_size),
        retain_available: (!config.retain_available).then_some(0),
        maximum_qos: (config.max_qos < QoS::ExactlyOnce).then_some(config.max_qos.as_u8()),
        session_expiry_interval: (checked.expiry != checked.expiry_at_connect)
            .then_some(checked.expiry),
        assigned_client_identifier: checked.assigned.clone(),
        server_keep_alive: checked.server_keep_alive,
        ..Properties::default()
    }
}

/// Find, take over or create the session [MQTT-3.1.2-4], [MQTT-3.1.2-5]: the
/// session and whether it was present. Runs after [`takeover::take_over`], under
/// the session table's lock, where session expiry also decides.
fn claim(
    state: &State,
    client_id: &Arc<str>,
    clean_start: bool,
    expiry: u32,
) -> (Arc<Session>, bool) {
    let mut to_end = None;
    let claimed = {
        let mut sessions = lock(&state.sessions);
        // A session that has just ended (expired) but is still in the table is gone.
        let existing = sessions
            .get(client_id)
            .filter(|s| !lock(&s.state).is_ended())
            .cloned();
        let resumed = existing.and_then(|old| {
            // A session with expiry 0 (3.1.1: clean session) lasts as long as its
            // connection, so a takeover ends it, as does Clean Start 1: no session
            // present (5.0 section 3.1.4, [MQTT-3.1.2-6]).
            let (link, ends) = {
                let st = lock(&old.state);
                (st.link().cloned(), clean_start || st.expiry() == 0)
            };
            if let Some(l) = link {
                // Another connection attached while this one waited for the old one.
                takeover::cut(&l);
            }
            if ends {
                to_end = Some(old);
                None
            } else {
                Some(old)
            }
        });
        let claimed = match resumed {
            Some(s) => (s, true),
            None => (
                Arc::new(Session::new(
                    state.next_key(),
                    client_id.clone(),
                    expiry,
                    state.budget.clone(),
                )),
                false,
            ),
        };
        {
            // Claimed under the table's lock: a session expiry or will-delay timer
            // that looks now sees the session resumed (see `State::expire`).
            lock(&claimed.0.state).claim(expiry);
        }
        sessions.insert(client_id.clone(), claimed.0.clone());
        claimed
    };
    if let Some(old) = to_end {
        state.end_session(&old);
    }
    claimed
}

/// mosquitto's lines for an accepted CONNECT.
fn log_accepted(state: &State, c: &Connect, peer: &Peer, client_id: &str, present: bool) {
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
                "New client connected from {} as {} (p{}, c{}, k{}{}).",
                peer,
                client_id,
                protocol_tag(c.protocol),
                u8::from(c.clean_start),
                c.keep_alive,
                user
            ),
        );
    }
    // The will lines belong to the connection messages.
    match &c.will {
        _ if !state.config().connection_messages => {}
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
}

/// Take the session and answer with CONNACK: the connection as accepted.
fn attach(
    state: &State,
    c: Connect,
    checked: Checked,
    mut ack: ConnAck,
    origin: &Origin,
) -> ConnInfo {
    let version = c.protocol;
    let v5 = version.is_v5();
    let client_max_packet = client_max_packet_size(&c);
    let (session, present) = claim(state, &checked.client_id, c.clean_start, checked.expiry);
    let username: Option<Arc<str>> = c.username.as_deref().map(Into::into);
    let realm = origin.listener.realm;
    {
        let mut st = lock(&session.state);
        st.set_principal(username.clone(), realm);
        // Kept in the store while it outlives its connection, with the will of
        // the connection (published after a restart if the broker dies first).
        match &state.store {
            Some(store) if checked.expiry > 0 => {
                if !st.is_durable() {
                    let id = checked.client_id.clone();
                    st.set_durable(Some(super::session::Durable::new(store.clone(), id, 1)));
                }
                st.store_will(c.will.clone());
            }
            _ if st.is_durable() => st.set_durable(None),
            _ => {}
        }
    }
    // MQTT 3.1 has no Session Present flag (its CONNACK flags are reserved).
    let present = present && version != ProtocolVersion::V31;
    log_accepted(state, &c, &origin.peer, &checked.client_id, present);
    let link = Arc::new(
        Link::new(state.next_key(), version, client_max_packet).with_origin(origin.clone()),
    );
    ack.session_present = present;
    link.send(&Packet::ConnAck(ack));
    let receive_max = granted_receive_max(state);
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
        mount_len: origin.listener.mount_point.as_ref().map_or(0, |m| m.len()),
    };
    session.attach(link.clone());
    state.stats.client_connected();
    ConnInfo {
        version,
        client_id: checked.client_id,
        session,
        link,
        keep_alive: checked.keep_alive,
        // Kept for the whole connection: in its own allocations, not slices of the
        // read buffer that held the CONNECT.
        will: c.will.map(|mut w| {
            super::message::own_bytes(&mut w.topic, &mut w.payload, &mut w.properties);
            Box::new(w)
        }),
        caps,
        topic_alias_max: if v5 {
            state.config().max_topic_alias
        } else {
            0
        },
        receive_max,
        expiry_at_connect: checked.expiry_at_connect,
        max_packet_in: state.max_packet_in(),
        username,
        realm,
        mount: origin.listener.mount_point.clone(),
        bridge: c.bridge,
        internal: origin.internal,
    }
}
