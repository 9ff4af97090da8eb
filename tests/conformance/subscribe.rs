//! SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK and topic matching (sections 3.8-3.11
//! and 4.7): wildcards, `$`-topics, overlapping subscriptions, replaced
//! subscriptions, reason codes.

use crate::broker;
use crate::raw::{Event, QUIET, Raw, WAIT};
use mq::protocol::{Packet, Properties, ProtocolVersion, QoS, ReasonCode, SubscriptionOptions};
use std::time::Duration;

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// Subscribe to `filter`, publish each topic, and check which arrive.
async fn check_matches(filter: &str, cases: &[(&str, bool)]) {
    let b = broker::start().await;
    let mut s = Raw::v311(b.addr, "sub").await;
    s.subscribe(filter, QoS::AtLeastOnce).await;
    let mut p = Raw::v311(b.addr, "pub").await;
    for (topic, _) in cases {
        p.publish(topic, topic.as_bytes(), QoS::AtLeastOnce).await;
    }
    // A marker on a topic everybody matches is not possible for every filter, so
    // collect everything for a short while.
    let mut got = Vec::new();
    loop {
        match s.recv(Duration::from_millis(400)).await {
            Event::Packet(Packet::Publish(m)) => {
                s.ack(&m).await;
                got.push(m.topic.to_string());
            }
            Event::Timeout => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    for (topic, should) in cases {
        assert_eq!(
            got.iter().any(|t| t == topic),
            *should,
            "filter {filter:?} vs topic {topic:?}: expected match = {should} (got {got:?})"
        );
    }
    assert_eq!(
        got.len(),
        cases.iter().filter(|c| c.1).count(),
        "each matching message once: {got:?}"
    );
}

/// [MQTT-4.7.1-2] `+` matches exactly one level, including an empty one.
#[tokio::test]
async fn single_level_wildcard_mqtt_4_7_1_2() {
    check_matches(
        "sport/+/player",
        &[
            ("sport/tennis/player", true),
            ("sport//player", true),
            ("sport/tennis/x/player", false),
            ("sport/player", false),
            ("sport/tennis/player/x", false),
        ],
    )
    .await;
}

/// [MQTT-4.7.1-1] `#` matches the parent level and any number of children.
#[tokio::test]
async fn multi_level_wildcard_mqtt_4_7_1_1() {
    check_matches(
        "sport/tennis/#",
        &[
            ("sport/tennis", true),
            ("sport/tennis/player1", true),
            ("sport/tennis/player1/ranking", true),
            ("sport/tennisplayer", false),
            ("sport", false),
        ],
    )
    .await;
}

/// `+` alone matches one-level topics, not `/x` nor `a/b` (4.7.1.3 examples).
#[tokio::test]
async fn plus_alone_one_level_mqtt_4_7_1_2() {
    check_matches(
        "+",
        &[("finance", true), ("/finance", false), ("a/b", false)],
    )
    .await;
}

/// `+/+` matches `/finance` (two levels, the first empty) (4.7.1.3 examples).
#[tokio::test]
async fn plus_plus_matches_leading_slash_mqtt_4_7_1_2() {
    check_matches("+/+", &[("/finance", true), ("finance", false)]).await;
}

/// [MQTT-4.7.3-4] Matching is exact: case matters, no normalisation.
#[tokio::test]
async fn matching_is_case_sensitive_mqtt_4_7_3_4() {
    check_matches(
        "ACCOUNTS/x",
        &[
            ("ACCOUNTS/x", true),
            ("Accounts/x", false),
            ("accounts/x", false),
        ],
    )
    .await;
}

/// [MQTT-4.7.2-1] Filters starting with a wildcard do not match `$` topics; a filter
/// starting with `$` does.
#[tokio::test]
async fn dollar_topics_not_matched_by_leading_wildcard_mqtt_4_7_2_1() {
    let b = broker::start().await;
    let mut hash = Raw::v311(b.addr, "hash").await;
    hash.subscribe("#", QoS::AtMostOnce).await;
    let mut plus = Raw::v311(b.addr, "plus").await;
    plus.subscribe("+/info", QoS::AtMostOnce).await;
    let mut dollar = Raw::v311(b.addr, "dollar").await;
    dollar.subscribe("$test/+", QoS::AtMostOnce).await;
    let mut p = Raw::v311(b.addr, "pub").await;
    p.publish("$test/info", b"d", QoS::AtLeastOnce).await;
    let m = dollar.expect_publish().await;
    assert_eq!(&*m.topic, "$test/info");
    hash.expect_no_publish(QUIET).await;
    plus.expect_no_publish(QUIET).await;
}

/// [MQTT-3.8.4-5] [MQTT-3.9.3-1] Several filters in one SUBSCRIBE: one SUBACK with
/// the granted QoS of each, in order.
#[tokio::test]
async fn suback_codes_in_order_mqtt_3_9_3_1() {
    let b = broker::start().await;
    for version in [V3, V5] {
        let mut c = Raw::client(b.addr, version, "multi").await;
        let ack = c
            .subscribe_with(
                &[
                    ("m/2", SubscriptionOptions::qos(QoS::ExactlyOnce)),
                    ("m/0", SubscriptionOptions::qos(QoS::AtMostOnce)),
                    ("m/1", SubscriptionOptions::qos(QoS::AtLeastOnce)),
                ],
                Properties::default(),
            )
            .await;
        assert_eq!(
            ack.reason_codes,
            [
                ReasonCode::GRANTED_QOS_2,
                ReasonCode::SUCCESS,
                ReasonCode::GRANTED_QOS_1
            ],
            "{version}: SUBACK codes in filter order"
        );
        // Each subscription works at its granted QoS.
        c.publish("m/0", b"x", QoS::ExactlyOnce).await;
        assert_eq!(c.expect_publish_acked().await.qos, QoS::AtMostOnce);
        c.publish("m/1", b"x", QoS::ExactlyOnce).await;
        assert_eq!(c.expect_publish_acked().await.qos, QoS::AtLeastOnce);
        c.publish("m/2", b"x", QoS::ExactlyOnce).await;
        assert_eq!(c.expect_publish_acked().await.qos, QoS::ExactlyOnce);
    }
}

/// [MQTT-3.8.4-3] A SUBSCRIBE with an existing filter replaces the subscription: one
/// copy at the new QoS.
#[tokio::test]
async fn resubscribe_replaces_subscription_mqtt_3_8_4_3() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "resub").await;
    c.subscribe("r/t", QoS::ExactlyOnce).await;
    c.subscribe("r/t", QoS::AtMostOnce).await;
    let mut p = Raw::v311(b.addr, "pub").await;
    p.publish("r/t", b"x", QoS::ExactlyOnce).await;
    let m = c.expect_publish().await;
    assert_eq!(m.qos, QoS::AtMostOnce, "the replacing subscription's QoS");
    c.expect_no_publish(QUIET).await;
}

/// [MQTT-3.3.5-1] (3.1.1) Overlapping subscriptions: the message is delivered
/// respecting the highest QoS of the matching subscriptions (further copies are
/// allowed, one per extra subscription at most).
#[tokio::test]
async fn v311_overlapping_subscriptions_max_qos_mqtt_3_3_5_1() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "overlap").await;
    c.subscribe("o/+", QoS::AtMostOnce).await;
    c.subscribe("o/#", QoS::ExactlyOnce).await;
    let mut p = Raw::v311(b.addr, "pub").await;
    p.publish("o/x", b"x", QoS::ExactlyOnce).await;
    let mut got = Vec::new();
    loop {
        match c.recv(Duration::from_millis(400)).await {
            Event::Packet(Packet::Publish(m)) => {
                c.ack(&m).await;
                got.push(m.qos);
            }
            Event::Timeout => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        !got.is_empty() && got.len() <= 2,
        "one or two copies, got {got:?}"
    );
    assert!(
        got.contains(&QoS::ExactlyOnce),
        "a copy at the maximum QoS of the matching subscriptions: {got:?}"
    );
}

/// [MQTT-3.3.4-2] (5.0) Overlapping subscriptions: delivered respecting the maximum
/// QoS of the matching subscriptions.
#[tokio::test]
async fn v5_overlapping_subscriptions_max_qos_mqtt_3_3_4_2() {
    let b = broker::start().await;
    let mut c = Raw::v5(b.addr, "overlap").await;
    c.subscribe("o/+", QoS::AtLeastOnce).await;
    c.subscribe("o/#", QoS::AtMostOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("o/x", b"x", QoS::ExactlyOnce).await;
    let mut got = Vec::new();
    loop {
        match c.recv(Duration::from_millis(400)).await {
            Event::Packet(Packet::Publish(m)) => {
                c.ack(&m).await;
                got.push(m.qos);
            }
            Event::Timeout => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        !got.is_empty() && got.len() <= 2,
        "one or two copies, got {got:?}"
    );
    assert!(got.contains(&QoS::AtLeastOnce), "a copy at QoS 1: {got:?}");
}

/// [MQTT-3.10.4-1] [MQTT-3.10.4-2] UNSUBSCRIBE deletes the subscription: no more
/// messages; [MQTT-3.10.4-4] it is acknowledged with UNSUBACK.
#[tokio::test]
async fn unsubscribe_stops_delivery_mqtt_3_10_4_1() {
    let b = broker::start().await;
    for version in [V3, V5] {
        let mut c = Raw::client(b.addr, version, "unsub").await;
        c.subscribe("u/t", QoS::AtLeastOnce).await;
        let ack = c.unsubscribe(&["u/t"]).await;
        if version == V5 {
            assert_eq!(ack.reason_codes, [ReasonCode::SUCCESS], "UNSUBACK 0x00");
        }
        c.publish("u/t", b"x", QoS::AtLeastOnce).await;
        c.expect_no_publish(QUIET).await;
    }
}

/// [MQTT-3.10.4-5] UNSUBACK even when nothing was subscribed; (5.0) reason 0x11 No
/// subscription existed, one code per filter in order [MQTT-3.11.3-1].
#[tokio::test]
async fn unsuback_without_subscription_mqtt_3_10_4_5() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "u3").await;
    c.unsubscribe(&["never/subscribed"]).await;
    let mut c = Raw::v5(b.addr, "u5").await;
    c.subscribe("yes", QoS::AtMostOnce).await;
    let ack = c.unsubscribe(&["no", "yes"]).await;
    assert_eq!(
        ack.reason_codes,
        [ReasonCode::NO_SUBSCRIPTION_EXISTED, ReasonCode::SUCCESS],
        "UNSUBACK codes in order [MQTT-3.11.3-1]"
    );
}

/// [MQTT-3.10.4-1] UNSUBSCRIBE compares filters character by character: it does not
/// remove a wildcard subscription that matches the given filter.
#[tokio::test]
async fn unsubscribe_compares_filters_exactly_mqtt_3_10_4_1() {
    let b = broker::start().await;
    let mut c = Raw::v311(b.addr, "exact").await;
    c.subscribe("e/#", QoS::AtLeastOnce).await;
    c.unsubscribe(&["e/x"]).await;
    c.publish("e/x", b"still", QoS::AtLeastOnce).await;
    assert_eq!(&c.expect_publish_acked().await.payload[..], b"still");
}

/// [MQTT-4.7.1-1] An invalid filter (`#` not last) is refused: either a failure code
/// in SUBACK (0x80 / 0x8F) or the connection is closed; never granted.
#[tokio::test]
async fn invalid_filter_not_granted_mqtt_4_7_1_1() {
    let b = broker::start().await;
    for version in [V3, V5] {
        let mut c = Raw::client(b.addr, version, "badf").await;
        // Hand-built: the codec would refuse to build nothing, but be explicit.
        let mut body = vec![0x00, 0x01];
        if version == V5 {
            body.push(0);
        }
        body.extend(crate::raw::field(b"a/#/b"));
        body.push(0x00);
        c.send_bytes(&crate::raw::frame(0x82, &body)).await;
        match c.recv(WAIT).await {
            Event::Packet(Packet::SubAck(a)) => {
                assert!(a.reason_codes[0].is_error(), "{version}: granted {a:?}")
            }
            Event::Packet(Packet::Disconnect(d)) => {
                assert!(d.reason.is_error());
                c.expect_closed(WAIT).await;
            }
            Event::Closed => {}
            other => panic!("{version}: expected SUBACK failure or close, got {other:?}"),
        }
    }
}

/// Edge levels: an empty last level matches `+` and `#`; `#` alone matches every
/// non-`$` topic, including `/` (4.7.1 examples, [MQTT-4.7.1-1] [MQTT-4.7.1-2]).
#[tokio::test]
async fn empty_levels_and_lone_hash_mqtt_4_7_1_1() {
    check_matches("a/+", &[("a/", true), ("a", false), ("a/b", true)]).await;
    check_matches("#", &[("/", true), ("a/b/c", true), ("x", true)]).await;
}

/// [MQTT-4.7.3-4] Non-ASCII topics match character for character.
#[tokio::test]
async fn unicode_topics_match_exactly_mqtt_4_7_3_4() {
    check_matches("ü/+/✓", &[("ü/ß/✓", true), ("u/ß/✓", false)]).await;
}

/// 5.0 [MQTT-3.8.4-3]: a replacing SUBSCRIBE replaces the Subscription Identifier.
#[tokio::test]
async fn v5_resubscribe_replaces_subscription_identifier_mqtt_3_8_4_3() {
    let b = broker::start().await;
    let mut c = Raw::v5(b.addr, "sid").await;
    for id in [1u32, 2] {
        let props = Properties {
            subscription_identifiers: vec![id],
            ..Properties::default()
        };
        c.subscribe_with(
            &[("sid/t", SubscriptionOptions::qos(QoS::AtLeastOnce))],
            props,
        )
        .await;
    }
    c.publish("sid/t", b"x", QoS::AtLeastOnce).await;
    let m = c.expect_publish_acked().await;
    assert_eq!(
        m.properties.subscription_identifiers,
        [2],
        "the new identifier only"
    );
    c.expect_no_publish(QUIET).await;
}

/// 5.0 [MQTT-3.3.1-10]: Retain Handling 1 after a resumed session: the subscription
/// already exists in the session, so no retained message.
#[tokio::test]
async fn v5_retain_handling_1_existing_in_resumed_session_mqtt_3_3_1_10() {
    let b = broker::start().await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish_retained("rh1/t", b"r", QoS::AtLeastOnce).await;
    let mut con = crate::raw::connect(V5, "rh1");
    con.clean_start = false;
    con.properties.session_expiry_interval = Some(60);
    let opts = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        retain_handling: mq::protocol::RetainHandling::SendIfNew,
        ..Default::default()
    };
    let (mut c, _) = Raw::connect_ok(b.addr, con.clone()).await;
    c.subscribe_with(&[("rh1/t", opts)], Properties::default())
        .await;
    c.expect_publish_acked().await;
    c.disconnect().await;
    let (mut c, ack) = Raw::connect_ok(b.addr, con).await;
    assert!(ack.session_present);
    c.subscribe_with(&[("rh1/t", opts)], Properties::default())
        .await;
    c.expect_no_publish(QUIET).await;
}

/// 5.0 section 4.8.2: UNSUBSCRIBE of a shared subscription removes the member.
#[tokio::test]
async fn v5_unsubscribe_shared_subscription() {
    let b = broker::start().await;
    let mut c = Raw::v5(b.addr, "member").await;
    c.subscribe("$share/g/us/t", QoS::AtLeastOnce).await;
    let ack = c.unsubscribe(&["$share/g/us/t"]).await;
    assert_eq!(ack.reason_codes, [ReasonCode::SUCCESS]);
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("us/t", b"x", QoS::AtLeastOnce).await;
    c.expect_no_publish(QUIET).await;
}

/// 5.0 [MQTT-1.5.4-3] / 3.1.1 [MQTT-1.5.3-3]: U+FEFF (bytes EF BB BF) is part of the
/// string; it is not stripped, so "\u{FEFF}a" and "a" are different topics.
#[tokio::test]
async fn bom_is_not_stripped_mqtt_1_5_4_3() {
    check_matches("\u{FEFF}bom", &[("\u{FEFF}bom", true), ("bom", false)]).await;
}

/// [MQTT-4.7.2-1] The rule holds for the filter inside a shared subscription:
/// `$share/g/#` does not match `$` topics.
#[tokio::test]
async fn shared_hash_does_not_match_dollar_topics_mqtt_4_7_2_1() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "member").await;
    s.subscribe("$share/g/#", QoS::AtMostOnce).await;
    let mut p = Raw::v5(b.addr, "pub").await;
    p.publish("$test/x", b"d", QoS::AtLeastOnce).await;
    s.expect_no_publish(QUIET).await;
    p.publish("test/x", b"n", QoS::AtLeastOnce).await;
    assert_eq!(&s.expect_publish().await.payload[..], b"n");
}

/// 5.0 [MQTT-3.8.4-4]: replacing a subscription must not lose messages: a
/// subscriber re-subscribing over and over while QoS 1 messages flow gets all of
/// them.
#[tokio::test]
async fn resubscribe_loses_no_messages_mqtt_3_8_4_4() {
    let b = broker::start().await;
    let mut s = Raw::v5(b.addr, "resub").await;
    s.subscribe("rs/t", QoS::AtLeastOnce).await;
    const N: u16 = 100;
    let addr = b.addr;
    let publisher = tokio::spawn(async move {
        let mut p = Raw::v5(addr, "pub").await;
        for i in 0..N {
            p.publish("rs/t", &i.to_be_bytes(), QoS::AtLeastOnce).await;
        }
        p
    });
    let mut seen = vec![false; usize::from(N)];
    let mut n = 0;
    while n < usize::from(N) {
        // Re-subscribe (replace) without waiting for the SUBACK, between messages.
        let id = s.next_id();
        s.send(&Packet::Subscribe(mq::protocol::Subscribe {
            packet_id: id,
            filters: vec![mq::protocol::SubscribeFilter {
                filter: "rs/t".into(),
                options: SubscriptionOptions::qos(QoS::AtLeastOnce),
            }],
            properties: Properties::default(),
        }))
        .await;
        loop {
            match s.recv(WAIT).await {
                Event::Packet(Packet::SubAck(_)) => break,
                Event::Packet(Packet::Publish(m)) => {
                    s.ack(&m).await;
                    let i = usize::from(u16::from_be_bytes([m.payload[0], m.payload[1]]));
                    if !seen[i] {
                        seen[i] = true;
                        n += 1;
                    }
                }
                other => panic!("unexpected {other:?} after {n} messages"),
            }
        }
        // Take what is there right now.
        while let Event::Packet(p) = s.recv(Duration::from_millis(20)).await {
            match p {
                Packet::Publish(m) => {
                    s.ack(&m).await;
                    let i = usize::from(u16::from_be_bytes([m.payload[0], m.payload[1]]));
                    if !seen[i] {
                        seen[i] = true;
                        n += 1;
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        if publisher.is_finished() && n < usize::from(N) {
            // Everything was published: whatever is missing must still arrive.
            match s.recv(WAIT).await {
                Event::Packet(Packet::Publish(m)) => {
                    s.ack(&m).await;
                    let i = usize::from(u16::from_be_bytes([m.payload[0], m.payload[1]]));
                    if !seen[i] {
                        seen[i] = true;
                        n += 1;
                    }
                }
                other => {
                    let missing: Vec<usize> = (0..usize::from(N)).filter(|i| !seen[*i]).collect();
                    panic!("messages lost while re-subscribing: {missing:?} ({other:?})")
                }
            }
        }
    }
    publisher.await.expect("publisher");
}
