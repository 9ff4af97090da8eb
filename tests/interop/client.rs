//! Interop: our client layer (`mq::client`) against a real mosquitto: QoS 0/1/2 under
//! 3.1.1 and 5.0, retained messages, the will of a client whose socket dies, and TLS
//! with a CA and server certificate generated here with rcgen.
//!
//! MQTT over WebSocket is tested against an in-process server
//! (`tests/client_transports.rs`): mosquitto 2.0's websockets listener ignores the
//! bind address and would listen on every interface, and these tests stay on loopback.

use crate::common::TestPki;
use crate::peers::Mosquitto;
use bytes::Bytes;
use mq::client::{Client, ConnectOptions, Error, Event, Events};
use mq::protocol::{
    Properties, ProtocolVersion, Publish, QoS, ReasonCode, SubscribeFilter, SubscriptionOptions,
    Will,
};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::timeout;

const STEP: Duration = Duration::from_secs(5);

fn opts(port: u16, version: ProtocolVersion) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", port);
    o.version = version;
    o.connect_timeout = STEP;
    o
}

fn message(topic: &str, qos: QoS, payload: &str) -> Publish {
    Publish {
        topic: topic.into(),
        qos,
        payload: Bytes::copy_from_slice(payload.as_bytes()),
        ..Publish::default()
    }
}

async fn subscribe(client: &Client, filter: &str, qos: QoS) {
    let ack = client
        .subscribe(
            vec![SubscribeFilter {
                filter: filter.into(),
                options: SubscriptionOptions::qos(qos),
            }],
            Properties::default(),
        )
        .await
        .expect("suback");
    assert_eq!(ack.reason_codes, vec![ReasonCode(qos.as_u8())]);
}

async fn next_message(events: &mut Events) -> Publish {
    match timeout(STEP, events.recv()).await.expect("message in time") {
        Some(Event::Message(p)) => p,
        Some(other) => panic!("unexpected event {other:?}"),
        None => panic!("event stream ended"),
    }
}

async fn round_trip(version: ProtocolVersion) {
    let broker = Mosquitto::start();
    let (sub, mut events) = Client::connect(opts(broker.port, version))
        .await
        .expect("sub connects");
    subscribe(&sub, "rt/#", QoS::ExactlyOnce).await;
    let (publisher, _pub_events) = Client::connect(opts(broker.port, version))
        .await
        .expect("pub connects");
    for (qos, text) in [
        (QoS::AtMostOnce, "zero"),
        (QoS::AtLeastOnce, "one ✓"),
        (QoS::ExactlyOnce, "two — ü"),
    ] {
        let ack = publisher
            .publish(message(&format!("rt/{qos}"), qos, text))
            .await
            .expect("published");
        assert!(!ack.reason.is_error(), "{ack:?}");
        let got = next_message(&mut events).await;
        assert_eq!(&*got.topic, format!("rt/{qos}"));
        assert_eq!(got.qos, qos);
        assert_eq!(&got.payload[..], text.as_bytes());
        assert!(!got.retain);
    }
    publisher.disconnect().await.expect("disconnect");
    sub.disconnect().await.expect("disconnect");
    assert!(events.recv().await.is_none());
}

#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn qos_0_1_2_round_trip_v311() {
    round_trip(ProtocolVersion::V311).await;
}

#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn qos_0_1_2_round_trip_v5() {
    round_trip(ProtocolVersion::V5).await;
}

#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn qos_0_1_2_round_trip_v31() {
    round_trip(ProtocolVersion::V31).await;
}

/// Many QoS 1 and QoS 2 messages through the inflight window; order is kept per QoS
/// (the spec orders messages of one QoS on one topic [MQTT-4.6.0-6]; mosquitto
/// forwards a QoS 2 message at PUBREL, so the two streams may interleave).
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn streaming_through_the_inflight_window() {
    let broker = Mosquitto::start();
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let (sub, mut events) = Client::connect(opts(broker.port, version))
            .await
            .expect("sub");
        subscribe(&sub, "stream/#", QoS::ExactlyOnce).await;
        let (publisher, _e) = Client::connect(opts(broker.port, version))
            .await
            .expect("pub");
        let n = 500u32;
        let producer = tokio::spawn(async move {
            let mut tokens = Vec::new();
            for i in 0..n {
                let qos = if i % 2 == 0 {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                };
                let m = message(&format!("stream/{qos}"), qos, &i.to_string());
                tokens.push(publisher.start_publish(m).await.expect("started"));
            }
            for t in tokens {
                t.wait().await.expect("acked");
            }
            publisher
        });
        let mut next = [0u32, 1u32]; // the next expected number on stream/1 and stream/2
        for _ in 0..n {
            let got = next_message(&mut events).await;
            let k = usize::from(got.qos == QoS::ExactlyOnce);
            assert_eq!(&*got.topic, format!("stream/{}", k + 1));
            assert_eq!(&got.payload[..], next[k].to_string().as_bytes());
            next[k] += 2;
        }
        let publisher = timeout(STEP, producer)
            .await
            .expect("in time")
            .expect("producer");
        publisher.disconnect().await.expect("disconnect");
        sub.disconnect().await.expect("disconnect");
    }
}

/// A retained message is delivered, with RETAIN set, to a later subscriber
/// [MQTT-3.3.1-9].
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn retained_message() {
    let broker = Mosquitto::start();
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let (publisher, _e) = Client::connect(opts(broker.port, version))
            .await
            .expect("pub");
        let mut m = message("keep/it", QoS::AtLeastOnce, "stays");
        m.retain = true;
        publisher.publish(m).await.expect("published");
        let (sub, mut events) = Client::connect(opts(broker.port, version))
            .await
            .expect("sub");
        subscribe(&sub, "keep/#", QoS::AtLeastOnce).await;
        let got = next_message(&mut events).await;
        assert!(got.retain, "retained flag set for a retained message");
        assert_eq!(&got.payload[..], b"stays");
        // Clear it.
        let mut clear = message("keep/it", QoS::AtLeastOnce, "");
        clear.retain = true;
        publisher.publish(clear).await.expect("cleared");
        publisher.disconnect().await.expect("disconnect");
        sub.disconnect().await.expect("disconnect");
    }
}

/// A TCP relay between the client and the broker that can be cut abruptly.
async fn relay(broker_port: u16) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let Ok((mut inbound, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", broker_port)).await
        else {
            return;
        };
        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
    });
    (port, task)
}

/// The will of a client whose connection dies without DISCONNECT is published
/// [MQTT-3.1.2-8].
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn will_is_published_when_the_socket_dies() {
    let broker = Mosquitto::start();
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let (watcher, mut events) = Client::connect(opts(broker.port, version))
            .await
            .expect("watcher");
        subscribe(&watcher, "will/#", QoS::AtLeastOnce).await;
        let (port, cut) = relay(broker.port).await;
        let mut o = opts(port, version);
        o.will = Some(Will {
            topic: "will/dying".into(),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Properties::default(),
        });
        let (dying, mut dying_events) = Client::connect(o).await.expect("dying client");
        cut.abort(); // both sockets of the relay close: no DISCONNECT reaches the broker
        let got = next_message(&mut events).await;
        assert_eq!(&*got.topic, "will/dying");
        assert_eq!(&got.payload[..], b"gone");
        match timeout(STEP, dying_events.recv()).await.expect("in time") {
            Some(Event::Disconnected(_)) => {}
            other => panic!("{other:?}"),
        }
        drop(dying);
        watcher.disconnect().await.expect("disconnect");
    }
}

/// A graceful DISCONNECT discards the will [MQTT-3.1.2-10]; 5.0 reason 0x04 asks for it.
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn will_and_graceful_disconnect_v5() {
    let broker = Mosquitto::start();
    let v = ProtocolVersion::V5;
    let (watcher, mut events) = Client::connect(opts(broker.port, v))
        .await
        .expect("watcher");
    subscribe(&watcher, "w/#", QoS::AtLeastOnce).await;
    for (reason, delivered) in [
        (ReasonCode::SUCCESS, false),
        (ReasonCode::DISCONNECT_WITH_WILL, true),
    ] {
        let mut o = opts(broker.port, v);
        o.will = Some(Will {
            topic: "w/t".into(),
            payload: Bytes::from(format!("{}", reason.0)),
            qos: QoS::AtLeastOnce,
            ..Will::default()
        });
        let (c, _e) = Client::connect(o).await.expect("connect");
        c.disconnect_with(mq::protocol::Disconnect::with_reason(reason))
            .await
            .expect("disconnect");
        if delivered {
            let got = next_message(&mut events).await;
            assert_eq!(
                &got.payload[..],
                b"4",
                "only the will of the 0x04 disconnect arrives"
            );
        }
    }
    watcher.disconnect().await.expect("disconnect");
}

/// Persistent session: messages queued while offline arrive on reconnect with
/// clean start off; `session_present` is reported.
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn persistent_session_v5() {
    let broker = Mosquitto::start();
    let v = ProtocolVersion::V5;
    let mut o = opts(broker.port, v);
    o.client_id = "mq-interop-persistent".into();
    o.clean_start = false;
    o.session_expiry = Some(60);
    let (c, _e) = Client::connect(o.clone()).await.expect("first");
    subscribe(&c, "p/#", QoS::AtLeastOnce).await;
    c.disconnect().await.expect("disconnect");
    let (publisher, _pe) = Client::connect(opts(broker.port, v)).await.expect("pub");
    publisher
        .publish(message("p/1", QoS::AtLeastOnce, "queued"))
        .await
        .expect("published");
    let (c, mut events) = Client::connect(o).await.expect("again");
    assert!(c.connack().session_present);
    let got = next_message(&mut events).await;
    assert_eq!(&got.payload[..], b"queued");
    c.disconnect().await.expect("disconnect");
    publisher.disconnect().await.expect("disconnect");
}

/// TLS: mosquitto with a generated certificate; `mqtts://` with the CA file works, a
/// different CA gives "unknown CA".
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn tls_with_generated_certificates() {
    let pki = TestPki::new(&["127.0.0.1", "localhost"]);
    let broker = Mosquitto::start_with(&pki.mosquitto_conf());
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let mut o =
            ConnectOptions::from_url(&format!("mqtts://127.0.0.1:{}", broker.port)).expect("url");
        o.version = version;
        o.tls.ca_file = Some(pki.path("ca.pem"));
        o.connect_timeout = STEP;
        let (c, mut events) = Client::connect(o).await.expect("TLS connect");
        subscribe(&c, "tls/#", QoS::ExactlyOnce).await;
        c.publish(message("tls/x", QoS::ExactlyOnce, "secret"))
            .await
            .expect("published");
        let got = next_message(&mut events).await;
        assert_eq!(&got.payload[..], b"secret");
        c.disconnect().await.expect("disconnect");
    }
    let mut o =
        ConnectOptions::from_url(&format!("mqtts://127.0.0.1:{}", broker.port)).expect("url");
    o.tls.ca_file = Some(pki.path("other.pem"));
    o.connect_timeout = STEP;
    match Client::connect(o).await {
        Err(e @ Error::Tls(_)) => assert!(e.to_string().contains("unknown CA"), "{e}"),
        Err(other) => panic!("expected a TLS error, got {other:?}"),
        Ok(_) => panic!("connected with the wrong CA"),
    }
    // Plain MQTT to the TLS port is refused in a way that does not hang.
    let mut plain = opts(broker.port, ProtocolVersion::V311);
    plain.connect_timeout = Duration::from_secs(2);
    assert!(Client::connect(plain).await.is_err());
}

/// mosquitto refuses bad credentials with 3.1.1 code 5 / 5.0 reason 0x87 (or 0x86),
/// the exit code mosquitto_pub would use.
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn refused_by_mosquitto() {
    let broker = Mosquitto::start_with("allow_anonymous false\n");
    let e = Client::connect(opts(broker.port, ProtocolVersion::V311))
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::ConnectionRefused { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 5);
    assert_eq!(e.to_string(), "Connection Refused: not authorised");
    let e = Client::connect(opts(broker.port, ProtocolVersion::V5))
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::ConnectionRefused { .. }), "{e:?}");
    assert!(e.exit_code() == 0x87 || e.exit_code() == 0x86, "{e}");
}
