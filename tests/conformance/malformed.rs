//! Malformed input (3.1.1 sections 1.5, 2.2 and 4.8; 5.0 sections 1.5, 2.1, 2.2 and
//! 4.13): reserved flag bits on every packet type, reserved packet types, bad
//! Remaining Length, invalid UTF-8 and U+0000, bad property blocks, oversized
//! packets, half a packet then silence. Each closes that one connection (with a 5.0
//! DISCONNECT carrying an error reason where one is sent) and nothing else.

use crate::broker::{self, TestBroker};
use crate::raw::{self, QUIET, Raw, WAIT, connect, field, frame};
use mq::broker::Config;
use mq::protocol::{Packet, ProtocolVersion, QoS, ReasonCode};
use std::time::Duration;

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// A well-behaved pair of clients still publishes and receives.
pub async fn broker_still_works(b: &TestBroker) {
    crate::hostile::watch_broker_panics();
    let mut s = Raw::v5(b.addr, "probe-sub").await;
    s.subscribe("probe/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v311(b.addr, "probe-pub").await;
    p.publish("probe/t", b"alive", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"alive", "the broker keeps working");
    crate::hostile::assert_no_broker_panic();
}

/// Connect (clean, `version`), send `bytes`, and insist the broker closes this
/// connection, sending at most a DISCONNECT with an error reason (5.0); then check
/// the broker still serves others.
async fn closes_after(version: ProtocolVersion, bytes: &[u8], what: &str) {
    closes_with(version, bytes, what, &[]).await;
}

/// Like [`closes_after`]; a 5.0 DISCONNECT, if sent, must carry one of `reasons`
/// (any error reason when empty).
async fn closes_with(version: ProtocolVersion, bytes: &[u8], what: &str, reasons: &[ReasonCode]) {
    crate::hostile::watch_broker_panics();
    let b = broker::start().await;
    let mut c = Raw::client(b.addr, version, "bad").await;
    c.send_bytes(bytes).await;
    let got = c.expect_closed(WAIT).await;
    for p in got {
        match p {
            Packet::Disconnect(d) if version == V5 => {
                assert!(
                    d.reason.is_error(),
                    "{what}: DISCONNECT reason must be an error, got {:?}",
                    d.reason
                );
                assert!(
                    reasons.is_empty() || reasons.contains(&d.reason),
                    "{what}: DISCONNECT reason {:?}, expected one of {reasons:?}",
                    d.reason
                );
            }
            other => panic!("{what}: unexpected {other:?} before the close"),
        }
    }
    broker_still_works(&b).await;
}

/// A body that is valid after the first byte for each packet type, so only the
/// flags are wrong.
fn body_for(kind: u8, version: ProtocolVersion) -> Vec<u8> {
    let v5 = version == V5;
    match kind {
        // PUBLISH QoS 0: topic "t", (props), payload.
        3 => {
            let mut b = field(b"t");
            if v5 {
                b.push(0);
            }
            b.push(b'x');
            b
        }
        // PUBACK, PUBREC, PUBREL, PUBCOMP: packet id 1.
        4..=7 => vec![0x00, 0x01],
        // SUBSCRIBE: id, (props), "t" QoS 0.
        8 => {
            let mut b = vec![0x00, 0x01];
            if v5 {
                b.push(0);
            }
            b.extend(field(b"t"));
            b.push(0);
            b
        }
        // UNSUBSCRIBE: id, (props), "t".
        10 => {
            let mut b = vec![0x00, 0x01];
            if v5 {
                b.push(0);
            }
            b.extend(field(b"t"));
            b
        }
        // PINGREQ, DISCONNECT: empty; AUTH: reason 0x18, no props.
        15 => vec![0x18, 0x00],
        _ => Vec::new(),
    }
}

macro_rules! reserved_flags_test {
    ($name:ident, $version:expr, $kind:expr, $flags:expr, $doc:literal) => {
        #[doc = $doc]
        #[tokio::test]
        async fn $name() {
            let first = ($kind << 4) | $flags;
            let bytes = frame(first, &body_for($kind, $version));
            // Wrong flags are a Malformed Packet; a packet type a client may not send
            // is a Malformed Packet or a Protocol Error (5.0 section 4.13).
            let reasons: &[ReasonCode] = if matches!($kind, 2 | 9 | 11 | 13) {
                &[ReasonCode::MALFORMED_PACKET, ReasonCode::PROTOCOL_ERROR]
            } else {
                &[ReasonCode::MALFORMED_PACKET]
            };
            closes_with(
                $version,
                &bytes,
                &format!("first byte 0x{first:02X}"),
                reasons,
            )
            .await;
        }
    };
}

reserved_flags_test!(
    v311_publish_qos3_closes_mqtt_3_3_1_4,
    V3,
    3,
    0x06,
    "[MQTT-3.3.1-4] PUBLISH with both QoS bits set closes the connection (3.1.1)."
);
reserved_flags_test!(
    v5_publish_qos3_closes_mqtt_3_3_1_4,
    V5,
    3,
    0x06,
    "[MQTT-3.3.1-4] PUBLISH with both QoS bits set: DISCONNECT 0x81 / close (5.0)."
);
reserved_flags_test!(
    v311_puback_flags_close_mqtt_2_2_2_2,
    V3,
    4,
    0x01,
    "3.1.1 [MQTT-2.2.2-2] PUBACK with reserved flag bits set closes the connection."
);
reserved_flags_test!(
    v5_puback_flags_close_mqtt_2_1_3_1,
    V5,
    4,
    0x02,
    "5.0 [MQTT-2.1.3-1] PUBACK with reserved flag bits set: malformed."
);
reserved_flags_test!(
    v311_pubrec_flags_close_mqtt_2_2_2_2,
    V3,
    5,
    0x04,
    "3.1.1 [MQTT-2.2.2-2] PUBREC with reserved flag bits set closes."
);
reserved_flags_test!(
    v5_pubrec_flags_close_mqtt_2_1_3_1,
    V5,
    5,
    0x08,
    "5.0 [MQTT-2.1.3-1] PUBREC with reserved flag bits set: malformed."
);
reserved_flags_test!(
    v311_pubrel_flags_0000_close_mqtt_3_6_1_1,
    V3,
    6,
    0x00,
    "[MQTT-3.6.1-1] PUBREL must have flags 0010: 0000 closes (3.1.1)."
);
reserved_flags_test!(
    v5_pubrel_flags_0011_close_mqtt_3_6_1_1,
    V5,
    6,
    0x03,
    "[MQTT-3.6.1-1] PUBREL must have flags 0010: 0011 is malformed (5.0)."
);
reserved_flags_test!(
    v311_pubcomp_flags_close_mqtt_2_2_2_2,
    V3,
    7,
    0x02,
    "3.1.1 [MQTT-2.2.2-2] PUBCOMP with reserved flag bits set closes."
);
reserved_flags_test!(
    v5_pubcomp_flags_close_mqtt_2_1_3_1,
    V5,
    7,
    0x01,
    "5.0 [MQTT-2.1.3-1] PUBCOMP with reserved flag bits set: malformed."
);
reserved_flags_test!(
    v311_subscribe_flags_0000_close_mqtt_3_8_1_1,
    V3,
    8,
    0x00,
    "[MQTT-3.8.1-1] SUBSCRIBE must have flags 0010: 0000 closes (3.1.1)."
);
reserved_flags_test!(
    v5_subscribe_flags_1010_close_mqtt_3_8_1_1,
    V5,
    8,
    0x0A,
    "[MQTT-3.8.1-1] SUBSCRIBE must have flags 0010: 1010 is malformed (5.0)."
);
reserved_flags_test!(
    v311_unsubscribe_flags_0000_close_mqtt_3_10_1_1,
    V3,
    10,
    0x00,
    "[MQTT-3.10.1-1] UNSUBSCRIBE must have flags 0010: 0000 closes (3.1.1)."
);
reserved_flags_test!(
    v5_unsubscribe_flags_0110_close_mqtt_3_10_1_1,
    V5,
    10,
    0x06,
    "[MQTT-3.10.1-1] UNSUBSCRIBE must have flags 0010: 0110 is malformed (5.0)."
);
reserved_flags_test!(
    v311_pingreq_flags_close_mqtt_2_2_2_2,
    V3,
    12,
    0x01,
    "3.1.1 [MQTT-2.2.2-2] PINGREQ with reserved flag bits set closes."
);
reserved_flags_test!(
    v5_pingreq_flags_close_mqtt_2_1_3_1,
    V5,
    12,
    0x08,
    "5.0 [MQTT-2.1.3-1] PINGREQ with reserved flag bits set: malformed."
);
reserved_flags_test!(
    v311_disconnect_flags_close_mqtt_2_2_2_2,
    V3,
    14,
    0x01,
    "3.1.1 [MQTT-2.2.2-2] DISCONNECT with reserved flag bits set closes."
);
reserved_flags_test!(
    v5_disconnect_flags_close_mqtt_3_14_1_1,
    V5,
    14,
    0x02,
    "[MQTT-3.14.1-1] DISCONNECT with reserved flag bits set: malformed (5.0)."
);
reserved_flags_test!(
    v5_auth_flags_close_mqtt_3_15_1_1,
    V5,
    15,
    0x01,
    "[MQTT-3.15.1-1] AUTH with reserved flag bits set: malformed (5.0)."
);
reserved_flags_test!(
    v311_reserved_type_0_closes_mqtt_2_2_1,
    V3,
    0,
    0x00,
    "3.1.1 section 2.2.1: packet type 0 is reserved: the connection closes."
);
reserved_flags_test!(
    v5_reserved_type_0_closes_mqtt_2_1_2,
    V5,
    0,
    0x00,
    "5.0 section 2.1.2: packet type 0 is reserved: malformed."
);
reserved_flags_test!(
    v311_auth_type_15_reserved_closes_mqtt_2_2_1,
    V3,
    15,
    0x00,
    "3.1.1 section 2.2.1: packet type 15 is reserved in 3.1.1: the connection closes."
);
reserved_flags_test!(
    v311_connack_from_client_closes,
    V3,
    2,
    0x00,
    "CONNACK flows server to client only (section 2.2.1 / 2.1.2): from a client it is a protocol violation."
);
reserved_flags_test!(
    v5_suback_from_client_closes,
    V5,
    9,
    0x00,
    "SUBACK flows server to client only: from a client it is a Protocol Error (5.0)."
);
reserved_flags_test!(
    v311_unsuback_from_client_closes,
    V3,
    11,
    0x00,
    "UNSUBACK flows server to client only: from a client it is a protocol violation."
);
reserved_flags_test!(
    v5_pingresp_from_client_closes,
    V5,
    13,
    0x00,
    "PINGRESP flows server to client only: from a client it is a Protocol Error (5.0)."
);

/// [MQTT-2.2.2-2] (3.1.1) / [MQTT-2.1.3-1] (5.0): CONNECT with flag bits 0001 in the
/// fixed header closes the connection without an accepting CONNACK.
#[tokio::test]
async fn connect_fixed_header_flags_close_mqtt_2_1_3_1() {
    let b = broker::start().await;
    for version in [V3, V5] {
        let mut bytes = raw::bytes_of(&Packet::Connect(Box::new(connect(version, "f"))), version);
        bytes[0] = 0x11;
        let mut c = Raw::open(b.addr, version).await;
        c.send_bytes(&bytes).await;
        let got = c.expect_closed_raw(WAIT).await;
        assert!(
            got.is_empty() || (got[0] == 0x20 && got.len() >= 4 && got[3] != 0),
            "{version}: CONNECT with flags 0001 accepted: {got:02X?}"
        );
    }
    broker_still_works(&b).await;
}

/// 3.1.1 section 2.2.3 / 5.0 [MQTT-1.5.5-1]: a Remaining Length of more than four
/// bytes is malformed.
#[tokio::test]
async fn remaining_length_five_bytes_closes_mqtt_1_5_5_1() {
    closes_after(
        V5,
        &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        "5-byte Remaining Length",
    )
    .await;
}

/// A Remaining Length shorter than the fields it must hold (a PUBLISH whose topic
/// length runs past the end) is malformed.
#[tokio::test]
async fn remaining_length_too_short_for_fields_closes() {
    // Topic length 10 but only 3 bytes follow.
    closes_after(
        V3,
        &[0x30, 0x05, 0x00, 0x0A, b'a', b'b', b'c'],
        "truncated topic",
    )
    .await;
}

/// A PUBACK whose Remaining Length is 1 cannot hold a packet id: malformed.
#[tokio::test]
async fn puback_remaining_length_one_closes() {
    closes_after(V3, &[0x40, 0x01, 0x00], "PUBACK with 1-byte body").await;
}

fn publish_raw_topic(topic: &[u8], version: ProtocolVersion) -> Vec<u8> {
    let mut body = field(topic);
    if version == V5 {
        body.push(0);
    }
    body.push(b'x');
    frame(0x30, &body)
}

/// 3.1.1 [MQTT-1.5.3-1] Invalid UTF-8 in a topic name closes the connection.
#[tokio::test]
async fn v311_invalid_utf8_topic_closes_mqtt_1_5_3_1() {
    closes_after(
        V3,
        &publish_raw_topic(&[b'a', 0xC3, 0x28], V3),
        "invalid UTF-8",
    )
    .await;
}

/// 5.0 [MQTT-1.5.4-1] A UTF-16 surrogate encoded in a topic name is ill-formed UTF-8.
#[tokio::test]
async fn v5_surrogate_in_topic_closes_mqtt_1_5_4_1() {
    closes_after(
        V5,
        &publish_raw_topic(&[b'a', 0xED, 0xA0, 0x80], V5),
        "surrogate",
    )
    .await;
}

/// 3.1.1 [MQTT-1.5.3-2] U+0000 in a topic name closes the connection.
#[tokio::test]
async fn v311_nul_in_topic_closes_mqtt_1_5_3_2() {
    closes_after(V3, &publish_raw_topic(b"a\0b", V3), "U+0000 in topic").await;
}

/// 5.0 [MQTT-1.5.4-2] U+0000 in a topic filter closes the connection.
#[tokio::test]
async fn v5_nul_in_filter_closes_mqtt_1_5_4_2() {
    let mut body = vec![0x00, 0x01, 0x00];
    body.extend(field(b"a\0b"));
    body.push(0);
    closes_after(V5, &frame(0x82, &body), "U+0000 in filter").await;
}

/// 3.1.1 [MQTT-1.5.3-1] Invalid UTF-8 in the CONNECT client id: no accepting CONNACK,
/// the connection closes.
#[tokio::test]
async fn invalid_utf8_client_id_closes_mqtt_1_5_3_1() {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(&frame(
        0x10,
        &raw::connect_body(b"MQTT", 4, 0x02, &[0xFF, 0xFE]),
    ))
    .await;
    let got = c.expect_closed_raw(WAIT).await;
    assert!(
        got.is_empty() || (got.len() >= 4 && got[3] != 0),
        "invalid client id accepted: {got:02X?}"
    );
    broker_still_works(&b).await;
}

/// [MQTT-2.2.1-3] A QoS 1 PUBLISH with packet identifier 0 is a protocol violation.
#[tokio::test]
async fn publish_packet_id_zero_closes_mqtt_2_2_1_3() {
    let mut body = field(b"t");
    body.extend([0x00, 0x00, b'x']);
    closes_after(V3, &frame(0x32, &body), "QoS 1 with packet id 0").await;
}

/// 3.1.1 [MQTT-3.8.3-3] / 5.0 [MQTT-3.8.3-2]: a SUBSCRIBE without any filter is a
/// protocol violation.
#[tokio::test]
async fn subscribe_without_filters_closes_mqtt_3_8_3_3() {
    closes_after(V3, &frame(0x82, &[0x00, 0x01]), "empty SUBSCRIBE").await;
}

/// [MQTT-3.10.3-2] An UNSUBSCRIBE without any filter is a protocol violation.
#[tokio::test]
async fn unsubscribe_without_filters_closes_mqtt_3_10_3_2() {
    closes_after(V5, &frame(0xA2, &[0x00, 0x01, 0x00]), "empty UNSUBSCRIBE").await;
}

/// 3.1.1 [MQTT-3-8.3-4] Reserved bits in the requested QoS byte: malformed.
#[tokio::test]
async fn v311_subscribe_reserved_option_bits_close_mqtt_3_8_3_4() {
    let mut body = vec![0x00, 0x01];
    body.extend(field(b"t"));
    body.push(0x04);
    closes_after(V3, &frame(0x82, &body), "3.1.1 subscription byte 0x04").await;
}

/// 5.0 [MQTT-3.8.3-5] Reserved bits 6-7 of the subscription options: malformed.
#[tokio::test]
async fn v5_subscribe_reserved_option_bits_close_mqtt_3_8_3_5() {
    let mut body = vec![0x00, 0x01, 0x00];
    body.extend(field(b"t"));
    body.push(0x41);
    closes_after(V5, &frame(0x82, &body), "5.0 subscription options 0x41").await;
}

/// Requested QoS 3 in SUBSCRIBE is malformed (3.1.1 [MQTT-3-8.3-4]).
#[tokio::test]
async fn subscribe_qos3_closes_mqtt_3_8_3_4() {
    let mut body = vec![0x00, 0x01];
    body.extend(field(b"t"));
    body.push(0x03);
    closes_after(V3, &frame(0x82, &body), "subscription QoS 3").await;
}

/// 5.0 section 2.2.2.2: a property that does not belong in the packet (Session
/// Expiry Interval in PUBLISH) is a Malformed Packet / Protocol Error.
#[tokio::test]
async fn v5_property_not_allowed_in_publish_closes() {
    let mut body = field(b"t");
    body.extend([0x05, 0x11, 0, 0, 0, 10]);
    body.push(b'x');
    closes_after(V5, &frame(0x30, &body), "Session Expiry in PUBLISH").await;
}

/// 5.0 section 2.2.2.2: a property included twice (that may appear only once) is a
/// Protocol Error.
#[tokio::test]
async fn v5_duplicate_property_closes() {
    let mut body = field(b"t");
    body.extend([0x04, 0x01, 0x00, 0x01, 0x01]);
    body.push(b'x');
    closes_after(V5, &frame(0x30, &body), "two Payload Format Indicators").await;
}

/// 5.0 section 2.2.2: a Property Length running past the end of the packet.
#[tokio::test]
async fn v5_property_length_past_end_closes() {
    let mut body = field(b"t");
    body.extend([0x20, 0x01, 0x00]);
    closes_after(V5, &frame(0x30, &body), "Property Length past end").await;
}

/// [MQTT-3.1.2-11] (5.0 numbering; 3.1.1 [MQTT-3.1.2-13]): Will QoS set without the
/// Will Flag is malformed: no accepting CONNACK, close.
#[tokio::test]
async fn connect_will_qos_without_will_flag_closes_mqtt_3_1_2_11() {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(&frame(0x10, &raw::connect_body(b"MQTT", 4, 0x0A, b"wq")))
        .await;
    let got = c.expect_closed_raw(WAIT).await;
    assert!(
        got.is_empty() || (got.len() >= 4 && got[3] != 0),
        "accepted: {got:02X?}"
    );
}

/// 3.1.1 [MQTT-3.1.2-22] Password Flag without User Name Flag is malformed.
#[tokio::test]
async fn v311_password_without_username_closes_mqtt_3_1_2_22() {
    let b = broker::start().await;
    let mut body = raw::connect_body(b"MQTT", 4, 0x42, b"pw");
    body.extend(field(b"secret"));
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(&frame(0x10, &body)).await;
    let got = c.expect_closed_raw(WAIT).await;
    assert!(
        got.is_empty() || (got.len() >= 4 && got[3] != 0),
        "accepted: {got:02X?}"
    );
}

/// `message_size_limit`: a PUBLISH whose payload is over the limit is never
/// delivered; the broker either closes that connection or (5.0, QoS 1) refuses it
/// with an error PUBACK. Other clients are unaffected.
#[tokio::test]
async fn oversized_publish_vs_message_size_limit_not_delivered() {
    let b = broker::start_with(Config {
        message_size_limit: 100,
        ..Config::default()
    })
    .await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("big/#", QoS::AtLeastOnce).await;
    for version in [V3, V5] {
        let mut p = Raw::client(b.addr, version, "big").await;
        let mut m = raw::publish("big/t", &[7u8; 200], QoS::AtLeastOnce);
        m.packet_id = 1;
        p.send(&Packet::Publish(m)).await;
        match p.recv(WAIT).await {
            crate::raw::Event::Packet(Packet::PubAck(a)) => {
                if version == V5 {
                    assert!(
                        a.reason.is_error(),
                        "oversized PUBLISH acknowledged as success"
                    );
                }
            }
            crate::raw::Event::Packet(Packet::Disconnect(d)) => assert!(d.reason.is_error()),
            crate::raw::Event::Closed => {}
            other => panic!("{version}: unexpected {other:?}"),
        }
        s.expect_no_publish(QUIET).await;
    }
    // A payload within the limit still flows.
    let mut p = Raw::v5(b.addr, "small").await;
    p.publish("big/t", &[1u8; 50], QoS::AtLeastOnce).await;
    assert_eq!(s.expect_publish_acked().await.payload.len(), 50);
}

/// A packet larger than `max_packet_size` announced in the fixed header is refused
/// before its body arrives (the broker does not wait for 1 MB).
#[tokio::test]
async fn oversized_remaining_length_refused_from_header() {
    let b = broker::start_with(Config {
        max_packet_size: 1000,
        ..Config::default()
    })
    .await;
    let mut c = Raw::v311(b.addr, "hdr").await;
    // PUBLISH announcing 1 MB, only the header sent.
    c.send_bytes(&[0x30, 0x80, 0x80, 0x40]).await;
    c.expect_closed(WAIT).await;
    broker_still_works(&b).await;
}

/// Issue 4 / 3.1.1 [MQTT-3.1.2-24]: half a packet then silence closes only that
/// connection (at the keepalive); other clients keep working meanwhile.
#[tokio::test]
async fn half_packet_then_silence_closes_only_that_connection() {
    let b = broker::start().await;
    let mut con = connect(V3, "half");
    con.keep_alive = 1;
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    let full = raw::bytes_of(
        &Packet::Publish(raw::publish("h/t", b"xyz", QoS::AtMostOnce)),
        V3,
    );
    c.send_bytes(&full[..full.len() - 2]).await;
    broker_still_works(&b).await;
    c.expect_closed(Duration::from_millis(2500)).await;
    broker_still_works(&b).await;
}

/// Issue 4: many connections stuck mid-packet do not stop the broker serving others.
#[tokio::test]
async fn many_stalled_connections_do_not_block_others() {
    let b = broker::start().await;
    let mut stalled = Vec::new();
    for i in 0..20 {
        let mut c = Raw::v311(b.addr, &format!("stall{i}")).await;
        // A SUBSCRIBE header announcing 100 bytes, then 3 of them.
        c.send_bytes(&[0x82, 100, 0x00, 0x01, 0x00]).await;
        stalled.push(c);
    }
    broker_still_works(&b).await;
    for c in &mut stalled {
        c.expect_nothing(Duration::from_millis(10)).await;
    }
}
