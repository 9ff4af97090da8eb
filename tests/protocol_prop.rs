//! Property tests of the codec: every valid packet of each protocol version encodes to
//! `encoded_len` bytes and decodes back to itself, whole or fed in two parts.
//!
//! The strategies generate only packets that are valid for the version: no properties
//! or 5.0 reason codes under 3.1/3.1.1, non-zero packet identifiers where one is sent,
//! valid topic names and filters, property values the receiver accepts, and only the
//! properties each packet may carry (section 2.2.2.2 of MQTT 5.0).
//!
//! The case count is proptest's default (256 per test) so `cargo test` stays fast; set
//! `PROPTEST_CASES` for a longer run, e.g.
//! `PROPTEST_CASES=100000 cargo test --release --test protocol_prop`.

use bytes::{Bytes, BytesMut};
use mq::protocol::topic::{is_shared, validate_filter};
use mq::protocol::{
    Ack, Auth, ByteStr, ConnAck, Connect, Disconnect, Packet, Properties, PropertyContext,
    PropertyId, ProtocolVersion, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    SubscribeFilter, SubscriptionOptions, UnsubAck, Unsubscribe, Will, decode, encode, encoded_len,
};
use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;

const MAX_VBI: u32 = 268_435_455;

fn config() -> ProptestConfig {
    ProptestConfig {
        // No regression files written next to the tests.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A UTF-8 string without U+0000 [MQTT-1.5.4-2] (any other character, any plane).
fn text() -> impl Strategy<Value = String> {
    "[^\\x00]{0,6}"
}

fn binary() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..8).prop_map(Bytes::from)
}

/// One topic level: no wildcard, no separator, no NUL.
fn level() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9$ ]{0,3}",
        1 => "[^\\x00+#/]{0,3}",
    ]
}

/// A valid topic name [MQTT-4.7.3-1], [MQTT-4.7.0-1].
fn topic_name() -> impl Strategy<Value = String> {
    vec(level(), 1..4)
        .prop_map(|levels| levels.join("/"))
        .prop_filter("a topic name is not empty", |t| !t.is_empty())
}

/// A valid topic filter: `+` levels, an optional trailing `#`, possibly shared.
fn topic_filter() -> impl Strategy<Value = String> {
    let lvl = prop_oneof![3 => level(), 1 => Just("+".to_owned())];
    (
        vec(lvl, 0..4),
        any::<bool>(),
        weighted(0.2, "[a-z0-9]{1,3}"),
    )
        .prop_map(|(mut levels, hash, group)| {
            if hash || levels.is_empty() {
                levels.push("#".to_owned());
            }
            let f = levels.join("/");
            match group {
                Some(g) => format!("$share/{g}/{f}"),
                None => f,
            }
        })
        .prop_filter("a valid filter", |f| validate_filter(f).is_ok())
}

fn opt<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    weighted(0.15, s)
}

fn bit() -> impl Strategy<Value = u8> {
    0..=1u8
}

/// Properties with values a receiver accepts, reduced to those allowed in `ctx`.
fn properties(ctx: PropertyContext) -> impl Strategy<Value = Properties> {
    let a = (
        opt(bit()),
        opt(any::<u32>()),
        opt(text()),
        opt(topic_name()),
        opt(binary()),
        vec(1..=MAX_VBI, 0..3),
        opt(any::<u32>()),
        opt(text()),
        opt(any::<u16>()),
    );
    let b = (
        opt(text()),
        opt(binary()),
        opt(bit()),
        opt(any::<u32>()),
        opt(bit()),
        opt(text()),
        opt(text()),
        opt(text()),
        opt(1..=u16::MAX),
    );
    let c = (
        opt(any::<u16>()),
        opt(1..=u16::MAX),
        opt(bit()),
        opt(bit()),
        vec((text(), text()), 0..4),
        opt(1..=u32::MAX),
        opt(bit()),
        opt(bit()),
        opt(bit()),
    );
    (a, b, c).prop_map(move |(a, b, c)| {
        use PropertyId as P;
        let ok = |id: P| id.allowed_in(ctx);
        fn keep<T>(allowed: bool, v: Option<T>) -> Option<T> {
            if allowed { v } else { None }
        }
        let mut subscription_identifiers = if ok(P::SubscriptionIdentifier) {
            a.5
        } else {
            Vec::new()
        };
        if ctx == PropertyContext::Subscribe {
            subscription_identifiers.truncate(1); // at most one in SUBSCRIBE
        }
        Properties {
            payload_format_indicator: keep(ok(P::PayloadFormatIndicator), a.0),
            message_expiry_interval: keep(ok(P::MessageExpiryInterval), a.1),
            content_type: keep(ok(P::ContentType), a.2),
            response_topic: keep(ok(P::ResponseTopic), a.3.map(ByteStr::from)),
            correlation_data: keep(ok(P::CorrelationData), a.4),
            subscription_identifiers,
            session_expiry_interval: keep(ok(P::SessionExpiryInterval), a.6),
            assigned_client_identifier: keep(ok(P::AssignedClientIdentifier), a.7),
            server_keep_alive: keep(ok(P::ServerKeepAlive), a.8),
            authentication_method: keep(ok(P::AuthenticationMethod), b.0),
            authentication_data: keep(ok(P::AuthenticationData), b.1),
            request_problem_information: keep(ok(P::RequestProblemInformation), b.2),
            will_delay_interval: keep(ok(P::WillDelayInterval), b.3),
            request_response_information: keep(ok(P::RequestResponseInformation), b.4),
            response_information: keep(ok(P::ResponseInformation), b.5),
            server_reference: keep(ok(P::ServerReference), b.6),
            reason_string: keep(ok(P::ReasonString), b.7),
            receive_maximum: keep(ok(P::ReceiveMaximum), b.8),
            topic_alias_maximum: keep(ok(P::TopicAliasMaximum), c.0),
            topic_alias: keep(ok(P::TopicAlias), c.1),
            maximum_qos: keep(ok(P::MaximumQos), c.2),
            retain_available: keep(ok(P::RetainAvailable), c.3),
            user_properties: c.4,
            maximum_packet_size: keep(ok(P::MaximumPacketSize), c.5),
            wildcard_subscription_available: keep(ok(P::WildcardSubscriptionAvailable), c.6),
            subscription_identifier_available: keep(ok(P::SubscriptionIdentifierAvailable), c.7),
            shared_subscription_available: keep(ok(P::SharedSubscriptionAvailable), c.8),
        }
    })
}

/// Properties under 5.0, none under 3.1 / 3.1.1.
fn props_for(v: ProtocolVersion, ctx: PropertyContext) -> BoxedStrategy<Properties> {
    if v.is_v5() {
        properties(ctx).boxed()
    } else {
        Just(Properties::default()).boxed()
    }
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

/// A reason code: any byte under 5.0 (unknown codes are kept), success under 3.1.1.
fn reason_for(v: ProtocolVersion) -> BoxedStrategy<ReasonCode> {
    if v.is_v5() {
        any::<u8>().prop_map(ReasonCode).boxed()
    } else {
        Just(ReasonCode::SUCCESS).boxed()
    }
}

fn connect(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let will = weighted(
        0.4,
        (
            topic_name(),
            binary(),
            qos(),
            any::<bool>(),
            props_for(v, PropertyContext::Will),
        )
            .prop_map(|(topic, payload, qos, retain, properties)| Will {
                topic: ByteStr::from(topic),
                payload,
                qos,
                retain,
                properties,
            }),
    );
    (
        any::<bool>(),
        any::<u16>(),
        text(),
        will,
        weighted(0.5, text()),
        weighted(0.5, binary()),
        props_for(v, PropertyContext::Connect),
    )
        .prop_map(
            move |(
                clean_start,
                keep_alive,
                client_id,
                will,
                username,
                mut password,
                properties,
            )| {
                if !v.is_v5() && username.is_none() {
                    password = None; // [MQTT-3.1.2-22]
                }
                Packet::Connect(Box::new(Connect {
                    protocol: v,
                    clean_start,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password,
                    properties,
                    // A bridge's protocol level (bit 7) exists under 3.1 and 3.1.1.
                    bridge: !v.is_v5() && keep_alive % 3 == 0,
                }))
            },
        )
}

fn connack(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let reason = if v.is_v5() {
        any::<u8>().prop_map(ReasonCode).boxed()
    } else {
        // The six 3.1.1 return codes, as the reason codes they decode to.
        (0..=5u8)
            .prop_map(|rc| ReasonCode::from_v3_connack(rc).unwrap_or_default())
            .boxed()
    };
    (
        any::<bool>(),
        reason,
        props_for(v, PropertyContext::ConnAck),
    )
        .prop_map(move |(session_present, reason, properties)| {
            Packet::ConnAck(ConnAck {
                // MQTT 3.1 has no Session Present flag: its acknowledge flags are 0.
                session_present: session_present && v != ProtocolVersion::V31,
                reason,
                properties,
            })
        })
}

fn publish(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        weighted(0.9, topic_name()),
        1..=u16::MAX,
        props_for(v, PropertyContext::Publish),
        vec(any::<u8>(), 0..64),
        1..=u16::MAX,
    )
        .prop_map(
            move |(qos, dup, retain, topic, id, mut properties, payload, alias)| {
                let topic = match topic {
                    Some(t) => t,
                    None if v.is_v5() => {
                        // An empty topic name stands for a Topic Alias [MQTT-3.3.2-1].
                        properties.topic_alias = Some(alias);
                        String::new()
                    }
                    None => "t".to_owned(),
                };
                Packet::Publish(Publish {
                    dup: dup && qos != QoS::AtMostOnce, // [MQTT-3.3.1-2]
                    qos,
                    retain,
                    topic: ByteStr::from(topic),
                    packet_id: if qos == QoS::AtMostOnce { 0 } else { id },
                    properties,
                    payload: Bytes::from(payload),
                })
            },
        )
}

fn ack(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        0..4u8,
        1..=u16::MAX,
        reason_for(v),
        props_for(v, PropertyContext::PubAck),
    )
        .prop_map(|(kind, packet_id, reason, properties)| {
            let a = Ack {
                packet_id,
                reason,
                properties,
            };
            match kind {
                0 => Packet::PubAck(a),
                1 => Packet::PubRec(a),
                2 => Packet::PubRel(a),
                _ => Packet::PubComp(a),
            }
        })
}

fn subscribe(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let entry = (topic_filter(), qos(), any::<bool>(), any::<bool>(), 0..3u8).prop_map(
        move |(filter, qos, no_local, rap, rh)| {
            let options = if v.is_v5() {
                SubscriptionOptions {
                    qos,
                    // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
                    no_local: no_local && !is_shared(&filter),
                    retain_as_published: rap,
                    retain_handling: match rh {
                        0 => RetainHandling::SendAtSubscribe,
                        1 => RetainHandling::SendIfNew,
                        _ => RetainHandling::DoNotSend,
                    },
                }
            } else {
                SubscriptionOptions::qos(qos)
            };
            SubscribeFilter { filter, options }
        },
    );
    (
        1..=u16::MAX,
        vec(entry, 1..4),
        props_for(v, PropertyContext::Subscribe),
    )
        .prop_map(|(packet_id, filters, properties)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                filters,
                properties,
            })
        })
}

fn suback(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = if v.is_v5() {
        any::<u8>().prop_map(ReasonCode).boxed()
    } else {
        prop_oneof![Just(0u8), Just(1), Just(2), Just(0x80)]
            .prop_map(ReasonCode)
            .boxed()
    };
    (
        1..=u16::MAX,
        vec(code, 1..5),
        props_for(v, PropertyContext::SubAck),
    )
        .prop_map(|(packet_id, reason_codes, properties)| {
            Packet::SubAck(SubAck {
                packet_id,
                reason_codes,
                properties,
            })
        })
}

fn unsubscribe(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        1..=u16::MAX,
        vec(topic_filter(), 1..4),
        props_for(v, PropertyContext::Unsubscribe),
    )
        .prop_map(|(packet_id, filters, properties)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                properties,
            })
        })
}

fn unsuback(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let codes = if v.is_v5() {
        vec(any::<u8>().prop_map(ReasonCode), 0..5).boxed()
    } else {
        Just(Vec::new()).boxed() // no payload in 3.1.1
    };
    (1..=u16::MAX, codes, props_for(v, PropertyContext::UnsubAck)).prop_map(
        |(packet_id, reason_codes, properties)| {
            Packet::UnsubAck(UnsubAck {
                packet_id,
                reason_codes,
                properties,
            })
        },
    )
}

fn disconnect(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (reason_for(v), props_for(v, PropertyContext::Disconnect))
        .prop_map(|(reason, properties)| Packet::Disconnect(Disconnect { reason, properties }))
}

fn auth() -> impl Strategy<Value = Packet> {
    (
        any::<u8>().prop_map(ReasonCode),
        properties(PropertyContext::Auth),
    )
        .prop_map(|(reason, properties)| Packet::Auth(Auth { reason, properties }))
}

/// Any valid packet under `v`.
fn packet(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let common = prop_oneof![
        connect(v),
        connack(v),
        publish(v),
        ack(v),
        subscribe(v),
        suback(v),
        unsubscribe(v),
        unsuback(v),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        disconnect(v),
    ];
    if v.is_v5() {
        prop_oneof![10 => common, 1 => auth()].boxed()
    } else {
        common.boxed()
    }
}

fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![
        Just(ProtocolVersion::V31),
        Just(ProtocolVersion::V311),
        Just(ProtocolVersion::V5)
    ]
}

/// Encode, check the length, decode whole and in two parts, expect the same packet.
fn round_trip(v: ProtocolVersion, p: &Packet, split: usize) -> Result<(), TestCaseError> {
    let mut out = BytesMut::new();
    encode(p, v, &mut out).map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
    prop_assert_eq!(out.len(), encoded_len(p, v));
    let bytes = out.clone().freeze();

    // Whole, with a size limit of exactly the packet's size.
    let got = decode(&mut out, v, bytes.len());
    prop_assert_eq!(got, Ok(Some(p.clone())));
    prop_assert!(out.is_empty());

    // In two parts: nothing until the last byte is there.
    let cut = split % bytes.len();
    let mut buf = BytesMut::from(&bytes[..cut]);
    prop_assert_eq!(decode(&mut buf, v, 0), Ok(None));
    prop_assert_eq!(buf.len(), cut);
    buf.extend_from_slice(&bytes[cut..]);
    // A second packet behind it stays in the buffer.
    buf.extend_from_slice(&[0xC0, 0x00]);
    prop_assert_eq!(decode(&mut buf, v, 0), Ok(Some(p.clone())));
    prop_assert_eq!(&buf[..], &[0xC0u8, 0x00][..]);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_valid_3_1_1_packet_round_trips(p in packet(ProtocolVersion::V311), split in any::<usize>()) {
        round_trip(ProtocolVersion::V311, &p, split)?;
    }

    #[test]
    fn every_valid_3_1_packet_round_trips(p in packet(ProtocolVersion::V31), split in any::<usize>()) {
        round_trip(ProtocolVersion::V31, &p, split)?;
    }

    #[test]
    fn every_valid_5_0_packet_round_trips(p in packet(ProtocolVersion::V5), split in any::<usize>()) {
        round_trip(ProtocolVersion::V5, &p, split)?;
    }

    /// A CONNECT carries its own version: it decodes the same on a connection of any
    /// version.
    #[test]
    fn connect_decodes_under_any_connection_version(
        conn in version(),
        p in version().prop_flat_map(connect),
    ) {
        let mut out = BytesMut::new();
        encode(&p, conn, &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decode(&mut out, conn, 0), Ok(Some(p)));
    }
}
