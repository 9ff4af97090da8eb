//! Sessions (3.1.1 sections 3.1.2.4 and 4.4; 5.0 sections 3.1.2.4, 3.1.2.11.2 and
//! 4.1): clean session / clean start, Session Present, messages queued while the
//! client is away, redelivery with DUP, session expiry.

use crate::broker;
use crate::raw::{Event, QUIET, Raw, WAIT, connect};
use mq::protocol::{Ack, ConnAck, Packet, Properties, ProtocolVersion, QoS, ReasonCode};
use std::net::SocketAddr;
use std::time::Duration;

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// Connect with Clean Session/Start `clean` (and, for 5.0, a session expiry).
async fn conn(
    addr: SocketAddr,
    version: ProtocolVersion,
    id: &str,
    clean: bool,
    expiry: Option<u32>,
) -> (Raw, ConnAck) {
    let mut c = connect(version, id);
    c.clean_start = clean;
    c.properties.session_expiry_interval = expiry;
    Raw::connect_ok(addr, c).await
}

/// A persistent session for `version`: Clean 0, and for 5.0 a session expiry.
async fn durable(addr: SocketAddr, version: ProtocolVersion, id: &str) -> (Raw, ConnAck) {
    let expiry = (version == V5).then_some(300);
    conn(addr, version, id, false, expiry).await
}

async fn session_present_flags(version: ProtocolVersion) {
    let b = broker::start().await;
    let (c, ack) = durable(b.addr, version, "dur").await;
    assert!(!ack.session_present, "no session yet: Session Present 0");
    drop(c);
    let (mut c, ack) = durable(b.addr, version, "dur").await;
    assert!(
        ack.session_present,
        "existing session resumed: Session Present 1"
    );
    c.ping().await;
    let (_c, ack) = conn(b.addr, version, "dur", true, None).await;
    assert!(!ack.session_present, "clean: Session Present 0");
}

/// 3.1.1 [MQTT-3.2.2-1] [MQTT-3.2.2-2] Session Present: 0 for a clean session and
/// for a new persistent session, 1 when a persistent session is resumed.
#[tokio::test]
async fn v311_session_present_mqtt_3_2_2_1_mqtt_3_2_2_2() {
    session_present_flags(V3).await;
}

/// 5.0 [MQTT-3.2.2-2] [MQTT-3.2.2-3] Session Present with Clean Start.
#[tokio::test]
async fn v5_session_present_mqtt_3_2_2_2_mqtt_3_2_2_3() {
    session_present_flags(V5).await;
}

async fn subscriptions_kept(version: ProtocolVersion) {
    let b = broker::start().await;
    let (mut c, _) = durable(b.addr, version, "keep").await;
    c.subscribe("keep/t", QoS::AtLeastOnce).await;
    c.disconnect().await;
    let (mut c, ack) = durable(b.addr, version, "keep").await;
    assert!(ack.session_present);
    let mut p = Raw::client(b.addr, version, "pub").await;
    p.publish("keep/t", b"x", QoS::AtLeastOnce).await;
    assert_eq!(
        &c.expect_publish_acked().await.payload[..],
        b"x",
        "subscription kept"
    );
}

/// 3.1.1 [MQTT-3.1.2-4] A resumed session keeps its subscriptions.
#[tokio::test]
async fn v311_resumed_session_keeps_subscriptions_mqtt_3_1_2_4() {
    subscriptions_kept(V3).await;
}

/// 5.0 [MQTT-3.1.2-5] A resumed session keeps its subscriptions.
#[tokio::test]
async fn v5_resumed_session_keeps_subscriptions_mqtt_3_1_2_5() {
    subscriptions_kept(V5).await;
}

async fn clean_discards(version: ProtocolVersion) {
    let b = broker::start().await;
    let (mut c, _) = durable(b.addr, version, "disc").await;
    c.subscribe("disc/t", QoS::AtLeastOnce).await;
    drop(c);
    let (mut c, ack) = conn(b.addr, version, "disc", true, None).await;
    assert!(!ack.session_present);
    let mut p = Raw::client(b.addr, version, "pub").await;
    p.publish("disc/t", b"x", QoS::AtLeastOnce).await;
    c.expect_no_publish(QUIET).await;
}

/// 3.1.1 [MQTT-3.1.2-6] Clean Session 1 discards the previous session.
#[tokio::test]
async fn v311_clean_session_discards_mqtt_3_1_2_6() {
    clean_discards(V3).await;
}

/// 5.0 [MQTT-3.1.2-4] Clean Start 1 discards the existing session.
#[tokio::test]
async fn v5_clean_start_discards_mqtt_3_1_2_4() {
    clean_discards(V5).await;
}

/// 3.1.1 [MQTT-3.1.2-6]: a clean session does not outlive its connection: a later
/// Clean Session 0 connection finds no session.
#[tokio::test]
async fn v311_clean_session_not_kept_after_close_mqtt_3_1_2_6() {
    let b = broker::start().await;
    let (mut c, _) = conn(b.addr, V3, "tmp", true, None).await;
    c.subscribe("tmp/t", QoS::AtLeastOnce).await;
    c.disconnect().await;
    let (_c, ack) = conn(b.addr, V3, "tmp", false, None).await;
    assert!(
        !ack.session_present,
        "the clean session ended with its connection"
    );
}

async fn queued_while_offline(version: ProtocolVersion) {
    let b = broker::start().await;
    let (mut c, _) = durable(b.addr, version, "away").await;
    c.subscribe("away/1", QoS::AtLeastOnce).await;
    c.subscribe("away/2", QoS::ExactlyOnce).await;
    c.disconnect().await;
    let mut p = Raw::client(b.addr, version, "pub").await;
    p.publish("away/1", b"one", QoS::AtLeastOnce).await;
    p.publish("away/2", b"two", QoS::ExactlyOnce).await;
    p.publish("away/1", b"three", QoS::AtLeastOnce).await;
    let (mut c, ack) = durable(b.addr, version, "away").await;
    assert!(ack.session_present);
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = c.expect_publish_acked().await;
        got.push(String::from_utf8_lossy(&m.payload).to_string());
    }
    assert_eq!(
        got,
        ["one", "two", "three"],
        "queued QoS 1/2 messages, in order"
    );
    c.expect_no_publish(QUIET).await;
}

/// 3.1.1 [MQTT-3.1.2-5] QoS 1 and 2 messages for a disconnected persistent session
/// are stored and delivered on reconnect.
#[tokio::test]
async fn v311_queued_qos12_while_offline_mqtt_3_1_2_5() {
    queued_while_offline(V3).await;
}

/// 5.0 [MQTT-3.1.2-23] [MQTT-4.5.0-1] Messages are queued in the session while the
/// client is away (session expiry not passed).
#[tokio::test]
async fn v5_queued_qos12_while_offline_mqtt_3_1_2_23() {
    queued_while_offline(V5).await;
}

async fn redelivery_with_dup(version: ProtocolVersion) {
    let b = broker::start().await;
    let (mut c, _) = durable(b.addr, version, "redo").await;
    c.subscribe("redo/t", QoS::AtLeastOnce).await;
    let mut p = Raw::client(b.addr, version, "pub").await;
    p.publish("redo/t", b"unacked", QoS::AtLeastOnce).await;
    let first = c.expect_publish().await;
    assert!(!first.dup);
    // Gone without PUBACK.
    c.drop_abruptly();
    let (mut c, ack) = durable(b.addr, version, "redo").await;
    assert!(ack.session_present);
    let again = c.expect_publish().await;
    assert_eq!(&again.payload[..], b"unacked");
    assert!(again.dup, "re-delivery has DUP 1 [MQTT-3.3.1-1]");
    assert_eq!(
        again.packet_id, first.packet_id,
        "re-sent with its original packet identifier [MQTT-4.4.0-1]"
    );
    c.ack(&again).await;
    c.expect_no_publish(QUIET).await;
}

/// 3.1.1 [MQTT-4.4.0-1] [MQTT-3.3.1-1] An unacknowledged QoS 1 PUBLISH is re-sent on
/// reconnect with DUP 1 and the same packet id.
#[tokio::test]
async fn v311_redelivery_with_dup_mqtt_4_4_0_1() {
    redelivery_with_dup(V3).await;
}

/// 5.0 [MQTT-4.4.0-1] [MQTT-3.3.1-1] The same in 5.0.
#[tokio::test]
async fn v5_redelivery_with_dup_mqtt_4_4_0_1() {
    redelivery_with_dup(V5).await;
}

/// [MQTT-4.4.0-1] [MQTT-4.3.3-6] (5.0) When PUBREL was already sent, the broker
/// re-sends the PUBREL on reconnect, not the PUBLISH.
#[tokio::test]
async fn v5_pubrel_resent_not_publish_mqtt_4_3_3_6() {
    let b = broker::start().await;
    let (mut c, _) = durable(b.addr, V5, "rel").await;
    c.subscribe("rel/t", QoS::ExactlyOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("rel/t", b"q2", QoS::ExactlyOnce).await;
    let m = c.expect_publish().await;
    c.send(&Packet::PubRec(Ack::new(m.packet_id))).await;
    match c.expect_packet(WAIT).await {
        Packet::PubRel(a) => assert_eq!(a.packet_id, m.packet_id),
        other => panic!("expected PUBREL, got {other:?}"),
    }
    c.drop_abruptly();
    let (mut c, ack) = durable(b.addr, V5, "rel").await;
    assert!(ack.session_present);
    match c.expect_packet(WAIT).await {
        Packet::PubRel(a) => assert_eq!(a.packet_id, m.packet_id, "PUBREL re-sent"),
        other => panic!("expected the PUBREL to be re-sent, got {other:?}"),
    }
    c.send(&Packet::PubComp(Ack::new(m.packet_id))).await;
    c.expect_no_publish(QUIET).await;
}

/// 5.0 [MQTT-4.1.0-2] The session is discarded when the Session Expiry Interval has
/// passed after the connection closed.
#[tokio::test]
async fn v5_session_expires_mqtt_4_1_0_2() {
    let b = broker::start().await;
    let (mut c, _) = conn(b.addr, V5, "exp", false, Some(1)).await;
    c.subscribe("exp/t", QoS::AtLeastOnce).await;
    c.disconnect().await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (mut c, ack) = conn(b.addr, V5, "exp", false, Some(1)).await;
    assert!(!ack.session_present, "the session expired after 1 s");
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("exp/t", b"x", QoS::AtLeastOnce).await;
    c.expect_no_publish(QUIET).await;
}

/// 5.0 [MQTT-3.1.2-23] Within the Session Expiry Interval the session is kept.
#[tokio::test]
async fn v5_session_kept_before_expiry_mqtt_3_1_2_23() {
    let b = broker::start().await;
    let (mut c, _) = conn(b.addr, V5, "exp", false, Some(5)).await;
    c.subscribe("exp/t", QoS::AtLeastOnce).await;
    c.disconnect().await;
    let (_c, ack) = conn(b.addr, V5, "exp", false, Some(5)).await;
    assert!(ack.session_present, "session kept within its expiry");
}

/// 5.0 section 3.1.2.11.2: no Session Expiry Interval (0) means the session ends
/// when the network connection closes.
#[tokio::test]
async fn v5_session_expiry_zero_ends_with_connection_mqtt_3_1_2_23() {
    let b = broker::start().await;
    let (mut c, _) = conn(b.addr, V5, "zero", false, None).await;
    c.subscribe("zero/t", QoS::AtLeastOnce).await;
    c.disconnect().await;
    let (_c, ack) = conn(b.addr, V5, "zero", false, None).await;
    assert!(
        !ack.session_present,
        "expiry 0: the session ended with the connection"
    );
}

/// 5.0 section 3.14.2.2.2: the Session Expiry Interval in DISCONNECT replaces the
/// one from CONNECT (here: set to 0, so the session ends now).
#[tokio::test]
async fn v5_disconnect_sets_session_expiry_zero_mqtt_3_14_2() {
    let b = broker::start().await;
    let (mut c, _) = conn(b.addr, V5, "dexp", false, Some(300)).await;
    c.subscribe("dexp/t", QoS::AtLeastOnce).await;
    let props = Properties {
        session_expiry_interval: Some(0),
        ..Properties::default()
    };
    c.disconnect_with(ReasonCode::SUCCESS, props).await;
    let _ = c.recv(Duration::from_millis(300)).await;
    let (_c, ack) = conn(b.addr, V5, "dexp", false, Some(300)).await;
    assert!(!ack.session_present, "DISCONNECT set the expiry to 0");
}

/// [MQTT-4.1.0-1] The session state is kept while the connection is open, however
/// long: a 5.0 client with expiry 0 stays subscribed.
#[tokio::test]
async fn session_kept_while_connected_mqtt_4_1_0_1() {
    let b = broker::start().await;
    let (mut c, _) = conn(b.addr, V5, "live", true, None).await;
    c.subscribe("live/t", QoS::AtMostOnce).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("live/t", b"x", QoS::AtMostOnce).await;
    match c.recv(WAIT).await {
        Event::Packet(Packet::Publish(m)) => assert_eq!(&m.payload[..], b"x"),
        other => panic!("expected the message, got {other:?}"),
    }
}

/// 5.0 [MQTT-4.4.0-2] A PUBACK with a reason code of 0x80 or more acknowledges the
/// message: it is not re-sent on reconnect.
#[tokio::test]
async fn v5_error_puback_is_acknowledgement_mqtt_4_4_0_2() {
    let b = broker::start().await;
    let (mut c, _) = durable(b.addr, V5, "refuser").await;
    c.subscribe("ref/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("ref/t", b"refused", QoS::AtLeastOnce).await;
    let m = c.expect_publish().await;
    c.send(&Packet::PubAck(Ack {
        packet_id: m.packet_id,
        reason: ReasonCode::UNSPECIFIED_ERROR,
        properties: Properties::default(),
    }))
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.drop_abruptly();
    let (mut c, ack) = durable(b.addr, V5, "refuser").await;
    assert!(ack.session_present);
    c.expect_no_publish(QUIET).await;
}

/// [MQTT-4.6.0-5] [MQTT-4.4.0-1] On reconnect the unacknowledged messages come
/// first (DUP 1, in their original order), then the ones queued while away.
#[tokio::test]
async fn v5_redelivery_then_queued_in_order_mqtt_4_6_0_5() {
    let b = broker::start().await;
    let (mut c, _) = durable(b.addr, V5, "order").await;
    c.subscribe("ord/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    for i in 1..=3u8 {
        p.publish("ord/t", &[i], QoS::AtLeastOnce).await;
    }
    for _ in 1..=3 {
        c.expect_publish().await;
    }
    c.drop_abruptly();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 4..=5u8 {
        p.publish("ord/t", &[i], QoS::AtLeastOnce).await;
    }
    let (mut c, ack) = durable(b.addr, V5, "order").await;
    assert!(ack.session_present);
    let mut got = Vec::new();
    for _ in 1..=5 {
        let m = c.expect_publish_acked().await;
        got.push((m.payload[0], m.dup));
    }
    assert_eq!(
        got,
        [(1, true), (2, true), (3, true), (4, false), (5, false)],
        "re-sent messages first with DUP 1, then the queued ones"
    );
}

/// [MQTT-4.4.0-1] Messages are re-sent only on reconnect: an unacknowledged QoS 1
/// PUBLISH is not re-sent on the same connection, however long the wait.
#[tokio::test]
async fn no_retransmission_on_same_connection_mqtt_4_4_0_1() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "patient").await;
    c.subscribe("nr/t", QoS::AtLeastOnce).await;
    let mut p = Raw::v311(b.addr, "pub").await;
    p.publish("nr/t", b"once", QoS::AtLeastOnce).await;
    let m = c.expect_publish().await;
    c.expect_nothing(Duration::from_millis(1600)).await;
    c.ack(&m).await;
    c.ping().await;
}

/// [MQTT-4.3.2-1] [MQTT-4.4.0-1] [MQTT-3.1.2-5] At-least-once across reconnects: a
/// persistent subscriber that drops its connection every few messages (without
/// acknowledging the last ones) still receives every QoS 1 message.
#[tokio::test]
async fn qos1_at_least_once_across_repeated_reconnects_mqtt_4_4_0_1() {
    let b = broker::start().await;
    let (mut s, _) = durable(b.addr, V5, "flaky").await;
    s.subscribe("alo/t", QoS::AtLeastOnce).await;
    const N: u16 = 120;
    let addr = b.addr;
    let publisher = tokio::spawn(async move {
        let mut p = Raw::v5(addr, "pub").await;
        for i in 0..N {
            p.publish("alo/t", &i.to_be_bytes(), QoS::AtLeastOnce).await;
            if i % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        p
    });
    let mut seen = vec![false; usize::from(N)];
    let mut rounds = 0;
    while seen.iter().any(|s| !s) {
        rounds += 1;
        assert!(rounds < 200, "messages never arrived: {:?}", missing(&seen));
        // Take up to 7 messages, acknowledge 5 of them, then vanish.
        for k in 0..7 {
            match s.recv(Duration::from_millis(500)).await {
                Event::Packet(Packet::Publish(m)) => {
                    let i = u16::from_be_bytes([m.payload[0], m.payload[1]]);
                    seen[usize::from(i)] = true;
                    if k < 5 {
                        s.ack(&m).await;
                    }
                }
                Event::Timeout => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        s.drop_abruptly();
        let (c, ack) = durable(b.addr, V5, "flaky").await;
        assert!(ack.session_present, "round {rounds}: the session was lost");
        s = c;
    }
    publisher.await.expect("publisher");
}

fn missing(seen: &[bool]) -> Vec<usize> {
    seen.iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i)
        .collect()
}

/// `persistent_client_expiration` (mosquitto): a 3.1.1 persistent session away for
/// longer than the limit is discarded.
#[tokio::test]
async fn persistent_client_expiration_discards_old_sessions() {
    let b = broker::start_with(mq::broker::Config {
        persistent_client_expiration: Some(Duration::from_secs(1)),
        ..mq::broker::Config::default()
    })
    .await;
    let (mut c, _) = durable(b.addr, V3, "old").await;
    c.subscribe("pce/t", QoS::AtLeastOnce).await;
    c.disconnect().await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let (_c, ack) = durable(b.addr, V3, "old").await;
    assert!(!ack.session_present, "the session expired after 1 s away");
}
