//! `mq sub`, `mq pub` and `mq rr` against a broker that misbehaves: one that accepts
//! and then closes at every connection, or never answers a reconnect (retried, said
//! on stderr once per loss, bounded by `-W`), and one that breaks the protocol after
//! CONNACK (QoS 3, a topic that is not UTF-8, a packet above the client's Maximum
//! Packet Size, a SUBACK or PUBACK for a packet identifier never used, a second
//! CONNACK): the command ends with status 2 and one line naming the violation
//! [MQTT-4.13.1-1], without reconnecting.

use bytes::BytesMut;
use mq::protocol::{ConnAck, Packet, ProtocolVersion, SubAck, decode, encode};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake broker does once a client has connected.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// CONNACK, then close the connection.
    CloseAfterConnack,
    /// CONNACK, then a header declaring a 268 MB packet, then close.
    HugeHeaderThenClose,
    /// CONNACK, SUBACK, then these raw bytes.
    AfterSuback(&'static [u8]),
    /// CONNACK, then a SUBACK for packet identifier 999, never used.
    SubackForUnusedId,
    /// CONNACK twice [MQTT-3.2.0-2].
    SecondConnack,
    /// CONNACK, then a PUBACK for packet identifier 999 once a PUBLISH arrives.
    PubackForUnusedId,
    /// CONNACK then close for the first connection; every later one gets no CONNACK.
    SilentAfterFirst,
}

/// A fake broker on 127.0.0.1 port 0 misbehaving the same way with every
/// connection; it stops with the test's runtime. The count is of the connections
/// accepted so far.
async fn fake_broker(how: Misbehaviour) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let first = count.fetch_add(1, Ordering::SeqCst) == 0;
            tokio::spawn(serve(stream, how, first));
        }
    });
    (port, accepted)
}

/// The next packet from the client, or `None` once it has closed.
async fn next(stream: &mut TcpStream, buf: &mut BytesMut, v: ProtocolVersion) -> Option<Packet> {
    loop {
        if let Ok(Some(p)) = decode(buf, v, 0) {
            return Some(p);
        }
        match tokio::time::timeout(Duration::from_secs(5), stream.read_buf(buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return None,
        }
    }
}

async fn send(stream: &mut TcpStream, packet: &Packet, v: ProtocolVersion) {
    let mut out = BytesMut::new();
    encode(packet, v, &mut out).expect("encodes");
    let _ = stream.write_all(&out).await;
}

async fn serve(mut stream: TcpStream, how: Misbehaviour, first: bool) {
    let mut buf = BytesMut::new();
    let v = match next(&mut stream, &mut buf, ProtocolVersion::V311).await {
        Some(Packet::Connect(c)) => c.protocol,
        _ => return,
    };
    if matches!(how, Misbehaviour::SilentAfterFirst) && !first {
        // Accepted, and then nothing: wait for the client to give up.
        while next(&mut stream, &mut buf, v).await.is_some() {}
        return;
    }
    let connack = Packet::ConnAck(ConnAck::default());
    send(&mut stream, &connack, v).await;
    match how {
        Misbehaviour::CloseAfterConnack | Misbehaviour::SilentAfterFirst => {}
        Misbehaviour::HugeHeaderThenClose => {
            // PUBLISH, Remaining Length 268,435,455: the largest there is.
            let _ = stream.write_all(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F]).await;
        }
        Misbehaviour::AfterSuback(bytes) => {
            if let Some(Packet::Subscribe(s)) = next(&mut stream, &mut buf, v).await {
                let ack = SubAck {
                    packet_id: s.packet_id,
                    reason_codes: vec![mq::protocol::ReasonCode(0); s.filters.len()],
                    properties: Default::default(),
                };
                send(&mut stream, &Packet::SubAck(ack), v).await;
                let _ = stream.write_all(bytes).await;
                // Keep the connection until the client closes it.
                while next(&mut stream, &mut buf, v).await.is_some() {}
            }
        }
        Misbehaviour::SubackForUnusedId => {
            let ack = SubAck {
                packet_id: 999,
                reason_codes: vec![mq::protocol::ReasonCode(0)],
                properties: Default::default(),
            };
            send(&mut stream, &Packet::SubAck(ack), v).await;
            while next(&mut stream, &mut buf, v).await.is_some() {}
        }
        Misbehaviour::SecondConnack => {
            send(&mut stream, &connack, v).await;
            while next(&mut stream, &mut buf, v).await.is_some() {}
        }
        Misbehaviour::PubackForUnusedId => {
            while let Some(p) = next(&mut stream, &mut buf, v).await {
                if let Packet::Publish(_) = p {
                    let ack = Packet::PubAck(mq::protocol::Ack::new(999));
                    send(&mut stream, &ack, v).await;
                }
            }
        }
    }
}

/// Run `mq ARGS -h 127.0.0.1 -p PORT` to its end (at most 15 s) and return its
/// output and how long it ran.
async fn mq(port: u16, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mq"))
        .args(args)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(15), child)
        .await
        .expect("mq ends within 15 s")
        .expect("mq runs");
    (out, started.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The line `mq sub` prints for each lost connection it retries.
const LOST_CLOSED: &str =
    "mq: connection lost (the server closed the connection); reconnecting in 1s";

/// A broker that accepts and closes at every connection: `-W 2` bounds the whole
/// wait, reconnects included (exit 27, "Timed out", as mosquitto_sub), and each loss
/// is said with its reason and the next attempt's delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_w_bounds_reconnects_to_a_broker_that_keeps_closing() {
    let (port, accepted) = fake_broker(Misbehaviour::CloseAfterConnack).await;
    let (out, took) = mq(port, &["sub", "-t", "a/#", "-W", "2"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(27), "{err}");
    assert!(took < Duration::from_secs(3), "ran {took:?}");
    assert_eq!(err.lines().last(), Some("Timed out"), "{err}");
    // Said once per loss: one line per connection accepted (the last loss may come
    // as -W expires, unsaid).
    let said = err.lines().filter(|l| *l == LOST_CLOSED).count();
    let connections = accepted.load(Ordering::SeqCst);
    assert!(
        said >= 1 && said <= connections,
        "{connections} connections: {err}"
    );
    assert_eq!(err.lines().count(), said + 1, "nothing else: {err}");
}

/// A reconnect that the broker accepts and never answers with CONNACK does not
/// stretch `-W`: the command ends at the deadline, not at the connect timeout (10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_w_bounds_a_reconnect_whose_connack_never_comes() {
    let (port, accepted) = fake_broker(Misbehaviour::SilentAfterFirst).await;
    let (out, took) = mq(port, &["sub", "-t", "a/#", "-W", "2"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(27), "{err}");
    assert!(took < Duration::from_secs(3), "ran {took:?}: {err}");
    assert!(accepted.load(Ordering::SeqCst) >= 2, "it reconnected");
    assert_eq!(err, format!("{LOST_CLOSED}\nTimed out\n"));
}

/// `--quiet` says nothing about lost connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_quiet_does_not_report_lost_connections() {
    let (port, accepted) = fake_broker(Misbehaviour::CloseAfterConnack).await;
    let (out, _) = mq(port, &["sub", "-t", "a/#", "-W", "2", "--quiet"]).await;
    assert_eq!(out.status.code(), Some(27));
    assert!(accepted.load(Ordering::SeqCst) >= 2, "it reconnected");
    assert_eq!(stderr(&out), "", "--quiet prints nothing");
}

/// A header declaring 268 MB and then the end of the connection: with no Maximum
/// Packet Size announced (3.1.1 has none) 268,435,455 bytes is allowed, so this is a
/// connection lost mid-packet, said and retried within `-W` (as mosquitto_sub does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_retries_a_connection_lost_inside_a_huge_packet() {
    let (port, _) = fake_broker(Misbehaviour::HugeHeaderThenClose).await;
    let (out, took) = mq(port, &["sub", "-t", "a/#", "-W", "2"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(27), "{err}");
    assert!(took < Duration::from_secs(3), "ran {took:?}");
    assert!(err.contains(LOST_CLOSED), "{err}");
}

/// [MQTT-3.1.2-24] The same header to a 5.0 client that announced a Maximum Packet
/// Size of 1000 is a packet larger than allowed: status 2, named, no retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_ends_on_packet_above_its_maximum_packet_size_mqtt_3_1_2_24() {
    let (port, accepted) = fake_broker(Misbehaviour::HugeHeaderThenClose).await;
    let args: Vec<&str> = "sub -t a/# -W 10 -V 5 -D connect maximum-packet-size 1000"
        .split(' ')
        .collect();
    let (out, took) = mq(port, &args).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(took < Duration::from_secs(5), "ran {took:?}");
    assert_eq!(
        err,
        "mq: the server broke the protocol: packet too large: 268435460 bytes, the limit is 1000\n"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "not retried");
}

/// Run `mq sub` against a broker that breaks the protocol; it must end at once with
/// status 2 and a line naming what was wrong.
/// [MQTT-4.13.1-1]
async fn sub_ends_on_violation(how: Misbehaviour, expected: &str) {
    let (port, accepted) = fake_broker(how).await;
    let (out, took) = mq(port, &["sub", "-t", "a/#", "-W", "10"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(took < Duration::from_secs(5), "ran {took:?}");
    assert_eq!(err, format!("{expected}\n"), "one line naming it");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "not retried");
}

/// [MQTT-3.3.1-4] A PUBLISH with QoS 3 is a protocol violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_ends_on_publish_with_qos_3_mqtt_3_3_1_4() {
    // PUBLISH, QoS bits 11, topic "a/b", payload "x".
    sub_ends_on_violation(
        Misbehaviour::AfterSuback(&[0x36, 0x06, 0x00, 0x03, b'a', b'/', b'b', b'x']),
        "mq: the server broke the protocol: malformed packet: PUBLISH with QoS 3 [MQTT-3.3.1-4]",
    )
    .await;
}

/// [MQTT-1.5.4-1] A topic that is not UTF-8 is a protocol violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_ends_on_topic_not_utf8_mqtt_1_5_4_1() {
    sub_ends_on_violation(
        Misbehaviour::AfterSuback(&[0x30, 0x06, 0x00, 0x03, b'a', 0xFF, b'b', b'x']),
        "mq: the server broke the protocol: malformed packet: invalid UTF-8 in a string \
         [MQTT-1.5.4-1]",
    )
    .await;
}

/// [MQTT-3.8.4-2] A SUBACK for a packet identifier the client never used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_ends_on_suback_for_unused_packet_identifier_mqtt_3_8_4_2() {
    sub_ends_on_violation(
        Misbehaviour::SubackForUnusedId,
        "mq: the server broke the protocol: protocol error: SUBACK for a packet identifier \
         that awaits none",
    )
    .await;
}

/// [MQTT-3.2.0-2] `mq pub`: a second CONNACK ends it with status 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pub_ends_on_second_connack_mqtt_3_2_0_2() {
    let (port, _) = fake_broker(Misbehaviour::SecondConnack).await;
    let (out, _) = mq(port, &["pub", "-t", "a/b", "-m", "x", "-q", "1"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "mq: the server broke the protocol: protocol error: unexpected second CONNACK from \
         the server [MQTT-3.2.0-2]\n"
    );
}

/// [MQTT-4.13.1-1] `mq pub`: a PUBACK for a packet identifier never used ends it with
/// status 2 and the violation named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pub_ends_on_puback_for_unused_packet_identifier_mqtt_4_13_1_1() {
    let (port, accepted) = fake_broker(Misbehaviour::PubackForUnusedId).await;
    let (out, took) = mq(port, &["pub", "-t", "a/b", "-m", "x", "-q", "1"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(took < Duration::from_secs(5), "ran {took:?}");
    assert_eq!(
        err,
        "mq: the server broke the protocol: protocol error: PUBACK for a packet identifier \
         that awaits none\n"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "not retried");
}

/// [MQTT-3.8.4-2] `mq rr`: a SUBACK for a packet identifier never used ends it with
/// status 2 and the violation named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rr_ends_on_suback_for_unused_packet_identifier_mqtt_3_8_4_2() {
    let (port, accepted) = fake_broker(Misbehaviour::SubackForUnusedId).await;
    let (out, took) = mq(
        port,
        &["rr", "-t", "req", "-e", "resp", "-m", "x", "-W", "10"],
    )
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(took < Duration::from_secs(5), "ran {took:?}");
    assert_eq!(
        err,
        "mq: the server broke the protocol: protocol error: SUBACK for a packet identifier \
         that awaits none\n"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "not retried");
}
