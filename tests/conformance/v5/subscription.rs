//! 5.0 subscription options and kinds: Subscription Identifiers, No Local, shared
//! subscriptions (sections 3.8.2.1.2, 3.8.3.1, 4.8.2).

use super::*;

/// [MQTT-3.3.4-3] [MQTT-3.3.4-4] Subscription Identifiers of the matching
/// subscriptions are sent with the message (one copy with all of them, or one copy
/// per subscription with its own); none for a subscription without one.
#[tokio::test]
async fn subscription_identifiers_mqtt_3_3_4_3_mqtt_3_3_4_4() {
    let b = broker::start().await;
    let (mut s, ack) = Raw::connect_ok(b.addr, connect(V5, "sid")).await;
    assert_ne!(
        ack.properties.subscription_identifier_available,
        Some(0),
        "subscription identifiers are supported"
    );
    let with_id = |id| Properties {
        subscription_identifiers: vec![id],
        ..Properties::default()
    };
    s.subscribe_with(
        &[("sid/#", SubscriptionOptions::qos(QoS::AtLeastOnce))],
        with_id(7),
    )
    .await;
    s.subscribe_with(
        &[("sid/+", SubscriptionOptions::qos(QoS::AtLeastOnce))],
        with_id(300),
    )
    .await;
    s.subscribe("sid/x/none", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("sid/x", b"both", QoS::AtLeastOnce).await;
    let mut ids = Vec::new();
    loop {
        match s.recv(Duration::from_millis(400)).await {
            Event::Packet(Packet::Publish(m)) => {
                s.ack(&m).await;
                ids.extend(m.properties.subscription_identifiers.iter().copied());
            }
            Event::Timeout => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    ids.sort_unstable();
    assert_eq!(ids, [7, 300], "both identifiers delivered");
    p.publish("sid/x/none", b"one", QoS::AtLeastOnce).await;
    let mut seen = Vec::new();
    loop {
        match s.recv(Duration::from_millis(400)).await {
            Event::Packet(Packet::Publish(m)) => {
                s.ack(&m).await;
                seen.push(m.properties.subscription_identifiers.clone());
            }
            Event::Timeout => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    // Matches sid/# (id 7) and sid/x/none (no id).
    let all: Vec<u32> = seen.iter().flatten().copied().collect();
    assert_eq!(all, [7], "only the identifier of sid/#: {seen:?}");
}

/// Section 3.8.2.1.2: a Subscription Identifier of 0 is a Protocol Error.
#[tokio::test]
async fn subscription_identifier_zero_protocol_error() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sid0").await;
    // Hand-built SUBSCRIBE: id 1, properties { 0x0B: varint 0 }, "a" QoS 0.
    let mut body = vec![0x00, 0x01, 0x02, 0x0B, 0x00];
    body.extend(raw::field(b"a"));
    body.push(0x00);
    s.send_bytes(&raw::frame(0x82, &body)).await;
    let got = s.expect_closed(WAIT).await;
    for p in got {
        match p {
            Packet::Disconnect(d) => assert!(d.reason.is_error()),
            other => panic!("expected DISCONNECT then close, got {other:?}"),
        }
    }
}

/// [MQTT-3.8.3-3] No Local: the client's own messages are not sent back to it; other
/// clients' messages are.
#[tokio::test]
async fn no_local_mqtt_3_8_3_3() {
    let b = broker::start().await;
    let mut c = Raw::v5(b.addr, "self").await;
    let opts = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        no_local: true,
        ..Default::default()
    };
    c.subscribe_with(&[("nl/t", opts)], props()).await;
    c.publish("nl/t", b"mine", QoS::AtLeastOnce).await;
    c.expect_no_publish(QUIET).await;
    let mut other = Raw::v5(b.addr, "other").await;
    other.publish("nl/t", b"theirs", QoS::AtLeastOnce).await;
    assert_eq!(&c.expect_publish_acked().await.payload[..], b"theirs");
}

/// Section 4.8.2: each message on a shared subscription goes to exactly one member
/// of the group, at the granted QoS [MQTT-4.8.2-3]; a non-shared subscriber still
/// gets every message.
#[tokio::test]
async fn shared_subscription_one_member_each_mqtt_4_8_2_3() {
    let b = broker::start().await;
    let (mut m1, ack) = Raw::connect_ok(b.addr, connect(V5, "m1")).await;
    assert_ne!(ack.properties.shared_subscription_available, Some(0));
    m1.subscribe("$share/g/sh/t", QoS::AtLeastOnce).await;
    let mut m2 = Raw::v5(b.addr, "m2").await;
    m2.subscribe("$share/g/sh/t", QoS::AtLeastOnce).await;
    let mut all = Raw::v5(b.addr, "all").await;
    all.subscribe("sh/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    const N: usize = 10;
    for i in 0..N {
        p.publish("sh/t", i.to_string().as_bytes(), QoS::AtLeastOnce)
            .await;
    }
    let mut shared = Vec::new();
    for c in [&mut m1, &mut m2] {
        loop {
            match c.recv(Duration::from_millis(400)).await {
                Event::Packet(Packet::Publish(m)) => {
                    c.ack(&m).await;
                    assert_eq!(&*m.topic, "sh/t", "topic without the $share prefix");
                    assert_eq!(m.qos, QoS::AtLeastOnce);
                    shared.push(String::from_utf8_lossy(&m.payload).to_string());
                }
                Event::Timeout => break,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    shared.sort();
    let mut want: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    want.sort();
    assert_eq!(shared, want, "each message to exactly one group member");
    for _ in 0..N {
        all.expect_publish_acked().await;
    }
}

/// 5.0 section 3.3.1.3: retained messages are sent "when a new Non-shared
/// Subscription is made", so a new shared subscription gets none.
#[tokio::test]
async fn no_retained_on_new_shared_subscription() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("shr/t", b"retained", QoS::AtLeastOnce)
        .await;
    let mut s = Raw::v5(b.addr, "member").await;
    s.subscribe("$share/g/shr/t", QoS::AtLeastOnce).await;
    s.expect_no_publish(Duration::from_millis(500)).await;
}

/// [MQTT-3.8.3-4] No Local on a shared subscription is a Protocol Error: DISCONNECT
/// 0x82 and close.
#[tokio::test]
async fn no_local_on_shared_subscription_protocol_error_mqtt_3_8_3_4() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "nlsh").await;
    let opts = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        no_local: true,
        ..Default::default()
    };
    s.send(&Packet::Subscribe(mq::protocol::Subscribe {
        packet_id: 1,
        filters: vec![mq::protocol::SubscribeFilter {
            filter: "$share/g/x".into(),
            options: opts,
        }],
        properties: props(),
    }))
    .await;
    let (got, reason) = until_closed(&mut s).await;
    assert_eq!(
        reason,
        Some(ReasonCode::PROTOCOL_ERROR),
        "DISCONNECT 0x82, got {got:?}"
    );
}

/// [MQTT-3.3.4-3] A retained message sent because of a SUBSCRIBE with a
/// Subscription Identifier carries that identifier.
#[tokio::test]
async fn retained_message_carries_subscription_identifier_mqtt_3_3_4_3() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("rsid/t", b"r", QoS::AtLeastOnce).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    let sid = Properties {
        subscription_identifiers: vec![42],
        ..Properties::default()
    };
    s.subscribe_with(
        &[("rsid/#", SubscriptionOptions::qos(QoS::AtLeastOnce))],
        sid,
    )
    .await;
    let got = s.expect_publish_acked().await;
    assert_eq!(got.properties.subscription_identifiers, [42]);
}

/// [MQTT-3.3.4-6] A PUBLISH from a client must not contain a Subscription
/// Identifier: Protocol Error, the connection is closed.
#[tokio::test]
async fn publish_with_subscription_identifier_from_client_closes_mqtt_3_3_4_6() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("sidp/t", QoS::AtMostOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("sidp/t", b"x", QoS::AtMostOnce);
    m.properties.subscription_identifiers = vec![3];
    p.send(&Packet::Publish(m)).await;
    if let Event::Packet(Packet::Publish(m)) = s.recv(Duration::from_millis(300)).await {
        assert!(
            m.properties.subscription_identifiers.is_empty(),
            "the publisher's Subscription Identifier was forwarded to a subscriber that \
             has none: {:?}",
            m.properties.subscription_identifiers
        );
    }
    let (_, reason) = until_closed(&mut p).await;
    if let Some(r) = reason {
        assert!(
            r == ReasonCode::PROTOCOL_ERROR || r == ReasonCode::MALFORMED_PACKET,
            "reason {r:?}"
        );
    }
}

/// [MQTT-4.8.2-1] [MQTT-4.8.2-2] Invalid shared subscription filters are never
/// granted (SUBACK failure or the connection closed).
#[tokio::test]
async fn invalid_shared_filters_not_granted_mqtt_4_8_2_2() {
    let b = broker::start().await;
    for filter in ["$share/g", "$share//t", "$share/g+/t", "$share/g#/t"] {
        let mut c = Raw::v5(b.addr, "bad-share").await;
        c.send(&Packet::Subscribe(mq::protocol::Subscribe {
            packet_id: 1,
            filters: vec![mq::protocol::SubscribeFilter {
                filter: filter.into(),
                options: SubscriptionOptions::qos(QoS::AtMostOnce),
            }],
            properties: props(),
        }))
        .await;
        match c.recv(WAIT).await {
            Event::Packet(Packet::SubAck(a)) => {
                assert!(a.reason_codes[0].is_error(), "{filter:?} granted: {a:?}")
            }
            Event::Packet(Packet::Disconnect(d)) => assert!(d.reason.is_error()),
            Event::Closed => {}
            other => panic!("{filter:?}: unexpected {other:?}"),
        }
    }
}

/// Section 4.8.2: every share group gets its own copy (once per group), each member
/// gets it at no more than its granted QoS [MQTT-4.8.2-3], with its Subscription
/// Identifier.
#[tokio::test]
async fn share_groups_each_get_a_copy_mqtt_4_8_2_3() {
    let b = broker::start().await;
    let mut a = Raw::v5(b.addr, "ga").await;
    a.subscribe("$share/ga/grp/t", QoS::AtMostOnce).await;
    let mut bb = Raw::v5(b.addr, "gb").await;
    let sid = Properties {
        subscription_identifiers: vec![77],
        ..Properties::default()
    };
    bb.subscribe_with(
        &[(
            "$share/gb/grp/t",
            SubscriptionOptions::qos(QoS::ExactlyOnce),
        )],
        sid,
    )
    .await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("grp/t", b"x", QoS::ExactlyOnce).await;
    let ma = a.expect_publish_acked().await;
    assert_eq!(ma.qos, QoS::AtMostOnce, "granted QoS 0 in group ga");
    let mb = bb.expect_publish_acked().await;
    assert_eq!(mb.qos, QoS::ExactlyOnce, "granted QoS 2 in group gb");
    assert_eq!(mb.properties.subscription_identifiers, [77]);
    a.expect_no_publish(QUIET).await;
    bb.expect_no_publish(Duration::from_millis(100)).await;
}
