//! Size and capability limits (5.0 sections 3.1.2.11, 3.2.2.3): Maximum Packet Size
//! in both directions, Maximum QoS, Retain Available.

use super::*;

/// [MQTT-3.1.2-24] [MQTT-3.1.2-25] The broker never sends a packet larger than the
/// client's Maximum Packet Size: it drops that message and carries on.
#[tokio::test]
async fn maximum_packet_size_broker_to_client_mqtt_3_1_2_24() {
    let b = broker::start().await;
    let mut con = connect(V5, "small");
    con.properties.maximum_packet_size = Some(128);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    s.subscribe("mps/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("mps/t", &[b'x'; 500], QoS::AtLeastOnce).await;
    p.publish("mps/t", b"small", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert_eq!(
        &m.payload[..],
        b"small",
        "the oversized message was discarded"
    );
    s.expect_no_publish(QUIET).await;
    s.ping().await;
}

/// 5.0 section 3.2.2.3.6 and 4.13: a packet larger than the broker's Maximum Packet
/// Size (announced in CONNACK) gets DISCONNECT 0x95 (Packet too large).
#[tokio::test]
async fn maximum_packet_size_client_to_broker_0x95_mqtt_3_2_2_15() {
    let b = broker::start_with(Config {
        max_packet_size: 1000,
        ..Config::default()
    })
    .await;
    let (mut p, ack) = Raw::connect_ok(b.addr, connect(V5, "big")).await;
    assert_eq!(
        ack.properties.maximum_packet_size,
        Some(1000),
        "CONNACK announces Maximum Packet Size"
    );
    p.send(&Packet::Publish(raw::publish(
        "mps/in",
        &[0u8; 2000],
        QoS::AtMostOnce,
    )))
    .await;
    let (_, reason) = until_closed(&mut p).await;
    assert_eq!(
        reason,
        Some(ReasonCode::PACKET_TOO_LARGE),
        "DISCONNECT 0x95"
    );
}

/// Sections 3.2.2.3.5 and 3.3.1.3: with retain off, CONNACK says Retain Available
/// 0 (so the client must not retain [MQTT-3.2.2-14]) and a retained PUBLISH gets
/// DISCONNECT 0x9A (Retain not supported).
#[tokio::test]
async fn retain_not_available_publish_disconnect_0x9a() {
    let b = broker::start_with(Config {
        retain_available: false,
        ..Config::default()
    })
    .await;
    let (mut c, ack) = Raw::connect_ok(b.addr, connect(V5, "noret")).await;
    assert_eq!(
        ack.properties.retain_available,
        Some(0),
        "CONNACK Retain Available 0"
    );
    let mut m = raw::publish("nr/t", b"x", QoS::AtMostOnce);
    m.retain = true;
    c.send(&Packet::Publish(m)).await;
    let (_, reason) = until_closed(&mut c).await;
    assert_eq!(
        reason,
        Some(ReasonCode::RETAIN_NOT_SUPPORTED),
        "DISCONNECT 0x9A"
    );
}

/// [MQTT-3.1.2-25] A retained message larger than the client's Maximum Packet Size
/// is not sent at subscribe; a small one is.
#[tokio::test]
async fn maximum_packet_size_applies_to_retained_mqtt_3_1_2_25() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("mpr/big", &[b'x'; 400], QoS::AtLeastOnce)
        .await;
    p.publish_retained("mpr/small", b"ok", QoS::AtLeastOnce)
        .await;
    let mut con = connect(V5, "small");
    con.properties.maximum_packet_size = Some(100);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    s.subscribe("mpr/#", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert_eq!(&*m.topic, "mpr/small");
    s.expect_no_publish(QUIET).await;
}

/// [MQTT-3.2.2-9] [MQTT-3.2.2-10] With `max_qos 1`: CONNACK Maximum QoS 1, a QoS 2
/// SUBSCRIBE is still accepted (granted at most 1), and a QoS 2 PUBLISH gets
/// DISCONNECT 0x9B (QoS not supported).
#[tokio::test]
async fn maximum_qos_enforced_mqtt_3_2_2_9_mqtt_3_2_2_10() {
    let b = broker::start_with(Config {
        max_qos: QoS::AtLeastOnce,
        ..Config::default()
    })
    .await;
    let (mut c, ack) = Raw::connect_ok(b.addr, connect(V5, "mq1")).await;
    assert_eq!(
        ack.properties.maximum_qos,
        Some(1),
        "CONNACK Maximum QoS [MQTT-3.2.2-9]"
    );
    let sub = c
        .subscribe_with(
            &[("mq/t", SubscriptionOptions::qos(QoS::ExactlyOnce))],
            props(),
        )
        .await;
    assert!(
        sub.reason_codes[0] == ReasonCode::GRANTED_QOS_1
            || sub.reason_codes[0] == ReasonCode::SUCCESS,
        "QoS 2 SUBSCRIBE accepted at QoS <= 1 [MQTT-3.2.2-10]: {:?}",
        sub.reason_codes
    );
    let mut m = raw::publish("mq/t", b"x", QoS::ExactlyOnce);
    m.packet_id = 1;
    c.send(&Packet::Publish(m)).await;
    let (_, reason) = until_closed(&mut c).await;
    assert_eq!(
        reason,
        Some(ReasonCode::QOS_NOT_SUPPORTED),
        "DISCONNECT 0x9B"
    );
}

/// [MQTT-3.2.2-12] A Will QoS above the broker's Maximum QoS: CONNACK 0x9B and close.
#[tokio::test]
async fn will_qos_above_maximum_refused_mqtt_3_2_2_12() {
    let b = broker::start_with(Config {
        max_qos: QoS::AtMostOnce,
        ..Config::default()
    })
    .await;
    let mut con = connect(V5, "wq");
    con.will = Some(raw::will("w/q", b"x", QoS::ExactlyOnce, false));
    let (mut c, ack) = Raw::connect_with(b.addr, con).await;
    assert_eq!(ack.reason, ReasonCode::QOS_NOT_SUPPORTED, "CONNACK 0x9B");
    c.expect_closed(WAIT).await;
}

/// [MQTT-3.2.2-13] A retained will when retain is not available: CONNACK 0x9A and
/// close.
#[tokio::test]
async fn will_retain_unavailable_refused_mqtt_3_2_2_13() {
    let b = broker::start_with(Config {
        retain_available: false,
        ..Config::default()
    })
    .await;
    let mut con = connect(V5, "wr");
    con.will = Some(raw::will("w/r", b"x", QoS::AtMostOnce, true));
    let (mut c, ack) = Raw::connect_with(b.addr, con).await;
    assert_eq!(ack.reason, ReasonCode::RETAIN_NOT_SUPPORTED, "CONNACK 0x9A");
    c.expect_closed(WAIT).await;
}

/// Total length of the first packet in `bytes` (fixed header included).
fn first_packet_len(bytes: &[u8]) -> usize {
    let mut len = 0usize;
    let mut i = 1;
    while i < bytes.len() && i < 5 {
        len |= usize::from(bytes[i] & 0x7F) << (7 * (i - 1));
        i += 1;
        if bytes[i - 1] & 0x80 == 0 {
            break;
        }
    }
    i + len
}

/// [MQTT-3.2.2-19] [MQTT-3.1.2-24] A refusing CONNACK must not carry a Reason String
/// that makes it larger than the client's Maximum Packet Size.
#[tokio::test]
async fn refusing_connack_fits_maximum_packet_size_mqtt_3_2_2_19() {
    let b = broker::start().await;
    let mut con = connect(V5, "tiny");
    con.properties.maximum_packet_size = Some(16);
    // Refused: this broker has no enhanced authentication.
    con.properties.authentication_method = Some("NOPE".into());
    let mut c = Raw::open(b.addr, V5).await;
    c.send(&Packet::Connect(Box::new(con))).await;
    let bytes = c.expect_closed_raw(WAIT).await;
    if !bytes.is_empty() {
        let n = first_packet_len(&bytes);
        assert!(
            n <= 16,
            "CONNACK of {n} bytes sent to a client whose Maximum Packet Size is 16: {bytes:02X?}"
        );
    }
}

/// [MQTT-3.14.2-3] [MQTT-3.1.2-24] A DISCONNECT from the broker must not carry a
/// Reason String that makes it larger than the client's Maximum Packet Size.
#[tokio::test]
async fn server_disconnect_fits_maximum_packet_size_mqtt_3_14_2_3() {
    let b = broker::start().await;
    let mut con = connect(V5, "tiny");
    con.properties.maximum_packet_size = Some(16);
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    // Topic Alias 0 is a Protocol Error: the broker disconnects.
    let mut m = raw::publish("t", b"x", QoS::AtMostOnce);
    m.properties.topic_alias = Some(0);
    c.send(&Packet::Publish(m)).await;
    let bytes = c.expect_closed_raw(WAIT).await;
    if !bytes.is_empty() {
        let n = first_packet_len(&bytes);
        assert!(
            n <= 16,
            "DISCONNECT of {n} bytes sent to a client whose Maximum Packet Size is 16: \
             {bytes:02X?}"
        );
    }
}

/// [MQTT-3.4.2-2] / [MQTT-3.1.2-24] A PUBACK with a reason string must not exceed the
/// client's Maximum Packet Size (here the PUBACK for a publish nobody receives; 12
/// bytes leave room for the broker's 11-byte CONNACK).
#[tokio::test]
async fn puback_fits_maximum_packet_size_mqtt_3_4_2_2() {
    let b = broker::start().await;
    let mut con = connect(V5, "tiny");
    con.properties.maximum_packet_size = Some(12);
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    let mut m = raw::publish("nobody/home", b"x", QoS::AtLeastOnce);
    m.packet_id = 1;
    c.send(&Packet::Publish(m)).await;
    match c.expect_packet(WAIT).await {
        Packet::PubAck(a) => {
            let n = raw::bytes_of(&Packet::PubAck(a.clone()), V5).len();
            assert!(
                n <= 12,
                "PUBACK of {n} bytes, Maximum Packet Size 12: {a:?}"
            );
        }
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

/// [MQTT-3.1.2-24] [MQTT-3.1.2-25] The size limit applies to the PUBLISH as sent,
/// Subscription Identifier included: payloads that fit with the 5-byte identifier
/// arrive, the rest are dropped, nothing larger than the limit is sent.
#[tokio::test]
async fn maximum_packet_size_counts_added_properties_mqtt_3_1_2_24() {
    let b = broker::start().await;
    let mut con = connect(V5, "exact");
    con.properties.maximum_packet_size = Some(64);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    let sid = Properties {
        subscription_identifiers: vec![268_435_455],
        ..Properties::default()
    };
    s.subscribe_with(&[("s/t", SubscriptionOptions::qos(QoS::AtLeastOnce))], sid)
        .await;
    let mut p = Raw::v5(b.addr, "pub").await;
    // As delivered: 2 (fixed header) + 5 (topic) + 2 (id) + 6 (properties) + payload.
    for n in 40..=55usize {
        p.publish("s/t", &vec![b'x'; n], QoS::AtLeastOnce).await;
    }
    let mut sizes = Vec::new();
    loop {
        match s.recv(Duration::from_millis(400)).await {
            Event::Packet(Packet::Publish(m)) => {
                let len = raw::bytes_of(&Packet::Publish(m.clone()), V5).len();
                assert!(
                    len <= 64,
                    "a {len}-byte PUBLISH sent, Maximum Packet Size 64"
                );
                s.ack(&m).await;
                sizes.push(m.payload.len());
            }
            Event::Timeout => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        sizes,
        (40..=49).collect::<Vec<_>>(),
        "the messages that fit, in order"
    );
}

/// [MQTT-3.1.2-24] A message queued for an offline session is checked against the
/// Maximum Packet Size of the connection it is finally sent on.
#[tokio::test]
async fn queued_message_checked_against_new_maximum_packet_size_mqtt_3_1_2_24() {
    let b = broker::start().await;
    let mut con = connect(V5, "shrinks");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    let (mut s, _) = Raw::connect_ok(b.addr, con.clone()).await;
    s.subscribe("shr/t", QoS::AtLeastOnce).await;
    s.disconnect().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("shr/t", &[b'x'; 300], QoS::AtLeastOnce).await;
    p.publish("shr/t", b"small", QoS::AtLeastOnce).await;
    con.properties.maximum_packet_size = Some(100);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    let m = s.expect_publish_acked().await;
    assert_eq!(
        &m.payload[..],
        b"small",
        "the 300-byte message exceeds the new limit"
    );
    s.expect_no_publish(QUIET).await;
}
