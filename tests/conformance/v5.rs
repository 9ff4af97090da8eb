//! MQTT 5.0 features: message expiry, topic aliases both ways, Receive Maximum both
//! ways, Maximum Packet Size both ways, subscription identifiers, No Local, shared
//! subscriptions, property passthrough, Request Problem Information, Server Keep
//! Alive, server-sent DISCONNECT.

use crate::broker;
use crate::raw::{self, Event, QUIET, Raw, WAIT, connect};
use bytes::Bytes;
use mq::broker::Config;
use mq::protocol::{
    Ack, Packet, Properties, ProtocolVersion, Publish, QoS, ReasonCode, SubscriptionOptions,
};
use std::collections::HashMap;
use std::time::Duration;

const V5: ProtocolVersion = ProtocolVersion::V5;

fn props() -> Properties {
    Properties::default()
}

/// Read packets until the broker closes; return them (PUBRECs, PUBACKs...) and the
/// reason code of the final DISCONNECT, if any.
async fn until_closed(c: &mut Raw) -> (Vec<Packet>, Option<ReasonCode>) {
    let got = c.expect_closed(WAIT).await;
    let reason = got.iter().rev().find_map(|p| match p {
        Packet::Disconnect(d) => Some(d.reason),
        _ => None,
    });
    (got, reason)
}

// ---------------------------------------------------------------------------
// Message expiry

/// [MQTT-3.3.2-6] A forwarded message carries the Message Expiry Interval minus the
/// time it waited in the broker (here: queued 1.2 s for an offline session).
#[tokio::test]
async fn message_expiry_remaining_time_forwarded_mqtt_3_3_2_6() {
    let b = broker::start().await;
    let mut live = Raw::v5(b.addr, "live").await;
    live.subscribe("exp/t", QoS::AtLeastOnce).await;
    let mut con = connect(V5, "away");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    let (mut away, _) = Raw::connect_ok(b.addr, con.clone()).await;
    away.subscribe("exp/t", QoS::AtLeastOnce).await;
    away.disconnect().await;

    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("exp/t", b"x", QoS::AtLeastOnce);
    m.properties.message_expiry_interval = Some(60);
    p.publish_msg(m).await;
    let got = live.expect_publish_acked().await;
    let left = got
        .properties
        .message_expiry_interval
        .expect("Message Expiry Interval forwarded [MQTT-3.3.2-6]");
    assert!((59..=60).contains(&left), "live delivery: {left}");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (mut away, _) = Raw::connect_ok(b.addr, con).await;
    let got = away.expect_publish_acked().await;
    let left = got
        .properties
        .message_expiry_interval
        .expect("Message Expiry Interval forwarded [MQTT-3.3.2-6]");
    assert!(
        left <= 58,
        "after waiting 2 s in the broker the interval must be reduced, got {left}"
    );
}

/// [MQTT-3.3.2-5] A message whose expiry passed before delivery started is not
/// delivered.
#[tokio::test]
async fn expired_message_not_delivered_mqtt_3_3_2_5() {
    let b = broker::start().await;
    let mut con = connect(V5, "away");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    let (mut away, _) = Raw::connect_ok(b.addr, con.clone()).await;
    away.subscribe("exp/t", QoS::AtLeastOnce).await;
    away.disconnect().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("exp/t", b"stale", QoS::AtLeastOnce);
    m.properties.message_expiry_interval = Some(1);
    p.publish_msg(m).await;
    p.publish("exp/t", b"fresh", QoS::AtLeastOnce).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (mut away, _) = Raw::connect_ok(b.addr, con).await;
    let got = away.expect_publish_acked().await;
    assert_eq!(
        &got.payload[..],
        b"fresh",
        "the expired message was dropped"
    );
    away.expect_no_publish(QUIET).await;
}

/// [MQTT-3.3.2-5] (section 3.3.2.3.3) An expired retained message is no longer sent
/// to new subscribers.
#[tokio::test]
async fn expired_retained_message_not_sent_mqtt_3_3_2_5() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("exp/r", b"r", QoS::AtLeastOnce);
    m.retain = true;
    m.properties.message_expiry_interval = Some(1);
    p.publish_msg(m).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("exp/r", QoS::AtLeastOnce).await;
    s.expect_no_publish(QUIET).await;
}

// ---------------------------------------------------------------------------
// Topic aliases

/// [MQTT-3.3.2-12] The broker accepts Topic Aliases up to the Topic Alias Maximum it
/// announced in CONNACK, and resolves them for subscribers.
#[tokio::test]
async fn topic_alias_client_to_broker_mqtt_3_3_2_12() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("ta/#", QoS::AtLeastOnce).await;
    let (mut p, ack) = Raw::connect_ok(b.addr, connect(V5, "pub")).await;
    let max = ack.properties.topic_alias_maximum.unwrap_or(0);
    assert!(
        max >= 1,
        "the broker offers topic aliases (CONNACK Topic Alias Maximum)"
    );
    let mut m = raw::publish("ta/first", b"1", QoS::AtLeastOnce);
    m.properties.topic_alias = Some(max);
    p.publish_msg(m).await;
    let mut m = raw::publish("", b"2", QoS::AtLeastOnce);
    m.properties.topic_alias = Some(max);
    p.publish_msg(m).await;
    // Re-map the alias to another topic.
    let mut m = raw::publish("ta/second", b"3", QoS::AtLeastOnce);
    m.properties.topic_alias = Some(max);
    p.publish_msg(m).await;
    let mut m = raw::publish("", b"4", QoS::AtLeastOnce);
    m.properties.topic_alias = Some(max);
    p.publish_msg(m).await;
    let topics: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(s.expect_publish_acked().await.topic.to_string());
        }
        v
    };
    assert_eq!(topics, ["ta/first", "ta/first", "ta/second", "ta/second"]);
}

/// 5.0 section 3.3.2.3.4: a Topic Alias above the broker's Topic Alias Maximum is
/// answered with DISCONNECT 0x94 (Topic Alias invalid).
#[tokio::test]
async fn topic_alias_above_maximum_disconnect_0x94_mqtt_3_3_2_9() {
    let b = broker::start().await;
    let (mut p, ack) = Raw::connect_ok(b.addr, connect(V5, "pub")).await;
    let max = ack.properties.topic_alias_maximum.unwrap_or(0);
    let mut m = raw::publish("ta/x", b"1", QoS::AtMostOnce);
    m.properties.topic_alias = Some(max.saturating_add(1));
    p.send(&Packet::Publish(m)).await;
    let (_, reason) = until_closed(&mut p).await;
    assert_eq!(
        reason,
        Some(ReasonCode::TOPIC_ALIAS_INVALID),
        "DISCONNECT 0x94"
    );
}

/// [MQTT-3.3.2-8] Topic Alias 0 is not permitted: the connection is closed with an
/// error (0x94 or 0x82).
#[tokio::test]
async fn topic_alias_zero_disconnects_mqtt_3_3_2_8() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("ta/x", b"1", QoS::AtMostOnce);
    m.properties.topic_alias = Some(0);
    p.send(&Packet::Publish(m)).await;
    let (_, reason) = until_closed(&mut p).await;
    if let Some(r) = reason {
        assert!(
            r == ReasonCode::TOPIC_ALIAS_INVALID || r == ReasonCode::PROTOCOL_ERROR,
            "reason {r:?}"
        );
    }
}

/// Section 3.3.2.3.4: an empty topic with an alias that was never mapped is a
/// Protocol Error: the connection is closed.
#[tokio::test]
async fn unknown_topic_alias_disconnects_mqtt_3_3_2_12() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("", b"1", QoS::AtMostOnce);
    m.properties.topic_alias = Some(1);
    p.send(&Packet::Publish(m)).await;
    let (_, reason) = until_closed(&mut p).await;
    if let Some(r) = reason {
        assert!(r.is_error(), "reason {r:?}");
    }
}

/// [MQTT-3.3.2-7] Topic alias mappings do not survive the connection.
#[tokio::test]
async fn topic_alias_not_carried_to_new_connection_mqtt_3_3_2_7() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("ta/x", b"1", QoS::AtMostOnce);
    m.properties.topic_alias = Some(1);
    p.send(&Packet::Publish(m)).await;
    p.disconnect().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("", b"2", QoS::AtMostOnce);
    m.properties.topic_alias = Some(1);
    p.send(&Packet::Publish(m)).await;
    p.expect_closed(WAIT).await;
}

/// Receive messages, resolving topic aliases as a client must; check every alias is
/// within `max` [MQTT-3.3.2-11] (none at all when `max` is 0 [MQTT-3.1.2-27]).
async fn receive_resolving(c: &mut Raw, n: usize, max: u16) -> Vec<(String, Bytes)> {
    let mut map: HashMap<u16, String> = HashMap::new();
    let mut out = Vec::new();
    for _ in 0..n {
        let m = c.expect_publish_acked().await;
        let topic = match m.properties.topic_alias {
            None => m.topic.to_string(),
            Some(a) => {
                assert!(
                    max > 0,
                    "alias {a} sent to a client without Topic Alias Maximum [MQTT-3.1.2-27]"
                );
                assert!(
                    a >= 1 && a <= max,
                    "alias {a} outside 1..={max} [MQTT-3.3.2-11]"
                );
                if m.topic.is_empty() {
                    map.get(&a)
                        .cloned()
                        .unwrap_or_else(|| panic!("alias {a} used before it was mapped"))
                } else {
                    map.insert(a, m.topic.to_string());
                    m.topic.to_string()
                }
            }
        };
        out.push((topic, m.payload));
    }
    out
}

async fn broker_to_client_aliases(max: Option<u16>) {
    let b = broker::start().await;
    let mut con = connect(V5, "sub");
    con.properties.topic_alias_maximum = max;
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    s.subscribe("al/#", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let topics = ["al/a", "al/b", "al/c", "al/a", "al/b", "al/c", "al/a"];
    for (i, t) in topics.iter().enumerate() {
        p.publish(t, i.to_string().as_bytes(), QoS::AtLeastOnce)
            .await;
    }
    let got = receive_resolving(&mut s, topics.len(), max.unwrap_or(0)).await;
    for (i, (t, payload)) in got.iter().enumerate() {
        assert_eq!(t, topics[i], "message {i}: topic after alias resolution");
        assert_eq!(&payload[..], i.to_string().as_bytes());
    }
}

/// [MQTT-3.3.2-11] Aliases the broker sends stay within the client's Topic Alias
/// Maximum (2 here) and resolve to the right topics.
#[tokio::test]
async fn topic_alias_broker_to_client_within_maximum_mqtt_3_3_2_11() {
    broker_to_client_aliases(Some(2)).await;
}

/// [MQTT-3.1.2-27] A client without Topic Alias Maximum never gets an alias.
#[tokio::test]
async fn no_topic_alias_without_client_maximum_mqtt_3_1_2_27() {
    broker_to_client_aliases(None).await;
}

// ---------------------------------------------------------------------------
// Receive Maximum

/// [MQTT-3.3.4-9] The broker never has more unacknowledged QoS 1/2 PUBLISH packets
/// in flight to a client than the client's Receive Maximum; the rest follow as
/// acknowledgements come in.
#[tokio::test]
async fn receive_maximum_broker_to_client_mqtt_3_3_4_9() {
    let b = broker::start().await;
    let mut con = connect(V5, "slow");
    con.properties.receive_maximum = Some(2);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    s.subscribe("rm/t", QoS::ExactlyOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    for i in 0..6u8 {
        let qos = if i % 2 == 0 {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        p.publish("rm/t", &[i], qos).await;
    }
    let mut held: Vec<Publish> = Vec::new();
    let mut received = 0;
    while received < 6 {
        // Take everything the broker is willing to send right now.
        loop {
            match s.recv(Duration::from_millis(300)).await {
                Event::Packet(Packet::Publish(m)) => {
                    received += 1;
                    held.push(m);
                    assert!(
                        held.len() <= 2,
                        "{} unacknowledged QoS>0 PUBLISH in flight, Receive Maximum is 2 \
                         [MQTT-3.3.4-9]",
                        held.len()
                    );
                }
                Event::Timeout => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(!held.is_empty(), "broker stalled after {received} messages");
        let m = held.remove(0);
        s.ack(&m).await;
    }
    for m in held {
        s.ack(&m).await;
    }
}

/// 5.0 section 3.3.4 and 4.9 ([MQTT-3.3.4-7] on the client side): a client that
/// sends more QoS 2 PUBLISH packets than the broker's Receive Maximum without
/// completing them gets DISCONNECT 0x93 (Receive Maximum exceeded).
#[tokio::test]
async fn receive_maximum_client_to_broker_exceeded_0x93_mqtt_3_3_4_7() {
    let b = broker::start_with(Config {
        max_inflight_messages: 2,
        ..Config::default()
    })
    .await;
    let (mut p, ack) = Raw::connect_ok(b.addr, connect(V5, "greedy")).await;
    assert_eq!(
        ack.properties.receive_maximum,
        Some(2),
        "CONNACK announces the broker's Receive Maximum"
    );
    let mut bytes = Vec::new();
    for id in 1..=3u16 {
        let mut m = raw::publish("rm/in", b"x", QoS::ExactlyOnce);
        m.packet_id = id;
        bytes.extend(raw::bytes_of(&Packet::Publish(m), V5));
    }
    p.send_bytes(&bytes).await;
    let (got, reason) = until_closed(&mut p).await;
    assert_eq!(
        reason,
        Some(ReasonCode::RECEIVE_MAXIMUM_EXCEEDED),
        "DISCONNECT 0x93 after the third unreleased QoS 2 PUBLISH; got {got:?}"
    );
}

/// Flow control is per unacknowledged message: completing a QoS 2 flow frees its
/// slot, so a client that stays within the Receive Maximum is never disconnected
/// ([MQTT-4.9.0-3] the other direction: the broker keeps processing).
#[tokio::test]
async fn receive_maximum_respected_no_disconnect_mqtt_4_9_0_2() {
    let b = broker::start_with(Config {
        max_inflight_messages: 2,
        ..Config::default()
    })
    .await;
    let mut p = Raw::v5(b.addr, "fair").await;
    for _ in 0..6 {
        p.publish("rm/in", b"x", QoS::ExactlyOnce).await;
    }
    p.ping().await;
}

// ---------------------------------------------------------------------------
// Maximum Packet Size

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

// ---------------------------------------------------------------------------
// Subscription identifiers

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

// ---------------------------------------------------------------------------
// No Local

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

// ---------------------------------------------------------------------------
// Shared subscriptions

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

/// Section 4.8.2 / 3.3.1.3: retained messages are not sent when a shared
/// subscription is made.
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

// ---------------------------------------------------------------------------
// Property passthrough

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

// ---------------------------------------------------------------------------
// Request Problem Information, Server Keep Alive, server DISCONNECT

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

/// [MQTT-3.3.4-9] Receive Maximum also holds for messages queued while the client
/// was away: on reconnect no more than 2 are in flight at once.
#[tokio::test]
async fn receive_maximum_applies_to_queued_messages_mqtt_3_3_4_9() {
    let b = broker::start().await;
    let mut con = connect(V5, "queued");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    con.properties.receive_maximum = Some(2);
    let (mut s, _) = Raw::connect_ok(b.addr, con.clone()).await;
    s.subscribe("rmq/t", QoS::AtLeastOnce).await;
    s.disconnect().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    for i in 0..6u8 {
        p.publish("rmq/t", &[i], QoS::AtLeastOnce).await;
    }
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    let mut got = Vec::new();
    while got.len() < 6 {
        let mut batch = Vec::new();
        loop {
            match s.recv(Duration::from_millis(300)).await {
                Event::Packet(Packet::Publish(m)) => batch.push(m),
                Event::Timeout => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(
            !batch.is_empty() && batch.len() <= 2,
            "{} in flight with Receive Maximum 2 [MQTT-3.3.4-9]",
            batch.len()
        );
        for m in batch {
            s.ack(&m).await;
            got.push(m.payload[0]);
        }
    }
    assert_eq!(got, [0, 1, 2, 3, 4, 5], "all queued messages, in order");
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

/// [MQTT-3.3.2-6] A retained message delivered at subscribe carries its remaining
/// Message Expiry Interval.
#[tokio::test]
async fn retained_message_expiry_counts_down_mqtt_3_3_2_6() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("rexp/t", b"r", QoS::AtLeastOnce);
    m.retain = true;
    m.properties.message_expiry_interval = Some(30);
    p.publish_msg(m).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("rexp/t", QoS::AtLeastOnce).await;
    let got = s.expect_publish_acked().await;
    let left = got
        .properties
        .message_expiry_interval
        .expect("retained message keeps its expiry");
    assert!(left <= 28, "2 s after publishing, {left} s left of 30");
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

/// [MQTT-4.3.3-10] Session state includes QoS 2 messages received but not released:
/// a publisher that reconnects (Clean Start 0) and re-sends the PUBLISH gets PUBREC
/// and the subscriber still gets the message once.
#[tokio::test]
async fn qos2_inbound_state_survives_reconnect_mqtt_4_3_3_10() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("q2r/t", QoS::ExactlyOnce).await;
    let mut con = connect(V5, "pub");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    let (mut p, _) = Raw::connect_ok(b.addr, con.clone()).await;
    let mut m = raw::publish("q2r/t", b"once", QoS::ExactlyOnce);
    m.packet_id = 11;
    p.send(&Packet::Publish(m.clone())).await;
    p.expect_ack(mq::protocol::PacketType::PubRec, 11).await;
    p.drop_abruptly();
    let (mut p, ack) = Raw::connect_ok(b.addr, con).await;
    assert!(ack.session_present);
    m.dup = true;
    p.send(&Packet::Publish(m)).await;
    p.expect_ack(mq::protocol::PacketType::PubRec, 11).await;
    p.send(&Packet::PubRel(Ack::new(11))).await;
    p.expect_ack(mq::protocol::PacketType::PubComp, 11).await;
    assert_eq!(&s.expect_publish_acked().await.payload[..], b"once");
    s.expect_no_publish(Duration::from_millis(400)).await;
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

/// `max_queued_messages`: a session away from the broker holds a bounded number of
/// messages (in flight + queued), never all of them.
#[tokio::test]
async fn queued_messages_bounded_for_offline_session() {
    let b = broker::start_with(Config {
        max_inflight_messages: 2,
        max_queued_messages: 3,
        ..Config::default()
    })
    .await;
    let mut con = connect(V5, "away");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    let (mut s, _) = Raw::connect_ok(b.addr, con.clone()).await;
    s.subscribe("bq/t", QoS::AtLeastOnce).await;
    s.disconnect().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    for i in 0..20u8 {
        p.publish("bq/t", &[i], QoS::AtLeastOnce).await;
    }
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    let mut n = 0;
    loop {
        match s.recv(Duration::from_millis(400)).await {
            Event::Packet(Packet::Publish(m)) => {
                s.ack(&m).await;
                n += 1;
            }
            Event::Timeout => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(n >= 1, "some queued messages are kept");
    assert!(
        n <= 5,
        "{n} messages kept for an offline session with inflight 2 + queued 3"
    );
}

/// [MQTT-3.3.2-12] A retained PUBLISH sent through a Topic Alias is stored under the
/// topic the alias stands for.
#[tokio::test]
async fn topic_alias_with_retain_stores_real_topic_mqtt_3_3_2_12() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    let mut m = raw::publish("tar/t", b"1", QoS::AtLeastOnce);
    m.retain = true;
    m.properties.topic_alias = Some(1);
    p.publish_msg(m).await;
    let mut m = raw::publish("", b"2", QoS::AtLeastOnce);
    m.retain = true;
    m.properties.topic_alias = Some(1);
    p.publish_msg(m).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("tar/#", QoS::AtLeastOnce).await;
    let got = s.expect_publish_acked().await;
    assert_eq!(&*got.topic, "tar/t");
    assert_eq!(&got.payload[..], b"2");
    s.expect_no_publish(QUIET).await;
}

/// [MQTT-3.3.2-7] Topic Alias mappings the broker set up for a client do not carry
/// over to its next connection (even with a resumed session): the first message on
/// the new connection names its topic.
#[tokio::test]
async fn broker_aliases_reset_on_new_connection_mqtt_3_3_2_7() {
    let b = broker::start().await;
    let mut con = connect(V5, "alias");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    con.properties.topic_alias_maximum = Some(5);
    let (mut s, _) = Raw::connect_ok(b.addr, con.clone()).await;
    s.subscribe("ar/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    for _ in 0..3 {
        p.publish("ar/t", b"x", QoS::AtLeastOnce).await;
    }
    receive_resolving(&mut s, 3, 5).await;
    s.disconnect().await;
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    p.publish("ar/t", b"y", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert!(
        !m.topic.is_empty(),
        "the broker reused an alias from the previous connection [MQTT-3.3.2-7]: {m:?}"
    );
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
/// client's Maximum Packet Size (here the PUBACK for a publish nobody receives).
#[tokio::test]
async fn puback_fits_maximum_packet_size_mqtt_3_4_2_2() {
    let b = broker::start().await;
    let mut con = connect(V5, "tiny");
    con.properties.maximum_packet_size = Some(8);
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    let mut m = raw::publish("nobody/home", b"x", QoS::AtLeastOnce);
    m.packet_id = 1;
    c.send(&Packet::Publish(m)).await;
    match c.expect_packet(WAIT).await {
        Packet::PubAck(a) => {
            let n = raw::bytes_of(&Packet::PubAck(a.clone()), V5).len();
            assert!(n <= 8, "PUBACK of {n} bytes, Maximum Packet Size 8: {a:?}");
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

/// [MQTT-3.3.4-10] [MQTT-4.9.0-3] With the client's Receive Maximum used up, the
/// broker still answers other packets at once (PINGRESP, SUBACK).
#[tokio::test]
async fn quota_zero_does_not_delay_other_packets_mqtt_3_3_4_10() {
    let b = broker::start().await;
    let mut con = connect(V5, "full");
    con.properties.receive_maximum = Some(1);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    s.subscribe("rq/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("rq/t", b"1", QoS::AtLeastOnce).await;
    p.publish("rq/t", b"2", QoS::AtLeastOnce).await;
    let first = s.expect_publish().await;
    // Quota is 0 now: PINGREQ and SUBSCRIBE are still answered.
    s.send(&Packet::PingReq).await;
    match s.expect_packet(WAIT).await {
        Packet::PingResp => {}
        other => panic!("expected PINGRESP while the quota is 0, got {other:?}"),
    }
    s.subscribe("rq/other", QoS::AtMostOnce).await;
    s.ack(&first).await;
    assert_eq!(&s.expect_publish_acked().await.payload[..], b"2");
}

/// [MQTT-3.3.2-5] A message that expires while waiting behind the client's Receive
/// Maximum (client online) is not delivered.
#[tokio::test]
async fn message_expires_while_waiting_for_quota_mqtt_3_3_2_5() {
    let b = broker::start().await;
    let mut con = connect(V5, "slowack");
    con.properties.receive_maximum = Some(1);
    let (mut s, _) = Raw::connect_ok(b.addr, con).await;
    s.subscribe("eq/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("eq/t", b"first", QoS::AtLeastOnce).await;
    let mut m = raw::publish("eq/t", b"stale", QoS::AtLeastOnce);
    m.properties.message_expiry_interval = Some(1);
    p.publish_msg(m).await;
    p.publish("eq/t", b"fresh", QoS::AtLeastOnce).await;
    let first = s.expect_publish().await;
    assert_eq!(&first.payload[..], b"first");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    s.ack(&first).await;
    let next = s.expect_publish_acked().await;
    assert_eq!(
        &next.payload[..],
        b"fresh",
        "the expired message was skipped"
    );
    s.expect_no_publish(QUIET).await;
}

/// [MQTT-3.3.2-7] [MQTT-4.4.0-1] Messages re-sent on a new connection cannot rely on
/// a Topic Alias of the old one: every re-sent PUBLISH names its topic or uses an
/// alias mapped on this connection.
#[tokio::test]
async fn redelivery_does_not_reuse_old_topic_alias_mqtt_3_3_2_7() {
    let b = broker::start().await;
    let mut con = connect(V5, "aliasredo");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    con.properties.topic_alias_maximum = Some(5);
    let (mut s, _) = Raw::connect_ok(b.addr, con.clone()).await;
    s.subscribe("ard/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    for i in 0..3u8 {
        p.publish("ard/t", &[i], QoS::AtLeastOnce).await;
    }
    for _ in 0..3 {
        s.expect_publish().await;
    }
    s.drop_abruptly();
    let (mut s, ack) = Raw::connect_ok(b.addr, con).await;
    assert!(ack.session_present);
    let got = receive_resolving(&mut s, 3, 5).await;
    for (i, (topic, payload)) in got.iter().enumerate() {
        assert_eq!(topic, "ard/t");
        assert_eq!(payload[..], [i as u8]);
    }
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
