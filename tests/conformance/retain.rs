//! Retained messages (3.1.1 section 3.3.1.3, 5.0 sections 3.3.1.3 and 3.8.3.1):
//! store, replace, delete, the RETAIN flag on delivery, Retain Handling and Retain As
//! Published.

use crate::broker;
use crate::raw::{Event, QUIET, Raw};
use mq::protocol::{Packet, Properties, ProtocolVersion, QoS, RetainHandling, SubscriptionOptions};
use std::time::Duration;

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// Collect every PUBLISH for a short while, acknowledging each.
async fn drain(c: &mut Raw) -> Vec<mq::protocol::Publish> {
    let mut got = Vec::new();
    loop {
        match c.recv(Duration::from_millis(350)).await {
            Event::Packet(Packet::Publish(m)) => {
                c.ack(&m).await;
                got.push(m);
            }
            Event::Timeout => return got,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// 3.1.1 [MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] [MQTT-3.3.1-9]: a retained
/// message is stored and sent to a new subscription with RETAIN 1; a message
/// forwarded to an established subscription has RETAIN 0, however it was published.
#[tokio::test]
async fn v311_retain_flag_on_subscribe_vs_forwarding_mqtt_3_3_1_8_mqtt_3_3_1_9() {
    let b = broker::start().await;
    let mut p = Raw::v311(b.addr, "pub").await;
    p.publish_retained("r/a", b"v1", QoS::AtLeastOnce).await;
    let mut s = Raw::v311(b.addr, "sub").await;
    s.subscribe("r/#", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"v1");
    assert!(
        m.retain,
        "sent because of a new subscription: RETAIN 1 [MQTT-3.3.1-8]"
    );
    p.publish_retained("r/a", b"v2", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"v2");
    assert!(
        !m.retain,
        "forwarded to an established subscription: RETAIN 0 [MQTT-3.3.1-9]"
    );
}

/// 5.0 [MQTT-3.3.1-5] [MQTT-3.3.1-9]: stored, sent on subscribe (Retain Handling 0)
/// with RETAIN 1, and with Retain As Published 0 forwarded live with RETAIN 0
/// [MQTT-3.3.1-12].
#[tokio::test]
async fn v5_retained_on_subscribe_and_rap0_forwarding_mqtt_3_3_1_12() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("r/a", b"v1", QoS::AtLeastOnce).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    s.subscribe("r/a", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"v1");
    assert!(
        m.retain,
        "retained message sent on subscribe has RETAIN 1 (section 3.3.1.3)"
    );
    p.publish_retained("r/a", b"v2", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert!(!m.retain, "Retain As Published 0: RETAIN 0 [MQTT-3.3.1-12]");
}

/// 5.0 [MQTT-3.3.1-13] Retain As Published 1 keeps the RETAIN flag of the
/// received PUBLISH when forwarding.
#[tokio::test]
async fn v5_retain_as_published_mqtt_3_3_1_13() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "sub").await;
    let opts = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        retain_as_published: true,
        ..Default::default()
    };
    s.subscribe_with(&[("rap/t", opts)], Properties::default())
        .await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("rap/t", b"kept", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert!(m.retain, "RETAIN 1 as published [MQTT-3.3.1-13]");
    p.publish("rap/t", b"plain", QoS::AtLeastOnce).await;
    let m = s.expect_publish_acked().await;
    assert!(!m.retain, "RETAIN 0 as published [MQTT-3.3.1-13]");
}

async fn replace(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut p = Raw::client(b.addr, version, "pub").await;
    p.publish_retained("rep/t", b"old", QoS::AtLeastOnce).await;
    p.publish_retained("rep/t", b"new", QoS::AtMostOnce).await;
    // A non-retained message neither replaces nor removes it.
    p.publish("rep/t", b"not retained", QoS::AtLeastOnce).await;
    let mut s = Raw::client(b.addr, version, "sub").await;
    s.subscribe("rep/t", QoS::AtLeastOnce).await;
    let got = drain(&mut s).await;
    assert_eq!(
        got.len(),
        1,
        "exactly one retained message per topic: {got:?}"
    );
    assert_eq!(&got[0].payload[..], b"new", "the last retained message");
}

/// 3.1.1 [MQTT-3.3.1-5] [MQTT-3.3.1-7] [MQTT-3.3.1-12]: a new retained message (even
/// QoS 0) replaces the old one; a non-retained one does not touch it.
#[tokio::test]
async fn v311_retained_replace_mqtt_3_3_1_7_mqtt_3_3_1_12() {
    replace(V3).await;
}

/// 5.0 [MQTT-3.3.1-5] [MQTT-3.3.1-8]: replace, and RETAIN 0 does not replace.
#[tokio::test]
async fn v5_retained_replace_mqtt_3_3_1_5_mqtt_3_3_1_8() {
    replace(V5).await;
}

async fn delete(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut p = Raw::client(b.addr, version, "pub").await;
    p.publish_retained("del/t", b"here", QoS::AtLeastOnce).await;
    let mut live = Raw::client(b.addr, version, "live").await;
    live.subscribe("del/t", QoS::AtLeastOnce).await;
    assert_eq!(&live.expect_publish_acked().await.payload[..], b"here");
    p.publish_retained("del/t", b"", QoS::AtLeastOnce).await;
    // The empty retained message is processed normally: forwarded to subscribers.
    let m = live.expect_publish_acked().await;
    assert!(
        m.payload.is_empty(),
        "empty retained message forwarded normally"
    );
    let mut s = Raw::client(b.addr, version, "late").await;
    s.subscribe("del/t", QoS::AtLeastOnce).await;
    s.expect_no_publish(QUIET).await;
}

/// 3.1.1 [MQTT-3.3.1-10] [MQTT-3.3.1-11]: an empty retained payload removes the
/// retained message and is not stored itself.
#[tokio::test]
async fn v311_retained_delete_empty_payload_mqtt_3_3_1_10() {
    delete(V3).await;
}

/// 5.0 [MQTT-3.3.1-6] [MQTT-3.3.1-7]: an empty retained payload deletes.
#[tokio::test]
async fn v5_retained_delete_empty_payload_mqtt_3_3_1_6() {
    delete(V5).await;
}

/// Retained messages on every topic matching a wildcard are sent, each once, at the
/// lower of the message's and the subscription's QoS ([MQTT-3.8.4-8] / 3.1.1
/// [MQTT-3.8.4-6]).
#[tokio::test]
async fn retained_wildcard_and_qos_min_mqtt_3_3_1_6() {
    let b = broker::start().await;
    let mut p = Raw::v311(b.addr, "pub").await;
    p.publish_retained("w/a", b"a", QoS::ExactlyOnce).await;
    p.publish_retained("w/b/c", b"c", QoS::AtMostOnce).await;
    p.publish_retained("other", b"o", QoS::AtLeastOnce).await;
    let mut s = Raw::v311(b.addr, "sub").await;
    s.subscribe("w/#", QoS::AtLeastOnce).await;
    let mut got = drain(&mut s).await;
    got.sort_by(|x, y| x.topic.cmp(&y.topic));
    assert_eq!(got.len(), 2, "both retained topics under w/: {got:?}");
    assert_eq!(&*got[0].topic, "w/a");
    assert_eq!(
        got[0].qos,
        QoS::AtLeastOnce,
        "QoS 2 message to a QoS 1 subscription"
    );
    assert_eq!(&*got[1].topic, "w/b/c");
    assert_eq!(got[1].qos, QoS::AtMostOnce, "QoS 0 message stays QoS 0");
    assert!(got.iter().all(|m| m.retain));
}

async fn sub_rh(c: &mut Raw, filter: &str, rh: RetainHandling) {
    let opts = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        retain_handling: rh,
        ..Default::default()
    };
    c.subscribe_with(&[(filter, opts)], Properties::default())
        .await;
}

/// 5.0 [MQTT-3.3.1-9] [MQTT-3.8.4-4] Retain Handling 0: retained messages are sent
/// on every SUBSCRIBE, including one that replaces an existing subscription.
#[tokio::test]
async fn v5_retain_handling_0_always_mqtt_3_3_1_9() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("rh/t", b"r", QoS::AtLeastOnce).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    sub_rh(&mut s, "rh/t", RetainHandling::SendAtSubscribe).await;
    assert_eq!(drain(&mut s).await.len(), 1);
    sub_rh(&mut s, "rh/t", RetainHandling::SendAtSubscribe).await;
    assert_eq!(
        drain(&mut s).await.len(),
        1,
        "re-sent on the replacing SUBSCRIBE"
    );
}

/// 5.0 [MQTT-3.3.1-10] Retain Handling 1: sent only if the subscription is new.
#[tokio::test]
async fn v5_retain_handling_1_only_new_mqtt_3_3_1_10() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("rh/t", b"r", QoS::AtLeastOnce).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    sub_rh(&mut s, "rh/t", RetainHandling::SendIfNew).await;
    assert_eq!(drain(&mut s).await.len(), 1, "new subscription: sent");
    sub_rh(&mut s, "rh/t", RetainHandling::SendIfNew).await;
    assert_eq!(
        drain(&mut s).await.len(),
        0,
        "existing subscription: not sent"
    );
}

/// 5.0 [MQTT-3.3.1-11] Retain Handling 2: never sent at subscribe; live messages
/// still flow.
#[tokio::test]
async fn v5_retain_handling_2_never_mqtt_3_3_1_11() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("rh/t", b"r", QoS::AtLeastOnce).await;
    let mut s = Raw::v5(b.addr, "sub").await;
    sub_rh(&mut s, "rh/t", RetainHandling::DoNotSend).await;
    assert_eq!(
        drain(&mut s).await.len(),
        0,
        "Retain Handling 2: nothing at subscribe"
    );
    p.publish("rh/t", b"live", QoS::AtLeastOnce).await;
    assert_eq!(&s.expect_publish_acked().await.payload[..], b"live");
}

/// 3.1.1 [MQTT-3.3.1-6]: a retained message is sent to a matching subscription made
/// by another client even when the publisher has gone.
#[tokio::test]
async fn retained_outlives_publisher_mqtt_3_3_1_6() {
    let b = broker::start().await;
    let mut p = Raw::v311(b.addr, "pub").await;
    p.publish_retained("gone/t", b"still here", QoS::AtLeastOnce)
        .await;
    p.disconnect().await;
    let mut s = Raw::v311(b.addr, "sub").await;
    s.subscribe("gone/+", QoS::AtMostOnce).await;
    let m = s.expect_publish().await;
    assert_eq!(&m.payload[..], b"still here");
}

/// Retained messages go through the same matching rules as live ones: `#` matches
/// the parent level [MQTT-4.7.1-1], `+` one level [MQTT-4.7.1-2], and a leading
/// wildcard never matches a `$` topic [MQTT-4.7.2-1].
#[tokio::test]
async fn retained_matching_rules_mqtt_4_7_2_1() {
    let b = broker::start().await;
    let mut p = Raw::v311(b.addr, "pub").await;
    for t in ["sport", "sport/a", "sport/a/b", "$x/t", "$x", "x/t"] {
        p.publish_retained(t, t.as_bytes(), QoS::AtMostOnce).await;
    }
    for (filter, want) in [
        ("sport/#", vec!["sport", "sport/a", "sport/a/b"]),
        ("sport/+", vec!["sport/a"]),
        ("+/t", vec!["x/t"]),
        ("#", vec!["sport", "sport/a", "sport/a/b", "x/t"]),
        ("$x/#", vec!["$x", "$x/t"]),
    ] {
        let mut s = Raw::v311(b.addr, "sub").await;
        s.subscribe(filter, QoS::AtMostOnce).await;
        let mut got: Vec<String> = drain(&mut s)
            .await
            .iter()
            .map(|m| m.topic.to_string())
            .collect();
        got.sort();
        assert_eq!(got, want, "retained messages for {filter:?}");
    }
}
