//! The embedded broker over real sockets, driven by a small raw client built on
//! `mq::protocol`: CONNECT/CONNACK, QoS 0/1/2, wildcards, retained messages, wills,
//! sessions, takeover, keep alive, shared subscriptions and the 5.0 features. Test
//! names and comments carry the conformance numbers of the MQTT specifications.

use bytes::{Bytes, BytesMut};
use mq::broker::{Broker, BrokerHandle, Config};
use mq::protocol::{
    Ack, ByteStr, Connect, Disconnect, Packet, Properties, ProtocolVersion, Publish, QoS,
    ReasonCode, RetainHandling, Subscribe, SubscribeFilter, SubscriptionOptions, Unsubscribe, Will,
    decode, encode,
};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(3);
use ProtocolVersion::{V5, V311};

async fn broker() -> BrokerHandle {
    Broker::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap()
}

async fn broker_with(config: Config) -> BrokerHandle {
    Broker::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .config(Config {
            log_dest: mq::broker::LogDest::None,
            ..config
        })
        .start()
        .await
        .unwrap()
}

struct Client {
    stream: TcpStream,
    buf: BytesMut,
    version: ProtocolVersion,
}

impl Client {
    async fn raw(addr: SocketAddr, version: ProtocolVersion) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: BytesMut::new(),
            version,
        }
    }

    /// Connect with a client id; returns the client and the CONNACK.
    async fn connect_with(addr: SocketAddr, connect: Connect) -> (Client, mq::protocol::ConnAck) {
        let mut c = Client::raw(addr, connect.protocol).await;
        c.send(Packet::Connect(Box::new(connect))).await;
        match c.recv().await {
            Packet::ConnAck(a) => (c, a),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    async fn connect(addr: SocketAddr, version: ProtocolVersion, id: &str) -> Client {
        let (c, ack) = Client::connect_with(
            addr,
            Connect {
                protocol: version,
                client_id: id.into(),
                ..Connect::default()
            },
        )
        .await;
        assert_eq!(ack.reason, ReasonCode::SUCCESS);
        c
    }

    async fn send(&mut self, p: Packet) {
        let mut out = BytesMut::new();
        encode(&p, self.version, &mut out).unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn try_recv(&mut self, wait: Duration) -> Option<Packet> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(p) = decode(&mut self.buf, self.version, 0).unwrap() {
                return Some(p);
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    async fn recv(&mut self) -> Packet {
        self.try_recv(WAIT).await.expect("a packet")
    }

    async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// Nothing arrives for a short while.
    async fn expect_nothing(&mut self) {
        if let Some(p) = self.try_recv(Duration::from_millis(300)).await {
            panic!("unexpected {p:?}");
        }
    }

    /// The broker closes the connection (after an optional DISCONNECT, returned).
    async fn expect_closed(&mut self) -> Option<Disconnect> {
        let mut disconnect = None;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(Some(p)) = decode(&mut self.buf, self.version, 0) {
                match p {
                    Packet::Disconnect(d) => disconnect = Some(d),
                    Packet::PingResp => {}
                    other => panic!("expected the connection to close, got {other:?}"),
                }
                continue;
            }
            let mut chunk = [0u8; 1024];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return disconnect,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => panic!("connection still open"),
            }
        }
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Vec<ReasonCode> {
        self.subscribe_opts(filter, SubscriptionOptions::qos(qos), None)
            .await
    }

    async fn subscribe_opts(
        &mut self,
        filter: &str,
        options: SubscriptionOptions,
        id: Option<u32>,
    ) -> Vec<ReasonCode> {
        let properties = Properties {
            subscription_identifiers: id.into_iter().collect(),
            ..Properties::default()
        };
        self.send(Packet::Subscribe(Subscribe {
            packet_id: 7,
            filters: vec![SubscribeFilter {
                filter: filter.into(),
                options,
            }],
            properties,
        }))
        .await;
        match self.recv().await {
            Packet::SubAck(a) => {
                assert_eq!(a.packet_id, 7);
                a.reason_codes
            }
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    async fn publish(&mut self, topic: &str, payload: &str, qos: QoS, retain: bool) {
        self.publish_props(topic, payload, qos, retain, Properties::default())
            .await;
    }

    async fn publish_props(
        &mut self,
        topic: &str,
        payload: &str,
        qos: QoS,
        retain: bool,
        properties: Properties,
    ) {
        let packet_id = if qos == QoS::AtMostOnce { 0 } else { 11 };
        self.send(Packet::Publish(Publish {
            qos,
            retain,
            topic: ByteStr::from(topic),
            packet_id,
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            properties,
            dup: false,
        }))
        .await;
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => match self.recv().await {
                Packet::PubAck(a) => assert_eq!(a.packet_id, packet_id),
                other => panic!("expected PUBACK, got {other:?}"),
            },
            QoS::ExactlyOnce => {
                match self.recv().await {
                    Packet::PubRec(a) => assert_eq!(a.packet_id, packet_id),
                    other => panic!("expected PUBREC, got {other:?}"),
                }
                self.send(Packet::PubRel(Ack::new(packet_id))).await;
                match self.recv().await {
                    Packet::PubComp(a) => assert_eq!(a.packet_id, packet_id),
                    other => panic!("expected PUBCOMP, got {other:?}"),
                }
            }
        }
    }

    /// Receive a PUBLISH and complete its QoS flow.
    async fn recv_and_ack(&mut self) -> Publish {
        let p = self.recv_publish().await;
        match p.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.send(Packet::PubAck(Ack::new(p.packet_id))).await,
            QoS::ExactlyOnce => {
                self.send(Packet::PubRec(Ack::new(p.packet_id))).await;
                match self.recv().await {
                    Packet::PubRel(a) => assert_eq!(a.packet_id, p.packet_id),
                    other => panic!("expected PUBREL, got {other:?}"),
                }
                self.send(Packet::PubComp(Ack::new(p.packet_id))).await;
            }
        }
        p
    }

    async fn disconnect(mut self) {
        self.send(Packet::Disconnect(Disconnect::default())).await;
        let _ = self.expect_closed().await;
    }
}

#[tokio::test]
async fn connect_both_versions_and_ping() {
    let b = broker().await;
    for v in [V311, V5, ProtocolVersion::V31] {
        let mut c = Client::connect(b.local_addr(), v, "pinger").await;
        c.send(Packet::PingReq).await;
        assert_eq!(c.recv().await, Packet::PingResp);
        c.disconnect().await;
    }
    b.shutdown().await;
}

#[tokio::test]
async fn qos_0_1_2_end_to_end_with_downgrade_mqtt_3_8_4_8() {
    let b = broker().await;
    for (sv, pv) in [(V311, V311), (V5, V5), (V311, V5), (V5, V311)] {
        let mut sub = Client::connect(b.local_addr(), sv, "sub").await;
        assert_eq!(
            sub.subscribe("t/+", QoS::ExactlyOnce).await,
            vec![ReasonCode::GRANTED_QOS_2]
        );
        let mut low = Client::connect(b.local_addr(), sv, "low").await;
        low.subscribe("t/#", QoS::AtLeastOnce).await;
        let mut publ = Client::connect(b.local_addr(), pv, "pub").await;
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            publ.publish("t/x", "hello", qos, false).await;
            let p = sub.recv_and_ack().await;
            assert_eq!(
                (p.topic.as_str(), &p.payload[..], p.qos),
                ("t/x", &b"hello"[..], qos)
            );
            assert!(!p.retain, "[MQTT-3.3.1-9]");
            let p = low.recv_and_ack().await;
            assert_eq!(p.qos, qos.min(QoS::AtLeastOnce), "[MQTT-3.8.4-8]");
        }
        publ.disconnect().await;
        sub.disconnect().await;
        low.disconnect().await;
    }
    b.shutdown().await;
}

#[tokio::test]
async fn wildcards_and_dollar_topics_mqtt_4_7_2_1() {
    let b = broker().await;
    let mut sub = Client::connect(b.local_addr(), V311, "sub").await;
    sub.subscribe("#", QoS::AtMostOnce).await;
    sub.subscribe("a/+/c", QoS::AtMostOnce).await;
    let mut publ = Client::connect(b.local_addr(), V311, "pub").await;
    publ.publish("$internal/x", "no", QoS::AtMostOnce, false)
        .await;
    publ.publish("a/b/c", "once", QoS::AtLeastOnce, false).await;
    // Overlapping subscriptions: one copy [MQTT-3.3.5-1].
    let p = sub.recv_publish().await;
    assert_eq!(p.topic.as_str(), "a/b/c");
    sub.expect_nothing().await;
    b.shutdown().await;
}

#[tokio::test]
async fn retained_store_replace_delete_mqtt_3_3_1_5_to_10() {
    let b = broker().await;
    let mut publ = Client::connect(b.local_addr(), V311, "pub").await;
    publ.publish("r/1", "first", QoS::AtLeastOnce, true).await;
    publ.publish("r/1", "second", QoS::AtLeastOnce, true).await;
    publ.publish("r/2", "other", QoS::AtMostOnce, true).await;
    let mut sub = Client::connect(b.local_addr(), V311, "sub").await;
    sub.subscribe("r/1", QoS::AtLeastOnce).await;
    let p = sub.recv_and_ack().await;
    assert!(p.retain, "[MQTT-3.3.1-8]");
    assert_eq!(&p.payload[..], b"second");
    // Delete with an empty payload [MQTT-3.3.1-10]; still forwarded once.
    publ.publish("r/1", "", QoS::AtMostOnce, true).await;
    let p = sub.recv_publish().await;
    assert!(p.payload.is_empty());
    let mut late = Client::connect(b.local_addr(), V311, "late").await;
    late.subscribe("r/#", QoS::AtMostOnce).await;
    let p = late.recv_publish().await;
    assert_eq!(p.topic.as_str(), "r/2");
    late.expect_nothing().await;
    b.shutdown().await;
}

#[tokio::test]
async fn will_on_abnormal_close_not_on_disconnect_mqtt_3_1_2_8_and_10() {
    let b = broker().await;
    let mut watcher = Client::connect(b.local_addr(), V311, "watcher").await;
    watcher.subscribe("will/#", QoS::AtLeastOnce).await;
    let will = |id: &str| Connect {
        client_id: id.into(),
        will: Some(Will {
            topic: ByteStr::from(format!("will/{id}")),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::AtLeastOnce,
            ..Will::default()
        }),
        ..Connect::default()
    };
    let (polite, _) = Client::connect_with(b.local_addr(), will("polite")).await;
    polite.disconnect().await;
    let (rude, _) = Client::connect_with(b.local_addr(), will("rude")).await;
    drop(rude);
    let p = watcher.recv_and_ack().await;
    assert_eq!(p.topic.as_str(), "will/rude");
    watcher.expect_nothing().await;
    b.shutdown().await;
}

#[tokio::test]
async fn first_packet_must_be_connect_and_second_connect_closes_mqtt_3_1_0_1_and_2() {
    let b = broker().await;
    let mut c = Client::raw(b.local_addr(), V311).await;
    c.send(Packet::PingReq).await;
    c.expect_closed().await;
    let mut c = Client::connect(b.local_addr(), V5, "twice").await;
    c.send(Packet::Connect(Box::new(Connect {
        protocol: V5,
        client_id: "twice".into(),
        ..Connect::default()
    })))
    .await;
    let d = c.expect_closed().await.expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::PROTOCOL_ERROR);
    b.shutdown().await;
}

#[tokio::test]
async fn empty_client_id_rules_mqtt_3_1_3_8_and_3_2_2_16() {
    let b = broker().await;
    let (_c, ack) = Client::connect_with(
        b.local_addr(),
        Connect {
            clean_start: false,
            ..Connect::default()
        },
    )
    .await;
    assert_eq!(ack.reason.to_v3_connack(), 2);
    let (_c, ack) = Client::connect_with(
        b.local_addr(),
        Connect {
            protocol: V5,
            ..Connect::default()
        },
    )
    .await;
    assert_eq!(ack.reason, ReasonCode::SUCCESS);
    assert!(ack.properties.assigned_client_identifier.is_some());
    b.shutdown().await;
}

#[tokio::test]
async fn unsupported_protocol_level_gets_connack_1_mqtt_3_1_2_2() {
    let b = broker().await;
    let mut c = Client::raw(b.local_addr(), V311).await;
    // CONNECT with protocol level 6.
    c.send_raw(&[0x10, 0x0C, 0, 4, b'M', b'Q', b'T', b'T', 6, 2, 0, 60, 0, 0])
        .await;
    match c.recv().await {
        Packet::ConnAck(a) => assert_eq!(a.reason.to_v3_connack(), 1),
        other => panic!("{other:?}"),
    }
    c.expect_closed().await;
    b.shutdown().await;
}

#[tokio::test]
async fn persistent_session_queues_and_redelivers_mqtt_3_2_2_2_and_4_4_0_1() {
    let b = broker().await;
    let durable = |v| Connect {
        protocol: v,
        client_id: "durable".into(),
        clean_start: false,
        properties: Properties {
            session_expiry_interval: Some(if v == V5 { 60 } else { 0 }),
            ..Properties::default()
        },
        ..Connect::default()
    };
    for v in [V311, V5] {
        let (mut c, ack) = Client::connect_with(b.local_addr(), durable(v)).await;
        assert!(!ack.session_present || v == V5);
        c.subscribe("q/#", QoS::ExactlyOnce).await;
        c.disconnect().await;
        let mut publ = Client::connect(b.local_addr(), v, "pub").await;
        publ.publish("q/1", "one", QoS::AtLeastOnce, false).await;
        publ.publish("q/2", "two", QoS::ExactlyOnce, false).await;
        publ.publish("q/0", "zero", QoS::AtMostOnce, false).await;
        let (mut c, ack) = Client::connect_with(b.local_addr(), durable(v)).await;
        assert!(ack.session_present, "[MQTT-3.2.2-2]");
        let p1 = c.recv_publish().await;
        assert_eq!((&p1.payload[..], p1.qos), (&b"one"[..], QoS::AtLeastOnce));
        let p2 = c.recv_publish().await;
        assert_eq!(&p2.payload[..], b"two");
        // Do not acknowledge: drop the connection, reconnect, get them again with DUP.
        drop(c);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (mut c, ack) = Client::connect_with(b.local_addr(), durable(v)).await;
        assert!(ack.session_present);
        let r1 = c.recv_publish().await;
        assert!(r1.dup, "[MQTT-4.4.0-1]");
        assert_eq!(r1.packet_id, p1.packet_id);
        let r2 = c.recv_publish().await;
        assert!(r2.dup);
        c.send(Packet::PubAck(Ack::new(r1.packet_id))).await;
        c.send(Packet::PubRec(Ack::new(r2.packet_id))).await;
        assert!(matches!(c.recv().await, Packet::PubRel(_)));
        c.send(Packet::PubComp(Ack::new(r2.packet_id))).await;
        c.expect_nothing().await;
        // Clean start discards the session [MQTT-3.1.2-4].
        c.disconnect().await;
        let (c, ack) = Client::connect_with(
            b.local_addr(),
            Connect {
                clean_start: true,
                ..durable(v)
            },
        )
        .await;
        assert!(!ack.session_present);
        c.disconnect().await;
        publ.disconnect().await;
    }
    b.shutdown().await;
}

#[tokio::test]
async fn takeover_closes_old_connection_mqtt_3_1_4_3() {
    let b = broker().await;
    let mut old = Client::connect(b.local_addr(), V5, "same").await;
    let _new = Client::connect(b.local_addr(), V5, "same").await;
    let d = old.expect_closed().await.expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::SESSION_TAKEN_OVER);
    let mut old = Client::connect(b.local_addr(), V311, "same3").await;
    let _new = Client::connect(b.local_addr(), V311, "same3").await;
    assert!(old.expect_closed().await.is_none());
    b.shutdown().await;
}

/// A 5.0 client with a keep alive of 1 s that sends PINGREQ `pings` times, 0.8 s
/// apart (each answered), then falls silent: the broker must close it with 0x8D
/// 1.5 s after its last packet [MQTT-3.1.2-24].
async fn keep_alive_closes_after_the_last_packet(id: &str, pings: usize) {
    let b = broker().await;
    let (mut c, _) = Client::connect_with(
        b.local_addr(),
        Connect {
            protocol: V5,
            client_id: id.into(),
            keep_alive: 1,
            ..Connect::default()
        },
    )
    .await;
    for _ in 0..pings {
        tokio::time::sleep(Duration::from_millis(800)).await;
        c.send(Packet::PingReq).await;
        let answer = c.try_recv(Duration::from_secs(5)).await;
        assert!(matches!(answer, Some(Packet::PingResp)), "{answer:?}");
    }
    let last = std::time::Instant::now();
    let d = c.expect_closed().await.expect("DISCONNECT");
    let took = last.elapsed();
    assert_eq!(d.reason, ReasonCode::KEEP_ALIVE_TIMEOUT);
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    b.shutdown().await;
}

#[tokio::test]
async fn keep_alive_enforced_at_one_and_a_half_times_mqtt_3_1_2_24() {
    keep_alive_closes_after_the_last_packet("sleepy", 0).await;
}

/// The deadline runs from the last packet however long the connection lasts: four
/// pings keep it open for 3.2 s, well past the first 1.5 s.
#[tokio::test]
async fn keep_alive_runs_from_the_last_packet_mqtt_3_1_2_24() {
    keep_alive_closes_after_the_last_packet("pinger", 4).await;
}

#[tokio::test]
async fn connect_timeout_closes_silent_socket() {
    let b = broker_with(Config {
        connect_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let mut c = Client::raw(b.local_addr(), V311).await;
    c.send_raw(&[0x10, 0x20]).await; // half a CONNECT, then silence
    c.expect_closed().await;
    b.shutdown().await;
}

#[tokio::test]
async fn shared_subscription_one_member_per_message_no_retained_mqtt_4_8_2() {
    let b = broker().await;
    let mut publ = Client::connect(b.local_addr(), V5, "pub").await;
    publ.publish("s/r", "retained", QoS::AtMostOnce, true).await;
    let mut m1 = Client::connect(b.local_addr(), V5, "m1").await;
    let mut m2 = Client::connect(b.local_addr(), V5, "m2").await;
    m1.subscribe("$share/g/s/#", QoS::AtLeastOnce).await;
    m2.subscribe("$share/g/s/#", QoS::AtLeastOnce).await;
    for i in 0..10 {
        publ.publish("s/x", &i.to_string(), QoS::AtLeastOnce, false)
            .await;
    }
    let mut got = Vec::new();
    for c in [&mut m1, &mut m2] {
        while let Some(Packet::Publish(p)) = c.try_recv(Duration::from_millis(300)).await {
            assert_ne!(&p.payload[..], b"retained");
            c.send(Packet::PubAck(Ack::new(p.packet_id))).await;
            got.push(String::from_utf8(p.payload.to_vec()).unwrap());
        }
    }
    got.sort_by_key(|s| s.parse::<u32>().unwrap());
    assert_eq!(got, (0..10).map(|i| i.to_string()).collect::<Vec<_>>());
    b.shutdown().await;
}

#[tokio::test]
async fn v5_no_local_retain_as_published_and_subscription_ids_mqtt_3_8_3() {
    let b = broker().await;
    let mut c = Client::connect(b.local_addr(), V5, "self").await;
    let opts = SubscriptionOptions {
        qos: QoS::AtMostOnce,
        no_local: true,
        ..SubscriptionOptions::default()
    };
    c.subscribe_opts("n/#", opts, None).await;
    c.publish("n/1", "mine", QoS::AtMostOnce, false).await;
    c.expect_nothing().await;
    let rap = SubscriptionOptions {
        qos: QoS::AtMostOnce,
        retain_as_published: true,
        ..SubscriptionOptions::default()
    };
    c.subscribe_opts("k/#", rap, Some(5)).await;
    c.subscribe_opts("k/+", SubscriptionOptions::default(), Some(9))
        .await;
    c.publish("k/1", "kept", QoS::AtMostOnce, true).await;
    let p = c.recv_publish().await;
    assert!(p.retain, "[MQTT-3.3.1-12]");
    let mut ids = p.properties.subscription_identifiers.clone();
    ids.sort();
    assert_eq!(ids, vec![5, 9], "[MQTT-3.3.4-4]");
    // Retain Handling 2: no retained messages at subscribe [MQTT-3.3.1-11].
    let rh2 = SubscriptionOptions {
        retain_handling: RetainHandling::DoNotSend,
        ..SubscriptionOptions::default()
    };
    c.subscribe_opts("k/1", rh2, None).await;
    c.expect_nothing().await;
    // Retain Handling 1: only when the subscription is new [MQTT-3.3.1-10].
    let rh1 = SubscriptionOptions {
        retain_handling: RetainHandling::SendIfNew,
        ..SubscriptionOptions::default()
    };
    c.send(Packet::Unsubscribe(Unsubscribe {
        packet_id: 3,
        filters: vec!["k/1".into()],
        properties: Properties::default(),
    }))
    .await;
    assert!(matches!(c.recv().await, Packet::UnsubAck(_)));
    c.subscribe_opts("k/1", rh1, None).await;
    assert!(c.recv_publish().await.retain);
    c.subscribe_opts("k/1", rh1, None).await;
    c.expect_nothing().await;
    b.shutdown().await;
}

#[tokio::test]
async fn v5_topic_alias_and_message_expiry_mqtt_3_3_2() {
    let b = broker().await;
    let mut sub = Client::connect(b.local_addr(), V5, "sub").await;
    sub.subscribe("x/#", QoS::AtMostOnce).await;
    let mut publ = Client::connect(b.local_addr(), V5, "pub").await;
    let alias = |a| Properties {
        topic_alias: Some(a),
        ..Properties::default()
    };
    publ.publish_props("x/long/topic", "1", QoS::AtMostOnce, false, alias(1))
        .await;
    publ.publish_props("", "2", QoS::AtMostOnce, false, alias(1))
        .await;
    assert_eq!(sub.recv_publish().await.topic.as_str(), "x/long/topic");
    assert_eq!(sub.recv_publish().await.topic.as_str(), "x/long/topic");
    let expiring = Properties {
        message_expiry_interval: Some(100),
        ..Properties::default()
    };
    publ.publish_props("x/e", "3", QoS::AtMostOnce, true, expiring)
        .await;
    let p = sub.recv_publish().await;
    let left = p
        .properties
        .message_expiry_interval
        .expect("[MQTT-3.3.2-6]");
    assert!((98..=100).contains(&left));
    // Alias above the maximum: DISCONNECT 0x94 [MQTT-3.3.2-9].
    publ.publish_props("x/y", "4", QoS::AtMostOnce, false, alias(1000))
        .await;
    let d = publ.expect_closed().await.expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::TOPIC_ALIAS_INVALID);
    b.shutdown().await;
}

#[tokio::test]
async fn v5_expired_retained_message_not_delivered_mqtt_3_3_2_5() {
    let b = broker().await;
    let mut publ = Client::connect(b.local_addr(), V5, "pub").await;
    let expiring = Properties {
        message_expiry_interval: Some(1),
        ..Properties::default()
    };
    publ.publish_props("e/1", "soon gone", QoS::AtMostOnce, true, expiring)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut sub = Client::connect(b.local_addr(), V5, "sub").await;
    sub.subscribe("e/#", QoS::AtMostOnce).await;
    sub.expect_nothing().await;
    b.shutdown().await;
}

#[tokio::test]
async fn v5_receive_maximum_exceeded_is_0x93_mqtt_3_3_4_9() {
    let b = broker().await;
    let mut c = Client::connect(b.local_addr(), V5, "flood").await;
    for id in 1..=21u16 {
        c.send(Packet::Publish(Publish {
            qos: QoS::ExactlyOnce,
            topic: ByteStr::from("f"),
            packet_id: id,
            payload: Bytes::from_static(b"x"),
            ..Publish::default()
        }))
        .await;
    }
    let mut reason = None;
    while let Some(p) = c.try_recv(WAIT).await {
        if let Packet::Disconnect(d) = p {
            reason = Some(d.reason);
        }
    }
    assert_eq!(reason, Some(ReasonCode::RECEIVE_MAXIMUM_EXCEEDED));
    b.shutdown().await;
}

#[tokio::test]
async fn malformed_packet_closes_only_that_connection() {
    let b = broker().await;
    let mut good = Client::connect(b.local_addr(), V311, "good").await;
    good.subscribe("ok", QoS::AtMostOnce).await;
    // Reserved flag bits on SUBSCRIBE [MQTT-2.2.2-2] under 5.0: DISCONNECT 0x81.
    let mut bad = Client::connect(b.local_addr(), V5, "bad").await;
    bad.send_raw(&[0x80, 0x06, 0, 1, 0, 0, 1, b'a']).await;
    let d = bad.expect_closed().await.expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::MALFORMED_PACKET);
    // Random garbage under 3.1.1: closed.
    let mut bad = Client::connect(b.local_addr(), V311, "bad3").await;
    bad.send_raw(&[0x00, 0xff, 0xff, 0xff, 0xff, 0x01]).await;
    bad.expect_closed().await;
    let mut publ = Client::connect(b.local_addr(), V311, "pub").await;
    publ.publish("ok", "still", QoS::AtMostOnce, false).await;
    assert_eq!(&good.recv_publish().await.payload[..], b"still");
    b.shutdown().await;
}

#[tokio::test]
async fn shutdown_sends_0x8b_to_v5_clients() {
    let b = broker().await;
    let mut c = Client::connect(b.local_addr(), V5, "c").await;
    b.shutdown().await;
    let d = c.expect_closed().await.expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::SERVER_SHUTTING_DOWN);
}

#[tokio::test]
async fn max_connections_limit() {
    let b = broker_with(Config {
        max_connections: Some(1),
        ..Config::default()
    })
    .await;
    let _one = Client::connect(b.local_addr(), V311, "one").await;
    let mut two = Client::raw(b.local_addr(), V311).await;
    two.expect_closed().await;
    b.shutdown().await;
}

#[tokio::test]
async fn v5_will_delay_cancelled_by_reconnect_and_sent_with_0x04() {
    let b = broker().await;
    let mut watcher = Client::connect(b.local_addr(), V5, "watcher").await;
    watcher.subscribe("will/#", QoS::AtMostOnce).await;
    let connect = Connect {
        protocol: V5,
        client_id: "delayed".into(),
        clean_start: false,
        properties: Properties {
            session_expiry_interval: Some(60),
            ..Properties::default()
        },
        will: Some(Will {
            topic: ByteStr::from("will/delayed"),
            payload: Bytes::from_static(b"bye"),
            properties: Properties {
                will_delay_interval: Some(1),
                ..Properties::default()
            },
            ..Will::default()
        }),
        ..Connect::default()
    };
    let (c, _) = Client::connect_with(b.local_addr(), connect.clone()).await;
    drop(c);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (c, _) = Client::connect_with(b.local_addr(), connect.clone()).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    watcher.expect_nothing().await;
    // DISCONNECT 0x04: the will is sent (after its delay) [MQTT-3.14.4-3].
    let mut c = c;
    c.send(Packet::Disconnect(Disconnect::with_reason(
        ReasonCode::DISCONNECT_WITH_WILL,
    )))
    .await;
    let p = watcher.recv_publish().await;
    assert_eq!(p.topic.as_str(), "will/delayed");
    b.shutdown().await;
}

async fn connect_v5_props(addr: SocketAddr, id: &str, properties: Properties) -> Client {
    let (c, ack) = Client::connect_with(
        addr,
        Connect {
            protocol: V5,
            client_id: id.into(),
            properties,
            ..Connect::default()
        },
    )
    .await;
    assert_eq!(ack.reason, ReasonCode::SUCCESS);
    c
}

#[tokio::test]
async fn v5_client_receive_maximum_respected_mqtt_3_3_4_7() {
    let b = broker().await;
    let props = Properties {
        receive_maximum: Some(2),
        ..Properties::default()
    };
    let mut sub = connect_v5_props(b.local_addr(), "slowack", props).await;
    sub.subscribe("rm", QoS::AtLeastOnce).await;
    let mut publ = Client::connect(b.local_addr(), V5, "pub").await;
    for i in 0..5 {
        publ.publish("rm", &i.to_string(), QoS::AtLeastOnce, false)
            .await;
    }
    let a = sub.recv_publish().await;
    let _b = sub.recv_publish().await;
    sub.expect_nothing().await;
    sub.send(Packet::PubAck(Ack::new(a.packet_id))).await;
    assert_eq!(&sub.recv_publish().await.payload[..], b"2");
    sub.expect_nothing().await;
    b.shutdown().await;
}

#[tokio::test]
async fn v5_client_maximum_packet_size_respected_mqtt_3_1_2_25() {
    let b = broker().await;
    let props = Properties {
        maximum_packet_size: Some(64),
        ..Properties::default()
    };
    let mut sub = connect_v5_props(b.local_addr(), "small", props).await;
    sub.subscribe("mp", QoS::AtMostOnce).await;
    let mut publ = Client::connect(b.local_addr(), V5, "pub").await;
    publ.publish("mp", &"x".repeat(200), QoS::AtMostOnce, false)
        .await;
    publ.publish("mp", "fits", QoS::AtMostOnce, false).await;
    assert_eq!(&sub.recv_publish().await.payload[..], b"fits");
    b.shutdown().await;
}

#[tokio::test]
async fn v5_server_to_client_topic_alias_mqtt_3_3_2_9() {
    let b = broker().await;
    let props = Properties {
        topic_alias_maximum: Some(4),
        ..Properties::default()
    };
    let mut sub = connect_v5_props(b.local_addr(), "aliased", props).await;
    sub.subscribe("ta/#", QoS::AtMostOnce).await;
    let mut publ = Client::connect(b.local_addr(), V5, "pub").await;
    publ.publish("ta/topic", "1", QoS::AtMostOnce, false).await;
    publ.publish("ta/topic", "2", QoS::AtMostOnce, false).await;
    let first = sub.recv_publish().await;
    let alias = first.properties.topic_alias.expect("alias set");
    assert!((1..=4).contains(&alias));
    assert_eq!(first.topic.as_str(), "ta/topic");
    let second = sub.recv_publish().await;
    assert_eq!(second.properties.topic_alias, Some(alias));
    assert!(second.topic.is_empty());
    b.shutdown().await;
}

#[tokio::test]
async fn sys_topics_published_every_interval() {
    let b = Broker::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .sys_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let mut c = Client::connect(b.local_addr(), V311, "sys").await;
    c.subscribe("$SYS/broker/#", QoS::AtMostOnce).await;
    // Retained $SYS messages arrive in no set order, so the test reads until it has
    // seen the topics it checks (or an interval passes with nothing new).
    let wanted = [
        "$SYS/broker/version",
        "$SYS/broker/uptime",
        "$SYS/broker/clients/connected",
        "$SYS/broker/load/messages/received/1min",
        "$SYS/broker/retained messages/count",
    ];
    let mut seen = std::collections::HashMap::new();
    for _ in 0..1000 {
        let Some(Packet::Publish(p)) = c.try_recv(Duration::from_millis(600)).await else {
            break;
        };
        seen.insert(
            p.topic.to_string(),
            String::from_utf8_lossy(&p.payload).into_owned(),
        );
        if wanted.iter().all(|t| seen.contains_key(*t)) {
            break;
        }
    }
    assert!(
        seen.get("$SYS/broker/version")
            .is_some_and(|v| v.starts_with("mq version"))
    );
    assert!(
        seen.get("$SYS/broker/uptime")
            .is_some_and(|v| v.ends_with(" seconds"))
    );
    assert_eq!(
        seen.get("$SYS/broker/clients/connected")
            .map(String::as_str),
        Some("1")
    );
    assert!(seen.contains_key("$SYS/broker/load/messages/received/1min"));
    assert!(seen.contains_key("$SYS/broker/retained messages/count"));
    b.shutdown().await;
}

#[tokio::test]
async fn slow_subscriber_drops_qos0_and_does_not_stall_others() {
    let b = broker_with(Config {
        max_queued_messages: 10,
        ..Config::default()
    })
    .await;
    // `slow` subscribes and never reads its socket.
    let mut slow = Client::connect(b.local_addr(), V311, "slow").await;
    slow.subscribe("flood", QoS::AtMostOnce).await;
    // `fast` reads everything at QoS 1: backpressure, no loss.
    let mut fast = Client::connect(b.local_addr(), V311, "fast").await;
    fast.subscribe("flood", QoS::AtLeastOnce).await;
    let mut publ = Client::connect(b.local_addr(), V311, "pub").await;
    let payload = "y".repeat(16 * 1024);
    let count = 1000;
    let reader = tokio::spawn(async move {
        let mut n = 0;
        while let Some(pk) = fast.try_recv(Duration::from_secs(3)).await {
            let Packet::Publish(p) = pk else {
                panic!("{pk:?}")
            };
            fast.send(Packet::PubAck(Ack::new(p.packet_id))).await;
            n += 1;
            if n == count {
                break;
            }
        }
        n
    });
    for _ in 0..count {
        publ.publish("flood", &payload, QoS::AtLeastOnce, false)
            .await;
    }
    let got = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("fast subscriber stalled")
        .unwrap();
    assert_eq!(got, count);
    drop(slow);
    b.shutdown().await;
}

/// Issue 4: "bounded per-session queues with backpressure on the publisher's read
/// side". A subscriber that does not acknowledge fills its in-flight window and its
/// queue; the publisher's next QoS 1 message then waits, unacknowledged, and the
/// broker reads nothing more from that publisher until the subscriber catches up.
/// Nothing is lost and the order is kept [MQTT-4.6.0-6].
#[tokio::test]
async fn full_subscriber_queue_holds_back_the_publisher_puback_and_keeps_order() {
    const INFLIGHT: usize = 4;
    const QUEUED: usize = 3;
    const COUNT: u16 = 20;
    let b = broker_with(Config {
        max_inflight_messages: INFLIGHT as u16,
        max_queued_messages: QUEUED,
        // Long enough for this test's reading to start.
        queue_wait: Duration::from_secs(30),
        ..Config::default()
    })
    .await;
    let mut sub = Client::connect(b.local_addr(), V311, "sub").await;
    sub.subscribe("bp", QoS::AtLeastOnce).await;
    let mut publ = Client::connect(b.local_addr(), V311, "pub").await;
    for i in 1..=COUNT {
        publ.send(Packet::Publish(Publish {
            qos: QoS::AtLeastOnce,
            topic: ByteStr::from("bp"),
            packet_id: i,
            payload: Bytes::from(i.to_string()),
            ..Publish::default()
        }))
        .await;
    }
    // The subscriber acknowledges nothing yet: the window and the queue take
    // INFLIGHT + QUEUED messages, and the next one holds back its PUBACK.
    let mut acked = Vec::new();
    while let Some(p) = publ.try_recv(Duration::from_millis(300)).await {
        let Packet::PubAck(a) = p else {
            panic!("{p:?}")
        };
        acked.push(a.packet_id);
    }
    assert_eq!(acked.len(), INFLIGHT + QUEUED, "acknowledged: {acked:?}");
    // Now the subscriber reads and acknowledges: everything arrives, in order.
    let mut got = Vec::new();
    while got.len() < usize::from(COUNT) {
        let Some(p) = sub.try_recv(WAIT).await else {
            panic!("only {got:?} arrived")
        };
        let Packet::Publish(p) = p else {
            panic!("{p:?}")
        };
        sub.send(Packet::PubAck(Ack::new(p.packet_id))).await;
        got.push(String::from_utf8(p.payload.to_vec()).unwrap());
    }
    let want: Vec<String> = (1..=COUNT).map(|i| i.to_string()).collect();
    assert_eq!(got, want);
    while acked.len() < usize::from(COUNT) {
        match publ.recv().await {
            Packet::PubAck(a) => acked.push(a.packet_id),
            p => panic!("{p:?}"),
        }
    }
    assert_eq!(acked, (1..=COUNT).collect::<Vec<_>>());
    b.shutdown().await;
}

/// Issue 4: "max queued messages per client (QoS 0 dropped first when full)". With
/// the subscriber's window full and its queue full, a QoS 1 message takes the place
/// of the oldest queued QoS 0 message, so its publisher is acknowledged at once.
#[tokio::test]
async fn full_queue_drops_queued_qos0_first_to_make_room_for_qos1() {
    let b = broker_with(Config {
        max_inflight_messages: 2,
        max_queued_messages: 4,
        // Without the QoS 0 rule the publisher would wait this long.
        queue_wait: Duration::from_secs(30),
        ..Config::default()
    })
    .await;
    let mut sub = Client::connect(b.local_addr(), V311, "sub").await;
    sub.subscribe("q", QoS::AtLeastOnce).await;
    let mut publ = Client::connect(b.local_addr(), V311, "pub").await;
    // Two QoS 1 messages fill the window; the third waits at the head of the queue,
    // and the QoS 0 messages queue behind it (order is kept [MQTT-4.6.0-6]).
    for (payload, qos) in [
        ("1", QoS::AtLeastOnce),
        ("2", QoS::AtLeastOnce),
        ("3", QoS::AtLeastOnce),
        ("a", QoS::AtMostOnce),
        ("b", QoS::AtMostOnce),
        ("c", QoS::AtMostOnce),
    ] {
        publ.publish("q", payload, qos, false).await;
    }
    // The queue is full: "4" replaces "a" instead of waiting for room.
    let started = std::time::Instant::now();
    publ.publish("q", "4", QoS::AtLeastOnce, false).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the QoS 1 publisher waited for room while QoS 0 messages held the queue"
    );
    let mut got = Vec::new();
    while let Some(p) = sub.try_recv(Duration::from_millis(500)).await {
        let Packet::Publish(p) = p else {
            panic!("{p:?}")
        };
        if p.qos == QoS::AtLeastOnce {
            sub.send(Packet::PubAck(Ack::new(p.packet_id))).await;
        }
        got.push(String::from_utf8(p.payload.to_vec()).unwrap());
    }
    assert_eq!(got, ["1", "2", "3", "b", "c", "4"]);
    b.shutdown().await;
}

#[tokio::test]
async fn many_retained_messages_all_delivered_on_subscribe() {
    let b = broker_with(Config {
        max_queued_messages: 10,
        ..Config::default()
    })
    .await;
    let mut publ = Client::connect(b.local_addr(), V311, "pub").await;
    for i in 0..200 {
        publ.publish(&format!("many/{i}"), "r", QoS::AtMostOnce, true)
            .await;
    }
    // A round trip so every retained message is stored.
    publ.publish("sync", "", QoS::AtLeastOnce, false).await;
    let mut sub = Client::connect(b.local_addr(), V311, "sub").await;
    sub.subscribe("many/#", QoS::AtMostOnce).await;
    let mut n = 0;
    while let Some(Packet::Publish(p)) = sub.try_recv(Duration::from_millis(500)).await {
        assert!(p.retain);
        n += 1;
    }
    assert_eq!(n, 200);
    b.shutdown().await;
}

#[tokio::test]
async fn publisher_subscribed_to_itself_never_stalls() {
    let b = broker_with(Config {
        max_queued_messages: 5,
        ..Config::default()
    })
    .await;
    let mut c = Client::connect(b.local_addr(), V311, "loop").await;
    c.subscribe("self", QoS::AtLeastOnce).await;
    // Publish QoS 1 to itself without reading: the broker must keep acknowledging.
    for i in 0..100u16 {
        c.send(Packet::Publish(Publish {
            qos: QoS::AtLeastOnce,
            topic: ByteStr::from("self"),
            packet_id: i + 1,
            payload: Bytes::from_static(b"x"),
            ..Publish::default()
        }))
        .await;
    }
    let started = std::time::Instant::now();
    let mut acks = 0;
    while let Some(p) = c.try_recv(Duration::from_secs(2)).await {
        match p {
            Packet::PubAck(_) => acks += 1,
            Packet::Publish(p) => c.send(Packet::PubAck(Ack::new(p.packet_id))).await,
            _ => {}
        }
        if acks == 100 {
            break;
        }
    }
    assert_eq!(acks, 100);
    assert!(started.elapsed() < Duration::from_secs(2));
    b.shutdown().await;
}

#[tokio::test]
async fn v5_disconnect_with_error_reason_publishes_will_mqtt_3_1_2_10() {
    let b = broker().await;
    let mut watcher = Client::connect(b.local_addr(), V5, "watcher").await;
    watcher.subscribe("w/#", QoS::AtMostOnce).await;
    let (mut c, _) = Client::connect_with(
        b.local_addr(),
        Connect {
            protocol: V5,
            client_id: "erring".into(),
            will: Some(Will {
                topic: ByteStr::from("w/erring"),
                payload: Bytes::from_static(b"x"),
                ..Will::default()
            }),
            ..Connect::default()
        },
    )
    .await;
    c.send(Packet::Disconnect(Disconnect::with_reason(
        ReasonCode::UNSPECIFIED_ERROR,
    )))
    .await;
    assert_eq!(watcher.recv_publish().await.topic.as_str(), "w/erring");
    b.shutdown().await;
}

#[tokio::test]
async fn v5_no_local_on_shared_subscription_is_protocol_error_mqtt_3_8_3_4() {
    let b = broker().await;
    let mut c = Client::connect(b.local_addr(), V5, "nl").await;
    let opts = SubscriptionOptions {
        no_local: true,
        ..SubscriptionOptions::default()
    };
    c.send(Packet::Subscribe(Subscribe {
        packet_id: 1,
        filters: vec![SubscribeFilter {
            filter: "$share/g/t".into(),
            options: opts,
        }],
        properties: Properties::default(),
    }))
    .await;
    let d = c.expect_closed().await.expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::PROTOCOL_ERROR);
    b.shutdown().await;
}

#[tokio::test]
async fn limits_message_size_retain_available_and_max_keepalive() {
    let b = broker_with(Config {
        message_size_limit: 10,
        retain_available: false,
        max_keepalive: 30,
        ..Config::default()
    })
    .await;
    let (mut c, ack) = Client::connect_with(
        b.local_addr(),
        Connect {
            protocol: V5,
            client_id: "lim".into(),
            keep_alive: 120,
            ..Connect::default()
        },
    )
    .await;
    assert_eq!(ack.properties.retain_available, Some(0));
    assert_eq!(
        ack.properties.server_keep_alive,
        Some(30),
        "[MQTT-3.2.2-21]"
    );
    c.send(Packet::Publish(Publish {
        qos: QoS::AtLeastOnce,
        topic: ByteStr::from("big"),
        packet_id: 1,
        payload: Bytes::from_static(b"more than ten bytes"),
        ..Publish::default()
    }))
    .await;
    match c.recv().await {
        Packet::PubAck(a) => assert_eq!(a.reason, ReasonCode::PACKET_TOO_LARGE),
        other => panic!("{other:?}"),
    }
    // Retain not available: DISCONNECT 0x9A [MQTT-3.2.2-14].
    c.send(Packet::Publish(Publish {
        retain: true,
        topic: ByteStr::from("r"),
        payload: Bytes::from_static(b"x"),
        ..Publish::default()
    }))
    .await;
    let d = c.expect_closed().await.expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::RETAIN_NOT_SUPPORTED);
    // 3.1.1: a keep alive above max_keepalive is refused.
    let (_c, ack) = Client::connect_with(
        b.local_addr(),
        Connect {
            client_id: "lim3".into(),
            keep_alive: 120,
            ..Connect::default()
        },
    )
    .await;
    assert_ne!(ack.reason, ReasonCode::SUCCESS);
    b.shutdown().await;
}

#[tokio::test]
async fn v5_session_expires_after_its_interval_mqtt_3_1_2_23() {
    let b = broker().await;
    let connect = Connect {
        protocol: V5,
        client_id: "brief".into(),
        clean_start: false,
        properties: Properties {
            session_expiry_interval: Some(1),
            ..Properties::default()
        },
        ..Connect::default()
    };
    let (c, _) = Client::connect_with(b.local_addr(), connect.clone()).await;
    c.disconnect().await;
    let (c, ack) = Client::connect_with(b.local_addr(), connect.clone()).await;
    assert!(ack.session_present);
    c.disconnect().await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (_c, ack) = Client::connect_with(b.local_addr(), connect).await;
    assert!(!ack.session_present);
    b.shutdown().await;
}

/// Section 3.2.2.3.6 / 4.13: a PUBLISH larger than the broker's Maximum Packet Size
/// gets DISCONNECT 0x95, and the DISCONNECT reaches the client even though most of
/// the oversized body is still unread when the broker closes: the broker drains its
/// input instead of resetting the connection.
#[tokio::test]
async fn v5_oversized_packet_gets_0x95_despite_unread_body() {
    let b = broker_with(Config {
        max_packet_size: 1000,
        ..Config::default()
    })
    .await;
    for i in 0..10 {
        let mut c = Client::connect(b.local_addr(), V5, &format!("big{i}")).await;
        let mut out = BytesMut::new();
        let big = Publish {
            topic: ByteStr::from("mps/in"),
            payload: Bytes::from(vec![0u8; 200_000]),
            ..Publish::default()
        };
        encode(&Packet::Publish(big), V5, &mut out).unwrap();
        // The broker may close before it all went out: ignore write errors.
        let _ = c.stream.write_all(&out).await;
        let d = c
            .expect_closed()
            .await
            .expect("DISCONNECT before the close");
        assert_eq!(d.reason, ReasonCode::PACKET_TOO_LARGE);
    }
    b.shutdown().await;
}

/// [MQTT-3.3.4-6] A PUBLISH from a client carrying a Subscription Identifier is a
/// Protocol Error: DISCONNECT 0x82, and the message is not forwarded.
#[tokio::test]
async fn v5_publish_with_subscription_identifier_is_protocol_error_mqtt_3_3_4_6() {
    let b = broker().await;
    let mut sub = Client::connect(b.local_addr(), V5, "sub").await;
    sub.subscribe("sidp/t", QoS::AtMostOnce).await;
    let mut publ = Client::connect(b.local_addr(), V5, "pub").await;
    publ.send(Packet::Publish(Publish {
        topic: ByteStr::from("sidp/t"),
        payload: Bytes::from_static(b"x"),
        properties: Properties {
            subscription_identifiers: vec![3],
            ..Properties::default()
        },
        ..Publish::default()
    }))
    .await;
    let d = publ.expect_closed().await.expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::PROTOCOL_ERROR);
    sub.expect_nothing().await;
    b.shutdown().await;
}

/// [MQTT-3.2.2-19] [MQTT-3.1.2-24] A refusing CONNACK carries its Reason String only
/// when that fits the client's Maximum Packet Size, and is not sent at all when even
/// the smallest does not fit (tests/conformance/regressions.rs).
#[tokio::test]
async fn v5_refusing_connack_reason_string_only_if_it_fits_mqtt_3_2_2_19() {
    let b = broker().await;
    for (max, with_text) in [(None, true), (Some(16), false)] {
        let mut c = Client::raw(b.local_addr(), V5).await;
        c.send(Packet::Connect(Box::new(Connect {
            protocol: V5,
            client_id: "tiny".into(),
            properties: Properties {
                maximum_packet_size: max,
                // Refused: this broker has no enhanced authentication.
                authentication_method: Some("NOPE".into()),
                ..Properties::default()
            },
            ..Connect::default()
        })))
        .await;
        let first = c.stream.read_buf(&mut c.buf).await.unwrap();
        assert!(first > 0, "a CONNACK arrives");
        if let Some(m) = max.filter(|m| *m >= 5) {
            assert!(first <= m as usize, "{first} bytes for a limit of {m}");
        }
        match c.recv().await {
            Packet::ConnAck(a) => {
                assert_eq!(a.reason, ReasonCode::BAD_AUTHENTICATION_METHOD);
                assert_eq!(a.properties.reason_string.is_some(), with_text);
            }
            other => panic!("expected CONNACK, got {other:?}"),
        }
        assert!(c.expect_closed().await.is_none());
    }
    b.shutdown().await;
}

/// [MQTT-4.7.3-3] Topics and filters of tens of thousands of (empty) levels are
/// routed, unsubscribed and dropped with the session without exhausting the stack
/// of the broker's worker threads.
#[tokio::test]
async fn deep_topics_route_and_unsubscribe_mqtt_4_7_3_3() {
    let b = broker().await;
    let deep = "/".repeat(60_000);
    let deep_wild = format!("{}#", "+/".repeat(29_999));
    let mut sub = Client::connect(b.local_addr(), V5, "deep").await;
    sub.subscribe(&deep, QoS::AtMostOnce).await;
    sub.subscribe(&deep_wild, QoS::AtMostOnce).await;
    sub.subscribe(&format!("{deep}x"), QoS::AtMostOnce).await;
    let mut publ = Client::connect(b.local_addr(), V311, "pub").await;
    publ.publish(&deep, "d", QoS::AtLeastOnce, false).await;
    assert_eq!(sub.recv_publish().await.topic.len(), deep.len());
    sub.send(Packet::Unsubscribe(Unsubscribe {
        packet_id: 9,
        filters: vec![deep.clone(), deep_wild],
        properties: Properties::default(),
    }))
    .await;
    match sub.recv().await {
        Packet::UnsubAck(a) => assert_eq!(a.reason_codes, [ReasonCode::SUCCESS; 2]),
        other => panic!("expected UNSUBACK, got {other:?}"),
    }
    publ.publish(&deep, "gone", QoS::AtLeastOnce, false).await;
    sub.expect_nothing().await;
    // The session ends with the last deep subscription in place.
    sub.disconnect().await;
    publ.publish("still/up", "x", QoS::AtLeastOnce, false).await;
    b.shutdown().await;
}
