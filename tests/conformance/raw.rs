//! A raw MQTT test client: one real `tokio::net::TcpStream`, the crate's codec for
//! the packets it understands, and plain bytes for everything a well-behaved client
//! would never send. Every wait is bounded, so a missing broker behaviour fails the
//! test quickly with a message saying what was expected instead of hanging.

use bytes::{Bytes, BytesMut};
use mq::protocol::PacketType;
use mq::protocol::{
    Ack, ConnAck, Connect, Disconnect, Packet, Properties, ProtocolVersion, Publish, QoS,
    ReasonCode, SubAck, Subscribe, SubscribeFilter, SubscriptionOptions, UnsubAck, Unsubscribe,
    Will, decode, encode,
};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// The default wait for a packet the broker must send.
pub const WAIT: Duration = Duration::from_secs(2);
/// The default quiet period when checking that the broker sends nothing.
pub const QUIET: Duration = Duration::from_millis(300);

/// What one bounded read produced.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived, matched by value everywhere
pub enum Event {
    /// A whole packet.
    Packet(Packet),
    /// The broker closed the connection (EOF or reset).
    Closed,
    /// Nothing arrived in time.
    Timeout,
    /// The broker sent bytes our codec rejects: a broker bug.
    Garbage(String),
}

/// A raw connection to the broker.
pub struct Raw {
    stream: TcpStream,
    buf: BytesMut,
    /// Packets read while waiting for a specific acknowledgement, returned first by
    /// the next `recv`.
    pending: VecDeque<Packet>,
    /// The version used to decode what the broker sends and encode what we send.
    pub version: ProtocolVersion,
    next_id: u16,
}

impl Raw {
    /// Open a TCP connection and send nothing.
    pub async fn open(addr: SocketAddr, version: ProtocolVersion) -> Raw {
        let stream = timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("TCP connect timed out")
            .expect("TCP connect failed");
        stream.set_nodelay(true).ok();
        Raw {
            stream,
            buf: BytesMut::with_capacity(4096),
            pending: VecDeque::new(),
            version,
            next_id: 0,
        }
    }

    /// Open a connection, send `connect`, and return the client with the CONNACK
    /// (whatever its reason code).
    pub async fn connect_with(addr: SocketAddr, connect: Connect) -> (Raw, ConnAck) {
        let mut c = Raw::open(addr, connect.protocol).await;
        let id = connect.client_id.clone();
        c.send(&Packet::Connect(Box::new(connect))).await;
        match c.recv(WAIT).await {
            Event::Packet(Packet::ConnAck(ack)) => (c, ack),
            other => panic!("client {id:?}: expected CONNACK, got {other:?}"),
        }
    }

    /// Connect with `connect` and insist on a successful CONNACK.
    pub async fn connect_ok(addr: SocketAddr, connect: Connect) -> (Raw, ConnAck) {
        let id = connect.client_id.clone();
        let (c, ack) = Raw::connect_with(addr, connect).await;
        assert_eq!(
            ack.reason,
            ReasonCode::SUCCESS,
            "client {id:?}: CONNACK refused: {ack:?}"
        );
        (c, ack)
    }

    /// A clean MQTT 5.0 connection with `client_id`.
    pub async fn v5(addr: SocketAddr, client_id: &str) -> Raw {
        Raw::connect_ok(addr, connect(ProtocolVersion::V5, client_id))
            .await
            .0
    }

    /// A clean connection of `version` with `client_id`.
    pub async fn client(addr: SocketAddr, version: ProtocolVersion, client_id: &str) -> Raw {
        Raw::connect_ok(addr, connect(version, client_id)).await.0
    }

    /// A clean MQTT 3.1.1 connection with `client_id`.
    pub async fn v311(addr: SocketAddr, client_id: &str) -> Raw {
        Raw::connect_ok(addr, connect(ProtocolVersion::V311, client_id))
            .await
            .0
    }

    /// Encode and send a packet.
    pub async fn send(&mut self, packet: &Packet) {
        let mut out = BytesMut::new();
        encode(packet, self.version, &mut out).expect("test packet encodes");
        self.send_bytes(&out).await;
    }

    /// Send bytes as they are. A write error (the broker already closed) is ignored:
    /// the following `expect_*` call reports what matters.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        let _ = timeout(WAIT, self.stream.write_all(bytes)).await;
        let _ = timeout(WAIT, self.stream.flush()).await;
    }

    /// Send bytes, reporting whether the write finished within `wait` (a broker that
    /// stops reading makes it time out).
    pub async fn try_send_bytes(&mut self, bytes: &[u8], wait: Duration) -> bool {
        matches!(
            timeout(wait, self.stream.write_all(bytes)).await,
            Ok(Ok(()))
        )
    }

    /// Read until one packet, the end of the connection, or `wait` passes.
    pub async fn recv(&mut self, wait: Duration) -> Event {
        if let Some(p) = self.pending.pop_front() {
            return Event::Packet(p);
        }
        self.recv_wire(wait).await
    }

    /// Wait for the acknowledgement `kind` of `packet_id`, keeping any other packet
    /// (a PUBLISH the broker interleaves, say) for the next `recv`.
    pub async fn expect_ack(&mut self, kind: PacketType, packet_id: u16) -> Ack {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv_wire(left).await {
                Event::Packet(p) => {
                    let ack = match (&p, kind) {
                        (Packet::PubAck(a), PacketType::PubAck)
                        | (Packet::PubRec(a), PacketType::PubRec)
                        | (Packet::PubRel(a), PacketType::PubRel)
                        | (Packet::PubComp(a), PacketType::PubComp) => Some(a.clone()),
                        _ => None,
                    };
                    match ack {
                        Some(a) => {
                            assert_eq!(a.packet_id, packet_id, "{} packet id", kind.name());
                            return a;
                        }
                        None => {
                            if self.pending.len() > 10_000 {
                                panic!("waiting for {}: too many other packets", kind.name());
                            }
                            self.pending.push_back(p);
                        }
                    }
                }
                other => panic!(
                    "expected {} for packet id {packet_id} within {WAIT:?}, got {other:?}",
                    kind.name()
                ),
            }
        }
    }

    async fn recv_wire(&mut self, wait: Duration) -> Event {
        let deadline = Instant::now() + wait;
        loop {
            match decode(&mut self.buf, self.version, 0) {
                Ok(Some(p)) => return Event::Packet(p),
                Ok(None) => {}
                Err(e) => {
                    let head: Vec<u8> = self.buf.iter().take(16).copied().collect();
                    return Event::Garbage(format!("{e} (bytes {head:02X?})"));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Event::Timeout;
            }
            match timeout(left, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Event::Timeout,
                Ok(Ok(0)) | Ok(Err(_)) => {
                    if self.buf.is_empty() {
                        return Event::Closed;
                    }
                    // Decode what is left before reporting the close.
                    return match decode(&mut self.buf, self.version, 0) {
                        Ok(Some(p)) => Event::Packet(p),
                        Ok(None) => {
                            self.buf.clear();
                            Event::Closed
                        }
                        Err(e) => Event::Garbage(e.to_string()),
                    };
                }
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next packet, or a panic naming `what` was expected.
    pub async fn expect_packet_for(&mut self, wait: Duration, what: &str) -> Packet {
        match self.recv(wait).await {
            Event::Packet(p) => p,
            other => panic!("expected {what} within {wait:?}, got {other:?}"),
        }
    }

    /// The next packet within `wait`.
    pub async fn expect_packet(&mut self, wait: Duration) -> Packet {
        self.expect_packet_for(wait, "a packet").await
    }

    /// The next packet, which must be a PUBLISH.
    pub async fn expect_publish(&mut self) -> Publish {
        match self.expect_packet_for(WAIT, "PUBLISH").await {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// The next packet, which must be a PUBLISH; acknowledge it as its QoS says
    /// (QoS 2 completes the whole PUBREC/PUBREL/PUBCOMP exchange).
    pub async fn expect_publish_acked(&mut self) -> Publish {
        let p = self.expect_publish().await;
        self.ack(&p).await;
        p
    }

    /// Acknowledge a received PUBLISH completely.
    pub async fn ack(&mut self, p: &Publish) {
        match p.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.send(&Packet::PubAck(Ack::new(p.packet_id))).await,
            QoS::ExactlyOnce => {
                self.send(&Packet::PubRec(Ack::new(p.packet_id))).await;
                self.expect_ack(PacketType::PubRel, p.packet_id).await;
                self.send(&Packet::PubComp(Ack::new(p.packet_id))).await;
            }
        }
    }

    /// Wait for the broker to close the connection; return the packets it sent
    /// before closing (a 5.0 DISCONNECT, a refusing CONNACK...).
    pub async fn expect_closed(&mut self, wait: Duration) -> Vec<Packet> {
        let deadline = Instant::now() + wait;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Event::Closed => return got,
                Event::Packet(p) => {
                    if got.len() > 64 {
                        panic!("expected the connection to close, it keeps sending: {got:?}");
                    }
                    got.push(p)
                }
                Event::Timeout => panic!(
                    "expected the broker to close the connection within {wait:?}; \
                     it stayed open (received {got:?})"
                ),
                Event::Garbage(e) => panic!("broker sent undecodable bytes: {e}"),
            }
        }
    }

    /// Wait for the broker to close the connection and return the reason code of the
    /// DISCONNECT it sent first, if any. Panics if it sent anything but DISCONNECT.
    pub async fn expect_disconnect(&mut self, wait: Duration) -> Option<ReasonCode> {
        let got = self.expect_closed(wait).await;
        let mut reason = None;
        for p in got {
            match p {
                Packet::Disconnect(d) => {
                    check_server_disconnect(&d);
                    reason = Some(d.reason)
                }
                other => panic!("expected only DISCONNECT before the close, got {other:?}"),
            }
        }
        reason
    }

    /// Check that the broker sends nothing and keeps the connection open for `wait`.
    pub async fn expect_nothing(&mut self, wait: Duration) {
        match self.recv(wait).await {
            Event::Timeout => {}
            other => panic!("expected nothing for {wait:?}, got {other:?}"),
        }
    }

    /// Check that no PUBLISH arrives for `wait` (the connection may stay open).
    pub async fn expect_no_publish(&mut self, wait: Duration) {
        match self.recv(wait).await {
            Event::Timeout => {}
            Event::Packet(Packet::Publish(p)) => panic!("expected no PUBLISH, got {p:?}"),
            other => panic!("expected no PUBLISH for {wait:?}, got {other:?}"),
        }
    }

    /// A fresh packet identifier (1, 2, 3...).
    pub fn next_id(&mut self) -> u16 {
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.next_id
    }

    /// Subscribe to one filter with options and properties; return the SUBACK.
    pub async fn subscribe_with(
        &mut self,
        filters: &[(&str, SubscriptionOptions)],
        properties: Properties,
    ) -> SubAck {
        let packet_id = self.next_id();
        let sub = Subscribe {
            packet_id,
            filters: filters
                .iter()
                .map(|(f, o)| SubscribeFilter {
                    filter: (*f).to_string(),
                    options: *o,
                })
                .collect(),
            properties,
        };
        self.send(&Packet::Subscribe(sub)).await;
        match self.expect_packet_for(WAIT, "SUBACK").await {
            Packet::SubAck(a) => {
                assert_eq!(a.packet_id, packet_id, "SUBACK packet id [MQTT-3.8.4-2]");
                assert_eq!(
                    a.reason_codes.len(),
                    filters.len(),
                    "one SUBACK code per filter [MQTT-3.8.4-6]"
                );
                a
            }
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// Subscribe to `filter` at `qos` and insist it is granted at `qos`.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) {
        let ack = self
            .subscribe_with(
                &[(filter, SubscriptionOptions::qos(qos))],
                Properties::default(),
            )
            .await;
        assert_eq!(
            ack.reason_codes[0],
            ReasonCode(qos.as_u8()),
            "SUBACK for {filter:?} at {qos:?}"
        );
    }

    /// Unsubscribe; return the UNSUBACK.
    pub async fn unsubscribe(&mut self, filters: &[&str]) -> UnsubAck {
        let packet_id = self.next_id();
        self.send(&Packet::Unsubscribe(Unsubscribe {
            packet_id,
            filters: filters.iter().map(|f| (*f).to_string()).collect(),
            properties: Properties::default(),
        }))
        .await;
        match self.expect_packet_for(WAIT, "UNSUBACK").await {
            Packet::UnsubAck(a) => {
                assert_eq!(a.packet_id, packet_id, "UNSUBACK packet id [MQTT-3.10.4-5]");
                a
            }
            other => panic!("expected UNSUBACK, got {other:?}"),
        }
    }

    /// Publish and complete the QoS flow as the sender (wait for PUBACK, or
    /// PUBREC + PUBREL + PUBCOMP). Returns the reason code of the PUBACK/PUBREC.
    pub async fn publish_msg(&mut self, mut p: Publish) -> ReasonCode {
        if p.qos != QoS::AtMostOnce && p.packet_id == 0 {
            p.packet_id = self.next_id();
        }
        let id = p.packet_id;
        let qos = p.qos;
        self.send(&Packet::Publish(p)).await;
        match qos {
            QoS::AtMostOnce => ReasonCode::SUCCESS,
            QoS::AtLeastOnce => self.expect_ack(PacketType::PubAck, id).await.reason,
            QoS::ExactlyOnce => {
                let rec = self.expect_ack(PacketType::PubRec, id).await;
                if rec.reason.is_error() {
                    return rec.reason;
                }
                self.send(&Packet::PubRel(Ack::new(id))).await;
                self.expect_ack(PacketType::PubComp, id).await;
                rec.reason
            }
        }
    }

    /// Publish `payload` on `topic` at `qos` (not retained) and complete the flow.
    pub async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) {
        self.publish_msg(publish(topic, payload, qos)).await;
    }

    /// Publish a retained message and complete the flow.
    pub async fn publish_retained(&mut self, topic: &str, payload: &[u8], qos: QoS) {
        let mut p = publish(topic, payload, qos);
        p.retain = true;
        self.publish_msg(p).await;
    }

    /// Send PINGREQ and expect PINGRESP [MQTT-3.12.4-1].
    pub async fn ping(&mut self) {
        self.send(&Packet::PingReq).await;
        match self.expect_packet_for(WAIT, "PINGRESP").await {
            Packet::PingResp => {}
            other => panic!("expected PINGRESP, got {other:?}"),
        }
    }

    /// Send a normal DISCONNECT (reason 0x00) and wait for the broker to close.
    pub async fn disconnect(mut self) {
        self.send(&Packet::Disconnect(Disconnect::default())).await;
        let _ = self.recv(Duration::from_millis(500)).await;
    }

    /// Send DISCONNECT with a reason code (5.0).
    pub async fn disconnect_with(&mut self, reason: ReasonCode, properties: Properties) {
        self.send(&Packet::Disconnect(Disconnect { reason, properties }))
            .await;
    }

    /// Drop the TCP connection without DISCONNECT (an abnormal close).
    pub fn drop_abruptly(self) {
        drop(self.stream);
    }
}

/// A CONNECT with a client id, clean start/session, keepalive 60 and nothing else.
pub fn connect(version: ProtocolVersion, client_id: &str) -> Connect {
    Connect {
        protocol: version,
        clean_start: true,
        keep_alive: 60,
        client_id: client_id.to_string(),
        ..Connect::default()
    }
}

/// A will message.
pub fn will(topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Will {
    Will {
        topic: topic.into(),
        payload: Bytes::copy_from_slice(payload),
        qos,
        retain,
        properties: Properties::default(),
    }
}

/// A PUBLISH with no properties; the packet id is filled in by `publish_msg`.
pub fn publish(topic: &str, payload: &[u8], qos: QoS) -> Publish {
    Publish {
        topic: topic.into(),
        qos,
        payload: Bytes::copy_from_slice(payload),
        ..Publish::default()
    }
}

/// The bytes of a packet encoded under `version`.
pub fn bytes_of(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(packet, version, &mut out).expect("test packet encodes");
    out.to_vec()
}

/// A packet built by hand: the first byte, the Remaining Length, the body.
pub fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    let mut n = body.len();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// A length-prefixed string field (raw bytes, so invalid UTF-8 can be sent).
pub fn field(s: &[u8]) -> Vec<u8> {
    let mut out = (s.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(s);
    out
}

/// A CONNECT body built by hand: protocol name, level, flags, keepalive 60, an empty
/// property block when `level` is 5, and the client id.
pub fn connect_body(name: &[u8], level: u8, flags: u8, client_id: &[u8]) -> Vec<u8> {
    let mut body = field(name);
    body.push(level);
    body.push(flags);
    body.extend_from_slice(&60u16.to_be_bytes());
    if level == 5 {
        body.push(0);
    }
    body.extend_from_slice(&field(client_id));
    body
}

impl Raw {
    /// Read the next packet's bytes as they are on the wire, undecoded (to check
    /// byte order and reserved bits the codec would hide).
    pub async fn recv_raw_packet(&mut self, wait: Duration) -> Vec<u8> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(len) = mq::protocol::frame_len(&self.buf)
                && self.buf.len() >= len
            {
                return self.buf.split_to(len).to_vec();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => panic!(
                    "no whole packet within {wait:?} (have {:02X?})",
                    &self.buf[..]
                ),
                Ok(Ok(0)) | Ok(Err(_)) => {
                    panic!("closed before a whole packet ({:02X?})", &self.buf[..])
                }
                Ok(Ok(_)) => {}
            }
        }
    }

    /// Read everything until the broker closes (or `wait` passes: then panic),
    /// returning the raw bytes it sent, undecoded.
    pub async fn expect_closed_raw(&mut self, wait: Duration) -> Vec<u8> {
        let deadline = Instant::now() + wait;
        let mut all = self.buf.split().to_vec();
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.stream.read(&mut chunk)).await {
                Err(_) => panic!(
                    "expected the broker to close the connection within {wait:?}; it stayed \
                     open (received {all:02X?})"
                ),
                Ok(Ok(0)) | Ok(Err(_)) => return all,
                Ok(Ok(n)) => {
                    all.extend_from_slice(&chunk[..n]);
                    if all.len() > 1 << 20 {
                        panic!("broker keeps sending while it should close");
                    }
                }
            }
        }
    }
}

/// Rules every DISCONNECT from the server follows: no Session Expiry Interval
/// [MQTT-3.14.2-2].
pub fn check_server_disconnect(d: &Disconnect) {
    assert!(
        d.properties.session_expiry_interval.is_none(),
        "the server sent a Session Expiry Interval in DISCONNECT [MQTT-3.14.2-2]: {d:?}"
    );
}
