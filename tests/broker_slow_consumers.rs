//! Slow and stuck subscribers: a subscriber that keeps reading loses nothing at
//! any QoS (its publishers are paced), and one that has stopped reading costs its
//! publishers one short grace per episode, not one per message, and its fellow
//! subscribers nothing. The broker runs in-process on a free port; the stuck and
//! the slow subscribers are raw sockets, the others the project's client.

mod common;

use bytes::BytesMut;
use mq::broker::{Broker, BrokerHandle, Config, LogDest};
use mq::client::{Client, ConnectOptions, Event};
use mq::protocol::{
    self, Connect, Packet, Properties, ProtocolVersion, Publish, QoS, Subscribe, SubscribeFilter,
    SubscriptionOptions,
};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn broker(max_queued: usize) -> BrokerHandle {
    let config = Config {
        log_dest: LogDest::None,
        max_queued_messages: max_queued,
        ..Config::default()
    };
    Broker::builder()
        .config(config)
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap()
}

/// A 3.1.1 CONNECT of `id` (clean session, no keep alive), encoded.
fn connect_packet(id: &str) -> BytesMut {
    common::encoded_connect(Connect {
        protocol: ProtocolVersion::V311,
        clean_start: true,
        keep_alive: 0,
        client_id: id.into(),
        ..Connect::default()
    })
}

/// A raw subscriber to `filter` at `qos`: connected and subscribed (its SUBACK
/// read), then left to the caller.
async fn raw_subscriber(
    b: &BrokerHandle,
    id: &str,
    filter: &str,
    qos: QoS,
    small_buffer: bool,
) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if small_buffer {
        // So that a subscriber that does not read fills up soon.
        socket.set_recv_buffer_size(4096).unwrap();
    }
    let mut s = socket.connect(b.local_addr()).await.unwrap();
    let mut out = connect_packet(id);
    let sub = Subscribe {
        packet_id: 1,
        filters: vec![SubscribeFilter {
            filter: filter.into(),
            options: SubscriptionOptions::qos(qos),
        }],
        properties: Properties::default(),
    };
    protocol::encode(&Packet::Subscribe(sub), ProtocolVersion::V311, &mut out).unwrap();
    s.write_all(&out).await.unwrap();
    // CONNACK (4 bytes) and SUBACK (5 bytes).
    let mut acks = [0u8; 9];
    s.read_exact(&mut acks).await.unwrap();
    assert_eq!(acks[0], 0x20);
    assert_eq!(acks[4], 0x90);
    s
}

fn client(b: &BrokerHandle, id: &str) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", b.local_addr().port());
    o.client_id = id.into();
    o
}

/// Publish `n` messages of `size` bytes at `qos` to `topic`, each acknowledged
/// before the next at QoS 1/2; returns how long it took.
async fn publish(b: &BrokerHandle, topic: &str, qos: QoS, n: u32, size: usize) -> Duration {
    let (c, _e) = Client::connect(client(b, "publisher")).await.unwrap();
    let started = Instant::now();
    for i in 0..n {
        let mut payload = vec![b'x'; size];
        payload[..4].copy_from_slice(&i.to_be_bytes());
        c.publish(Publish {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            ..Publish::default()
        })
        .await
        .unwrap();
    }
    let took = started.elapsed();
    c.disconnect().await.unwrap();
    took
}

/// A subscriber to `filter` at `qos` that reads everything: counts up to `n`
/// messages (stopping after 20 s without one).
async fn healthy_subscriber(
    b: &BrokerHandle,
    filter: &str,
    qos: QoS,
    n: u32,
) -> tokio::task::JoinHandle<u32> {
    let (healthy, mut events) = Client::connect(client(b, "healthy")).await.unwrap();
    healthy
        .subscribe(
            vec![SubscribeFilter {
                filter: filter.into(),
                options: SubscriptionOptions::qos(qos),
            }],
            Properties::default(),
        )
        .await
        .unwrap();
    tokio::spawn(async move {
        // Keeps the client (and its connection) alive while counting.
        let _healthy = healthy;
        let mut got = 0u32;
        while got < n {
            match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
                Ok(Some(Event::Message(_))) => got += 1,
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        got
    })
}

/// A stuck subscriber next to a healthy one: the healthy one gets every message
/// and the publisher is held up for one grace (250 ms) at most, not per message.
async fn stuck_beside_healthy(qos: QoS) {
    let b = broker(100).await;
    let _stuck = raw_subscriber(&b, "stuck", "t/#", qos, true).await;
    let n = 3000;
    let counter = healthy_subscriber(&b, "t/#", qos, n).await;
    let took = publish(&b, "t/1", qos, n, 1024).await;
    let got = counter.await.unwrap();
    assert_eq!(got, n, "{qos:?}: the healthy subscriber got every message");
    // 3,000 one-by-one publishes take well under a second here; a grace per
    // message would take 750 s.
    assert!(
        took < Duration::from_secs(10),
        "{qos:?}: the stuck subscriber held the publisher up for {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_subscriber_does_not_hold_up_its_publisher_at_qos0() {
    stuck_beside_healthy(QoS::AtMostOnce).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_subscriber_does_not_hold_up_its_publisher_at_qos1() {
    stuck_beside_healthy(QoS::AtLeastOnce).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_subscriber_does_not_hold_up_its_publisher_at_qos2() {
    stuck_beside_healthy(QoS::ExactlyOnce).await;
}

/// A QoS 0 subscriber that reads, but slower than the publisher sends, through a
/// 50-message queue: it gets every message, in order (the publisher is paced;
/// before, QoS 0 messages that found the queue full were dropped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_loses_nothing_at_qos0() {
    let b = broker(50).await;
    let mut slow = raw_subscriber(&b, "slow", "s/#", QoS::AtMostOnce, false).await;
    let n: u32 = 4_000;
    let reader = tokio::spawn(async move {
        let mut buf = BytesMut::with_capacity(8192);
        let mut next = 0u32;
        let deadline = Instant::now() + Duration::from_secs(60);
        while next < n && Instant::now() < deadline {
            // 32 kB, then a pause: about 10 MB/s at most, below what the
            // publisher sends, and 16 MB in all, more than the sockets' buffers
            // hold.
            let mut chunk = [0u8; 32 * 1024];
            let read = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut chunk)).await;
            let Ok(Ok(len)) = read else { break };
            if len == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..len]);
            while let Ok(Some(p)) = protocol::decode(&mut buf, ProtocolVersion::V311, 0) {
                if let Packet::Publish(p) = p {
                    let i = u32::from_be_bytes(p.payload[..4].try_into().unwrap());
                    assert_eq!(i, next, "messages in order, none missing");
                    next += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        next
    });
    publish(&b, "s/1", QoS::AtMostOnce, n, 4096).await;
    assert_eq!(reader.await.unwrap(), n);
}

/// Bytes queued or in flight in every session, as `$SYS` reports them: the value
/// published after the call (the retained one may be older).
async fn stored_bytes(b: &BrokerHandle) -> u64 {
    let (c, mut events) = Client::connect(client(b, "sys-reader")).await.unwrap();
    c.subscribe(
        vec![SubscribeFilter {
            filter: "$SYS/broker/store/messages/bytes".into(),
            options: SubscriptionOptions::qos(QoS::AtMostOnce),
        }],
        Properties::default(),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(Event::Message(m))) =
            tokio::time::timeout(Duration::from_secs(5), events.recv()).await
            && !m.retain
        {
            return std::str::from_utf8(&m.payload).unwrap().parse().unwrap();
        }
    }
    panic!("no $SYS/broker/store/messages/bytes within 10 s");
}

/// Four stuck subscribers and a healthy one, 1,000 messages of 1 KB at QoS 1:
/// what the stuck ones hold in all stays within the broker-wide `memory_limit`
/// (plus one message and the in-flight window each), where without it each would
/// hold its own 32 MiB allowance; the healthy subscriber still gets every message.
async fn stuck_subscribers_under(memory_limit: usize) -> u64 {
    let config = Config {
        log_dest: LogDest::None,
        memory_limit,
        max_inflight_messages: 4,
        ..Config::default()
    };
    let b = Broker::builder()
        .config(config)
        .sys_interval(Duration::from_millis(100))
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut stuck = Vec::new();
    for i in 0..4 {
        stuck.push(raw_subscriber(&b, &format!("stuck{i}"), "m/#", QoS::AtLeastOnce, true).await);
    }
    let n = 1000;
    let counter = healthy_subscriber(&b, "m/#", QoS::AtLeastOnce, n).await;
    publish(&b, "m/1", QoS::AtLeastOnce, n, 1024).await;
    assert_eq!(
        counter.await.unwrap(),
        n,
        "the healthy subscriber got every message"
    );
    let held = stored_bytes(&b).await;
    eprintln!("memory_limit {memory_limit}: stuck subscribers hold {held} bytes");
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_subscribers_hold_no_more_than_the_broker_wide_memory_limit() {
    let limit = 64 * 1024;
    let held = stuck_subscribers_under(limit).await;
    // The budget, plus per stuck subscriber one message over it and 4 in flight.
    assert!(
        held <= (limit + 4 * 5 * 1024) as u64,
        "stuck subscribers hold {held} bytes with memory_limit {limit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_memory_limit_each_stuck_subscriber_keeps_its_own_allowance() {
    // The same run under the default budget (1 GiB): the stuck subscribers hold
    // what their sockets did not take, far more than 64 KiB, so the test above
    // measures the limit, not the sockets.
    let held = stuck_subscribers_under(0).await;
    assert!(held > 1_000_000, "stuck subscribers hold only {held} bytes");
}

/// A subscriber that has had nothing to read for longer than the grace is not
/// stuck: when one burst of messages, more than its queue holds, arrives before its
/// writer runs, the publisher is paced and the subscriber loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_subscriber_is_not_taken_for_stuck_by_a_burst() {
    let grace = Duration::from_millis(50);
    let config = Config {
        log_dest: LogDest::None,
        max_queued_messages: 20,
        queue_wait: grace,
        ..Config::default()
    };
    let b = Broker::builder()
        .config(config)
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let n = 500;
    let counter = healthy_subscriber(&b, "burst/#", QoS::AtMostOnce, n).await;
    // The subscriber's writer last wrote its SUBACK: idle for more than the grace.
    tokio::time::sleep(grace * 3).await;
    // All the PUBLISH packets in one write, so the broker reads them in one go.
    let mut p = TcpStream::connect(b.local_addr()).await.unwrap();
    let mut out = connect_packet("burst");
    for i in 0..n {
        let publish = Publish {
            topic: "burst/1".into(),
            payload: i.to_be_bytes().to_vec().into(),
            ..Publish::default()
        };
        protocol::encode(&Packet::Publish(publish), ProtocolVersion::V311, &mut out).unwrap();
    }
    p.write_all(&out).await.unwrap();
    assert_eq!(
        counter.await.unwrap(),
        n,
        "the idle subscriber got every message of the burst"
    );
}
