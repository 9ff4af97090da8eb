//! CONNECT and CONNACK (section 3.1 and 3.2 of both specifications): the first
//! packet, a second CONNECT, protocol name and level, the reserved flag, empty client
//! identifiers, session takeover, CONNECT properties and limits. Keep alive and the
//! CONNECT timeout are in `timeouts.rs`.

use crate::broker;
use crate::raw::{self, Event, QUIET, Raw, WAIT, connect, connect_body, frame};
use mq::protocol::{Packet, Properties, ProtocolVersion, QoS, ReasonCode};

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// The connection must close without the broker answering anything but (maybe) a
/// refusing CONNACK: checks the raw bytes.
fn assert_no_accepting_connack(bytes: &[u8], what: &str) {
    if bytes.is_empty() {
        return;
    }
    assert_eq!(
        bytes[0], 0x20,
        "{what}: only a CONNACK may precede the close: {bytes:02X?}"
    );
    assert!(
        bytes.len() >= 4 && bytes[3] != 0,
        "{what}: the broker accepted the connection: {bytes:02X?}"
    );
    assert_eq!(
        bytes[2], 0,
        "{what}: a refusing CONNACK has Session Present 0 [MQTT-3.2.2-6] (3.1.1 \
         [MQTT-3.2.2-4]): {bytes:02X?}"
    );
}

async fn first_packet_not_connect(version: ProtocolVersion, packet: Packet) {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, version).await;
    c.send(&packet).await;
    // Nothing at all may be sent: no CONNACK (there was no CONNECT) and no
    // DISCONNECT before a CONNACK [MQTT-3.14.0-1].
    let bytes = c.expect_closed_raw(WAIT).await;
    assert!(
        bytes.is_empty(),
        "broker answered a non-CONNECT first packet: {bytes:02X?}"
    );
}

/// [MQTT-3.1.0-1] The first packet must be CONNECT: a PUBLISH first closes.
#[tokio::test]
async fn first_packet_publish_closes_mqtt_3_1_0_1() {
    first_packet_not_connect(
        V3,
        Packet::Publish(raw::publish("a", b"x", QoS::AtMostOnce)),
    )
    .await;
}

/// [MQTT-3.1.0-1] A PINGREQ before CONNECT closes the connection.
#[tokio::test]
async fn first_packet_pingreq_closes_mqtt_3_1_0_1() {
    first_packet_not_connect(V3, Packet::PingReq).await;
}

/// [MQTT-3.1.0-1] A SUBSCRIBE before CONNECT closes the connection (5.0 encoding).
#[tokio::test]
async fn first_packet_subscribe_closes_v5_mqtt_3_1_0_1() {
    let sub = mq::protocol::Subscribe {
        packet_id: 1,
        filters: vec![mq::protocol::SubscribeFilter {
            filter: "#".into(),
            options: Default::default(),
        }],
        properties: Properties::default(),
    };
    first_packet_not_connect(V5, Packet::Subscribe(sub)).await;
}

async fn second_connect(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut c = Raw::client(b.addr, version, "twice").await;
    c.send(&Packet::Connect(Box::new(connect(version, "twice"))))
        .await;
    let got = c.expect_closed(WAIT).await;
    for p in &got {
        match p {
            // 5.0: DISCONNECT with Protocol Error is allowed before the close.
            Packet::Disconnect(d) if version == V5 => {
                assert_eq!(
                    d.reason,
                    ReasonCode::PROTOCOL_ERROR,
                    "second CONNECT reason"
                )
            }
            other => panic!("second CONNECT: unexpected {other:?} before the close"),
        }
    }
}

/// [MQTT-3.1.0-2] A second CONNECT is a protocol violation: the broker closes (3.1.1).
#[tokio::test]
async fn second_connect_closes_v311_mqtt_3_1_0_2() {
    second_connect(V3).await;
}

/// [MQTT-3.1.0-2] A second CONNECT is a Protocol Error: the broker closes (5.0).
#[tokio::test]
async fn second_connect_closes_v5_mqtt_3_1_0_2() {
    second_connect(V5).await;
}

/// [MQTT-3.1.2-2] (3.1.1) An unsupported protocol level gets CONNACK return code
/// 0x01 and the connection closes; (5.0) CONNACK 0x84 is the 5.0 form of the same.
#[tokio::test]
async fn unsupported_protocol_level_connack_0x01_mqtt_3_1_2_2() {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(&frame(0x10, &connect_body(b"MQTT", 6, 0x02, b"lvl6")))
        .await;
    let bytes = c.expect_closed_raw(WAIT).await;
    assert!(
        bytes == [0x20, 0x02, 0x00, 0x01] || bytes.starts_with(&[0x20, 0x03, 0x00, 0x84]),
        "expected CONNACK 0x01 (3.1.1) or 0x84 (5.0) then close, got {bytes:02X?}"
    );
}

/// [MQTT-3.1.2-2] Protocol level 0 is not a version either.
#[tokio::test]
async fn protocol_level_zero_refused_mqtt_3_1_2_2() {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(&frame(0x10, &connect_body(b"MQTT", 0, 0x02, b"lvl0")))
        .await;
    let bytes = c.expect_closed_raw(WAIT).await;
    assert!(
        bytes == [0x20, 0x02, 0x00, 0x01] || bytes.starts_with(&[0x20, 0x03, 0x00, 0x84]),
        "expected CONNACK 0x01 (3.1.1) or 0x84 (5.0) then close, got {bytes:02X?}"
    );
}

/// [MQTT-3.1.2-1] A protocol name other than "MQTT" is not processed as MQTT: the
/// broker closes (possibly after a refusing CONNACK), never accepts.
#[tokio::test]
async fn invalid_protocol_name_closes_mqtt_3_1_2_1() {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(&frame(0x10, &connect_body(b"MQTX", 4, 0x02, b"name")))
        .await;
    let bytes = c.expect_closed_raw(WAIT).await;
    assert_no_accepting_connack(&bytes, "protocol name MQTX");
}

/// [MQTT-3.1.2-3] The reserved CONNECT flag must be 0: set, the broker closes (3.1.1).
#[tokio::test]
async fn reserved_connect_flag_closes_v311_mqtt_3_1_2_3() {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(&frame(0x10, &connect_body(b"MQTT", 4, 0x03, b"resv")))
        .await;
    let bytes = c.expect_closed_raw(WAIT).await;
    assert_no_accepting_connack(&bytes, "reserved CONNECT flag");
}

/// [MQTT-3.1.2-3] The reserved CONNECT flag must be 0: set, the broker closes (5.0).
#[tokio::test]
async fn reserved_connect_flag_closes_v5_mqtt_3_1_2_3() {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, V5).await;
    c.send_bytes(&frame(0x10, &connect_body(b"MQTT", 5, 0x03, b"resv")))
        .await;
    let bytes = c.expect_closed_raw(WAIT).await;
    assert_no_accepting_connack(&bytes, "reserved CONNECT flag");
}

/// [MQTT-3.1.3-6] (3.1.1) A zero-byte client id with Clean Session 1 is accepted and
/// the client can work.
#[tokio::test]
async fn v311_empty_client_id_clean_accepted_mqtt_3_1_3_6() {
    let b = broker::start().await;
    let (mut c, ack) = Raw::connect_ok(b.addr, connect(V3, "")).await;
    assert!(
        !ack.session_present,
        "clean session: session present 0 [MQTT-3.2.2-1]"
    );
    c.subscribe("e/t", QoS::AtLeastOnce).await;
    c.publish("e/t", b"me", QoS::AtLeastOnce).await;
    let p = c.expect_publish().await;
    assert_eq!(&p.payload[..], b"me");
}

/// [MQTT-3.1.3-8] (3.1.1) A zero-byte client id with Clean Session 0 gets CONNACK
/// return code 0x02 (identifier rejected) and the connection closes.
#[tokio::test]
async fn v311_empty_client_id_persistent_rejected_0x02_mqtt_3_1_3_8() {
    let b = broker::start().await;
    let mut con = connect(V3, "");
    con.clean_start = false;
    let mut c = Raw::open(b.addr, V3).await;
    c.send(&Packet::Connect(Box::new(con))).await;
    let bytes = c.expect_closed_raw(WAIT).await;
    assert_eq!(
        bytes,
        [0x20, 0x02, 0x00, 0x02],
        "expected CONNACK 0x02 then close [MQTT-3.1.3-8] [MQTT-3.2.2-5]"
    );
}

/// [MQTT-3.1.3-7] [MQTT-3.2.2-16] (5.0) A zero-length client id gets an Assigned
/// Client Identifier in CONNACK, unique among sessions.
#[tokio::test]
async fn v5_empty_client_id_assigned_mqtt_3_2_2_16() {
    let b = broker::start().await;
    let (mut c1, a1) = Raw::connect_ok(b.addr, connect(V5, "")).await;
    let (mut c2, a2) = Raw::connect_ok(b.addr, connect(V5, "")).await;
    let id1 = a1
        .properties
        .assigned_client_identifier
        .clone()
        .expect("CONNACK carries an Assigned Client Identifier [MQTT-3.2.2-16]");
    let id2 = a2
        .properties
        .assigned_client_identifier
        .clone()
        .expect("CONNACK carries an Assigned Client Identifier [MQTT-3.2.2-16]");
    assert!(!id1.is_empty(), "assigned id not empty");
    assert_ne!(id1, id2, "assigned ids are unique [MQTT-3.2.2-16]");
    // Both connections stay usable: the second did not take over the first.
    c1.ping().await;
    c2.ping().await;
}

/// [MQTT-3.1.3-5] The broker accepts any 1..23 byte alphanumeric client id.
#[tokio::test]
async fn client_id_23_alnum_accepted_mqtt_3_1_3_5() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "abcdefghijklmnopqrstuvW").await;
    c.ping().await;
    let mut c = Raw::v311(b.addr, "0").await;
    c.ping().await;
}

/// [MQTT-3.12.4-1] PINGREQ gets PINGRESP, in both versions.
#[tokio::test]
async fn pingreq_gets_pingresp_mqtt_3_12_4_1() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "ping3").await;
    c.ping().await;
    let mut c = Raw::v5(b.addr, "ping5").await;
    c.ping().await;
}

/// [MQTT-3.1.4-2] (3.1.1) A second connection with the same client id takes over:
/// the first is closed, the second works.
#[tokio::test]
async fn v311_takeover_closes_old_connection_mqtt_3_1_4_2() {
    let b = broker::start().await;
    let mut old = Raw::v311(b.addr, "dup").await;
    let mut new = Raw::v311(b.addr, "dup").await;
    let got = old.expect_closed(WAIT).await;
    assert!(got.is_empty(), "3.1.1 has no server DISCONNECT: {got:?}");
    new.ping().await;
}

/// [MQTT-3.1.4-3] (5.0) Takeover: DISCONNECT 0x8E (Session taken over) to the old
/// connection, which is closed.
#[tokio::test]
async fn v5_takeover_disconnect_0x8e_mqtt_3_1_4_3() {
    let b = broker::start().await;
    let mut old = Raw::v5(b.addr, "dup5").await;
    let mut new = Raw::v5(b.addr, "dup5").await;
    let reason = old.expect_disconnect(WAIT).await;
    assert_eq!(
        reason,
        Some(ReasonCode::SESSION_TAKEN_OVER),
        "DISCONNECT 0x8E"
    );
    new.ping().await;
}

async fn takeover_publishes_will(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut sub = Raw::client(b.addr, version, "watcher").await;
    sub.subscribe("will/takeover", QoS::AtLeastOnce).await;
    let mut con = connect(version, "victim");
    con.will = Some(raw::will("will/takeover", b"gone", QoS::AtLeastOnce, false));
    let (mut old, _) = Raw::connect_ok(b.addr, con).await;
    let (_new, _) = Raw::connect_ok(b.addr, connect(version, "victim")).await;
    old.expect_closed(WAIT).await;
    let p = sub.expect_publish_acked().await;
    assert_eq!(&*p.topic, "will/takeover");
    assert_eq!(&p.payload[..], b"gone");
}

/// [MQTT-3.1.2-8] (3.1.1) The old connection of a takeover is closed without
/// DISCONNECT, so its will is published.
#[tokio::test]
async fn v311_takeover_publishes_will_mqtt_3_1_2_8_mqtt_3_1_4_2() {
    takeover_publishes_will(V3).await;
}

/// [MQTT-3.1.2-8] (5.0) With no Will Delay, the taken-over connection's will is
/// published.
#[tokio::test]
async fn v5_takeover_publishes_will_mqtt_3_1_2_8_mqtt_3_1_4_3() {
    takeover_publishes_will(V5).await;
}

/// [MQTT-3.1.4-5] (3.1.1) / [MQTT-3.1.4-6] (5.0): after a refusing CONNACK the
/// broker processes nothing the client sent after CONNECT (here a retained
/// PUBLISH in the same segment must not be stored).
#[tokio::test]
async fn refused_connect_processes_nothing_after_mqtt_3_1_4_5_mqtt_3_1_4_6() {
    let b = broker::start().await;
    let mut con = connect(V3, "");
    con.clean_start = false;
    let mut bytes = raw::bytes_of(&Packet::Connect(Box::new(con)), V3);
    let mut p = raw::publish("refused/retained", b"must not be stored", QoS::AtMostOnce);
    p.retain = true;
    bytes.extend(raw::bytes_of(&Packet::Publish(p), V3));
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(&bytes).await;
    let got = c.expect_closed_raw(WAIT).await;
    assert_eq!(got, [0x20, 0x02, 0x00, 0x02], "CONNACK 0x02 then close");
    let mut s = Raw::v311(b.addr, "checker").await;
    s.subscribe("refused/#", QoS::AtMostOnce).await;
    s.expect_no_publish(QUIET).await;
}

/// [MQTT-3.2.0-2] Only one CONNACK per connection, and CONNACK comes first
/// [MQTT-3.2.0-1]: a client that pipelines SUBSCRIBE right after CONNECT gets
/// CONNACK, then SUBACK.
#[tokio::test]
async fn connack_first_then_pipelined_suback_mqtt_3_2_0_1() {
    let b = broker::start().await;
    let mut bytes = raw::bytes_of(&Packet::Connect(Box::new(connect(V5, "pipe"))), V5);
    let sub = mq::protocol::Subscribe {
        packet_id: 7,
        filters: vec![mq::protocol::SubscribeFilter {
            filter: "p/q".into(),
            options: Default::default(),
        }],
        properties: Properties::default(),
    };
    bytes.extend(raw::bytes_of(&Packet::Subscribe(sub), V5));
    let mut c = Raw::open(b.addr, V5).await;
    c.send_bytes(&bytes).await;
    match c.expect_packet(WAIT).await {
        Packet::ConnAck(a) => assert_eq!(a.reason, ReasonCode::SUCCESS),
        other => panic!("expected CONNACK first, got {other:?}"),
    }
    match c.expect_packet(WAIT).await {
        Packet::SubAck(a) => assert_eq!(a.packet_id, 7),
        other => panic!("expected SUBACK, got {other:?}"),
    }
    match c.recv(QUIET).await {
        Event::Timeout => {}
        other => panic!("nothing more expected, got {other:?}"),
    }
}

/// 5.0 section 3.1.2.11.3: Receive Maximum 0 in CONNECT is a Protocol Error: no
/// accepting CONNACK, the connection closes.
#[tokio::test]
async fn v5_receive_maximum_zero_refused() {
    let b = broker::start().await;
    let mut con = connect(V5, "rm0");
    con.properties.receive_maximum = Some(0);
    let mut c = Raw::open(b.addr, V5).await;
    c.send(&Packet::Connect(Box::new(con))).await;
    let bytes = c.expect_closed_raw(WAIT).await;
    assert_no_accepting_connack(&bytes, "Receive Maximum 0");
}

/// 5.0 section 3.1.2.11.4: Maximum Packet Size 0 in CONNECT is a Protocol Error.
#[tokio::test]
async fn v5_maximum_packet_size_zero_refused() {
    let b = broker::start().await;
    let mut con = connect(V5, "mps0");
    con.properties.maximum_packet_size = Some(0);
    let mut c = Raw::open(b.addr, V5).await;
    c.send(&Packet::Connect(Box::new(con))).await;
    let bytes = c.expect_closed_raw(WAIT).await;
    assert_no_accepting_connack(&bytes, "Maximum Packet Size 0");
}

/// [MQTT-3.1.2-28] No Response Information unless requested; [MQTT-4.12.0-6] no
/// Authentication Method in CONNACK when the client sent none.
#[tokio::test]
async fn v5_connack_has_no_unrequested_properties_mqtt_3_1_2_28_mqtt_4_12_0_6() {
    let b = broker::start().await;
    let (_c, ack) = Raw::connect_ok(b.addr, connect(V5, "plain")).await;
    assert!(
        ack.properties.response_information.is_none(),
        "[MQTT-3.1.2-28]"
    );
    assert!(
        ack.properties.authentication_method.is_none(),
        "[MQTT-4.12.0-6]"
    );
    assert!(
        ack.properties.authentication_data.is_none(),
        "[MQTT-4.12.0-6]"
    );
    assert!(
        !ack.session_present,
        "Clean Start 1: Session Present 0 [MQTT-3.2.2-2]"
    );
}

/// [MQTT-4.12.0-1] An unsupported Authentication Method: CONNACK 0x8C or 0x87 (or
/// just a close), never success.
#[tokio::test]
async fn v5_unsupported_auth_method_refused_mqtt_4_12_0_1() {
    let b = broker::start().await;
    let mut con = connect(V5, "auth");
    con.properties.authentication_method = Some("SCRAM-SHA-42".into());
    let mut c = Raw::open(b.addr, V5).await;
    c.send(&Packet::Connect(Box::new(con))).await;
    let got = c.expect_closed(WAIT).await;
    for p in got {
        match p {
            Packet::ConnAck(a) => assert!(
                a.reason == ReasonCode::BAD_AUTHENTICATION_METHOD
                    || a.reason == ReasonCode::NOT_AUTHORIZED,
                "CONNACK {:?}",
                a.reason
            ),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// `max_connections`: a connection over the limit is refused (never accepted), and
/// the others keep working.
#[tokio::test]
async fn max_connections_refuses_extra_client() {
    let b = broker::start_with(mq::broker::Config {
        max_connections: Some(2),
        ..mq::broker::Config::default()
    })
    .await;
    let mut c1 = Raw::v311(b.addr, "one").await;
    let mut c2 = Raw::v5(b.addr, "two").await;
    let mut c3 = Raw::open(b.addr, V3).await;
    c3.send(&Packet::Connect(Box::new(connect(V3, "three"))))
        .await;
    let bytes = c3.expect_closed_raw(WAIT).await;
    assert_no_accepting_connack(&bytes, "third connection with max_connections 2");
    c1.ping().await;
    c2.ping().await;
}

/// MQTT 3.1 clients (protocol name "MQIsdp", level 3) are accepted, like mosquitto
/// does for `mosquitto_pub -V mqttv31`.
#[tokio::test]
async fn mqtt_3_1_client_accepted() {
    let b = broker::start().await;
    let mut c = Raw::client(b.addr, ProtocolVersion::V31, "old31").await;
    c.subscribe("v31/t", QoS::AtLeastOnce).await;
    c.publish("v31/t", b"x", QoS::AtLeastOnce).await;
    assert_eq!(&c.expect_publish_acked().await.payload[..], b"x");
}

/// [MQTT-3.1.4-2] / [MQTT-3.1.4-3] Takeover under contention: twenty connections
/// with the same client id at once all get CONNACK, exactly one stays open, and
/// the broker keeps working.
#[tokio::test]
async fn concurrent_takeovers_leave_exactly_one_mqtt_3_1_4_3() {
    let b = broker::start().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let addr = b.addr;
        let version = if i % 2 == 0 { V5 } else { V3 };
        tasks.push(tokio::spawn(async move {
            Raw::connect_ok(addr, connect(version, "race")).await.0
        }));
    }
    let mut conns = Vec::new();
    for t in tasks {
        conns.push(t.await.expect("connect task"));
    }
    // Let the taken-over connections finish closing.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut open = 0;
    for c in &mut conns {
        c.send(&Packet::PingReq).await;
        loop {
            match c.recv(std::time::Duration::from_millis(500)).await {
                Event::Packet(Packet::PingResp) => {
                    open += 1;
                    break;
                }
                Event::Packet(Packet::Disconnect(d)) => {
                    assert_eq!(d.reason, ReasonCode::SESSION_TAKEN_OVER);
                }
                Event::Closed => break,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(
        open, 1,
        "exactly one connection for the client id stays open"
    );
    let mut other = Raw::v5(b.addr, "other").await;
    other.ping().await;
}
