//! Flow control (5.0 sections 3.3.4 and 4.9): Receive Maximum in both directions,
//! DISCONNECT 0x93, and the session state that counts towards it.

use super::*;

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
