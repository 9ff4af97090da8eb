//! An independent audit of the MQTT 5.0 server-side statements the rest of the suite
//! does not check: CONNECT flag and field consistency, property values that are a
//! Protocol Error, will QoS and retain, acknowledgement order, flow control until
//! PUBCOMP and across a reconnect, UNSUBACK per filter, the longest topic, invalid
//! payload format, `$SYS` kept read-only, and sessions (and wills) that end on a
//! takeover or a Clean Start before the Will Delay Interval.

use crate::broker;
use crate::raw::{self, Event, QUIET, Raw, WAIT, connect, connect_body, field, frame, will};
use mq::protocol::{
    Ack, Packet, PacketType, Properties, ProtocolVersion, QoS, ReasonCode, SubscriptionOptions,
};
use std::net::SocketAddr;
use std::time::Duration;

const V5: ProtocolVersion = ProtocolVersion::V5;

/// Send a hand-built CONNECT and insist it is refused: the broker closes the
/// connection, sending at most a CONNACK with an error reason [MQTT-3.1.4-1], and
/// never a DISCONNECT before a CONNACK [MQTT-3.14.0-1].
pub async fn connect_refused(addr: SocketAddr, version: ProtocolVersion, bytes: &[u8], what: &str) {
    let mut c = Raw::open(addr, version).await;
    c.send_bytes(bytes).await;
    let got = c.expect_closed(WAIT).await;
    for p in got {
        match p {
            Packet::ConnAck(a) if version.is_v5() => assert!(
                a.reason.is_error(),
                "{what}: the CONNECT was accepted: {a:?}"
            ),
            other => panic!("{what}: expected the connection closed without {other:?}"),
        }
    }
}

/// A CONNECT body with a will: the fixed part from [`connect_body`], then (5.0) an
/// empty will property block, the will topic and the will payload.
fn connect_body_with_will(level: u8, flags: u8, client_id: &[u8], topic: &[u8]) -> Vec<u8> {
    let mut body = connect_body(b"MQTT", level, flags, client_id);
    if level == 5 {
        body.push(0);
    }
    body.extend(field(topic));
    body.extend(field(b"gone"));
    body
}

/// A hand-built CONNECT packet whose property block is `props` (5.0).
fn connect_with_props(props: &[u8], client_id: &[u8]) -> Vec<u8> {
    let mut body = field(b"MQTT");
    body.push(5);
    body.push(0x02);
    body.extend_from_slice(&60u16.to_be_bytes());
    body.push(props.len() as u8);
    body.extend_from_slice(props);
    body.extend(field(client_id));
    frame(0x10, &body)
}

/// [MQTT-3.1.2-12] Will QoS 3 is malformed: refused.
#[tokio::test]
async fn v5_will_qos3_refused_mqtt_3_1_2_12() {
    let b = broker::start().await;
    let body = connect_body_with_will(5, 0x02 | 0x04 | 0x18, b"wq3", b"w/t");
    connect_refused(b.addr, V5, &frame(0x10, &body), "Will QoS 3").await;
}

/// [MQTT-3.1.2-13] Will Retain set without the Will Flag: refused.
#[tokio::test]
async fn v5_will_retain_without_will_flag_refused_mqtt_3_1_2_13() {
    let b = broker::start().await;
    let body = connect_body(b"MQTT", 5, 0x02 | 0x20, b"wr");
    connect_refused(
        b.addr,
        V5,
        &frame(0x10, &body),
        "Will Retain without Will Flag",
    )
    .await;
}

/// [MQTT-3.1.2-9] Will Flag set but no will properties, topic or payload follow.
#[tokio::test]
async fn v5_will_flag_without_will_fields_refused_mqtt_3_1_2_9() {
    let b = broker::start().await;
    let body = connect_body(b"MQTT", 5, 0x02 | 0x04, b"wf");
    connect_refused(b.addr, V5, &frame(0x10, &body), "Will Flag without will").await;
}

/// [MQTT-3.1.2-17] User Name Flag set but no User Name in the payload.
#[tokio::test]
async fn v5_user_name_flag_without_user_name_refused_mqtt_3_1_2_17() {
    let b = broker::start().await;
    let body = connect_body(b"MQTT", 5, 0x02 | 0x80, b"un");
    connect_refused(b.addr, V5, &frame(0x10, &body), "User Name Flag, no name").await;
}

/// [MQTT-3.1.2-16] User Name Flag clear but a User Name follows: bytes after the
/// end of the packet.
#[tokio::test]
async fn v5_user_name_without_flag_refused_mqtt_3_1_2_16() {
    let b = broker::start().await;
    let mut body = connect_body(b"MQTT", 5, 0x02, b"un2");
    body.extend(field(b"someone"));
    connect_refused(b.addr, V5, &frame(0x10, &body), "User Name without flag").await;
}

/// [MQTT-3.1.2-19] Password Flag set but no Password in the payload.
#[tokio::test]
async fn v5_password_flag_without_password_refused_mqtt_3_1_2_19() {
    let b = broker::start().await;
    let mut body = connect_body(b"MQTT", 5, 0x02 | 0x80 | 0x40, b"pw");
    body.extend(field(b"user"));
    connect_refused(
        b.addr,
        V5,
        &frame(0x10, &body),
        "Password Flag, no password",
    )
    .await;
}

/// 5.0 section 3.1.2.9: unlike 3.1.1 [MQTT-3.1.2-22], a Password without a User Name
/// is allowed; with anonymous access the CONNECT is accepted.
#[tokio::test]
async fn v5_password_without_user_name_accepted_mqtt_3_1_2_18() {
    let b = broker::start().await;
    let mut body = connect_body(b"MQTT", 5, 0x02 | 0x40, b"pwonly");
    body.extend(field(b"secret"));
    let mut c = Raw::open(b.addr, V5).await;
    c.send_bytes(&frame(0x10, &body)).await;
    match c.expect_packet_for(WAIT, "CONNACK").await {
        Packet::ConnAck(a) => assert_eq!(a.reason, ReasonCode::SUCCESS, "{a:?}"),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    c.ping().await;
}

/// [MQTT-3.1.3-12] The User Name is a UTF-8 string: invalid UTF-8 is refused.
#[tokio::test]
async fn v5_invalid_utf8_user_name_refused_mqtt_3_1_3_12() {
    let b = broker::start().await;
    let mut body = connect_body(b"MQTT", 5, 0x02 | 0x80, b"utf");
    body.extend(field(&[0xC3, 0x28]));
    connect_refused(b.addr, V5, &frame(0x10, &body), "invalid UTF-8 User Name").await;
}

/// [MQTT-3.1.3-11] The Will Topic is a topic name: wildcards are refused.
#[tokio::test]
async fn v5_will_topic_with_wildcard_refused_mqtt_3_1_3_11() {
    let b = broker::start().await;
    let body = connect_body_with_will(5, 0x02 | 0x04, b"wt", b"will/#");
    connect_refused(b.addr, V5, &frame(0x10, &body), "will topic with '#'").await;
}

/// 5.0 section 3.1.2.11.10: Authentication Data without an Authentication Method is
/// a Protocol Error: refused (CONNACK 0x82 or a plain close).
#[tokio::test]
async fn v5_authentication_data_without_method_refused() {
    let b = broker::start().await;
    // 0x16 Authentication Data, binary "ab".
    let bytes = connect_with_props(&[0x16, 0x00, 0x02, b'a', b'b'], b"ad");
    connect_refused(b.addr, V5, &bytes, "Authentication Data without method").await;
}

/// 5.0 section 3.1.2.11.6/7: Request Response Information and Request Problem
/// Information other than 0 or 1 are a Protocol Error: refused, with no DISCONNECT
/// before a CONNACK [MQTT-3.14.0-1].
#[tokio::test]
async fn v5_request_information_values_above_1_refused_mqtt_3_14_0_1() {
    let b = broker::start().await;
    // 0x19 Request Response Information, 0x17 Request Problem Information.
    for (props, what) in [
        (&[0x19u8, 0x02][..], "Request Response Information 2"),
        (&[0x17u8, 0x02][..], "Request Problem Information 2"),
    ] {
        connect_refused(b.addr, V5, &connect_with_props(props, b"ri"), what).await;
    }
}

/// A duplicated CONNECT property (Session Expiry twice) is refused without a
/// DISCONNECT before a CONNACK [MQTT-3.14.0-1] [MQTT-3.1.4-1].
#[tokio::test]
async fn v5_duplicate_connect_property_refused_mqtt_3_1_4_1() {
    let b = broker::start().await;
    let props = [0x11, 0, 0, 0, 5, 0x11, 0, 0, 0, 6];
    connect_refused(
        b.addr,
        V5,
        &connect_with_props(&props, b"dp"),
        "two Session Expiry",
    )
    .await;
}

/// Connect a client, send `bytes`, expect the broker to close the connection,
/// with a DISCONNECT with an error reason if any.
async fn closed_after(addr: SocketAddr, bytes: &[u8], what: &str) {
    let mut c = Raw::v5(addr, "bad-after").await;
    c.send_bytes(bytes).await;
    let reason = c.expect_disconnect(WAIT).await;
    if let Some(r) = reason {
        assert!(r.is_error(), "{what}: DISCONNECT with {r:?}");
    }
}

/// [MQTT-3.3.2-14] A Response Topic with a wildcard is a Protocol Error.
#[tokio::test]
async fn v5_response_topic_with_wildcard_closes_mqtt_3_3_2_14() {
    let b = broker::start().await;
    let mut body = field(b"rt/t");
    // Property block: 0x08 Response Topic "a/+".
    let prop = [&[0x08u8][..], &field(b"a/+")].concat();
    body.push(prop.len() as u8);
    body.extend(prop);
    body.extend_from_slice(b"x");
    closed_after(b.addr, &frame(0x30, &body), "Response Topic 'a/+'").await;
    crate::malformed::broker_still_works(&b).await;
}

/// 5.0 section 3.3.2.3.2: a Payload Format Indicator other than 0 or 1 is a
/// Protocol Error.
#[tokio::test]
async fn v5_payload_format_indicator_2_closes() {
    let b = broker::start().await;
    let mut body = field(b"pf/t");
    body.extend_from_slice(&[2, 0x01, 0x02]);
    body.extend_from_slice(b"x");
    closed_after(b.addr, &frame(0x30, &body), "Payload Format Indicator 2").await;
}

/// 5.0 section 3.8.3.1: Retain Handling 3 is a Protocol Error.
#[tokio::test]
async fn v5_subscribe_retain_handling_3_closes() {
    let b = broker::start().await;
    let mut body = vec![0x00, 0x01, 0x00];
    body.extend(field(b"rh/t"));
    body.push(0x30);
    closed_after(b.addr, &frame(0x82, &body), "Retain Handling 3").await;
}

/// 5.0 [MQTT-3.1.2-14] A will with Will Retain 0 is published as a non-retained
/// message: a later subscriber gets nothing.
#[tokio::test]
async fn v5_will_retain_0_not_retained_mqtt_3_1_2_14() {
    will_not_retained(V5).await;
}

/// Shared with the 3.1.1 audit: a will without Will Retain is not kept.
pub async fn will_not_retained(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut w = Raw::client(b.addr, version, "watch-nr").await;
    w.subscribe("will/nr", QoS::AtLeastOnce).await;
    let mut con = connect(version, "dies-nr");
    con.will = Some(will("will/nr", b"bye", QoS::AtLeastOnce, false));
    let (c, _) = Raw::connect_ok(b.addr, con).await;
    c.drop_abruptly();
    let m = w.expect_publish_acked().await;
    assert!(!m.retain, "a will without Will Retain is not retained");
    let mut late = Raw::client(b.addr, version, "late-nr").await;
    late.subscribe("will/nr", QoS::AtLeastOnce).await;
    late.expect_no_publish(QUIET).await;
}

/// Shared with the 3.1.1 audit: the will is published at its Will QoS (downgraded
/// only to the subscription's QoS).
pub async fn will_qos_kept(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut w = Raw::client(b.addr, version, "watch-q").await;
    w.subscribe("will/q/#", QoS::ExactlyOnce).await;
    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        let topic = format!("will/q/{i}");
        let mut con = connect(version, &format!("dies-q{i}"));
        con.will = Some(will(&topic, b"bye", qos, false));
        let (c, _) = Raw::connect_ok(b.addr, con).await;
        c.drop_abruptly();
        let m = w.expect_publish_acked().await;
        assert_eq!(&*m.topic, topic);
        assert_eq!(m.qos, qos, "will published at its Will QoS");
    }
}

/// 5.0 section 3.1.2.6: the will goes out at its Will QoS.
#[tokio::test]
async fn v5_will_qos_kept_mqtt_3_1_2_12() {
    will_qos_kept(V5).await;
}

/// Shared with the 3.1.1 audit: a burst of QoS 1 and QoS 2 PUBLISH packets is
/// acknowledged in the order received: PUBACK/PUBREC [MQTT-4.6.0-2] [MQTT-4.6.0-3],
/// then the PUBCOMPs follow the PUBRELs in order [MQTT-4.6.0-4].
pub async fn acks_in_order(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut s = Raw::client(b.addr, version, "ord-sub").await;
    s.subscribe("ord/#", QoS::AtLeastOnce).await;
    let mut p = Raw::client(b.addr, version, "ord-pub").await;
    let mut burst = Vec::new();
    let mut expected = Vec::new();
    for i in 1..=12u16 {
        let qos = if i % 3 == 0 {
            QoS::ExactlyOnce
        } else {
            QoS::AtLeastOnce
        };
        let mut m = raw::publish(&format!("ord/{}", i % 4), &i.to_be_bytes(), qos);
        m.packet_id = i;
        burst.extend(raw::bytes_of(&Packet::Publish(m), version));
        expected.push((qos, i));
    }
    p.send_bytes(&burst).await;
    let mut got = Vec::new();
    while got.len() < expected.len() {
        match p.expect_packet_for(WAIT, "PUBACK/PUBREC").await {
            Packet::PubAck(a) => got.push((QoS::AtLeastOnce, a.packet_id)),
            Packet::PubRec(a) => got.push((QoS::ExactlyOnce, a.packet_id)),
            other => panic!("expected PUBACK/PUBREC, got {other:?}"),
        }
    }
    assert_eq!(
        got, expected,
        "acknowledgements in the order of the PUBLISH packets [MQTT-4.6.0-2] [MQTT-4.6.0-3]"
    );
    let rels: Vec<u16> = expected
        .iter()
        .filter(|(q, _)| *q == QoS::ExactlyOnce)
        .map(|(_, i)| *i)
        .collect();
    let mut burst = Vec::new();
    for id in &rels {
        burst.extend(raw::bytes_of(&Packet::PubRel(Ack::new(*id)), version));
    }
    p.send_bytes(&burst).await;
    for id in &rels {
        match p.expect_packet_for(WAIT, "PUBCOMP").await {
            Packet::PubComp(a) => assert_eq!(a.packet_id, *id, "PUBCOMP order [MQTT-4.6.0-4]"),
            other => panic!("expected PUBCOMP, got {other:?}"),
        }
    }
    // Each message reached the subscriber once, in order per topic [MQTT-4.6.0-6].
    let mut last = [0u16; 4];
    for _ in 0..expected.len() {
        let m = s.expect_publish_acked().await;
        let i = u16::from_be_bytes([m.payload[0], m.payload[1]]);
        let t = usize::from(i % 4);
        assert!(i > last[t], "order per topic: {i} after {}", last[t]);
        last[t] = i;
    }
    s.expect_no_publish(QUIET).await;
}

/// 5.0 [MQTT-4.6.0-2] [MQTT-4.6.0-3] [MQTT-4.6.0-4] Acknowledgement order.
#[tokio::test]
async fn v5_acks_in_order_mqtt_4_6_0_2_mqtt_4_6_0_3_mqtt_4_6_0_4() {
    acks_in_order(V5).await;
}

/// Shared with the 3.1.1 audit: one UNSUBSCRIBE with several filters gets one
/// UNSUBACK [MQTT-3.10.4-6] (5.0: a reason code per filter, in order,
/// [MQTT-3.11.3-1]); only the named subscriptions are removed.
pub async fn unsubscribe_many(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut c = Raw::client(b.addr, version, "unsub-many").await;
    c.subscribe("um/a", QoS::AtLeastOnce).await;
    c.subscribe("um/c", QoS::AtLeastOnce).await;
    c.subscribe("um/keep", QoS::AtLeastOnce).await;
    let ack = c.unsubscribe(&["um/a", "um/b", "um/c"]).await;
    if version.is_v5() {
        assert_eq!(
            ack.reason_codes,
            [
                ReasonCode::SUCCESS,
                ReasonCode::NO_SUBSCRIPTION_EXISTED,
                ReasonCode::SUCCESS
            ],
            "one reason code per filter, in order"
        );
    }
    c.expect_nothing(QUIET).await;
    let mut p = Raw::client(b.addr, version, "unsub-pub").await;
    for t in ["um/a", "um/b", "um/c", "um/keep"] {
        p.publish(t, t.as_bytes(), QoS::AtLeastOnce).await;
    }
    let m = c.expect_publish_acked().await;
    assert_eq!(&*m.topic, "um/keep");
    c.expect_no_publish(QUIET).await;
}

/// 5.0 [MQTT-3.10.4-6] [MQTT-3.11.3-1] One UNSUBACK with a code per filter.
#[tokio::test]
async fn v5_unsubscribe_many_filters_one_unsuback_mqtt_3_10_4_6() {
    unsubscribe_many(V5).await;
}

/// [MQTT-3.3.4-9] (5.0 section 4.9) A QoS 2 message counts against the client's
/// Receive Maximum until its PUBCOMP, not just until PUBREC: with Receive Maximum 1
/// the next message waits for the PUBCOMP.
#[tokio::test]
async fn v5_receive_maximum_counts_until_pubcomp_mqtt_3_3_4_9() {
    let b = broker::start().await;
    let mut con = connect(V5, "rm1");
    con.properties.receive_maximum = Some(1);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    s.subscribe("rm1/t", QoS::ExactlyOnce).await;
    let mut p = Raw::v5(b.addr, "rm1-pub").await;
    p.publish("rm1/t", b"1", QoS::ExactlyOnce).await;
    p.publish("rm1/t", b"2", QoS::ExactlyOnce).await;
    let first = s.expect_publish().await;
    assert_eq!(&first.payload[..], b"1");
    s.send(&Packet::PubRec(Ack::new(first.packet_id))).await;
    s.expect_ack(PacketType::PubRel, first.packet_id).await;
    // PUBREC'd but not PUBCOMP'd: still in flight.
    s.expect_no_publish(QUIET).await;
    s.send(&Packet::PubComp(Ack::new(first.packet_id))).await;
    let second = s.expect_publish_acked().await;
    assert_eq!(&second.payload[..], b"2");
}

/// 5.0 section 4.3.3 and 4.9: a PUBREC with an error reason ends the QoS 2 exchange
/// (no PUBREL is sent for it) and frees its place in the client's Receive Maximum.
#[tokio::test]
async fn v5_pubrec_error_ends_exchange_and_frees_quota() {
    let b = broker::start().await;
    let mut con = connect(V5, "rmerr");
    con.properties.receive_maximum = Some(1);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    s.subscribe("rmerr/t", QoS::ExactlyOnce).await;
    let mut p = Raw::v5(b.addr, "rmerr-pub").await;
    p.publish("rmerr/t", b"1", QoS::ExactlyOnce).await;
    p.publish("rmerr/t", b"2", QoS::ExactlyOnce).await;
    let first = s.expect_publish().await;
    s.send(&Packet::PubRec(Ack {
        packet_id: first.packet_id,
        reason: ReasonCode::UNSPECIFIED_ERROR,
        properties: Properties::default(),
    }))
    .await;
    match s.recv(WAIT).await {
        Event::Packet(Packet::Publish(m)) => {
            assert_eq!(&m.payload[..], b"2", "the next message, not a PUBREL");
            s.ack(&m).await;
        }
        other => panic!("expected the second PUBLISH after PUBREC 0x80, got {other:?}"),
    }
    s.expect_nothing(QUIET).await;
}

/// [MQTT-4.7.3-3] A topic name of 65,535 bytes is valid: published and delivered.
#[tokio::test]
async fn v5_longest_topic_delivered_mqtt_4_7_3_3() {
    longest_topic(V5).await;
}

/// Shared with the 3.1.1 audit.
pub async fn longest_topic(version: ProtocolVersion) {
    let b = broker::start().await;
    let topic = format!("lt/{}", "x".repeat(65_535 - 3));
    let mut s = Raw::client(b.addr, version, "lt-sub").await;
    s.subscribe("lt/+", QoS::AtLeastOnce).await;
    let mut p = Raw::client(b.addr, version, "lt-pub").await;
    p.publish(&topic, b"long", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert_eq!(m.topic.len(), 65_535);
    assert_eq!(&m.payload[..], b"long");
}

/// A No Local subscription and an overlapping ordinary one: the publisher gets its
/// message once, through the ordinary one [MQTT-3.8.3-3] [MQTT-3.3.4-2].
#[tokio::test]
async fn v5_no_local_with_overlapping_subscription_mqtt_3_8_3_3() {
    let b = broker::start().await;
    let mut c = Raw::v5(b.addr, "nl-over").await;
    let mut nl = SubscriptionOptions::qos(QoS::AtLeastOnce);
    nl.no_local = true;
    c.subscribe_with(&[("nlo/#", nl)], Properties::default())
        .await;
    c.subscribe("nlo/+", QoS::AtMostOnce).await;
    c.publish("nlo/t", b"me", QoS::AtLeastOnce).await;
    let m = c.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"me");
    assert_eq!(
        m.qos,
        QoS::AtMostOnce,
        "only the ordinary subscription matches"
    );
    c.expect_no_publish(QUIET).await;
}

/// 5.0 section 3.14.2.2.2: a DISCONNECT may raise a non-zero Session Expiry
/// Interval; the session then outlives the one set in CONNECT.
#[tokio::test]
async fn v5_disconnect_extends_session_expiry() {
    let b = broker::start().await;
    let mut con = connect(V5, "ext");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(1);
    let (mut c, _) = Raw::connect_ok(b.addr, con.clone()).await;
    c.subscribe("ext/t", QoS::AtLeastOnce).await;
    c.disconnect_with(
        ReasonCode::SUCCESS,
        Properties {
            session_expiry_interval: Some(30),
            ..Properties::default()
        },
    )
    .await;
    c.expect_closed(WAIT).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (_again, ack) = Raw::connect_ok(b.addr, con).await;
    assert!(
        ack.session_present,
        "the session lives for the Session Expiry Interval set in DISCONNECT"
    );
}

/// A watcher of `topic` at QoS 1.
async fn watcher(addr: SocketAddr, topic: &str) -> Raw {
    let mut w = Raw::v5(addr, &format!("watch-{topic}")).await;
    w.subscribe(topic, QoS::AtLeastOnce).await;
    w
}

/// A CONNECT with a will delayed by `delay` seconds and Session Expiry 60.
fn delayed_will(id: &str, topic: &str, delay: u32) -> mq::protocol::Connect {
    let mut con = connect(V5, id);
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    let mut w = will(topic, b"gone", QoS::AtLeastOnce, false);
    w.properties.will_delay_interval = Some(delay);
    con.will = Some(w);
    con
}

/// [MQTT-3.1.2-8] [MQTT-3.1.3-9] The will is published when the Will Delay Interval
/// passes *or the session ends*, whichever is first. A reconnect with Clean Start 1
/// during the delay ends the old session (it is not "a new connection to this
/// session"), so the will is published then, not dropped.
#[tokio::test]
async fn v5_clean_start_reconnect_during_will_delay_publishes_will_mqtt_3_1_2_8() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, "will/cs").await;
    let (c, _) = Raw::connect_ok(b.addr, delayed_will("cs", "will/cs", 30)).await;
    c.drop_abruptly();
    w.expect_no_publish(QUIET).await;
    let (_fresh, ack) = Raw::connect_ok(b.addr, connect(V5, "cs")).await;
    assert!(!ack.session_present);
    let m = w.expect_publish_acked().await;
    assert_eq!(
        &m.payload[..],
        b"gone",
        "the ended session's will is published"
    );
}

/// [MQTT-3.1.2-8] [MQTT-3.1.4-3] Takeover of a connected client by a CONNECT with
/// Clean Start 1 ends the old session: its will, delayed or not, is published.
#[tokio::test]
async fn v5_clean_start_takeover_publishes_delayed_will_mqtt_3_1_2_8() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, "will/tk2").await;
    let (mut old, _) = Raw::connect_ok(b.addr, delayed_will("tk2", "will/tk2", 30)).await;
    let (_new, ack) = Raw::connect_ok(b.addr, connect(V5, "tk2")).await;
    assert!(!ack.session_present);
    assert_eq!(
        old.expect_disconnect(WAIT).await,
        Some(ReasonCode::SESSION_TAKEN_OVER)
    );
    let m = w.expect_publish_acked().await;
    assert_eq!(
        &m.payload[..],
        b"gone",
        "the ended session's will is published"
    );
}

/// [MQTT-3.3.4-9] [MQTT-4.4.0-1] Messages left unacknowledged are resent on the
/// resumed session, but never more at once than the Receive Maximum of the *new*
/// connection (the send quota is re-initialised per connection, 5.0 section 4.9).
#[tokio::test]
async fn v5_resend_on_reconnect_respects_new_receive_maximum_mqtt_3_3_4_9() {
    let b = broker::start().await;
    let mut con = connect(V5, "rs-rm");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    con.properties.receive_maximum = Some(10);
    let (mut s, _) = Raw::connect_ok(b.addr, con.clone()).await;
    s.subscribe("rsrm/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "rs-rm-pub").await;
    for i in 0..3u8 {
        p.publish("rsrm/t", &[i], QoS::AtLeastOnce).await;
    }
    for _ in 0..3 {
        s.expect_publish().await; // not acknowledged
    }
    s.drop_abruptly();
    con.clean_start = false;
    con.properties.receive_maximum = Some(1);
    let (mut s, ack) = Raw::connect_ok(b.addr, con).await;
    assert!(ack.session_present);
    for i in 0..3u8 {
        let m = s.expect_publish().await;
        assert_eq!(&m.payload[..], &[i], "resent in order [MQTT-4.6.0-1]");
        assert!(m.dup, "resent with DUP [MQTT-3.3.1-1]");
        s.expect_no_publish(QUIET).await;
        s.ack(&m).await;
    }
}

/// Shared with the 3.1.1 audit. Section 4.7.2: the Server SHOULD prevent clients
/// from using `$` topics to exchange messages; like mosquitto, the broker keeps
/// `$SYS` to itself: a client's PUBLISH there is acknowledged (5.0: 0x87 Not
/// authorized, on PUBACK and on a PUBREC that ends the exchange) and not forwarded.
pub async fn publish_to_sys_denied(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut s = Raw::client(b.addr, version, "sys-sub").await;
    s.subscribe("$SYS/audit/#", QoS::ExactlyOnce).await;
    let mut p = Raw::client(b.addr, version, "sys-pub").await;
    let expected = if version.is_v5() {
        ReasonCode::NOT_AUTHORIZED
    } else {
        ReasonCode::SUCCESS
    };
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let rc = p
            .publish_msg(raw::publish("$SYS/audit/x", b"spoof", qos))
            .await;
        if qos != QoS::AtMostOnce {
            assert_eq!(rc, expected, "{qos:?} PUBLISH to $SYS acknowledged");
        }
    }
    s.expect_no_publish(QUIET).await;
    p.ping().await;
}

/// 5.0 section 4.7.2: PUBLISH to `$SYS` refused with 0x87.
#[tokio::test]
async fn v5_publish_to_sys_denied_0x87() {
    publish_to_sys_denied(V5).await;
}

/// Shared with the 3.1.1 audit. 5.0 section 3.1.4 (note to [MQTT-3.1.4-3]): when
/// the connected client's Session Expiry Interval is 0 (3.1.1: Clean Session 1,
/// [MQTT-3.1.2-6]), its session ends on takeover, even when the new CONNECT has
/// Clean Start 0: no session present, no old subscription, and its will is sent.
pub async fn takeover_of_expiry_zero_session_ends_it(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut w = Raw::client(b.addr, version, "watch-tz").await;
    w.subscribe("will/tz", QoS::AtLeastOnce).await;
    let mut con = connect(version, "tz");
    let mut wl = will("will/tz", b"gone", QoS::AtLeastOnce, false);
    if version.is_v5() {
        wl.properties.will_delay_interval = Some(30);
    }
    con.will = Some(wl);
    let (mut old, _) = Raw::connect_ok(b.addr, con).await;
    old.subscribe("tz/old", QoS::AtLeastOnce).await;
    let mut again = connect(version, "tz");
    again.clean_start = false;
    if version.is_v5() {
        again.properties.session_expiry_interval = Some(60);
    }
    let (mut new, ack) = Raw::connect_ok(b.addr, again).await;
    assert!(
        !ack.session_present,
        "the taken-over session had expiry 0: it ended with its connection"
    );
    old.expect_closed(WAIT).await;
    let m = w.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"gone", "the ended session's will is sent");
    let mut p = Raw::client(b.addr, version, "tz-pub").await;
    p.publish("tz/old", b"x", QoS::AtLeastOnce).await;
    new.expect_no_publish(QUIET).await;
}

/// 5.0 section 3.1.4: takeover of a session with expiry 0 ends it.
#[tokio::test]
async fn v5_takeover_of_expiry_zero_session_ends_it_mqtt_3_1_4_3() {
    takeover_of_expiry_zero_session_ends_it(V5).await;
}

/// Shared with the 3.1.1 audit. [MQTT-3.3.1-2] DUP must be 0 on a QoS 0 PUBLISH;
/// the broker treats DUP 1 with QoS 0 as malformed and closes the connection
/// (5.0: DISCONNECT 0x81), the choice 5.0 section 4.13 and 3.1.1 [MQTT-4.8.0-1]
/// make for a protocol violation (mosquitto tolerates it).
pub async fn dup_on_qos0_closes(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut c = Raw::client(b.addr, version, "dup0").await;
    let mut body = field(b"dup/t");
    if version.is_v5() {
        body.push(0);
    }
    body.extend_from_slice(b"x");
    c.send_bytes(&frame(0x38, &body)).await;
    let reason = c.expect_disconnect(WAIT).await;
    if version.is_v5() {
        assert_eq!(reason, Some(ReasonCode::MALFORMED_PACKET));
    }
    crate::malformed::broker_still_works(&b).await;
}

/// 5.0 [MQTT-3.3.1-2] DUP 1 with QoS 0: DISCONNECT 0x81.
#[tokio::test]
async fn v5_dup_on_qos0_closes_mqtt_3_3_1_2() {
    dup_on_qos0_closes(V5).await;
}

/// Shared with the 3.1.1 audit. A QoS 0 retained PUBLISH with an empty payload
/// deletes the retained message ([MQTT-3.3.1-6] 5.0 / [MQTT-3.3.1-10] 3.1.1) and is
/// not stored itself ([MQTT-3.3.1-11] 3.1.1); current subscribers still get it.
pub async fn qos0_empty_retained_deletes(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut p = Raw::client(b.addr, version, "e0-pub").await;
    p.publish_retained("e0/t", b"old", QoS::AtLeastOnce).await;
    let mut live = Raw::client(b.addr, version, "e0-live").await;
    live.subscribe("e0/t", QoS::AtLeastOnce).await;
    assert_eq!(&live.expect_publish_acked().await.payload[..], b"old");
    p.publish_retained("e0/t", b"", QoS::AtMostOnce).await;
    let m = live.expect_publish_acked().await;
    assert!(m.payload.is_empty() && m.qos == QoS::AtMostOnce, "{m:?}");
    let mut late = Raw::client(b.addr, version, "e0-late").await;
    late.subscribe("e0/#", QoS::AtLeastOnce).await;
    late.expect_no_publish(QUIET).await;
}

/// 5.0 [MQTT-3.3.1-6] QoS 0 empty retained message deletes.
#[tokio::test]
async fn v5_qos0_empty_retained_deletes_mqtt_3_3_1_6() {
    qos0_empty_retained_deletes(V5).await;
}

/// 5.0 section 3.3.2.3.2 and 4.13: a payload that is not valid UTF-8 although its
/// Payload Format Indicator is 1 is refused with 0x99 (Payload format invalid): on
/// the PUBACK (QoS 1) or PUBREC (QoS 2, which ends the exchange), and with
/// DISCONNECT for QoS 0; it is not forwarded [MQTT-3.3.2-4].
#[tokio::test]
async fn v5_payload_format_invalid_0x99() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "pfi-sub").await;
    s.subscribe("pfi/t", QoS::ExactlyOnce).await;
    let mut p = Raw::v5(b.addr, "pfi-pub").await;
    let bad = |qos| {
        let mut m = raw::publish("pfi/t", &[0xC3, 0x28], qos);
        m.properties.payload_format_indicator = Some(1);
        m
    };
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let rc = p.publish_msg(bad(qos)).await;
        assert_eq!(rc, ReasonCode::PAYLOAD_FORMAT_INVALID, "{qos:?}");
    }
    s.expect_no_publish(QUIET).await;
    p.send(&Packet::Publish(bad(QoS::AtMostOnce))).await;
    assert_eq!(
        p.expect_disconnect(WAIT).await,
        Some(ReasonCode::PAYLOAD_FORMAT_INVALID)
    );
    s.expect_no_publish(QUIET).await;
}
