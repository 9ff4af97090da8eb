//! Byte-vector tests of the codec under MQTT 5.0: each vector is written by hand from
//! the OASIS MQTT 5.0 specification, annotated byte by byte, and must both decode to the
//! expected packet and encode back to the same bytes. Properties are written in
//! identifier order, which is the order the encoder uses, but for CONNACK's: those
//! go in mosquitto 2.0's order (Topic Alias Maximum, Server Keep Alive, Assigned
//! Client Identifier, Retain Available, Maximum Packet Size, Receive Maximum,
//! Maximum QoS, then the rest by identifier).

use bytes::{Bytes, BytesMut};
use mq::protocol::{
    Ack, Auth, ByteStr, ConnAck, Connect, Disconnect, Packet, Properties, ProtocolVersion, Publish,
    QoS, ReasonCode, RetainHandling, SubAck, Subscribe, SubscribeFilter, SubscriptionOptions,
    UnsubAck, Unsubscribe, Will, decode, encode, encoded_len,
};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// Decode `bytes` (one whole packet) under 5.0, expect `expected`, then encode
/// `expected` and expect exactly `bytes` again.
fn check(bytes: &[u8], expected: Packet) {
    decodes_to(bytes, &expected);
    let mut out = BytesMut::new();
    encode(&expected, V5, &mut out).unwrap_or_else(|e| panic!("encode failed: {e}"));
    assert_eq!(&out[..], bytes, "encoded bytes");
    assert_eq!(encoded_len(&expected, V5), bytes.len(), "encoded_len");
}

/// Decode only (for a valid but non-canonical form the encoder writes shorter).
fn decodes_to(bytes: &[u8], expected: &Packet) {
    let mut buf = BytesMut::from(bytes);
    let got = decode(&mut buf, V5, 0)
        .unwrap_or_else(|e| panic!("decode failed: {e}"))
        .expect("a whole packet is buffered");
    assert_eq!(&got, expected, "decoded packet");
    assert!(buf.is_empty(), "the whole packet is consumed");
}

fn user(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn connect_with_properties_will_username_password_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x10,                   // CONNECT
        0x33,                   // Remaining Length 51 = 26 variable header + 25 payload
        0x00, 0x04, b'M', b'Q', b'T', b'T', // Protocol Name "MQTT"
        0x05,                   // Protocol Version 5
        0xD6,                   // Flags: User Name 0x80 | Password 0x40 | Will QoS 2 (0x10)
                                //        | Will Flag 0x04 | Clean Start 0x02
        0x00, 0x1E,             // Keep Alive 30
        0x0F,                   // Property Length 15
        0x11, 0x00, 0x00, 0x00, 0x78, // Session Expiry Interval 120
        0x21, 0x00, 0x14,       // Receive Maximum 20
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property ("k", "v")
        0x00, 0x02, b'c', b'5', // Client Identifier "c5"
        0x07,                   // Will Property Length 7
        0x01, 0x01,             // Payload Format Indicator 1 (UTF-8)
        0x18, 0x00, 0x00, 0x00, 0x05, // Will Delay Interval 5
        0x00, 0x01, b't',       // Will Topic "t"
        0x00, 0x02, b'x', b'y', // Will Payload "xy"
        0x00, 0x01, b'u',       // User Name "u"
        0x00, 0x01, b'p',       // Password "p"
    ];
    check(
        &bytes,
        Packet::Connect(Box::new(Connect {
            protocol: V5,
            clean_start: true,
            keep_alive: 30,
            client_id: "c5".into(),
            will: Some(Will {
                topic: ByteStr::from("t"),
                payload: Bytes::from_static(b"xy"),
                qos: QoS::ExactlyOnce,
                retain: false,
                properties: Properties {
                    payload_format_indicator: Some(1),
                    will_delay_interval: Some(5),
                    ..Properties::default()
                },
            }),
            username: Some("u".into()),
            password: Some(Bytes::from_static(b"p")),
            properties: Properties {
                session_expiry_interval: Some(120),
                receive_maximum: Some(20),
                user_properties: vec![user("k", "v")],
                ..Properties::default()
            },
            bridge: false,
        })),
    );
}

#[test]
fn connect_password_without_username_allowed_in_5_0() {
    // 5.0 lets a client send a password without a user name (section 3.1.2.9).
    #[rustfmt::skip]
    let bytes = [
        0x10,                   // CONNECT
        0x15,                   // Remaining Length 21 = 16 variable header + 5 payload
        0x00, 0x04, b'M', b'Q', b'T', b'T', // "MQTT"
        0x05,                   // Version 5
        0x40,                   // Flags: Password only, Clean Start 0
        0x00, 0x00,             // Keep Alive 0 (off)
        0x05,                   // Property Length 5
        0x27, 0x00, 0x00, 0x10, 0x00, // Maximum Packet Size 4096
        0x00, 0x00,             // Client Identifier ""
        0x00, 0x01, 0x00,       // Password: one NUL byte (binary data may hold anything)
    ];
    check(
        &bytes,
        Packet::Connect(Box::new(Connect {
            protocol: V5,
            clean_start: false,
            keep_alive: 0,
            client_id: String::new(),
            will: None,
            username: None,
            password: Some(Bytes::from_static(&[0])),
            properties: Properties {
                maximum_packet_size: Some(4096),
                ..Properties::default()
            },
            bridge: false,
        })),
    );
}

#[test]
fn connect_authentication_and_request_properties_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x10,                   // CONNECT
        0x1F,                   // Remaining Length 31 = 28 variable header + 3 payload
        0x00, 0x04, b'M', b'Q', b'T', b'T', // "MQTT"
        0x05,                   // Version 5
        0x02,                   // Flags: Clean Start
        0x00, 0x3C,             // Keep Alive 60
        0x11,                   // Property Length 17
        0x15, 0x00, 0x03, b'X', b'-', b'1', // Authentication Method "X-1"
        0x16, 0x00, 0x01, 0x07, // Authentication Data [0x07]
        0x17, 0x00,             // Request Problem Information 0
        0x19, 0x01,             // Request Response Information 1
        0x22, 0x00, 0x08,       // Topic Alias Maximum 8
        0x00, 0x01, b'a',       // Client Identifier "a"
    ];
    check(
        &bytes,
        Packet::Connect(Box::new(Connect {
            protocol: V5,
            clean_start: true,
            keep_alive: 60,
            client_id: "a".into(),
            will: None,
            username: None,
            password: None,
            properties: Properties {
                authentication_method: Some("X-1".into()),
                authentication_data: Some(Bytes::from_static(&[7])),
                request_problem_information: Some(0),
                request_response_information: Some(1),
                topic_alias_maximum: Some(8),
                ..Properties::default()
            },
            bridge: false,
        })),
    );
}

#[test]
fn connack_with_properties_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x20,                   // CONNACK
        0x0E,                   // Remaining Length 14
        0x01,                   // Connect Acknowledge Flags: Session Present
        0x00,                   // Reason Code: Success
        0x0B,                   // Property Length 11
        0x22, 0x00, 0x0A,       // Topic Alias Maximum 10
        0x12, 0x00, 0x03, b'a', b'b', b'c', // Assigned Client Identifier "abc"
        0x24, 0x01,             // Maximum QoS 1
    ];
    check(
        &bytes,
        Packet::ConnAck(ConnAck {
            session_present: true,
            reason: ReasonCode::SUCCESS,
            properties: Properties {
                assigned_client_identifier: Some("abc".into()),
                topic_alias_maximum: Some(10),
                maximum_qos: Some(1),
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn connack_every_capability_property_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x20,                   // CONNACK
        0x2F,                   // Remaining Length 47
        0x00,                   // Session Present 0
        0x9C,                   // Reason Code: Use another server
        0x2C,                   // Property Length 44
        0x13, 0x00, 0x14,       // Server Keep Alive 20
        0x25, 0x00,             // Retain Available 0
        0x27, 0x00, 0x00, 0x04, 0x00, // Maximum Packet Size 1024
        0x21, 0x00, 0x05,       // Receive Maximum 5
        0x11, 0x00, 0x00, 0x0E, 0x10, // Session Expiry Interval 3600
        0x1A, 0x00, 0x01, b'r', // Response Information "r"
        0x1C, 0x00, 0x02, b'h', b'2', // Server Reference "h2"
        0x1F, 0x00, 0x02, b'g', b'o', // Reason String "go"
        0x26, 0x00, 0x01, b'a', 0x00, 0x00, // User Property ("a", "")
        0x28, 0x00,             // Wildcard Subscription Available 0
        0x29, 0x01,             // Subscription Identifiers Available 1
        0x2A, 0x00,             // Shared Subscription Available 0
    ];
    check(
        &bytes,
        Packet::ConnAck(ConnAck {
            session_present: false,
            reason: ReasonCode::USE_ANOTHER_SERVER,
            properties: Properties {
                session_expiry_interval: Some(3600),
                server_keep_alive: Some(20),
                response_information: Some("r".into()),
                server_reference: Some("h2".into()),
                reason_string: Some("go".into()),
                receive_maximum: Some(5),
                retain_available: Some(0),
                user_properties: vec![user("a", "")],
                maximum_packet_size: Some(1024),
                wildcard_subscription_available: Some(0),
                subscription_identifier_available: Some(1),
                shared_subscription_available: Some(0),
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn connack_refused_no_properties_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x20, // CONNACK
        0x03, // Remaining Length 3
        0x00, // Session Present 0 (must be 0 with an error [MQTT-3.2.2-6])
        0x87, // Reason Code: Not authorized
        0x00, // Property Length 0
    ];
    check(
        &bytes,
        Packet::ConnAck(ConnAck {
            session_present: false,
            reason: ReasonCode::NOT_AUTHORIZED,
            properties: Properties::default(),
        }),
    );
}

#[test]
fn publish_qos0_no_properties_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x30,                         // PUBLISH QoS 0
        0x08,                         // Remaining Length 8
        0x00, 0x03, b'a', b'/', b'b', // Topic Name "a/b"
        0x00,                         // Property Length 0
        b'h', b'i',                   // Payload "hi"
    ];
    check(
        &bytes,
        Packet::Publish(Publish {
            topic: ByteStr::from("a/b"),
            payload: Bytes::from_static(b"hi"),
            ..Publish::default()
        }),
    );
}

#[test]
fn publish_qos1_every_publish_property_user_properties_in_order_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x32,                         // PUBLISH, QoS 1
        0x39,                         // Remaining Length 57
        0x00, 0x03, b't', b'/', b'1', // Topic Name "t/1"
        0x00, 0x01,                   // Packet Identifier 1
        0x2F,                         // Property Length 47
        0x01, 0x01,                   // Payload Format Indicator 1
        0x02, 0x00, 0x00, 0x00, 0x3C, // Message Expiry Interval 60
        0x03, 0x00, 0x04, b't', b'e', b'x', b't', // Content Type "text"
        0x08, 0x00, 0x01, b'r',       // Response Topic "r"
        0x09, 0x00, 0x02, 0xDE, 0xAD, // Correlation Data DE AD
        0x0B, 0x81, 0x01,             // Subscription Identifier 129 (VBI 0x81 0x01)
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'1', // User Property ("a", "1")
        0x26, 0x00, 0x01, b'b', 0x00, 0x01, b'2', // User Property ("b", "2")
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'3', // User Property ("a", "3"): duplicate name, kept
        b'{', b'}',                   // Payload "{}"
    ];
    check(
        &bytes,
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: ByteStr::from("t/1"),
            packet_id: 1,
            properties: Properties {
                payload_format_indicator: Some(1),
                message_expiry_interval: Some(60),
                content_type: Some("text".into()),
                response_topic: Some(ByteStr::from("r")),
                correlation_data: Some(Bytes::from_static(&[0xDE, 0xAD])),
                subscription_identifiers: vec![129],
                // Order kept and duplicates allowed [MQTT-3.3.2-17], [MQTT-3.3.2-18].
                user_properties: vec![user("a", "1"), user("b", "2"), user("a", "3")],
                ..Properties::default()
            },
            payload: Bytes::from_static(b"{}"),
        }),
    );
}

#[test]
fn publish_qos2_topic_alias_with_empty_topic_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x34,                   // PUBLISH, QoS 2
        0x09,                   // Remaining Length 9
        0x00, 0x00,             // Topic Name "" (the Topic Alias stands for it)
        0x00, 0x07,             // Packet Identifier 7
        0x03,                   // Property Length 3
        0x23, 0x00, 0x05,       // Topic Alias 5
        b'z',                   // Payload "z"
    ];
    check(
        &bytes,
        Packet::Publish(Publish {
            qos: QoS::ExactlyOnce,
            topic: ByteStr::from(""),
            packet_id: 7,
            properties: Properties {
                topic_alias: Some(5),
                ..Properties::default()
            },
            payload: Bytes::from_static(b"z"),
            ..Publish::default()
        }),
    );
}

#[test]
fn publish_several_subscription_identifiers_5_0() {
    // A PUBLISH to a client may carry one identifier per matching subscription.
    #[rustfmt::skip]
    let bytes = [
        0x31,                   // PUBLISH QoS 0, RETAIN
        0x0E,                   // Remaining Length 14 = 3 topic + 1 length + 10 properties
        0x00, 0x01, b'x',       // Topic Name "x"
        0x0A,                   // Property Length 10
        0x0B, 0x01,             // Subscription Identifier 1
        0x0B, 0xFF, 0xFF, 0xFF, 0x7F, // Subscription Identifier 268435455 (largest VBI)
        0x23, 0x00, 0x01,       // Topic Alias 1 (topic and alias: sets the mapping)
    ];
    check(
        &bytes,
        Packet::Publish(Publish {
            retain: true,
            topic: ByteStr::from("x"),
            properties: Properties {
                subscription_identifiers: vec![1, 268_435_455],
                topic_alias: Some(1),
                ..Properties::default()
            },
            ..Publish::default()
        }),
    );
}

#[test]
fn acks_two_byte_form_is_success_5_0() {
    // [MQTT-3.4.2.1]: Remaining Length 2 means Reason Code 0x00 and no properties.
    type Make = fn(Ack) -> Packet;
    let kinds: [(u8, Make); 4] = [
        (0x40, Packet::PubAck),
        (0x50, Packet::PubRec),
        (0x62, Packet::PubRel),
        (0x70, Packet::PubComp),
    ];
    for (first, make) in kinds {
        #[rustfmt::skip]
        let bytes = [
            first,      // PUBACK / PUBREC / PUBREL (flags 0010) / PUBCOMP
            0x02,       // Remaining Length 2
            0x00, 0x01, // Packet Identifier 1
        ];
        check(&bytes, make(Ack::new(1)));

        // Reason Code 0 with Property Length 0 is valid too; the encoder writes the
        // short form for it.
        #[rustfmt::skip]
        let long = [
            first,
            0x04,       // Remaining Length 4
            0x00, 0x01, // Packet Identifier 1
            0x00,       // Reason Code: Success
            0x00,       // Property Length 0
        ];
        decodes_to(&long, &make(Ack::new(1)));
    }
}

#[test]
fn acks_three_byte_form_is_reason_only_5_0() {
    type Make = fn(Ack) -> Packet;
    let kinds: [(u8, u8, Make); 4] = [
        (0x40, 0x10, Packet::PubAck),  // PUBACK: No matching subscribers
        (0x50, 0x80, Packet::PubRec),  // PUBREC: Unspecified error
        (0x62, 0x92, Packet::PubRel),  // PUBREL: Packet Identifier not found
        (0x70, 0x92, Packet::PubComp), // PUBCOMP: Packet Identifier not found
    ];
    for (first, rc, make) in kinds {
        #[rustfmt::skip]
        let bytes = [
            first,      // packet type and flags
            0x03,       // Remaining Length 3: no Property Length [MQTT-3.4.2.2.1]
            0xAB, 0xCD, // Packet Identifier 0xABCD
            rc,         // Reason Code
        ];
        check(
            &bytes,
            make(Ack {
                packet_id: 0xABCD,
                reason: ReasonCode(rc),
                properties: Properties::default(),
            }),
        );
    }
}

#[test]
fn puback_with_reason_string_and_user_property_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x40,                   // PUBACK
        0x10,                   // Remaining Length 16 = 2 id + 1 reason + 1 length + 12
        0x00, 0x05,             // Packet Identifier 5
        0x87,                   // Reason Code: Not authorized
        0x0C,                   // Property Length 12
        0x1F, 0x00, 0x03, b'b', b'a', b'd', // Reason String "bad"
        0x26, 0x00, 0x01, b'k', 0x00, 0x00, // User Property ("k", "")
    ];
    check(
        &bytes,
        Packet::PubAck(Ack {
            packet_id: 5,
            reason: ReasonCode::NOT_AUTHORIZED,
            properties: Properties {
                reason_string: Some("bad".into()),
                user_properties: vec![user("k", "")],
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn pubrel_success_with_properties_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x62,                   // PUBREL, flags 0010
        0x0A,                   // Remaining Length 10
        0x00, 0x09,             // Packet Identifier 9
        0x00,                   // Reason Code: Success (written because properties follow)
        0x06,                   // Property Length 6
        0x1F, 0x00, 0x03, b'w', b'h', b'y', // Reason String "why"
    ];
    check(
        &bytes,
        Packet::PubRel(Ack {
            packet_id: 9,
            reason: ReasonCode::SUCCESS,
            properties: Properties {
                reason_string: Some("why".into()),
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn subscribe_every_option_bit_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x82,                         // SUBSCRIBE, flags 0010
        0x29,                         // Remaining Length 41
        0x00, 0x0A,                   // Packet Identifier 10
        0x09,                         // Property Length 9
        0x0B, 0x05,                   // Subscription Identifier 5
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property ("k", "v")
        0x00, 0x03, b'a', b'/', b'b', // Topic Filter "a/b"
        0x00,                         // Options: QoS 0, everything else 0
        0x00, 0x01, b'c',             // Topic Filter "c"
        0x1D,                         // Options: Retain Handling 1 (0x10) | Retain As Published
                                      //          (0x08) | No Local (0x04) | QoS 1
        0x00, 0x03, b'd', b'/', b'#', // Topic Filter "d/#"
        0x22,                         // Options: Retain Handling 2 (0x20) | QoS 2
        0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'e', // "$share/g/e"
        0x09,                         // Options: Retain As Published | QoS 1 (No Local is not
                                      //          allowed on a shared subscription)
    ];
    check(
        &bytes,
        Packet::Subscribe(Subscribe {
            packet_id: 10,
            filters: vec![
                SubscribeFilter {
                    filter: "a/b".into(),
                    options: SubscriptionOptions::default(),
                },
                SubscribeFilter {
                    filter: "c".into(),
                    options: SubscriptionOptions {
                        qos: QoS::AtLeastOnce,
                        no_local: true,
                        retain_as_published: true,
                        retain_handling: RetainHandling::SendIfNew,
                    },
                },
                SubscribeFilter {
                    filter: "d/#".into(),
                    options: SubscriptionOptions {
                        qos: QoS::ExactlyOnce,
                        no_local: false,
                        retain_as_published: false,
                        retain_handling: RetainHandling::DoNotSend,
                    },
                },
                SubscribeFilter {
                    filter: "$share/g/e".into(),
                    options: SubscriptionOptions {
                        qos: QoS::AtLeastOnce,
                        no_local: false,
                        retain_as_published: true,
                        retain_handling: RetainHandling::SendAtSubscribe,
                    },
                },
            ],
            properties: Properties {
                subscription_identifiers: vec![5],
                user_properties: vec![user("k", "v")],
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn suback_with_reason_string_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0x90,                   // SUBACK
        0x0E,                   // Remaining Length 14
        0x00, 0x0A,             // Packet Identifier 10
        0x05,                   // Property Length 5
        0x1F, 0x00, 0x02, b'o', b'k', // Reason String "ok"
        0x00,                   // Granted QoS 0
        0x01,                   // Granted QoS 1
        0x02,                   // Granted QoS 2
        0x87,                   // Not authorized
        0x8F,                   // Topic Filter invalid
        0xA2,                   // Wildcard Subscriptions not supported
    ];
    check(
        &bytes,
        Packet::SubAck(SubAck {
            packet_id: 10,
            reason_codes: vec![
                ReasonCode::SUCCESS,
                ReasonCode::GRANTED_QOS_1,
                ReasonCode::GRANTED_QOS_2,
                ReasonCode::NOT_AUTHORIZED,
                ReasonCode::TOPIC_FILTER_INVALID,
                ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
            ],
            properties: Properties {
                reason_string: Some("ok".into()),
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn unsubscribe_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0xA2,                         // UNSUBSCRIBE, flags 0010
        0x12,                         // Remaining Length 18
        0x00, 0x0B,                   // Packet Identifier 11
        0x07,                         // Property Length 7
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property ("k", "v")
        0x00, 0x03, b'a', b'/', b'b', // Topic Filter "a/b"
        0x00, 0x01, b'#',             // Topic Filter "#"
    ];
    check(
        &bytes,
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 11,
            filters: vec!["a/b".into(), "#".into()],
            properties: Properties {
                user_properties: vec![user("k", "v")],
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn unsuback_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0xB0,                   // UNSUBACK
        0x05,                   // Remaining Length 5
        0x00, 0x0B,             // Packet Identifier 11
        0x00,                   // Property Length 0
        0x00,                   // Success
        0x11,                   // No subscription existed
    ];
    check(
        &bytes,
        Packet::UnsubAck(UnsubAck {
            packet_id: 11,
            reason_codes: vec![ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED],
            properties: Properties::default(),
        }),
    );
}

#[test]
fn pingreq_pingresp_5_0() {
    check(&[0xC0, 0x00], Packet::PingReq); // PINGREQ, Remaining Length 0
    check(&[0xD0, 0x00], Packet::PingResp); // PINGRESP, Remaining Length 0
}

#[test]
fn disconnect_zero_byte_form_is_normal_disconnection_5_0() {
    // [MQTT-3.14.2.1]: Remaining Length 0 means Reason Code 0x00, no properties.
    check(&[0xE0, 0x00], Packet::Disconnect(Disconnect::default()));
    // Reason Code 0 with Property Length 0 is valid; the encoder writes the 0-byte form.
    decodes_to(
        &[0xE0, 0x02, 0x00, 0x00],
        &Packet::Disconnect(Disconnect::default()),
    );
}

#[test]
fn disconnect_one_byte_form_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0xE0, // DISCONNECT
        0x01, // Remaining Length 1: Reason Code only
        0x04, // Disconnect with Will Message
    ];
    check(
        &bytes,
        Packet::Disconnect(Disconnect::with_reason(ReasonCode::DISCONNECT_WITH_WILL)),
    );
}

#[test]
fn disconnect_with_properties_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0xE0,                   // DISCONNECT
        0x0D,                   // Remaining Length 13
        0x9C,                   // Reason Code: Use another server
        0x0B,                   // Property Length 11
        0x11, 0x00, 0x00, 0x00, 0x00, // Session Expiry Interval 0
        0x1C, 0x00, 0x03, b'h', b':', b'1', // Server Reference "h:1"
    ];
    check(
        &bytes,
        Packet::Disconnect(Disconnect {
            reason: ReasonCode::USE_ANOTHER_SERVER,
            properties: Properties {
                session_expiry_interval: Some(0),
                server_reference: Some("h:1".into()),
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn auth_continue_with_method_and_data_5_0() {
    #[rustfmt::skip]
    let bytes = [
        0xF0,                   // AUTH, flags 0
        0x0F,                   // Remaining Length 15
        0x18,                   // Reason Code: Continue authentication
        0x0D,                   // Property Length 13
        0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', // Authentication Method "SCRAM"
        0x16, 0x00, 0x02, 0x01, 0x02, // Authentication Data 01 02
    ];
    check(
        &bytes,
        Packet::Auth(Auth {
            reason: ReasonCode::CONTINUE_AUTHENTICATION,
            properties: Properties {
                authentication_method: Some("SCRAM".into()),
                authentication_data: Some(Bytes::from_static(&[1, 2])),
                ..Properties::default()
            },
        }),
    );
}

#[test]
fn auth_zero_byte_form_is_success_5_0() {
    // [MQTT-3.15.2.1]: Remaining Length 0 means Success and no properties.
    check(&[0xF0, 0x00], Packet::Auth(Auth::default()));
    check(
        &[0xF0, 0x01, 0x19], // AUTH, Remaining Length 1, Re-authenticate
        Packet::Auth(Auth {
            reason: ReasonCode::RE_AUTHENTICATE,
            properties: Properties::default(),
        }),
    );
}

#[test]
fn connack_from_a_3_1_1_only_server_is_read_as_its_return_code() {
    // A server that does not speak 5.0 answers a level-5 CONNECT with a 3.1.1 CONNACK,
    // return code 1 [MQTT-3.1.2-2]. 5.0 has no CONNACK reason codes 1..=5, and a 5.0
    // CONNACK always has a Property Length, so the 2-byte form is the 3.1.1 one: it must
    // read as a refusal, not as reason 0x01 ("Granted QoS 1", not an error).
    #[rustfmt::skip]
    let bytes = [
        0x20, // CONNACK
        0x02, // Remaining Length 2: no Property Length, so a 3.1.1 CONNACK
        0x00, // Session Present 0
        0x01, // 3.1.1 return code 1: unacceptable protocol version
    ];
    let expected = Packet::ConnAck(ConnAck {
        session_present: false,
        reason: ReasonCode::UNSUPPORTED_PROTOCOL_VERSION,
        properties: Properties::default(),
    });
    decodes_to(&bytes, &expected);
    for (rc, reason) in [
        (2u8, ReasonCode::CLIENT_IDENTIFIER_NOT_VALID),
        (3, ReasonCode::SERVER_UNAVAILABLE),
        (4, ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        (5, ReasonCode::NOT_AUTHORIZED),
    ] {
        let mut buf = BytesMut::from(&[0x20, 0x02, 0x00, rc][..]);
        match decode(&mut buf, V5, 0) {
            Ok(Some(Packet::ConnAck(c))) => {
                assert_eq!(c.reason, reason);
                assert!(c.reason.is_error());
            }
            other => panic!("{other:?}"),
        }
    }
    // Success and 5.0 codes without a Property Length are read as they are.
    decodes_to(
        &[0x20, 0x02, 0x01, 0x00],
        &Packet::ConnAck(ConnAck {
            session_present: true,
            ..ConnAck::default()
        }),
    );
    decodes_to(
        &[0x20, 0x02, 0x00, 0x87],
        &Packet::ConnAck(ConnAck {
            reason: ReasonCode::NOT_AUTHORIZED,
            ..ConnAck::default()
        }),
    );
}
