//! `mq sub`, `mq pub` and `mq rr` against a broker that misbehaves: one that accepts
//! and then closes at every connection (retried, said on stderr once per loss,
//! bounded by `-W`), and one that breaks the protocol after CONNACK (QoS 3, a topic
//! that is not UTF-8, a SUBACK for a packet identifier never used, a second
//! CONNACK): the command ends with status 2 and one line naming the violation
//! [MQTT-4.13.1-1], without reconnecting.

use bytes::BytesMut;
use mq::protocol::{ConnAck, Packet, ProtocolVersion, SubAck, decode, encode};
use std::process::Output;
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
}

/// A fake broker on 127.0.0.1 port 0 misbehaving the same way with every
/// connection; it stops with the test's runtime.
async fn fake_broker(how: Misbehaviour) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, how));
        }
    });
    port
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

async fn serve(mut stream: TcpStream, how: Misbehaviour) {
    let mut buf = BytesMut::new();
    let v = match next(&mut stream, &mut buf, ProtocolVersion::V311).await {
        Some(Packet::Connect(c)) => c.protocol,
        _ => return,
    };
    let connack = Packet::ConnAck(ConnAck::default());
    send(&mut stream, &connack, v).await;
    match how {
        Misbehaviour::CloseAfterConnack => {}
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

/// A broker that accepts and closes at every connection: `-W 2` bounds the whole
/// wait, reconnects included (exit 27, "Timed out", as mosquitto_sub), and each loss
/// is said with its reason and the next attempt's delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_w_bounds_reconnects_to_a_broker_that_keeps_closing() {
    let port = fake_broker(Misbehaviour::CloseAfterConnack).await;
    let (out, took) = mq(port, &["sub", "-t", "a/#", "-W", "2"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(27), "{err}");
    assert!(took < Duration::from_secs(5), "ran {took:?}");
    assert!(err.contains("Timed out"), "{err}");
    assert!(
        err.contains("mq: connection lost (the server closed the connection); reconnecting in 1s"),
        "{err}"
    );
}

/// `--quiet` says nothing about lost connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_quiet_does_not_report_lost_connections() {
    let port = fake_broker(Misbehaviour::CloseAfterConnack).await;
    let (out, _) = mq(port, &["sub", "-t", "a/#", "-W", "2", "--quiet"]).await;
    assert_eq!(out.status.code(), Some(27));
    assert!(
        !stderr(&out).contains("connection lost"),
        "{}",
        stderr(&out)
    );
}

/// A header declaring 268 MB and then the end of the connection is a lost
/// connection, retried within `-W`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_retries_a_connection_lost_inside_a_huge_packet() {
    let port = fake_broker(Misbehaviour::HugeHeaderThenClose).await;
    let (out, took) = mq(port, &["sub", "-t", "a/#", "-W", "2"]).await;
    assert_eq!(out.status.code(), Some(27), "{}", stderr(&out));
    assert!(took < Duration::from_secs(5), "ran {took:?}");
}

/// Run `mq sub` against a broker that breaks the protocol; it must end at once with
/// status 2 and a line naming what was wrong.
async fn sub_ends_on_violation(how: Misbehaviour, named: &str) {
    let port = fake_broker(how).await;
    let (out, took) = mq(port, &["sub", "-t", "a/#", "-W", "10"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        took < Duration::from_secs(5),
        "ran {took:?}: it must not retry"
    );
    assert!(err.contains("the server broke the protocol"), "{err}");
    assert!(err.to_lowercase().contains(named), "names {named:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

/// [MQTT-3.3.1-4] A PUBLISH with QoS 3 is a protocol violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_ends_on_publish_with_qos_3_mqtt_3_3_1_4() {
    // PUBLISH, QoS bits 11, topic "a/b", payload "x".
    sub_ends_on_violation(
        Misbehaviour::AfterSuback(&[0x36, 0x06, 0x00, 0x03, b'a', b'/', b'b', b'x']),
        "qos",
    )
    .await;
}

/// [MQTT-1.5.4-1] A topic that is not UTF-8 is a protocol violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_ends_on_topic_not_utf8_mqtt_1_5_4_1() {
    sub_ends_on_violation(
        Misbehaviour::AfterSuback(&[0x30, 0x06, 0x00, 0x03, b'a', 0xFF, b'b', b'x']),
        "utf-8",
    )
    .await;
}

/// A SUBACK for a packet identifier the client never used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_ends_on_suback_for_unused_packet_identifier() {
    sub_ends_on_violation(Misbehaviour::SubackForUnusedId, "suback").await;
}

/// [MQTT-3.2.0-2] `mq pub`: a second CONNACK ends it with status 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pub_ends_on_second_connack_mqtt_3_2_0_2() {
    let port = fake_broker(Misbehaviour::SecondConnack).await;
    let (out, _) = mq(port, &["pub", "-t", "a/b", "-m", "x", "-q", "1"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the server broke the protocol"), "{err}");
    assert!(err.contains("CONNACK"), "{err}");
}

/// `mq rr`: a SUBACK for a packet identifier never used ends it with status 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rr_ends_on_suback_for_unused_packet_identifier() {
    let port = fake_broker(Misbehaviour::SubackForUnusedId).await;
    let (out, _) = mq(
        port,
        &["rr", "-t", "req", "-e", "resp", "-m", "x", "-W", "10"],
    )
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the server broke the protocol"), "{err}");
}
