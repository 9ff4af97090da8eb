//! Topic aliases in both directions (5.0 section 3.3.2.3.4): the broker's Topic
//! Alias Maximum, the client's, and mappings that never outlive a connection.

use super::*;

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
