//! What the decoder must refuse, each test named or commented with the conformance
//! statement it enforces, plus the incremental-decoding and maximum-packet-size
//! behaviour of `decode`. Every rejected vector is a valid packet with one thing
//! broken, so the test proves the decoder refuses for that reason.

use bytes::BytesMut;
use mq::protocol::{Error, Packet, ProtocolVersion, ReasonCode, decode};

const V31: ProtocolVersion = ProtocolVersion::V31;
const V311: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;
const ALL: [ProtocolVersion; 3] = [V31, V311, V5];

/// Decode `bytes` and return the error; fails the test if it decodes or waits.
#[track_caller]
fn reject(bytes: &[u8], version: ProtocolVersion) -> Error {
    let mut buf = BytesMut::from(bytes);
    match decode(&mut buf, version, 0) {
        Err(e) => e,
        Ok(p) => panic!("{version}: expected an error for {bytes:02X?}, got {p:?}"),
    }
}

/// Like `reject`, and the error's text must cite `rule`.
#[track_caller]
fn reject_citing(bytes: &[u8], version: ProtocolVersion, rule: &str) -> Error {
    let e = reject(bytes, version);
    assert!(
        e.to_string().contains(rule),
        "{version}: error {e:?} does not cite {rule}"
    );
    e
}

/// Decode `bytes` as one whole valid packet.
#[track_caller]
fn accept(bytes: &[u8], version: ProtocolVersion) -> Packet {
    let mut buf = BytesMut::from(bytes);
    match decode(&mut buf, version, 0) {
        Ok(Some(p)) => {
            assert!(buf.is_empty(), "bytes left after {p:?}");
            p
        }
        other => panic!("{version}: expected a packet from {bytes:02X?}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// Fixed header

/// A valid body for each packet type under 3.1.1 (type, body).
fn valid_bodies_v311() -> Vec<(u8, Vec<u8>)> {
    vec![
        (1, b"\x00\x04MQTT\x04\x02\x00\x3C\x00\x00".to_vec()), // CONNECT
        (2, vec![0x00, 0x00]),                                 // CONNACK
        (3, b"\x00\x01t".to_vec()),                            // PUBLISH QoS 0
        (4, vec![0x00, 0x01]),                                 // PUBACK
        (5, vec![0x00, 0x01]),                                 // PUBREC
        (6, vec![0x00, 0x01]),                                 // PUBREL
        (7, vec![0x00, 0x01]),                                 // PUBCOMP
        (8, b"\x00\x01\x00\x01t\x00".to_vec()),                // SUBSCRIBE
        (9, vec![0x00, 0x01, 0x00]),                           // SUBACK
        (10, b"\x00\x01\x00\x01t".to_vec()),                   // UNSUBSCRIBE
        (11, vec![0x00, 0x01]),                                // UNSUBACK
        (12, vec![]),                                          // PINGREQ
        (13, vec![]),                                          // PINGRESP
        (14, vec![]),                                          // DISCONNECT
    ]
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    let mut v = vec![first, body.len() as u8];
    v.extend_from_slice(body);
    v
}

/// The flags each packet type must carry [MQTT-2.2.2-1] (PUBLISH aside).
fn required_flags(kind: u8) -> u8 {
    if matches!(kind, 6 | 8 | 10) {
        0x02
    } else {
        0x00
    }
}

#[test]
fn reserved_flag_bits_rejected_on_every_packet_type_mqtt_2_2_2_2() {
    for version in ALL {
        let mut bodies = valid_bodies_v311();
        if version == V5 {
            // Bodies that are also valid 5.0 packets.
            bodies = vec![
                (1, b"\x00\x04MQTT\x05\x02\x00\x3C\x00\x00\x00".to_vec()),
                (2, vec![0x00, 0x00, 0x00]),
                (3, b"\x00\x01t\x00".to_vec()),
                (4, vec![0x00, 0x01]),
                (5, vec![0x00, 0x01]),
                (6, vec![0x00, 0x01]),
                (7, vec![0x00, 0x01]),
                (8, b"\x00\x01\x00\x00\x01t\x00".to_vec()),
                (9, vec![0x00, 0x01, 0x00, 0x00]),
                (10, b"\x00\x01\x00\x00\x01t".to_vec()),
                (11, vec![0x00, 0x01, 0x00]),
                (12, vec![]),
                (13, vec![]),
                (14, vec![]),
                (15, vec![]),
            ];
        }
        for (kind, body) in bodies {
            if kind == 3 {
                continue; // PUBLISH flags are DUP/QoS/RETAIN, tested below.
            }
            let good = required_flags(kind);
            accept(&packet(kind << 4 | good, &body), version);
            for flags in 0..16u8 {
                if flags == good {
                    continue;
                }
                let bytes = packet(kind << 4 | flags, &body);
                let e = reject_citing(&bytes, version, "[MQTT-2.2.2-2]");
                assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
                // The first byte alone is enough to refuse.
                reject_citing(&bytes[..1], version, "[MQTT-2.2.2-2]");
            }
        }
    }
}

#[test]
fn packet_type_0_is_reserved_mqtt_2_2_2_2() {
    for version in ALL {
        for flags in 0..16u8 {
            reject(&[flags, 0x00], version);
            reject(&[flags], version);
        }
    }
}

#[test]
fn packet_type_15_is_reserved_in_3_1_1_and_3_1() {
    for version in [V31, V311] {
        reject(&[0xF0, 0x00], version);
        reject(&[0xF0], version);
    }
    // ...but is AUTH in 5.0.
    accept(&[0xF0, 0x00], V5);
}

#[test]
fn remaining_length_of_five_bytes_rejected_mqtt_1_5_5_1() {
    for version in ALL {
        let e = reject_citing(
            &[0xC0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            version,
            "MQTT-1.5.5-1",
        );
        assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
        // Refused as soon as the fourth length byte still has its continuation bit.
        reject_citing(&[0xC0, 0x80, 0x80, 0x80, 0x80], version, "MQTT-1.5.5-1");
        // Four bytes is the most, and fine: 0xFF 0xFF 0xFF 0x7F is 268435455; not buffered yet.
        let mut buf = BytesMut::from(&[0x30u8, 0xFF, 0xFF, 0xFF, 0x7F][..]);
        assert_eq!(decode(&mut buf, version, 0), Ok(None));
    }
}

#[test]
fn bytes_after_the_end_of_a_packet_rejected() {
    for version in ALL {
        reject(&[0xC0, 0x01, 0x00], version); // PINGREQ with a body
        reject(&[0xD0, 0x01, 0x00], version); // PINGRESP with a body
    }
    reject(&[0x40, 0x03, 0x00, 0x01, 0x00], V311); // 3.1.1 PUBACK is exactly 2 bytes
    reject(&[0xE0, 0x01, 0x00], V311); // 3.1.1 DISCONNECT has no body
    reject(&[0xB0, 0x03, 0x00, 0x01, 0x00], V311); // 3.1.1 UNSUBACK is exactly 2 bytes
    reject(&[0x20, 0x03, 0x00, 0x00, 0x00], V311); // 3.1.1 CONNACK is exactly 2 bytes
}

#[test]
fn truncated_bodies_rejected() {
    for version in ALL {
        reject(&[0x40, 0x01, 0x00], version); // PUBACK with half a packet identifier
        reject(&[0x30, 0x02, 0x00, 0x05], version); // topic length past the end
        reject(&[0x20, 0x01, 0x00], version); // CONNACK without a return code
    }
    // Property Length larger than what is left.
    reject(&[0x30, 0x05, 0x00, 0x01, b't', 0x05, 0x01], V5);
}

// ---------------------------------------------------------------------------------
// PUBLISH fixed header

#[test]
fn publish_qos_3_rejected_mqtt_3_3_1_4() {
    for version in ALL {
        for first in [0x36u8, 0x37, 0x3E, 0x3F] {
            let e = reject_citing(
                &[first, 0x05, 0x00, 0x01, b't', 0x00, 0x01],
                version,
                "MQTT-3.3.1-4",
            );
            assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
        }
    }
}

#[test]
fn publish_dup_on_qos_0_rejected_mqtt_3_3_1_2() {
    for version in ALL {
        reject_citing(&[0x38, 0x03, 0x00, 0x01, b't'], version, "MQTT-3.3.1-2");
        reject_citing(&[0x39, 0x03, 0x00, 0x01, b't'], version, "MQTT-3.3.1-2");
        // DUP with QoS 1 is fine.
        accept(&[0x3A, 0x05, 0x00, 0x01, b't', 0x00, 0x01], V311);
    }
}

// ---------------------------------------------------------------------------------
// Packet identifiers

#[test]
fn packet_identifier_0_rejected_where_required_mqtt_2_2_1_3() {
    // [MQTT-2.3.1-1] in 3.1.1, [MQTT-2.2.1-3] in 5.0.
    for version in ALL {
        let v5 = version == V5;
        let p = if v5 { vec![0x00] } else { vec![] }; // empty property block in 5.0
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for first in [0x32u8, 0x34] {
            // PUBLISH QoS 1 / QoS 2 with id 0
            let mut body = b"\x00\x01t\x00\x00".to_vec();
            body.extend(&p);
            cases.push(packet(first, &body));
        }
        for first in [0x40u8, 0x50, 0x62, 0x70] {
            cases.push(packet(first, &[0x00, 0x00])); // PUBACK/PUBREC/PUBREL/PUBCOMP
        }
        let mut sub = vec![0x00, 0x00];
        sub.extend(&p);
        sub.extend(b"\x00\x01t\x00");
        cases.push(packet(0x82, &sub)); // SUBSCRIBE
        let mut suback = vec![0x00, 0x00];
        suback.extend(&p);
        suback.push(0x00);
        cases.push(packet(0x90, &suback)); // SUBACK
        let mut unsub = vec![0x00, 0x00];
        unsub.extend(&p);
        unsub.extend(b"\x00\x01t");
        cases.push(packet(0xA2, &unsub)); // UNSUBSCRIBE
        let mut unsuback = vec![0x00, 0x00];
        unsuback.extend(&p);
        cases.push(packet(0xB0, &unsuback)); // UNSUBACK
        for bytes in cases {
            let e = reject_citing(&bytes, version, "packet identifier 0");
            assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
            // The same packet with identifier 1 is accepted.
            let mut fixed = bytes.clone();
            let at = if bytes[0] >> 4 == 3 { 6 } else { 3 };
            fixed[at] = 0x01;
            accept(&fixed, version);
        }
    }
}

// ---------------------------------------------------------------------------------
// Strings

#[test]
fn invalid_utf8_in_strings_rejected_mqtt_1_5_4_1() {
    // [MQTT-1.5.3-1] in 3.1.1. Ill-formed sequences: a lone continuation byte, a
    // truncated sequence, an overlong NUL (C0 80), and an encoded surrogate U+D800
    // (ED A0 80), which UTF-8 forbids.
    for bad in [
        &[0x80u8][..],
        &[0xC3],
        &[0xC0, 0x80],
        &[0xED, 0xA0, 0x80],
        &[0xFF],
    ] {
        for version in ALL {
            // In a PUBLISH topic name.
            let mut body = vec![0x00, bad.len() as u8];
            body.extend_from_slice(bad);
            if version == V5 {
                body.push(0x00);
            }
            let e = reject_citing(&packet(0x30, &body), version, "MQTT-1.5.4-1");
            assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
            // In a SUBSCRIBE topic filter.
            let mut body = vec![0x00, 0x01];
            if version == V5 {
                body.push(0x00);
            }
            body.extend([0x00, bad.len() as u8]);
            body.extend_from_slice(bad);
            body.push(0x00);
            reject_citing(&packet(0x82, &body), version, "MQTT-1.5.4-1");
        }
        // In a CONNECT client identifier.
        let mut body = b"\x00\x04MQTT\x04\x02\x00\x3C".to_vec();
        body.extend([0x00, bad.len() as u8]);
        body.extend_from_slice(bad);
        reject_citing(&packet(0x10, &body), V311, "MQTT-1.5.4-1");
        // In a 5.0 user property value.
        let mut props = vec![0x26, 0x00, 0x01, b'k', 0x00, bad.len() as u8];
        props.extend_from_slice(bad);
        let mut body = vec![0x00, 0x01, b't', props.len() as u8];
        body.extend(props);
        reject_citing(&packet(0x30, &body), V5, "MQTT-1.5.4-1");
    }
}

#[test]
fn nul_character_in_strings_rejected_mqtt_1_5_4_2() {
    // [MQTT-1.5.3-2] in 3.1.1.
    for version in ALL {
        let p: &[u8] = if version == V5 { &[0x00] } else { &[] };
        // PUBLISH topic "a\0".
        let mut body = vec![0x00, 0x02, b'a', 0x00];
        body.extend(p);
        reject_citing(&packet(0x30, &body), version, "MQTT-1.5.4-2");
        // UNSUBSCRIBE filter "\0".
        let mut body = vec![0x00, 0x01];
        body.extend(p);
        body.extend([0x00, 0x01, 0x00]);
        reject_citing(&packet(0xA2, &body), version, "MQTT-1.5.4-2");
    }
    // CONNECT user name "u\0".
    let body = b"\x00\x04MQTT\x04\x82\x00\x3C\x00\x00\x00\x02u\x00";
    reject_citing(&packet(0x10, body), V311, "MQTT-1.5.4-2");
    // But a password is binary data and may hold NUL.
    let body = b"\x00\x04MQTT\x04\xC2\x00\x3C\x00\x00\x00\x01u\x00\x01\x00";
    accept(&packet(0x10, body), V311);
}

// ---------------------------------------------------------------------------------
// PUBLISH topic names

#[test]
fn wildcards_in_publish_topic_rejected_mqtt_3_3_2_2() {
    for version in ALL {
        for topic in ["a/+", "+", "#", "a/#", "a+b", "x#"] {
            let mut body = vec![0x00, topic.len() as u8];
            body.extend(topic.as_bytes());
            if version == V5 {
                body.push(0x00);
            }
            let e = reject(&packet(0x30, &body), version);
            assert!(matches!(e, Error::InvalidTopicName(_)), "{topic}: {e:?}");
            assert_eq!(e.reason_code(), ReasonCode::TOPIC_NAME_INVALID);
        }
    }
    // In a will topic too [MQTT-3.1.3-11].
    let body = b"\x00\x04MQTT\x04\x06\x00\x3C\x00\x00\x00\x03a/#\x00\x00";
    assert!(matches!(
        reject(&packet(0x10, body), V311),
        Error::InvalidTopicName(_)
    ));
}

#[test]
fn empty_topic_name_rejected_mqtt_4_7_3_1() {
    for version in [V31, V311] {
        let e = reject(&[0x30, 0x02, 0x00, 0x00], version);
        assert!(matches!(e, Error::InvalidTopicName(_)));
    }
    // 5.0: an empty topic needs a Topic Alias [MQTT-3.3.2-1].
    let e = reject(&[0x30, 0x03, 0x00, 0x00, 0x00], V5);
    assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
    accept(&[0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01], V5);
}

// ---------------------------------------------------------------------------------
// SUBSCRIBE and UNSUBSCRIBE

fn subscribe(version: ProtocolVersion, entries: &[(&str, u8)]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01];
    if version == V5 {
        body.push(0x00);
    }
    for (f, o) in entries {
        body.extend([0x00, f.len() as u8]);
        body.extend(f.as_bytes());
        body.push(*o);
    }
    packet(0x82, &body)
}

fn unsubscribe(version: ProtocolVersion, filters: &[&str]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01];
    if version == V5 {
        body.push(0x00);
    }
    for f in filters {
        body.extend([0x00, f.len() as u8]);
        body.extend(f.as_bytes());
    }
    packet(0xA2, &body)
}

#[test]
fn malformed_topic_filters_rejected_mqtt_4_7_1_2_and_4_7_1_3() {
    // '#' only as the whole last level [MQTT-4.7.1-2]; '+' only as a whole level
    // [MQTT-4.7.1-3]; a shared subscription needs a group and a filter [MQTT-4.8.2-1].
    for version in ALL {
        for bad in [
            "a/#/b",
            "a+",
            "a/b#",
            "#/",
            "+a/b",
            "$share/g",
            "$share//a",
            "$share/g/",
            "",
        ] {
            let e = reject(&subscribe(version, &[("ok/+", 0), (bad, 0)]), version);
            assert!(matches!(e, Error::InvalidTopicFilter(_)), "{bad}: {e:?}");
            assert_eq!(e.reason_code(), ReasonCode::TOPIC_FILTER_INVALID);
            let e = reject(&unsubscribe(version, &[bad]), version);
            assert!(matches!(e, Error::InvalidTopicFilter(_)), "{bad}: {e:?}");
        }
        accept(
            &subscribe(version, &[("a/+/b", 0), ("#", 1), ("$share/g/a/#", 2)]),
            version,
        );
    }
}

#[test]
fn empty_subscribe_rejected_mqtt_3_8_3_3() {
    // [MQTT-3.8.3-3] in 3.1.1, [MQTT-3.8.3-2] in 5.0.
    for version in ALL {
        let e = reject_citing(&subscribe(version, &[]), version, "MQTT-3.8.3-3");
        assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
    }
}

#[test]
fn empty_unsubscribe_rejected_mqtt_3_10_3_2() {
    for version in ALL {
        reject_citing(&unsubscribe(version, &[]), version, "MQTT-3.10.3-2");
    }
}

#[test]
fn subscribe_qos_3_rejected_mqtt_3_8_3_4() {
    // [MQTT-3-8.3-4] in 3.1.1; 5.0 section 3.8.3.1 (QoS 3 is a Malformed Packet).
    for version in ALL {
        let e = reject(&subscribe(version, &[("a", 3)]), version);
        assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
    }
}

#[test]
fn reserved_subscription_option_bits_rejected_3_1_1_bits_2_to_7() {
    // [MQTT-3-8.3-4]: in 3.1.1 only bits 0-1 (QoS) may be set.
    for version in [V31, V311] {
        for bit in 2..8 {
            let e = reject_citing(
                &subscribe(version, &[("a", 1 << bit)]),
                version,
                "MQTT-3.8.3-5",
            );
            assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
        }
    }
}

#[test]
fn reserved_subscription_option_bits_rejected_5_0_bits_6_and_7_mqtt_3_8_3_5() {
    for bit in [6, 7] {
        reject_citing(&subscribe(V5, &[("a", 1 << bit)]), V5, "MQTT-3.8.3-5");
    }
    // Bits 2-5 are No Local, Retain As Published and Retain Handling.
    for bit in 2..6 {
        accept(&subscribe(V5, &[("a", 1 << bit)]), V5);
    }
}

#[test]
fn retain_handling_3_rejected_5_0() {
    // Section 3.8.3.1: a Retain Handling of 3 is a Protocol Error.
    let e = reject(&subscribe(V5, &[("a", 0x30)]), V5);
    assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
}

#[test]
fn no_local_on_shared_subscription_rejected_mqtt_3_8_3_4() {
    let e = reject_citing(&subscribe(V5, &[("$share/g/a", 0x04)]), V5, "MQTT-3.8.3-4");
    assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
    accept(&subscribe(V5, &[("a", 0x04)]), V5);
}

#[test]
fn reserved_suback_return_code_rejected_3_1_1_mqtt_3_9_3_2() {
    for rc in [0x03u8, 0x7F, 0x81, 0xFF] {
        reject(&[0x90, 0x03, 0x00, 0x01, rc], V311);
    }
    // Under 5.0 those are reason codes.
    accept(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x87], V5);
}

// ---------------------------------------------------------------------------------
// CONNECT and CONNACK

/// A 3.1.1 CONNECT with the given flags byte and payload.
fn connect_v311(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = b"\x00\x04MQTT\x04".to_vec();
    body.push(flags);
    body.extend([0x00, 0x3C]);
    body.extend(payload);
    packet(0x10, &body)
}

#[test]
fn connect_reserved_flag_rejected_mqtt_3_1_2_3() {
    let e = reject_citing(&connect_v311(0x03, b"\x00\x00"), V311, "MQTT-3.1.2-3");
    assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
    let v5 = packet(0x10, b"\x00\x04MQTT\x05\x03\x00\x3C\x00\x00\x00");
    reject_citing(&v5, V5, "MQTT-3.1.2-3");
}

#[test]
fn will_qos_or_retain_without_will_flag_rejected() {
    // 3.1.1 [MQTT-3.1.2-13] (Will QoS 0 without the flag) and [MQTT-3.1.2-15] (Will
    // Retain 0 without the flag); 5.0 [MQTT-3.1.2-11] and [MQTT-3.1.2-13].
    for flags in [0x0Au8, 0x12, 0x22, 0x3A] {
        reject_citing(
            &connect_v311(flags, b"\x00\x00"),
            V311,
            "without the Will Flag",
        );
    }
}

#[test]
fn will_qos_3_rejected_mqtt_3_1_2_14() {
    // Will Flag and Will QoS 3 (3.1.1 [MQTT-3.1.2-14], 5.0 [MQTT-3.1.2-12]).
    reject(&connect_v311(0x1E, b"\x00\x00\x00\x01t\x00\x00"), V311);
    accept(&connect_v311(0x16, b"\x00\x00\x00\x01t\x00\x00"), V311);
}

#[test]
fn password_without_username_rejected_in_3_1_1_mqtt_3_1_2_22() {
    for version in [V31, V311] {
        let mut body = if version == V31 {
            b"\x00\x06MQIsdp\x03".to_vec()
        } else {
            b"\x00\x04MQTT\x04".to_vec()
        };
        body.extend([0x42, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x01, b'p']);
        reject_citing(&packet(0x10, &body), version, "MQTT-3.1.2-22");
    }
}

#[test]
fn bad_protocol_name_rejected_mqtt_3_1_2_1() {
    for name in [&b"MQTX"[..], b"mqtt", b"MQIsdq", b"", b"MQTTT"] {
        let mut body = vec![0x00, name.len() as u8];
        body.extend(name);
        body.extend([0x04, 0x02, 0x00, 0x3C, 0x00, 0x00]);
        let e = reject(&packet(0x10, &body), V311);
        assert_eq!(e, Error::InvalidProtocolName, "{name:?}");
    }
}

#[test]
fn unsupported_protocol_level_rejected_mqtt_3_1_2_2() {
    for (name, level) in [
        (&b"MQTT"[..], 6u8),
        (b"MQTT", 3),
        (b"MQTT", 0),
        (b"MQIsdp", 4),
    ] {
        let mut body = vec![0x00, name.len() as u8];
        body.extend(name);
        body.extend([level, 0x02, 0x00, 0x3C, 0x00, 0x00]);
        let e = reject(&packet(0x10, &body), V311);
        assert_eq!(e, Error::UnsupportedProtocolLevel(level));
        assert_eq!(e.reason_code(), ReasonCode::UNSUPPORTED_PROTOCOL_VERSION);
    }
}

#[test]
fn connack_reserved_flags_and_return_codes_rejected() {
    // Bits 7-1 of the Connect Acknowledge Flags are reserved [MQTT-3.2.2-1].
    for version in ALL {
        reject_citing(&[0x20, 0x03, 0x02, 0x00, 0x00], version, "MQTT-3.2.2-1");
    }
    // 3.1.1 return codes 6-255 are reserved.
    for rc in [6u8, 0x80, 0xFF] {
        reject(&[0x20, 0x02, 0x00, rc], V311);
    }
}

// ---------------------------------------------------------------------------------
// 5.0 properties

/// A 5.0 PUBLISH QoS 0 to "t" with the given property block contents.
fn publish_v5_with(props: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01, b't', props.len() as u8];
    body.extend(props);
    packet(0x30, &body)
}

#[test]
fn duplicate_properties_rejected_mqtt_2_2_2_1() {
    // Section 2.2.2.2: including a property other than User Property (and Subscription
    // Identifier in a PUBLISH to a client) more than once is a Protocol Error.
    let cases: [&[u8]; 4] = [
        &[0x01, 0x00, 0x01, 0x01],             // Payload Format Indicator twice
        &[0x23, 0x00, 0x01, 0x23, 0x00, 0x01], // Topic Alias twice
        &[0x08, 0x00, 0x01, b'r', 0x08, 0x00, 0x01, b'r'], // Response Topic twice
        &[0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 1], // Message Expiry Interval twice
    ];
    for props in cases {
        let e = reject_citing(&publish_v5_with(props), V5, "MQTT-2.2.2-1");
        assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
    }
    // Session Expiry Interval twice in CONNECT.
    let connect = packet(
        0x10,
        b"\x00\x04MQTT\x05\x02\x00\x3C\x0A\x11\x00\x00\x00\x01\x11\x00\x00\x00\x01\x00\x00",
    );
    reject_citing(&connect, V5, "MQTT-2.2.2-1");
    // Two Subscription Identifiers in a SUBSCRIBE.
    let sub = packet(0x82, b"\x00\x01\x04\x0B\x01\x0B\x02\x00\x01a\x00");
    reject_citing(&sub, V5, "MQTT-2.2.2-1");
    // User Property may repeat, with the same name.
    accept(
        &publish_v5_with(&[0x26, 0, 1, b'a', 0, 0, 0x26, 0, 1, b'a', 0, 0]),
        V5,
    );
}

#[test]
fn property_not_allowed_in_that_packet_rejected() {
    // Section 2.2.2.2 lists the packets each property may appear in.
    let not_in_publish: [&[u8]; 5] = [
        &[0x11, 0, 0, 0, 1], // Session Expiry Interval
        &[0x1F, 0, 1, b'x'], // Reason String
        &[0x21, 0, 1],       // Receive Maximum
        &[0x18, 0, 0, 0, 1], // Will Delay Interval
        &[0x15, 0, 1, b'm'], // Authentication Method
    ];
    for props in not_in_publish {
        let e = reject_citing(&publish_v5_with(props), V5, "not allowed");
        assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR);
    }
    // Topic Alias in CONNECT.
    let connect = packet(
        0x10,
        b"\x00\x04MQTT\x05\x02\x00\x3C\x03\x23\x00\x01\x00\x00",
    );
    reject_citing(&connect, V5, "not allowed");
    // Will Delay Interval in the CONNECT properties (it belongs to the will).
    let connect = packet(
        0x10,
        b"\x00\x04MQTT\x05\x02\x00\x3C\x05\x18\x00\x00\x00\x01\x00\x00",
    );
    reject_citing(&connect, V5, "not allowed");
    // Subscription Identifier in the will properties.
    let connect = packet(
        0x10,
        b"\x00\x04MQTT\x05\x06\x00\x3C\x00\x00\x00\x02\x0B\x01\x00\x01t\x00\x00",
    );
    reject_citing(&connect, V5, "not allowed");
    // Reason String in SUBSCRIBE, Maximum QoS in DISCONNECT, Server Reference in PUBACK.
    reject_citing(
        &packet(0x82, b"\x00\x01\x04\x1F\x00\x01x\x00\x01a\x00"),
        V5,
        "not allowed",
    );
    reject_citing(&packet(0xE0, b"\x00\x02\x24\x01"), V5, "not allowed");
    reject_citing(
        &packet(0x40, b"\x00\x01\x00\x04\x1C\x00\x01h"),
        V5,
        "not allowed",
    );
}

#[test]
fn invalid_property_values_rejected() {
    for props in [
        &[0x23u8, 0x00, 0x00][..], // Topic Alias 0 [MQTT-3.3.2-8]
        &[0x01, 0x02],             // Payload Format Indicator 2
        &[0x0B, 0x00],             // Subscription Identifier 0
        &[0x08, 0x00, 0x01, b'#'], // Response Topic with a wildcard [MQTT-3.3.2-14]
        &[0x08, 0x00, 0x00],       // empty Response Topic
    ] {
        let e = reject(&publish_v5_with(props), V5);
        assert_eq!(e.reason_code(), ReasonCode::PROTOCOL_ERROR, "{props:02X?}");
    }
    // Receive Maximum 0 and Maximum Packet Size 0 in CONNECT.
    reject(
        &packet(
            0x10,
            b"\x00\x04MQTT\x05\x02\x00\x3C\x03\x21\x00\x00\x00\x00",
        ),
        V5,
    );
    reject(
        &packet(
            0x10,
            b"\x00\x04MQTT\x05\x02\x00\x3C\x05\x27\x00\x00\x00\x00\x00\x00",
        ),
        V5,
    );
    // Maximum QoS 2 in CONNACK (only 0 or 1 may be sent).
    reject(&[0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02], V5);
}

#[test]
fn unknown_property_identifier_rejected() {
    for id in [0x00u8, 0x04, 0x2B, 0x7F] {
        let e = reject(&publish_v5_with(&[id, 0x00]), V5);
        assert_eq!(e.reason_code(), ReasonCode::MALFORMED_PACKET);
    }
}

// ---------------------------------------------------------------------------------
// Maximum packet size

#[test]
fn max_packet_size_checked_from_the_fixed_header_before_the_body() {
    for version in ALL {
        // Only the fixed header of a 268435455-byte PUBLISH has arrived.
        let mut buf = BytesMut::from(&[0x30u8, 0xFF, 0xFF, 0xFF, 0x7F][..]);
        let e = decode(&mut buf, version, 1024).unwrap_err();
        assert_eq!(
            e,
            Error::PacketTooLarge {
                size: 5 + 268_435_455,
                max: 1024
            }
        );
        assert_eq!(e.reason_code(), ReasonCode::PACKET_TOO_LARGE);
        // A 2-byte header announcing a 200-byte packet with a 100-byte limit.
        let mut buf = BytesMut::from(&[0x30u8, 0xC6, 0x01][..]);
        assert!(matches!(
            decode(&mut buf, version, 100),
            Err(Error::PacketTooLarge {
                size: 201,
                max: 100
            })
        ));
    }
}

#[test]
fn max_packet_size_counts_the_whole_packet() {
    // [MQTT-3.2.2-15] style: the size is the whole packet, fixed header included.
    let bytes = [0x30u8, 0x04, 0x00, 0x01, b't', b'!']; // 6 bytes
    let mut buf = BytesMut::from(&bytes[..]);
    assert!(decode(&mut buf, V311, 6).unwrap().is_some());
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(
        decode(&mut buf, V311, 5),
        Err(Error::PacketTooLarge { size: 6, max: 5 })
    );
    // 0 means no limit.
    let mut buf = BytesMut::from(&bytes[..]);
    assert!(decode(&mut buf, V311, 0).unwrap().is_some());
}

// ---------------------------------------------------------------------------------
// Incremental decoding

#[test]
fn byte_by_byte_returns_none_until_complete_and_consumes_nothing() {
    #[rustfmt::skip]
    let whole: &[u8] = &[
        0x32, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, b'x', b'y', b'z',
    ];
    for version in [V311, V31] {
        let mut buf = BytesMut::new();
        for (i, &b) in whole.iter().enumerate() {
            buf.extend_from_slice(&[b]);
            if i + 1 < whole.len() {
                assert_eq!(
                    decode(&mut buf, version, 0),
                    Ok(None),
                    "after {} bytes",
                    i + 1
                );
                assert_eq!(buf.len(), i + 1, "nothing consumed");
            }
        }
        let p = decode(&mut buf, version, 0).unwrap().expect("complete");
        assert!(
            matches!(p, Packet::Publish(ref p) if p.packet_id == 7 && &p.payload[..] == b"xyz")
        );
        assert!(buf.is_empty());
        assert_eq!(decode(&mut buf, version, 0), Ok(None), "empty buffer");
    }
}

#[test]
fn byte_by_byte_with_multi_byte_remaining_length() {
    let mut whole = vec![0x30u8, 0x83, 0x01, 0x00, 0x01, b't']; // Remaining Length 131
    whole.extend(vec![0x55; 128]);
    let mut buf = BytesMut::new();
    for &b in &whole[..whole.len() - 1] {
        buf.extend_from_slice(&[b]);
        assert_eq!(decode(&mut buf, V5, 0), Ok(None));
    }
    buf.extend_from_slice(&whole[whole.len() - 1..]);
    assert!(decode(&mut buf, V311, 0).unwrap().is_some());
    assert!(buf.is_empty());
}

#[test]
fn two_packets_in_one_buffer_decode_one_after_the_other() {
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[0x40, 0x02, 0x00, 0x05]); // PUBACK 5
    buf.extend_from_slice(&[0xC0, 0x00]); // PINGREQ
    buf.extend_from_slice(&[0x30, 0x03]); // start of a PUBLISH...
    let version = V311;
    assert!(matches!(
        decode(&mut buf, version, 0),
        Ok(Some(Packet::PubAck(ref a))) if a.packet_id == 5
    ));
    assert_eq!(decode(&mut buf, version, 0), Ok(Some(Packet::PingReq)));
    assert_eq!(decode(&mut buf, version, 0), Ok(None));
    assert_eq!(&buf[..], &[0x30, 0x03]);
    buf.extend_from_slice(&[0x00, 0x01, b't']);
    assert!(matches!(
        decode(&mut buf, version, 0),
        Ok(Some(Packet::Publish(_)))
    ));
    assert!(buf.is_empty());
}

// ---------------------------------------------------------------------------------
// What the encoder refuses

#[test]
fn encoder_refuses_subscription_identifier_beyond_the_variable_byte_integer_range() {
    // A Subscription Identifier is a Variable Byte Integer of 1..=268435455
    // [MQTT-1.5.5]. 268435456 needs five bytes: encoding it would make the Remaining
    // Length and Property Length disagree with the bytes written.
    use mq::protocol::{Properties, Publish, Subscribe, SubscribeFilter, encode, encoded_len};
    for id in [268_435_456u32, u32::MAX] {
        let props = Properties {
            subscription_identifiers: vec![id],
            ..Properties::default()
        };
        let packets = [
            Packet::Publish(Publish {
                topic: "t".into(),
                properties: props.clone(),
                ..Publish::default()
            }),
            Packet::Subscribe(Subscribe {
                packet_id: 1,
                filters: vec![SubscribeFilter {
                    filter: "a".into(),
                    options: Default::default(),
                }],
                properties: props,
            }),
        ];
        for p in packets {
            let mut out = BytesMut::from(&b"kept"[..]);
            let r = encode(&p, V5, &mut out);
            assert!(
                matches!(r, Err(Error::Encode(_))),
                "{id}: {r:?}, {out:02X?}"
            );
            assert_eq!(&out[..], b"kept", "nothing of the packet is left behind");
            let _ = encoded_len(&p, V5);
        }
    }
}

#[test]
fn encoder_refuses_strings_longer_than_65535_bytes() {
    use mq::protocol::{Publish, encode};
    let p = Packet::Publish(Publish {
        topic: "t".repeat(65_536).into(),
        ..Publish::default()
    });
    let mut out = BytesMut::new();
    assert!(matches!(encode(&p, V311, &mut out), Err(Error::Encode(_))));
    assert!(out.is_empty());
}
