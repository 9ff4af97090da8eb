//! Byte-vector tests of the codec under MQTT 3.1.1 (and CONNECT under MQTT 3.1): each
//! vector is written by hand from the OASIS MQTT 3.1.1 specification, annotated byte by
//! byte, and must both decode to the expected packet and encode back to the same bytes.

use bytes::{Bytes, BytesMut};
use mq::protocol::{
    Ack, ByteStr, ConnAck, Connect, Disconnect, Packet, ProtocolVersion, Publish, QoS, ReasonCode,
    SubAck, Subscribe, SubscribeFilter, SubscriptionOptions, UnsubAck, Unsubscribe, Will, decode,
    encode, encoded_len,
};

const V311: ProtocolVersion = ProtocolVersion::V311;

/// Decode `bytes` (one whole packet) under `version`, expect `expected`, then encode
/// `expected` and expect exactly `bytes` again.
fn check(bytes: &[u8], version: ProtocolVersion, expected: Packet) {
    let mut buf = BytesMut::from(bytes);
    let got = decode(&mut buf, version, 0)
        .unwrap_or_else(|e| panic!("decode failed: {e}"))
        .expect("a whole packet is buffered");
    assert_eq!(got, expected, "decoded packet");
    assert!(buf.is_empty(), "the whole packet is consumed");
    let mut out = BytesMut::new();
    encode(&expected, version, &mut out).unwrap_or_else(|e| panic!("encode failed: {e}"));
    assert_eq!(&out[..], bytes, "encoded bytes");
    assert_eq!(encoded_len(&expected, version), bytes.len(), "encoded_len");
}

/// Encode only (for packets whose encoding is canonical but not the only decodable form).
fn encodes_to(packet: &Packet, version: ProtocolVersion, bytes: &[u8]) {
    let mut out = BytesMut::new();
    encode(packet, version, &mut out).unwrap_or_else(|e| panic!("encode failed: {e}"));
    assert_eq!(&out[..], bytes);
}

#[test]
fn connect_minimal_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x10,                   // CONNECT, flags 0
        0x0C,                   // Remaining Length 12
        0x00, 0x04, b'M', b'Q', b'T', b'T', // Protocol Name "MQTT" [MQTT-3.1.2-1]
        0x04,                   // Protocol Level 4 = 3.1.1
        0x02,                   // Connect Flags: Clean Session
        0x00, 0x3C,             // Keep Alive 60 s
        0x00, 0x00,             // Client Identifier "" (zero length) [MQTT-3.1.3-6]
    ];
    check(
        &bytes,
        V311,
        Packet::Connect(Box::new(Connect {
            protocol: V311,
            clean_start: true,
            keep_alive: 60,
            client_id: String::new(),
            ..Connect::default()
        })),
    );
}

#[test]
fn connect_with_will_username_password_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x10,                   // CONNECT, flags 0
        0x23,                   // Remaining Length 35 = 10 variable header + 25 payload
        0x00, 0x04, b'M', b'Q', b'T', b'T', // Protocol Name "MQTT"
        0x04,                   // Protocol Level 4
        0xEE,                   // Flags: User Name 0x80 | Password 0x40 | Will Retain 0x20
                                //        | Will QoS 1 (0x08) | Will Flag 0x04 | Clean Session 0x02
        0x00, 0x3C,             // Keep Alive 60
        0x00, 0x03, b'c', b'i', b'd',       // Client Identifier "cid"
        0x00, 0x03, b'w', b'/', b't',       // Will Topic "w/t"
        0x00, 0x03, b'b', b'y', b'e',       // Will Message "bye"
        0x00, 0x04, b'u', b's', b'e', b'r', // User Name "user"
        0x00, 0x02, b'p', 0xFF,             // Password: binary data, any bytes
    ];
    check(
        &bytes,
        V311,
        Packet::Connect(Box::new(Connect {
            protocol: V311,
            clean_start: true,
            keep_alive: 60,
            client_id: "cid".into(),
            will: Some(Will {
                topic: ByteStr::from("w/t"),
                payload: Bytes::from_static(b"bye"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: Default::default(),
            }),
            username: Some("user".into()),
            password: Some(Bytes::from_static(&[b'p', 0xFF])),
            properties: Default::default(),
            bridge: false,
        })),
    );
}

#[test]
fn connect_username_only_will_qos2_no_clean_session_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x10,                   // CONNECT
        0x15,                   // Remaining Length 21 = 10 + 11
        0x00, 0x04, b'M', b'Q', b'T', b'T', // "MQTT"
        0x04,                   // Level 4
        0x94,                   // Flags: User Name 0x80 | Will QoS 2 (0x10) | Will Flag 0x04
        0xFF, 0xFF,             // Keep Alive 65535
        0x00, 0x00,             // Client Identifier ""
        0x00, 0x01, b't',       // Will Topic "t"
        0x00, 0x00,             // Will Message: empty
        0x00, 0x02, b'u', b'1', // User Name "u1"
    ];
    check(
        &bytes,
        V311,
        Packet::Connect(Box::new(Connect {
            protocol: V311,
            clean_start: false,
            keep_alive: 65535,
            client_id: String::new(),
            will: Some(Will {
                topic: ByteStr::from("t"),
                payload: Bytes::new(),
                qos: QoS::ExactlyOnce,
                retain: false,
                properties: Default::default(),
            }),
            username: Some("u1".into()),
            password: None,
            properties: Default::default(),
            bridge: false,
        })),
    );
}

/// mosquitto's `try_private`: a bridge connects with bit 7 of the protocol level
/// set (0x84 under 3.1.1); not in the specification, which refuses the level
/// [MQTT-3.1.2-2], so only brokers that know bridges accept it.
#[test]
fn connect_bridge_level_0x84_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x10,                   // CONNECT
        0x0E,                   // Remaining Length 14
        0x00, 0x04, b'M', b'Q', b'T', b'T', // "MQTT"
        0x84,                   // Level 4 | 0x80: a bridge
        0x02,                   // Flags: Clean Session
        0x00, 0x3C,             // Keep Alive 60
        0x00, 0x02, b'b', b'r', // Client Identifier "br"
    ];
    check(
        &bytes,
        V311,
        Packet::Connect(Box::new(Connect {
            protocol: V311,
            client_id: "br".into(),
            bridge: true,
            ..Connect::default()
        })),
    );
}

#[test]
fn connect_mqtt_3_1_mqisdp_level_3() {
    #[rustfmt::skip]
    let bytes = [
        0x10,                   // CONNECT
        0x10,                   // Remaining Length 16 = 12 + 4
        0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', // Protocol Name "MQIsdp" (MQTT 3.1)
        0x03,                   // Protocol Level 3
        0x02,                   // Flags: Clean Session
        0x00, 0x0A,             // Keep Alive 10
        0x00, 0x02, b'c', b'1', // Client Identifier "c1"
    ];
    let expected = Packet::Connect(Box::new(Connect {
        protocol: ProtocolVersion::V31,
        clean_start: true,
        keep_alive: 10,
        client_id: "c1".into(),
        ..Connect::default()
    }));
    // A CONNECT carries its own version: the connection's version does not matter.
    check(&bytes, ProtocolVersion::V31, expected.clone());
    check(&bytes, V311, expected.clone());
    check(&bytes, ProtocolVersion::V5, expected);
}

#[test]
fn connack_every_3_1_1_return_code() {
    // [MQTT-3.2.2.3] Table 3.1: 0 accepted, 1 unacceptable protocol version, 2 identifier
    // rejected, 3 server unavailable, 4 bad user name or password, 5 not authorized.
    let mapping = [
        (0u8, ReasonCode::SUCCESS),
        (1, ReasonCode::UNSUPPORTED_PROTOCOL_VERSION),
        (2, ReasonCode::CLIENT_IDENTIFIER_NOT_VALID),
        (3, ReasonCode::SERVER_UNAVAILABLE),
        (4, ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        (5, ReasonCode::NOT_AUTHORIZED),
    ];
    for (rc, reason) in mapping {
        #[rustfmt::skip]
        let bytes = [
            0x20, // CONNACK, flags 0
            0x02, // Remaining Length 2
            0x00, // Connect Acknowledge Flags: Session Present 0
            rc,   // Connect Return code
        ];
        check(
            &bytes,
            V311,
            Packet::ConnAck(ConnAck {
                session_present: false,
                reason,
                properties: Default::default(),
            }),
        );
        assert!(!ReasonCode::v3_connack_text(rc).is_empty());
    }
    assert_eq!(
        ReasonCode::v3_connack_text(5),
        "Connection Refused: not authorised"
    );
}

#[test]
fn connack_session_present_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x20, // CONNACK
        0x02, // Remaining Length 2
        0x01, // Session Present 1 [MQTT-3.2.2-2]
        0x00, // Connection Accepted
    ];
    check(
        &bytes,
        V311,
        Packet::ConnAck(ConnAck {
            session_present: true,
            reason: ReasonCode::SUCCESS,
            properties: Default::default(),
        }),
    );
}

#[test]
fn connack_5_0_reasons_map_onto_3_1_1_return_codes() {
    // A 5.0 reason without a 3.1.1 twin is sent as the closest return code.
    for (reason, rc) in [
        (ReasonCode::BANNED, 5u8),
        (ReasonCode::SERVER_BUSY, 3),
        (ReasonCode::UNSPECIFIED_ERROR, 3),
    ] {
        encodes_to(
            &Packet::ConnAck(ConnAck {
                session_present: false,
                reason,
                properties: Default::default(),
            }),
            V311,
            &[0x20, 0x02, 0x00, rc],
        );
    }
}

#[test]
fn publish_qos0_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x30,                         // PUBLISH, DUP 0, QoS 0, RETAIN 0
        0x07,                         // Remaining Length 7
        0x00, 0x03, b'a', b'/', b'b', // Topic Name "a/b"; no Packet Identifier at QoS 0
        b'h', b'i',                   // Payload "hi"
    ];
    check(
        &bytes,
        V311,
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: ByteStr::from("a/b"),
            packet_id: 0,
            properties: Default::default(),
            payload: Bytes::from_static(b"hi"),
        }),
    );
}

#[test]
fn publish_qos0_empty_payload_retained_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x31,                   // PUBLISH, QoS 0, RETAIN 1
        0x03,                   // Remaining Length 3
        0x00, 0x01, b'x',       // Topic Name "x"
                                // zero-length payload (clears a retained message)
    ];
    check(
        &bytes,
        V311,
        Packet::Publish(Publish {
            retain: true,
            topic: ByteStr::from("x"),
            ..Publish::default()
        }),
    );
}

#[test]
fn publish_qos1_retain_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x33,                         // PUBLISH, DUP 0, QoS 1 (0x02), RETAIN 1
        0x0A,                         // Remaining Length 10
        0x00, 0x03, b'a', b'/', b'b', // Topic Name "a/b"
        0x00, 0x0A,                   // Packet Identifier 10
        0xC3, 0xA9, 0x00,             // Payload: any bytes (here "é" and a NUL)
    ];
    check(
        &bytes,
        V311,
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: true,
            topic: ByteStr::from("a/b"),
            packet_id: 10,
            properties: Default::default(),
            payload: Bytes::from_static(&[0xC3, 0xA9, 0x00]),
        }),
    );
}

#[test]
fn publish_qos2_dup_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x3C,                   // PUBLISH, DUP 1 (0x08), QoS 2 (0x04), RETAIN 0
        0x09,                   // Remaining Length 9
        0x00, 0x05, b'c', b'/', 0xC3, 0xA9, b'/', // Topic Name "c/é/" (UTF-8, empty last level)
        0xFF, 0xFE,             // Packet Identifier 65534
    ];
    check(
        &bytes,
        V311,
        Packet::Publish(Publish {
            dup: true,
            qos: QoS::ExactlyOnce,
            retain: false,
            topic: ByteStr::from("c/é/"),
            packet_id: 0xFFFE,
            properties: Default::default(),
            payload: Bytes::new(),
        }),
    );
}

#[test]
fn publish_two_byte_remaining_length_3_1_1() {
    // A 200-byte payload: Remaining Length 205 = 0xCD 0x01 (205 = 0x4D + 1 * 128).
    let payload = vec![0xAB; 200];
    let mut bytes = vec![
        0x30, // PUBLISH QoS 0
        0xCD, 0x01, // Remaining Length 205: low 7 bits 0x4D with continuation, then 1
        0x00, 0x03, b'a', b'/', b'b', // Topic Name "a/b"
    ];
    bytes.extend_from_slice(&payload);
    check(
        &bytes,
        V311,
        Packet::Publish(Publish {
            topic: ByteStr::from("a/b"),
            payload: Bytes::from(payload),
            ..Publish::default()
        }),
    );
}

#[test]
fn puback_pubrec_pubrel_pubcomp_3_1_1() {
    // PUBACK 0x40, PUBREC 0x50, PUBREL 0x62 (flags 0010 [MQTT-3.6.1-1]), PUBCOMP 0x70,
    // each with Remaining Length 2 and the Packet Identifier.
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
            first,      // packet type and flags
            0x02,       // Remaining Length 2
            0x12, 0x34, // Packet Identifier 0x1234
        ];
        check(&bytes, V311, make(Ack::new(0x1234)));
    }
}

#[test]
fn subscribe_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x82,                         // SUBSCRIBE, flags 0010 [MQTT-3.8.1-1]
        0x12,                         // Remaining Length 18
        0x00, 0x0A,                   // Packet Identifier 10
        0x00, 0x03, b'a', b'/', b'b', // Topic Filter "a/b"
        0x00,                         // Requested QoS 0
        0x00, 0x01, b'#',             // Topic Filter "#"
        0x01,                         // Requested QoS 1
        0x00, 0x03, b'+', b'/', b'c', // Topic Filter "+/c"
        0x02,                         // Requested QoS 2
    ];
    check(
        &bytes,
        V311,
        Packet::Subscribe(Subscribe {
            packet_id: 10,
            filters: vec![
                SubscribeFilter {
                    filter: "a/b".into(),
                    options: SubscriptionOptions::qos(QoS::AtMostOnce),
                },
                SubscribeFilter {
                    filter: "#".into(),
                    options: SubscriptionOptions::qos(QoS::AtLeastOnce),
                },
                SubscribeFilter {
                    filter: "+/c".into(),
                    options: SubscriptionOptions::qos(QoS::ExactlyOnce),
                },
            ],
            properties: Default::default(),
        }),
    );
}

#[test]
fn suback_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0x90,                   // SUBACK
        0x06,                   // Remaining Length 6
        0x00, 0x0A,             // Packet Identifier 10
        0x00,                   // Success, Maximum QoS 0
        0x01,                   // Success, Maximum QoS 1
        0x02,                   // Success, Maximum QoS 2
        0x80,                   // Failure [MQTT-3.9.3-2]
    ];
    check(
        &bytes,
        V311,
        Packet::SubAck(SubAck {
            packet_id: 10,
            reason_codes: vec![
                ReasonCode::SUCCESS,
                ReasonCode::GRANTED_QOS_1,
                ReasonCode::GRANTED_QOS_2,
                ReasonCode::UNSPECIFIED_ERROR,
            ],
            properties: Default::default(),
        }),
    );
}

#[test]
fn unsubscribe_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0xA2,                         // UNSUBSCRIBE, flags 0010 [MQTT-3.10.1-1]
        0x0A,                         // Remaining Length 10
        0x00, 0x0B,                   // Packet Identifier 11
        0x00, 0x03, b'a', b'/', b'b', // Topic Filter "a/b"
        0x00, 0x01, b'#',             // Topic Filter "#"
    ];
    check(
        &bytes,
        V311,
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 11,
            filters: vec!["a/b".into(), "#".into()],
            properties: Default::default(),
        }),
    );
}

#[test]
fn unsuback_3_1_1() {
    #[rustfmt::skip]
    let bytes = [
        0xB0,       // UNSUBACK
        0x02,       // Remaining Length 2
        0x00, 0x0B, // Packet Identifier 11 (no payload in 3.1.1)
    ];
    check(
        &bytes,
        V311,
        Packet::UnsubAck(UnsubAck {
            packet_id: 11,
            reason_codes: vec![],
            properties: Default::default(),
        }),
    );
}

#[test]
fn pingreq_pingresp_disconnect_3_1_1() {
    check(&[0xC0, 0x00], V311, Packet::PingReq); // PINGREQ, Remaining Length 0
    check(&[0xD0, 0x00], V311, Packet::PingResp); // PINGRESP, Remaining Length 0
    check(
        &[0xE0, 0x00],
        V311,
        Packet::Disconnect(Disconnect::default()),
    ); // DISCONNECT
}

#[test]
fn disconnect_reason_is_dropped_under_3_1_1() {
    // 3.1.1 DISCONNECT has no variable header: a 5.0 reason is not sent.
    encodes_to(
        &Packet::Disconnect(Disconnect::with_reason(ReasonCode::DISCONNECT_WITH_WILL)),
        V311,
        &[0xE0, 0x00],
    );
}

#[test]
fn packets_decode_the_same_under_3_1() {
    // MQTT 3.1 shares the 3.1.1 packet layouts.
    #[rustfmt::skip]
    let bytes = [
        0x32,                   // PUBLISH QoS 1
        0x06,                   // Remaining Length 6
        0x00, 0x01, b't',       // Topic Name "t"
        0x00, 0x01,             // Packet Identifier 1
        b'!',                   // Payload
    ];
    check(
        &bytes,
        ProtocolVersion::V31,
        Packet::Publish(Publish {
            qos: QoS::AtLeastOnce,
            topic: ByteStr::from("t"),
            packet_id: 1,
            payload: Bytes::from_static(b"!"),
            ..Publish::default()
        }),
    );
}

#[test]
fn auth_cannot_be_encoded_under_3_1_1() {
    let mut out = BytesMut::new();
    let err = encode(&Packet::Auth(Default::default()), V311, &mut out).unwrap_err();
    assert!(matches!(err, mq::protocol::Error::Encode(_)));
    assert!(out.is_empty());
}
