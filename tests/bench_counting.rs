//! `mq bench` counting against the embedded broker: a test publisher drives the broker
//! over a raw socket with crafted sequence numbers, and the bench subscriber must
//! report exactly the loss, duplicates and reordering that were injected.

mod common;

use bytes::{Bytes, BytesMut};
use common::{bench_target, embedded_broker};
use mq::broker::BrokerHandle;
use mq::cmd::bench::payload::Header;
use mq::cmd::bench::{LoadPlan, Summary, run_load};
use mq::protocol::{self, ByteStr, Connect, Packet, ProtocolVersion, Publish, QoS};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

fn sub_plan(handle: &BrokerHandle, limit: u64, ready: Arc<Notify>) -> LoadPlan {
    LoadPlan {
        mode: "sub",
        target: bench_target(handle.local_addr(), ProtocolVersion::V311, "bench-test-"),
        publishers: 0,
        subscribers: 1,
        topic: "bench".into(),
        sub_filter: "inject/#".into(),
        qos: QoS::AtLeastOnce,
        retain: false,
        size: 0,
        interval: None,
        target_rate: None,
        inflight: 1,
        limit: Some(limit),
        duration: Some(Duration::from_secs(10)),
        conn_rate: None,
        drain: Duration::ZERO,
        quiet: true,
        ready: Some(ready),
    }
}

/// A test publisher on a raw socket: CONNECT, then QoS 1 PUBLISHes with any header.
struct RawPublisher {
    stream: TcpStream,
    next_id: u16,
}

impl RawPublisher {
    async fn connect(handle: &BrokerHandle, id: &str) -> RawPublisher {
        let mut stream = TcpStream::connect(handle.local_addr())
            .await
            .expect("tcp connect");
        let out = common::encoded_connect(Connect {
            client_id: id.into(),
            ..Connect::default()
        });
        stream.write_all(&out).await.expect("write CONNECT");
        let mut p = RawPublisher { stream, next_id: 1 };
        match p.read_packet().await {
            Packet::ConnAck(a) => assert!(!a.reason.is_error(), "CONNACK refused"),
            other => panic!("expected CONNACK, got {other:?}"),
        }
        p
    }

    async fn read_packet(&mut self) -> Packet {
        let mut buf = BytesMut::new();
        loop {
            if let Some(p) = protocol::decode(&mut buf, ProtocolVersion::V311, 0).expect("decode") {
                return p;
            }
            let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read_buf(&mut buf))
                .await
                .expect("broker answers in time")
                .expect("read");
            assert!(n > 0, "broker closed the connection");
        }
    }

    /// Publish one bench message at QoS 1 and wait for its PUBACK, so the order on
    /// the wire is exactly the order given.
    async fn send(&mut self, run_id: u32, publisher: u32, seq: u64) {
        let mut payload = vec![0u8; 40];
        Header {
            run_id,
            publisher,
            seq,
            timestamp_ns: now_ns(),
        }
        .write(&mut payload);
        let id = self.next_id;
        self.next_id += 1;
        let publish = Publish {
            qos: QoS::AtLeastOnce,
            topic: ByteStr::from(format!("inject/{publisher}")),
            packet_id: id,
            payload: Bytes::from(payload),
            ..Publish::default()
        };
        let mut out = BytesMut::new();
        protocol::encode(&Packet::Publish(publish), ProtocolVersion::V311, &mut out)
            .expect("encode PUBLISH");
        self.stream.write_all(&out).await.expect("write PUBLISH");
        match self.read_packet().await {
            Packet::PubAck(a) => assert_eq!(a.packet_id, id),
            other => panic!("expected PUBACK, got {other:?}"),
        }
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

async fn run_sub_with(
    handle: &BrokerHandle,
    limit: u64,
    before: &[(u32, u32, u64)],
    after: &[(u32, u32, u64)],
) -> Summary {
    let mut publisher = RawPublisher::connect(handle, "injector").await;
    // Sent before the subscriber exists: nobody receives these.
    for &(run, p, s) in before {
        publisher.send(run, p, s).await;
    }
    let ready = Arc::new(Notify::new());
    let bench = tokio::spawn(run_load(
        sub_plan(handle, limit, ready.clone()),
        std::future::pending(),
    ));
    tokio::time::timeout(Duration::from_secs(5), ready.notified())
        .await
        .expect("bench subscriber subscribes");
    for &(run, p, s) in after {
        publisher.send(run, p, s).await;
    }
    let (summary, _) = tokio::time::timeout(Duration::from_secs(10), bench)
        .await
        .expect("bench stops at --limit")
        .expect("bench task")
        .expect("bench runs");
    summary
}

#[tokio::test]
async fn late_subscriber_reports_the_messages_it_missed_as_lost() {
    let handle = embedded_broker().await;
    let before: Vec<_> = (0..5).map(|s| (7, 0, s)).collect();
    let after: Vec<_> = (5..15).map(|s| (7, 0, s)).collect();
    let summary = run_sub_with(&handle, 10, &before, &after).await;
    assert_eq!(summary.stopped_by, "limit");
    assert_eq!(summary.messages.received, 10);
    let d = summary.delivery.expect("sub reports delivery");
    assert_eq!((d.unique, d.lost, d.duplicates, d.reordered), (10, 5, 0, 0));
    assert_eq!(summary.latency_us.map(|l| l.count), Some(10));
    handle.shutdown().await;
}

#[tokio::test]
async fn injected_duplicates_and_reordering_are_reported_exactly() {
    let handle = embedded_broker().await;
    // Publisher A: 0 1 2 2 4 3 5 5 6 -> 7 unique, 2 duplicates, 1 reordered (3), 0 lost.
    // Publisher B (another run): 0 2 3 -> 3 unique, 1 lost (1).
    let seq_a = [0u64, 1, 2, 2, 4, 3, 5, 5, 6];
    let seq_b = [0u64, 2, 3];
    let mut after: Vec<_> = seq_a.iter().map(|&s| (1, 0, s)).collect();
    after.extend(seq_b.iter().map(|&s| (2, 0, s)));
    let summary = run_sub_with(&handle, after.len() as u64, &[], &after).await;
    assert_eq!(summary.messages.received, 12);
    let d = summary.delivery.expect("sub reports delivery");
    assert_eq!(d.unique, 10);
    assert_eq!(d.duplicates, 2);
    assert_eq!(d.reordered, 1);
    assert_eq!(d.lost, 1);
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    handle.shutdown().await;
}
