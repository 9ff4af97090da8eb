//! Message expiry (5.0 section 3.3.2.3.3): expired messages are not delivered,
//! the remaining time is forwarded [MQTT-3.3.2-5] [MQTT-3.3.2-6].

use super::*;

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
