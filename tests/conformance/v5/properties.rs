//! Property passthrough and connection-level 5.0 features: user properties,
//! response topic, correlation data, payload format, content type, Request Problem
//! Information, Server Keep Alive, AUTH, server-sent DISCONNECT.

use super::*;

/// [MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-18]
/// [MQTT-3.3.2-20] Payload Format Indicator, Response Topic, Correlation Data, User
/// Properties (in order, duplicates kept) and Content Type reach subscribers
/// unaltered.
#[tokio::test]
async fn publish_properties_passthrough_mqtt_3_3_2_15_mqtt_3_3_2_18() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("pp/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("pp/t", "héllo".as_bytes(), QoS::AtLeastOnce);
    m.properties.payload_format_indicator = Some(1);
    m.properties.response_topic = Some("pp/reply".into());
    m.properties.correlation_data = Some(Bytes::from_static(&[0, 1, 2, 0xFF]));
    m.properties.content_type = Some("text/plain; charset=utf-8".into());
    let ups = vec![
        ("z".to_string(), "1".to_string()),
        ("a".to_string(), "2".to_string()),
        ("z".to_string(), "3".to_string()),
        ("".to_string(), "".to_string()),
    ];
    m.properties.user_properties = ups.clone();
    p.publish_msg(m).await;
    let got = s.expect_publish_acked().await;
    assert_eq!(
        got.properties.payload_format_indicator,
        Some(1),
        "[MQTT-3.3.2-4]"
    );
    assert_eq!(
        got.properties.response_topic.as_deref(),
        Some("pp/reply"),
        "[MQTT-3.3.2-15]"
    );
    assert_eq!(
        got.properties.correlation_data.as_deref(),
        Some(&[0u8, 1, 2, 0xFF][..]),
        "[MQTT-3.3.2-16]"
    );
    assert_eq!(
        got.properties.content_type.as_deref(),
        Some("text/plain; charset=utf-8"),
        "[MQTT-3.3.2-20]"
    );
    assert_eq!(
        got.properties.user_properties, ups,
        "[MQTT-3.3.2-17] [MQTT-3.3.2-18]"
    );
}

/// Passthrough also holds for retained messages sent at subscribe time.
#[tokio::test]
async fn retained_message_keeps_properties_mqtt_3_3_2_17() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("pp/r", b"r", QoS::AtLeastOnce);
    m.retain = true;
    m.properties.user_properties = vec![("k".into(), "v".into())];
    m.properties.content_type = Some("x/y".into());
    p.publish_msg(m).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("pp/r", QoS::AtLeastOnce).await;
    let got = s.expect_publish_acked().await;
    assert_eq!(
        got.properties.user_properties,
        [("k".to_string(), "v".to_string())]
    );
    assert_eq!(got.properties.content_type.as_deref(), Some("x/y"));
}

/// [MQTT-3.1.2-29] Request Problem Information 0: no Reason String or User Property
/// on any packet but PUBLISH, CONNACK and DISCONNECT, even for failures.
#[tokio::test]
async fn request_problem_information_zero_mqtt_3_1_2_29() {
    let b = broker::start().await;
    let mut con = connect(V5, "quiet");
    con.properties.request_problem_information = Some(0);
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    let check = |p: &Packet| {
        let props = match p {
            Packet::SubAck(a) => &a.properties,
            Packet::UnsubAck(a) => &a.properties,
            Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
                &a.properties
            }
            _ => return,
        };
        assert!(
            props.reason_string.is_none() && props.user_properties.is_empty(),
            "reason string / user property sent despite Request Problem Information 0: {p:?}"
        );
    };
    // Failures that invite a reason string: unsubscribe from nothing, PUBREL for an
    // unknown id, a publish nobody receives.
    let id = c.next_id();
    c.send(&Packet::Unsubscribe(mq::protocol::Unsubscribe {
        packet_id: id,
        filters: vec!["none".into()],
        properties: props(),
    }))
    .await;
    check(&c.expect_packet(WAIT).await);
    c.send(&Packet::PubRel(Ack::new(999))).await;
    check(&c.expect_packet(WAIT).await);
    let mut m = raw::publish("rpi/none", b"x", QoS::AtLeastOnce);
    m.packet_id = 5;
    c.send(&Packet::Publish(m)).await;
    check(&c.expect_packet(WAIT).await);
    c.send(&Packet::Subscribe(mq::protocol::Subscribe {
        packet_id: 6,
        filters: vec![mq::protocol::SubscribeFilter {
            filter: "rpi/t".into(),
            options: SubscriptionOptions::qos(QoS::ExactlyOnce),
        }],
        properties: props(),
    }))
    .await;
    check(&c.expect_packet(WAIT).await);
}

/// [MQTT-3.2.2-21] [MQTT-3.1.2-22] With `max_keepalive` 1 the broker answers a client
/// asking for 60 s with Server Keep Alive 1 and enforces it (1.5 s).
#[tokio::test]
async fn server_keep_alive_sent_and_enforced_mqtt_3_2_2_21() {
    let b = broker::start_with(Config {
        max_keepalive: 1,
        ..Config::default()
    })
    .await;
    let (mut c, ack) = Raw::connect_ok(b.addr, connect(V5, "ska")).await;
    assert_eq!(
        ack.properties.server_keep_alive,
        Some(1),
        "CONNACK Server Keep Alive"
    );
    c.expect_nothing(Duration::from_millis(1000)).await;
    c.expect_disconnect(Duration::from_millis(1500)).await;
}

/// [MQTT-3.2.2-22] Without a Server Keep Alive in CONNACK the client's value stands.
#[tokio::test]
async fn no_server_keep_alive_when_within_limit_mqtt_3_2_2_22() {
    let b = broker::start().await;
    let (_c, ack) = Raw::connect_ok(b.addr, connect(V5, "ka")).await;
    if let Some(v) = ack.properties.server_keep_alive {
        assert_eq!(v, 60, "a Server Keep Alive, if sent, is the one in force");
    }
}

/// Section 3.14 and issue 4: shutting the broker down sends DISCONNECT 0x8B (Server
/// shutting down) to 5.0 clients and closes every connection.
#[tokio::test]
async fn shutdown_sends_disconnect_0x8b() {
    let b = broker::start().await;
    let mut c5 = Raw::v5(b.addr, "c5").await;
    let mut c3 = Raw::v311(b.addr, "c3").await;
    let handle = b.handle;
    let stop = tokio::spawn(async move { handle.shutdown().await });
    let reason = c5.expect_disconnect(WAIT).await;
    assert_eq!(
        reason,
        Some(ReasonCode::SERVER_SHUTTING_DOWN),
        "DISCONNECT 0x8B"
    );
    let got = c3.expect_closed(WAIT).await;
    assert!(got.is_empty(), "no DISCONNECT in 3.1.1: {got:?}");
    tokio::time::timeout(WAIT, stop)
        .await
        .expect("shutdown completes")
        .expect("shutdown task");
}

/// [MQTT-4.12.0-7] A client that sent no Authentication Method must not send AUTH:
/// Protocol Error, the connection is closed.
#[tokio::test]
async fn auth_without_authentication_method_closes_mqtt_4_12_0_7() {
    let b = broker::start().await;
    let mut c = Raw::v5(b.addr, "auth").await;
    c.send(&Packet::Auth(mq::protocol::Auth {
        reason: ReasonCode::RE_AUTHENTICATE,
        properties: props(),
    }))
    .await;
    let (_, reason) = until_closed(&mut c).await;
    if let Some(r) = reason {
        assert!(r.is_error(), "reason {r:?}");
    }
}
