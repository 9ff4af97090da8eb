//! `mq bench check` against the embedded broker: the report says what the broker
//! really does and announces (the MQTT 5.0 CONNACK properties [MQTT-3.2.2.3]).

mod common;

use bytes::BytesMut;
use common::{embedded_broker, unused_port};
use mq::broker::BrokerHandle;
use mq::client::ConnectOptions;
use mq::cmd::bench::{CheckPlan, run_check};
use mq::protocol::{self, Connect, Packet, Properties, ProtocolVersion};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The CONNACK properties the broker sends to a plain 5.0 CONNECT, read on a raw socket.
async fn announced(handle: &BrokerHandle) -> Properties {
    let mut s = TcpStream::connect(handle.local_addr())
        .await
        .expect("connect");
    let mut out = BytesMut::new();
    let c = Connect {
        protocol: ProtocolVersion::V5,
        client_id: "announce-probe".into(),
        ..Connect::default()
    };
    protocol::encode(&Packet::Connect(Box::new(c)), ProtocolVersion::V5, &mut out).expect("encode");
    s.write_all(&out).await.expect("write");
    let mut buf = BytesMut::new();
    loop {
        if let Some(p) = protocol::decode(&mut buf, ProtocolVersion::V5, 0).expect("decode") {
            match p {
                Packet::ConnAck(a) => return a.properties,
                other => panic!("expected CONNACK, got {other:?}"),
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), s.read_buf(&mut buf))
            .await
            .expect("in time")
            .expect("read");
        assert!(n > 0, "closed before CONNACK");
    }
}

#[tokio::test]
async fn check_reports_what_the_broker_does_and_announces() {
    let handle = embedded_broker().await;
    let addr = handle.local_addr();
    let plan = CheckPlan {
        options: ConnectOptions::new(addr.ip().to_string(), addr.port()),
        versions_given: false,
        count: 5,
        timeout: Duration::from_secs(3),
        max_payload: 64 * 1024,
    };
    let report = tokio::time::timeout(Duration::from_secs(60), run_check(plan))
        .await
        .expect("check finishes");
    let names: Vec<_> = report.versions.iter().map(|v| v.protocol).collect();
    assert_eq!(names, ["3.1", "3.1.1", "5.0"]);
    for v in &report.versions {
        assert!(v.connect.ok, "{}: {}", v.protocol, v.connect.detail);
        assert_eq!(v.qos.len(), 3);
        for q in &v.qos {
            assert_eq!((q.sent, q.received), (5, 5), "{} QoS {}", v.protocol, q.qos);
        }
        assert!(
            v.retained.as_ref().is_some_and(|o| o.ok),
            "{}: retained {:?}",
            v.protocol,
            v.retained
        );
        assert!(
            v.wildcards.as_ref().is_some_and(|o| o.ok),
            "{}: wildcards {:?}",
            v.protocol,
            v.wildcards
        );
        let p = v.payload.as_ref().expect("payload probed");
        assert_eq!(
            (p.largest_ok, p.first_failed),
            (64 * 1024, None),
            "{}",
            v.protocol
        );
        assert_eq!(v.connack.is_some(), v.protocol == "5.0");
    }
    // The 5.0 limits are exactly what a raw CONNECT gets back.
    let props = announced(&handle).await;
    let c = report.versions[2].connack.as_ref().expect("5.0 limits");
    assert_eq!(c.receive_maximum, props.receive_maximum);
    assert_eq!(c.maximum_qos, props.maximum_qos);
    assert_eq!(c.retain_available, props.retain_available);
    assert_eq!(c.maximum_packet_size, props.maximum_packet_size);
    assert_eq!(c.topic_alias_maximum, props.topic_alias_maximum);
    assert_eq!(
        c.wildcard_subscription_available,
        props.wildcard_subscription_available
    );
    assert_eq!(
        c.subscription_identifier_available,
        props.subscription_identifier_available
    );
    assert_eq!(
        c.shared_subscription_available,
        props.shared_subscription_available
    );
    assert_eq!(c.server_keep_alive, props.server_keep_alive);
    // Shared subscriptions: the report agrees with the announcement (absent = available).
    let shared = report.versions[2]
        .shared_subscriptions
        .as_ref()
        .expect("tested");
    assert_eq!(
        shared.ok,
        props.shared_subscription_available != Some(0),
        "{shared:?}"
    );
    // Text and JSON forms.
    let text = report.to_text();
    assert!(text.contains("MQTT 5.0: OK"), "{text}");
    assert!(
        text.contains("    - QoS 2: received 5/5 publishes in"),
        "{text}"
    );
    assert!(text.contains("        > Receive maximum: "), "{text}");
    let v: serde_json::Value = serde_json::from_str(&report.to_json()).expect("json");
    assert_eq!(v["schema"], "mq-bench-check/1");
    assert_eq!(v["versions"][2]["protocol"], "5.0");
    assert!(v["versions"][0]["connack"].is_null());
    handle.shutdown().await;
}

#[tokio::test]
async fn check_of_a_closed_port_fails_clearly() {
    let mut options = ConnectOptions::new("127.0.0.1", unused_port());
    options.version = ProtocolVersion::V311;
    let plan = CheckPlan {
        options,
        versions_given: true,
        count: 1,
        timeout: Duration::from_secs(2),
        max_payload: 1024,
    };
    let report = run_check(plan).await;
    assert!(!report.ok());
    assert_eq!(report.versions.len(), 1);
    assert!(!report.versions[0].connect.ok);
    assert!(
        report.to_text().contains("MQTT 3.1.1: FAILED"),
        "{}",
        report.to_text()
    );
}
