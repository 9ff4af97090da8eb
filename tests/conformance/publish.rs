//! PUBLISH and the QoS 0/1/2 flows (sections 3.3-3.7 and 4.3-4.6): both directions,
//! QoS downgrade to the subscription, QoS 2 exactly once, order, invalid topic names.

use crate::broker;
use crate::raw::{self, QUIET, Raw, WAIT};
use mq::protocol::{Ack, Packet, PacketType, ProtocolVersion, QoS, ReasonCode};
use std::collections::HashSet;
use std::time::Duration;

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

async fn end_to_end(version: ProtocolVersion, pub_qos: QoS, sub_qos: QoS, expect: QoS) {
    let b = broker::start().await;
    let mut s = Raw::client(b.addr, version, "sub").await;
    s.subscribe("q/t", sub_qos).await;
    let mut p = Raw::client(b.addr, version, "pub").await;
    p.publish("q/t", b"payload", pub_qos).await;
    let m = s.expect_publish().await;
    assert_eq!(&*m.topic, "q/t", "topic matches the filter [MQTT-3.3.2-3]");
    assert_eq!(&m.payload[..], b"payload");
    assert_eq!(
        m.qos, expect,
        "published at {pub_qos:?}, subscribed at {sub_qos:?} [MQTT-3.8.4-8] (5.0) / \
         [MQTT-3.8.4-6] (3.1.1)"
    );
    assert!(!m.dup, "first delivery has DUP 0 [MQTT-3.3.1-3]");
    assert!(!m.retain, "normal forwarding has RETAIN 0");
    if expect == QoS::AtMostOnce {
        assert_eq!(m.packet_id, 0);
    } else {
        assert_ne!(m.packet_id, 0, "non-zero packet id [MQTT-2.2.1-4]");
    }
    s.ack(&m).await;
    s.expect_nothing(QUIET).await;
}

/// [MQTT-4.3.1-1] QoS 0 end to end (3.1.1).
#[tokio::test]
async fn v311_qos0_end_to_end_mqtt_4_3_1_1() {
    end_to_end(V3, QoS::AtMostOnce, QoS::AtMostOnce, QoS::AtMostOnce).await;
}

/// [MQTT-4.3.2-1] [MQTT-4.3.2-2] QoS 1 both directions: PUBACK to the publisher,
/// QoS 1 delivery (3.1.1).
#[tokio::test]
async fn v311_qos1_end_to_end_mqtt_4_3_2_2() {
    end_to_end(V3, QoS::AtLeastOnce, QoS::AtLeastOnce, QoS::AtLeastOnce).await;
}

/// [MQTT-4.3.3-1] [MQTT-4.3.3-2] QoS 2 both directions: PUBREC/PUBREL/PUBCOMP with
/// the publisher, full flow with the subscriber (3.1.1).
#[tokio::test]
async fn v311_qos2_end_to_end_mqtt_4_3_3_2() {
    end_to_end(V3, QoS::ExactlyOnce, QoS::ExactlyOnce, QoS::ExactlyOnce).await;
}

/// [MQTT-4.3.1-1] QoS 0 end to end (5.0).
#[tokio::test]
async fn v5_qos0_end_to_end_mqtt_4_3_1_1() {
    end_to_end(V5, QoS::AtMostOnce, QoS::AtMostOnce, QoS::AtMostOnce).await;
}

/// [MQTT-4.3.2-4] QoS 1 end to end (5.0).
#[tokio::test]
async fn v5_qos1_end_to_end_mqtt_4_3_2_4() {
    end_to_end(V5, QoS::AtLeastOnce, QoS::AtLeastOnce, QoS::AtLeastOnce).await;
}

/// [MQTT-4.3.3-8] [MQTT-4.3.3-11] QoS 2 end to end (5.0).
#[tokio::test]
async fn v5_qos2_end_to_end_mqtt_4_3_3_8() {
    end_to_end(V5, QoS::ExactlyOnce, QoS::ExactlyOnce, QoS::ExactlyOnce).await;
}

/// [MQTT-3.8.4-6] (3.1.1) QoS 2 published, QoS 0 subscription: delivered at QoS 0.
#[tokio::test]
async fn v311_downgrade_qos2_to_sub_qos0_mqtt_3_8_4_6() {
    end_to_end(V3, QoS::ExactlyOnce, QoS::AtMostOnce, QoS::AtMostOnce).await;
}

/// [MQTT-3.8.4-6] (3.1.1) QoS 2 published, QoS 1 subscription: delivered at QoS 1.
#[tokio::test]
async fn v311_downgrade_qos2_to_sub_qos1_mqtt_3_8_4_6() {
    end_to_end(V3, QoS::ExactlyOnce, QoS::AtLeastOnce, QoS::AtLeastOnce).await;
}

/// [MQTT-3.8.4-8] (5.0) QoS 1 published, QoS 0 subscription: delivered at QoS 0.
#[tokio::test]
async fn v5_downgrade_qos1_to_sub_qos0_mqtt_3_8_4_8() {
    end_to_end(V5, QoS::AtLeastOnce, QoS::AtMostOnce, QoS::AtMostOnce).await;
}

/// [MQTT-3.8.4-8] The subscription QoS is a maximum, never an upgrade: QoS 1
/// published to a QoS 2 subscription is delivered at QoS 1.
#[tokio::test]
async fn v5_no_upgrade_qos1_to_sub_qos2_mqtt_3_8_4_8() {
    end_to_end(V5, QoS::AtLeastOnce, QoS::ExactlyOnce, QoS::AtLeastOnce).await;
}

/// [MQTT-3.8.4-6] QoS 0 published to a QoS 2 subscription stays QoS 0 (3.1.1).
#[tokio::test]
async fn v311_no_upgrade_qos0_to_sub_qos2_mqtt_3_8_4_6() {
    end_to_end(V3, QoS::AtMostOnce, QoS::ExactlyOnce, QoS::AtMostOnce).await;
}

async fn qos2_exactly_once(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut s = Raw::client(b.addr, version, "sub").await;
    s.subscribe("x/once", QoS::ExactlyOnce).await;
    let mut p = Raw::client(b.addr, version, "pub").await;
    let mut m = raw::publish("x/once", b"one", QoS::ExactlyOnce);
    m.packet_id = 5;
    p.send(&Packet::Publish(m.clone())).await;
    match p.expect_packet(WAIT).await {
        Packet::PubRec(a) => assert_eq!(a.packet_id, 5),
        other => panic!("expected PUBREC, got {other:?}"),
    }
    // The same packet id again, before PUBREL: PUBREC again, no second message.
    m.dup = true;
    p.send(&Packet::Publish(m.clone())).await;
    match p.expect_packet(WAIT).await {
        Packet::PubRec(a) => assert_eq!(a.packet_id, 5, "PUBREC for the resent PUBLISH"),
        other => panic!("expected PUBREC for the duplicate, got {other:?}"),
    }
    p.send(&Packet::PubRel(Ack::new(5))).await;
    match p.expect_packet(WAIT).await {
        Packet::PubComp(a) => assert_eq!(a.packet_id, 5),
        other => panic!("expected PUBCOMP, got {other:?}"),
    }
    let got = s.expect_publish_acked().await;
    assert_eq!(&got.payload[..], b"one");
    s.expect_no_publish(Duration::from_millis(400)).await;

    // After PUBCOMP the id is free: the same id is a new message [MQTT-4.3.3-12].
    m.dup = false;
    m.payload = bytes::Bytes::from_static(b"two");
    p.publish_msg(m).await;
    let got = s.expect_publish_acked().await;
    assert_eq!(&got.payload[..], b"two", "a new message after PUBCOMP");
}

/// [MQTT-4.3.3-2] (3.1.1) Until PUBREL, a PUBLISH with the same packet id is
/// answered with PUBREC and not delivered again: exactly once.
#[tokio::test]
async fn v311_qos2_exactly_once_until_pubrel_mqtt_4_3_3_2() {
    qos2_exactly_once(V3).await;
}

/// [MQTT-4.3.3-10] [MQTT-4.3.3-12] (5.0) QoS 2 exactly once: the broker keeps the
/// packet id until PUBREL.
#[tokio::test]
async fn v5_qos2_exactly_once_until_pubrel_mqtt_4_3_3_10() {
    qos2_exactly_once(V5).await;
}

/// [MQTT-4.3.2-5] After PUBACK, a QoS 1 PUBLISH with the same packet id is a new
/// message.
#[tokio::test]
async fn qos1_same_id_after_puback_is_new_message_mqtt_4_3_2_5() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("x/q1", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    for payload in [&b"first"[..], b"second"] {
        let mut m = raw::publish("x/q1", payload, QoS::AtLeastOnce);
        m.packet_id = 9;
        p.publish_msg(m).await;
    }
    assert_eq!(&s.expect_publish_acked().await.payload[..], b"first");
    assert_eq!(&s.expect_publish_acked().await.payload[..], b"second");
}

/// [MQTT-4.3.3-11] A PUBREL is answered with PUBCOMP carrying its packet id, even
/// for an id the broker does not know (5.0 may say 0x92).
#[tokio::test]
async fn pubrel_unknown_id_gets_pubcomp_mqtt_4_3_3_11() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "rel3").await;
    c.send(&Packet::PubRel(Ack::new(77))).await;
    match c.expect_packet(WAIT).await {
        Packet::PubComp(a) => assert_eq!(a.packet_id, 77),
        other => panic!("expected PUBCOMP, got {other:?}"),
    }
    let mut c = Raw::v5(b.addr, "rel5").await;
    c.send(&Packet::PubRel(Ack::new(78))).await;
    match c.expect_packet(WAIT).await {
        Packet::PubComp(a) => {
            assert_eq!(a.packet_id, 78);
            assert!(
                a.reason == ReasonCode::SUCCESS
                    || a.reason == ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
                "PUBCOMP reason {:?}",
                a.reason
            );
        }
        other => panic!("expected PUBCOMP, got {other:?}"),
    }
}

async fn order_kept(qos: QoS) {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("ord/t", qos).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    const N: u16 = 60;
    // Pipelined in batches of 10 (within the broker's Receive Maximum): ten PUBLISH
    // packets back to back, then their acknowledgements.
    for batch in 0..N / 10 {
        let ids: Vec<u16> = (batch * 10 + 1..=batch * 10 + 10).collect();
        let mut bytes = Vec::new();
        for &i in &ids {
            let mut m = raw::publish("ord/t", i.to_string().as_bytes(), qos);
            if qos != QoS::AtMostOnce {
                m.packet_id = i;
            }
            bytes.extend(raw::bytes_of(&Packet::Publish(m), V5));
        }
        p.send_bytes(&bytes).await;
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => {
                for &i in &ids {
                    p.expect_ack(PacketType::PubAck, i).await;
                }
            }
            QoS::ExactlyOnce => {
                for &i in &ids {
                    p.expect_ack(PacketType::PubRec, i).await;
                }
                let mut rel = Vec::new();
                for &i in &ids {
                    rel.extend(raw::bytes_of(&Packet::PubRel(Ack::new(i)), V5));
                }
                p.send_bytes(&rel).await;
                for &i in &ids {
                    p.expect_ack(PacketType::PubComp, i).await;
                }
            }
        }
    }
    for i in 1..=N {
        let m = s.expect_publish_acked().await;
        assert_eq!(
            std::str::from_utf8(&m.payload).unwrap_or("?"),
            i.to_string(),
            "message order per publisher and topic [MQTT-4.6.0-5] [MQTT-4.6.0-6]"
        );
    }
}

/// [MQTT-4.6.0-5] [MQTT-4.6.0-6] Order of QoS 0 messages from one publisher on one
/// topic is kept.
#[tokio::test]
async fn order_per_publisher_topic_qos0_mqtt_4_6_0_6() {
    order_kept(QoS::AtMostOnce).await;
}

/// [MQTT-4.6.0-5] [MQTT-4.6.0-6] Order of QoS 1 messages is kept.
#[tokio::test]
async fn order_per_publisher_topic_qos1_mqtt_4_6_0_6() {
    order_kept(QoS::AtLeastOnce).await;
}

/// [MQTT-4.6.0-5] [MQTT-4.6.0-6] Order of QoS 2 messages is kept.
#[tokio::test]
async fn order_per_publisher_topic_qos2_mqtt_4_6_0_6() {
    order_kept(QoS::ExactlyOnce).await;
}

/// [MQTT-2.2.1-4] QoS 1 messages in flight to a client have distinct, non-zero
/// packet identifiers.
#[tokio::test]
async fn outgoing_packet_ids_unique_in_flight_mqtt_2_2_1_4() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("ids/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    for _ in 0..10 {
        p.publish("ids/t", b"m", QoS::AtLeastOnce).await;
    }
    let mut seen = HashSet::new();
    let mut held = Vec::new();
    for _ in 0..10 {
        let m = s.expect_publish().await;
        assert_ne!(m.packet_id, 0);
        assert!(
            seen.insert(m.packet_id),
            "packet id {} reused while in flight",
            m.packet_id
        );
        held.push(m);
    }
    for m in held {
        s.ack(&m).await;
    }
}

async fn wildcard_topic_name_disconnects(version: ProtocolVersion, topic: &str) {
    let b = broker::start().await;
    let mut c = Raw::client(b.addr, version, "bad").await;
    c.send(&Packet::Publish(raw::publish(topic, b"x", QoS::AtMostOnce)))
        .await;
    let reason = c.expect_disconnect(WAIT).await;
    if version == V5
        && let Some(r) = reason
    {
        assert!(
            r.is_error(),
            "DISCONNECT reason must be an error, got {r:?}"
        );
    }
    // The broker is fine afterwards.
    let mut ok = Raw::client(b.addr, version, "ok").await;
    ok.ping().await;
}

/// [MQTT-3.3.2-2] [MQTT-4.7.0-1] A topic name with `+` closes the connection (3.1.1).
#[tokio::test]
async fn v311_topic_name_with_plus_disconnects_mqtt_3_3_2_2() {
    wildcard_topic_name_disconnects(V3, "a/+/c").await;
}

/// [MQTT-3.3.2-2] A topic name with `#` closes the connection (5.0, DISCONNECT with
/// an error reason such as 0x90 allowed first).
#[tokio::test]
async fn v5_topic_name_with_hash_disconnects_mqtt_3_3_2_2() {
    wildcard_topic_name_disconnects(V5, "a/#").await;
}

/// [MQTT-4.7.3-1] A zero-length topic name (3.1.1) is a protocol violation: closed.
#[tokio::test]
async fn v311_empty_topic_name_disconnects_mqtt_4_7_3_1() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "empty").await;
    c.send_bytes(&raw::frame(0x30, &[0x00, 0x00, b'x'])).await;
    c.expect_closed(WAIT).await;
}

/// 5.0 section 3.4.2.1: a QoS 1 PUBLISH with no subscriber gets PUBACK 0x00 or 0x10
/// (No matching subscribers); both are success codes.
#[tokio::test]
async fn v5_puback_no_matching_subscribers_is_success() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "lonely").await;
    let reason = p
        .publish_msg(raw::publish("nobody/listens", b"x", QoS::AtLeastOnce))
        .await;
    assert!(
        reason == ReasonCode::SUCCESS || reason == ReasonCode::NO_MATCHING_SUBSCRIBERS,
        "PUBACK reason {reason:?}"
    );
}

/// The payload is passed through byte for byte: empty, binary and 200 KB payloads.
#[tokio::test]
async fn payload_unaltered_empty_binary_large_mqtt_3_3_3() {
    let b = broker::start().await;
    let mut s = Raw::v311(b.addr, "sub").await;
    s.subscribe("pl/#", QoS::AtLeastOnce).await;
    let mut p = Raw::v311(b.addr, "pub").await;
    let binary: Vec<u8> = (0..=255u8).collect();
    let large: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for payload in [&[][..], &binary[..], &large[..]] {
        p.publish("pl/x", payload, QoS::AtLeastOnce).await;
        let m = s.expect_publish_acked().await;
        assert_eq!(m.payload.len(), payload.len());
        assert!(m.payload[..] == *payload, "payload altered");
    }
}

/// A QoS 0 publisher's messages reach every matching subscriber once
/// [MQTT-4.5.0-1].
#[tokio::test]
async fn fan_out_to_all_subscribers_mqtt_4_5_0_1() {
    let b = broker::start().await;
    let mut subs = Vec::new();
    for i in 0..5 {
        let mut s = Raw::v311(b.addr, &format!("s{i}")).await;
        s.subscribe("fan/out", QoS::AtLeastOnce).await;
        subs.push(s);
    }
    let mut p = Raw::v311(b.addr, "pub").await;
    p.publish("fan/out", b"all", QoS::AtLeastOnce).await;
    for s in &mut subs {
        assert_eq!(&s.expect_publish_acked().await.payload[..], b"all");
        s.expect_no_publish(Duration::from_millis(100)).await;
    }
}

/// [MQTT-3.3.1-3] The DUP flag of an outgoing PUBLISH is set independently of the
/// incoming one: a first delivery has DUP 0 even if the publisher set DUP 1.
#[tokio::test]
async fn dup_not_forwarded_mqtt_3_3_1_3() {
    let b = broker::start().await;
    let mut s = Raw::v311(b.addr, "sub").await;
    s.subscribe("dup/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v311(b.addr, "pub").await;
    let mut m = raw::publish("dup/t", b"x", QoS::AtLeastOnce);
    m.dup = true;
    p.publish_msg(m).await;
    let got = s.expect_publish_acked().await;
    assert!(
        !got.dup,
        "DUP 1 copied from the incoming PUBLISH [MQTT-3.3.1-3]"
    );
}

/// [MQTT-4.6.0-5] [MQTT-4.5.0-1] Ten publishers at once, three subscribers: every
/// subscriber gets every message exactly once, each publisher's messages in order.
#[tokio::test]
async fn concurrent_publishers_exactly_once_in_order_mqtt_4_6_0_5() {
    let b = broker::start().await;
    let mut subs = Vec::new();
    for i in 0..3 {
        let mut s = Raw::v5(b.addr, &format!("s{i}")).await;
        s.subscribe("cc/#", QoS::ExactlyOnce).await;
        subs.push(s);
    }
    const PUBS: usize = 10;
    const EACH: usize = 30;
    let mut tasks = Vec::new();
    for p in 0..PUBS {
        let addr = b.addr;
        tasks.push(tokio::spawn(async move {
            let mut c = Raw::v5(addr, &format!("p{p}")).await;
            for i in 0..EACH {
                let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][p % 3];
                c.publish("cc/t", format!("{p}:{i}").as_bytes(), qos).await;
            }
            c
        }));
    }
    let mut pubs = Vec::new();
    for t in tasks {
        pubs.push(t.await.expect("publisher task"));
    }
    for s in &mut subs {
        let mut next = [0usize; PUBS];
        for _ in 0..PUBS * EACH {
            let m = s.expect_publish_acked().await;
            let text = String::from_utf8_lossy(&m.payload).to_string();
            let (p, i) = text.split_once(':').expect("payload p:i");
            let (p, i): (usize, usize) = (p.parse().expect("p"), i.parse().expect("i"));
            assert_eq!(
                i, next[p],
                "publisher {p}: message {i} out of order or duplicated"
            );
            next[p] += 1;
        }
        s.expect_no_publish(QUIET).await;
    }
}

/// Mixed versions: a 5.0 message reaches a 3.1.1 subscriber as a plain 3.1.1
/// PUBLISH (properties dropped), and a 3.1.1 message reaches a 5.0 subscriber with
/// the subscriber's Subscription Identifier.
#[tokio::test]
async fn cross_version_delivery() {
    let b = broker::start().await;
    let mut s3 = Raw::v311(b.addr, "s3").await;
    s3.subscribe("xv/#", QoS::AtLeastOnce).await;
    let mut s5 = Raw::v5(b.addr, "s5").await;
    let sid = mq::protocol::Properties {
        subscription_identifiers: vec![5],
        ..Default::default()
    };
    s5.subscribe_with(
        &[(
            "xv/#",
            mq::protocol::SubscriptionOptions::qos(QoS::AtLeastOnce),
        )],
        sid,
    )
    .await;
    let mut p5 = Raw::v5(b.addr, "p5").await;
    let mut m = raw::publish("xv/five", b"from 5", QoS::AtLeastOnce);
    m.properties.user_properties = vec![("k".into(), "v".into())];
    m.properties.content_type = Some("text/plain".into());
    p5.publish_msg(m).await;
    let got = s3.expect_publish_acked().await;
    assert_eq!(&got.payload[..], b"from 5");
    let got = s5.expect_publish_acked().await;
    assert_eq!(
        got.properties.user_properties,
        [("k".to_string(), "v".to_string())]
    );
    let mut p3 = Raw::v311(b.addr, "p3").await;
    p3.publish("xv/three", b"from 3.1.1", QoS::ExactlyOnce)
        .await;
    assert_eq!(&s3.expect_publish_acked().await.payload[..], b"from 3.1.1");
    let got = s5.expect_publish_acked().await;
    assert_eq!(&got.payload[..], b"from 3.1.1");
    assert_eq!(got.properties.subscription_identifiers, [5]);
}
