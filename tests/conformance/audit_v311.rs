//! An independent audit of the MQTT 3.1.1 server-side statements the rest of the
//! suite does not check (3.1.1 numbering): CONNECT flag and field consistency (a
//! malformed CONNECT is closed without any CONNACK [MQTT-3.1.4-1]), will QoS and
//! retain, acknowledgement order, one UNSUBACK for several filters, the longest topic.

use crate::audit_v5::{
    acks_in_order, longest_topic, unsubscribe_many, will_not_retained, will_qos_kept,
};
use crate::broker;
use crate::raw::{QUIET, Raw, WAIT, connect_body, field, frame};
use mq::protocol::{ProtocolVersion, QoS};

const V3: ProtocolVersion = ProtocolVersion::V311;

/// Send a hand-built CONNECT and insist the broker closes the connection without
/// sending anything, not even a CONNACK [MQTT-3.1.4-1].
async fn closed_without_connack(bytes: &[u8], what: &str) {
    let b = broker::start().await;
    let mut c = Raw::open(b.addr, V3).await;
    c.send_bytes(bytes).await;
    let got = c.expect_closed(WAIT).await;
    assert!(
        got.is_empty(),
        "{what}: a malformed CONNECT is closed without a CONNACK [MQTT-3.1.4-1], got {got:?}"
    );
    crate::malformed::broker_still_works(&b).await;
}

/// A 3.1.1 CONNECT with the will fields (topic, message) after the client id.
fn with_will_fields(flags: u8, client_id: &[u8], topic: &[u8]) -> Vec<u8> {
    let mut body = connect_body(b"MQTT", 4, flags, client_id);
    body.extend(field(topic));
    body.extend(field(b"gone"));
    body
}

/// [MQTT-3.1.2-14] Will QoS 3 with the Will Flag.
#[tokio::test]
async fn v311_will_qos3_closed_mqtt_3_1_2_14() {
    let body = with_will_fields(0x02 | 0x04 | 0x18, b"wq3", b"w/t");
    closed_without_connack(&frame(0x10, &body), "Will QoS 3").await;
}

/// [MQTT-3.1.2-15] Will Retain without the Will Flag.
#[tokio::test]
async fn v311_will_retain_without_will_flag_closed_mqtt_3_1_2_15() {
    let body = connect_body(b"MQTT", 4, 0x02 | 0x20, b"wr");
    closed_without_connack(&frame(0x10, &body), "Will Retain without Will Flag").await;
}

/// [MQTT-3.1.2-9] The Will Flag set but no Will Topic and Will Message.
#[tokio::test]
async fn v311_will_flag_without_will_fields_closed_mqtt_3_1_2_9() {
    let body = connect_body(b"MQTT", 4, 0x02 | 0x04, b"wf");
    closed_without_connack(&frame(0x10, &body), "Will Flag without will").await;
}

/// [MQTT-3.1.2-19] User Name Flag set but no User Name.
#[tokio::test]
async fn v311_user_name_flag_without_user_name_closed_mqtt_3_1_2_19() {
    let body = connect_body(b"MQTT", 4, 0x02 | 0x80, b"un");
    closed_without_connack(&frame(0x10, &body), "User Name Flag, no name").await;
}

/// [MQTT-3.1.2-18] User Name Flag clear but a User Name present.
#[tokio::test]
async fn v311_user_name_without_flag_closed_mqtt_3_1_2_18() {
    let mut body = connect_body(b"MQTT", 4, 0x02, b"un2");
    body.extend(field(b"someone"));
    closed_without_connack(&frame(0x10, &body), "User Name without flag").await;
}

/// [MQTT-3.1.2-21] Password Flag set but no Password.
#[tokio::test]
async fn v311_password_flag_without_password_closed_mqtt_3_1_2_21() {
    let mut body = connect_body(b"MQTT", 4, 0x02 | 0x80 | 0x40, b"pw");
    body.extend(field(b"user"));
    closed_without_connack(&frame(0x10, &body), "Password Flag, no password").await;
}

/// [MQTT-3.1.3-11] The User Name must be valid UTF-8.
#[tokio::test]
async fn v311_invalid_utf8_user_name_closed_mqtt_3_1_3_11() {
    let mut body = connect_body(b"MQTT", 4, 0x02 | 0x80, b"utf");
    body.extend(field(&[0xED, 0xA0, 0x80]));
    closed_without_connack(&frame(0x10, &body), "invalid UTF-8 User Name").await;
}

/// [MQTT-3.1.2-3] [MQTT-3.1.4-1] The reserved CONNECT flag: closed without CONNACK.
#[tokio::test]
async fn v311_reserved_flag_closed_without_connack_mqtt_3_1_4_1() {
    let body = connect_body(b"MQTT", 4, 0x02 | 0x01, b"rsv");
    closed_without_connack(&frame(0x10, &body), "reserved CONNECT flag").await;
}

/// [MQTT-3.1.3-10] [MQTT-4.7.0-1] The Will Topic is a topic name: no wildcards.
#[tokio::test]
async fn v311_will_topic_with_wildcard_closed_mqtt_3_1_3_10() {
    let body = with_will_fields(0x02 | 0x04, b"wt", b"will/+");
    closed_without_connack(&frame(0x10, &body), "will topic with '+'").await;
}

/// [MQTT-3.1.2-16] Will Retain 0: the will is published as a non-retained message.
#[tokio::test]
async fn v311_will_retain_0_not_retained_mqtt_3_1_2_16() {
    will_not_retained(V3).await;
}

/// [MQTT-3.1.2-14] The will is published at its Will QoS.
#[tokio::test]
async fn v311_will_qos_kept_mqtt_3_1_2_14() {
    will_qos_kept(V3).await;
}

/// [MQTT-4.6.0-2] [MQTT-4.6.0-3] [MQTT-4.6.0-4] Acknowledgement order.
#[tokio::test]
async fn v311_acks_in_order_mqtt_4_6_0_2_mqtt_4_6_0_3_mqtt_4_6_0_4() {
    acks_in_order(V3).await;
}

/// [MQTT-3.10.4-6] Several filters in one UNSUBSCRIBE: one UNSUBACK.
#[tokio::test]
async fn v311_unsubscribe_many_filters_one_unsuback_mqtt_3_10_4_6() {
    unsubscribe_many(V3).await;
}

/// [MQTT-4.7.3-3] A 65,535-byte topic name is valid.
#[tokio::test]
async fn v311_longest_topic_delivered_mqtt_4_7_3_3() {
    longest_topic(V3).await;
}

/// 3.1.1 [MQTT-3.8.4-3] A SUBSCRIBE replacing an existing subscription re-sends the
/// retained messages matching its filter (with RETAIN 1 [MQTT-3.3.1-8]).
#[tokio::test]
async fn v311_resubscribe_resends_retained_mqtt_3_8_4_3() {
    let b = broker::start().await;
    let mut p = Raw::v311(b.addr, "rs-pub").await;
    p.publish_retained("rs/t", b"kept", QoS::AtLeastOnce).await;
    let mut s = Raw::v311(b.addr, "rs-sub").await;
    for round in 0..2 {
        s.subscribe("rs/+", QoS::AtLeastOnce).await;
        let m = s.expect_publish_acked().await;
        assert!(
            m.retain && &m.payload[..] == b"kept",
            "round {round}: {m:?}"
        );
        s.expect_no_publish(QUIET).await;
    }
}

/// Section 4.7.2: PUBLISH to `$SYS` acknowledged but not forwarded.
#[tokio::test]
async fn v311_publish_to_sys_not_forwarded() {
    crate::audit_v5::publish_to_sys_denied(V3).await;
}

/// [MQTT-3.1.2-6] A Clean Session 1 session lasts as long as its connection: a
/// takeover with Clean Session 0 finds no session (and the will is sent).
#[tokio::test]
async fn v311_takeover_of_clean_session_finds_no_session_mqtt_3_1_2_6() {
    crate::audit_v5::takeover_of_expiry_zero_session_ends_it(V3).await;
}

/// [MQTT-3.3.1-2] DUP 1 with QoS 0: the connection is closed.
#[tokio::test]
async fn v311_dup_on_qos0_closes_mqtt_3_3_1_2() {
    crate::audit_v5::dup_on_qos0_closes(V3).await;
}

/// [MQTT-3.3.1-10] [MQTT-3.3.1-11] QoS 0 empty retained message deletes.
#[tokio::test]
async fn v311_qos0_empty_retained_deletes_mqtt_3_3_1_10() {
    crate::audit_v5::qos0_empty_retained_deletes(V3).await;
}
