//! Timeouts (3.1.1 section 3.1.2.10, 5.0 section 3.1.2.10, issue 4): keep alive
//! enforced at 1.5 x the interval, counted in whole Control Packets from the client,
//! and the CONNECT timeout for sockets that never complete a CONNECT.

use crate::broker;
use crate::raw::{Event, Raw, connect, connect_body, frame};
use mq::protocol::{Packet, ProtocolVersion, QoS, ReasonCode};
use std::time::Duration;
use tokio::time::Instant;

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// Section 3.1 (non-normative "reasonable amount of time"), issue 4: a client that
/// opens a socket and sends nothing is closed after the CONNECT timeout.
#[tokio::test]
async fn connect_timeout_closes_silent_socket() {
    let b = broker::start_with(crate::broker::short_connect_timeout()).await;
    let mut c = Raw::open(b.addr, V3).await;
    let bytes = c
        .expect_closed_raw(crate::broker::CONNECT_TIMEOUT_WAIT)
        .await;
    assert!(
        bytes.is_empty(),
        "nothing is sent to a silent socket: {bytes:02X?}"
    );
}

/// Issue 4: half a CONNECT, then silence, is closed after the CONNECT timeout too.
#[tokio::test]
async fn connect_timeout_closes_half_connect() {
    let b = broker::start_with(crate::broker::short_connect_timeout()).await;
    let mut c = Raw::open(b.addr, V3).await;
    let full = frame(0x10, &connect_body(b"MQTT", 4, 0x02, b"half"));
    c.send_bytes(&full[..full.len() / 2]).await;
    c.expect_closed_raw(crate::broker::CONNECT_TIMEOUT_WAIT)
        .await;
}

async fn keepalive_enforced(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut con = connect(version, "sleepy");
    con.keep_alive = 1;
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    let start = Instant::now();
    // Not before the keep alive itself has passed.
    c.expect_nothing(Duration::from_millis(1100)).await;
    // Closed at 1.5 x keep alive (with scheduling slack), not seconds later.
    let got = c.expect_closed(Duration::from_millis(900)).await;
    let took = start.elapsed();
    for p in got {
        match p {
            Packet::Disconnect(d) if version == V5 => assert_eq!(
                d.reason,
                ReasonCode::KEEP_ALIVE_TIMEOUT,
                "5.0 keepalive DISCONNECT reason"
            ),
            other => panic!("unexpected {other:?} before keepalive close"),
        }
    }
    assert!(
        took >= Duration::from_millis(1100),
        "closed too early: {took:?}"
    );
}

/// [MQTT-3.1.2-24] (3.1.1) No packet within 1.5 x Keep Alive: the broker closes.
#[tokio::test]
async fn v311_keepalive_enforced_at_1_5x_mqtt_3_1_2_24() {
    keepalive_enforced(V3).await;
}

/// [MQTT-3.1.2-22] (5.0) No packet within 1.5 x Keep Alive: the broker closes.
#[tokio::test]
async fn v5_keepalive_enforced_at_1_5x_mqtt_3_1_2_22() {
    keepalive_enforced(V5).await;
}

/// [MQTT-3.1.2-24] Control packets within the keep alive keep the connection open.
#[tokio::test]
async fn keepalive_pings_keep_connection_open_mqtt_3_1_2_24() {
    let b = broker::start().await;
    let mut con = connect(V3, "pinger");
    con.keep_alive = 1;
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    // 3 x 0.6 s: well past 1.5 x Keep Alive in total, never silent that long.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        c.ping().await;
    }
}

/// Keep Alive 0 turns the mechanism off: the broker must not close an idle client.
#[tokio::test]
async fn keepalive_zero_never_times_out_mqtt_3_1_2_24() {
    let b = broker::start().await;
    let mut con = connect(V3, "forever");
    con.keep_alive = 0;
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    c.expect_nothing(Duration::from_millis(1800)).await;
    c.ping().await;
}

/// [MQTT-3.1.2-22] (5.0) / [MQTT-3.1.2-24] (3.1.1): keep alive counts Control
/// Packets *from* the client. A client that only receives (QoS 0 messages every
/// 300 ms) and sends nothing is still closed at 1.5 x Keep Alive.
#[tokio::test]
async fn keepalive_counts_only_packets_from_client_mqtt_3_1_2_22() {
    let b = broker::start().await;
    let mut con = connect(V5, "listener");
    con.keep_alive = 1;
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    c.subscribe("ka/feed", QoS::AtMostOnce).await;
    let addr = b.addr;
    let feeder = tokio::spawn(async move {
        let mut p = Raw::v5(addr, "feeder").await;
        for _ in 0..12 {
            p.publish("ka/feed", b"tick", QoS::AtMostOnce).await;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let start = Instant::now();
    let got = c.expect_closed(Duration::from_millis(2500)).await;
    let took = start.elapsed();
    feeder.abort();
    for p in got {
        match p {
            Packet::Publish(_) => {}
            Packet::Disconnect(d) => {
                assert_eq!(d.reason, ReasonCode::KEEP_ALIVE_TIMEOUT)
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        took >= Duration::from_millis(1000),
        "closed too early: {took:?}"
    );
}

/// Keep alive counts whole Control Packets: a client trickling one byte of a
/// never-finished packet every 300 ms is closed at 1.5 x Keep Alive, not kept alive
/// by the trickle (issue 4: half a packet then silence).
#[tokio::test]
async fn keepalive_not_reset_by_partial_packet_trickle_mqtt_3_1_2_24() {
    let b = broker::start().await;
    let mut con = connect(V3, "trickle");
    con.keep_alive = 1;
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    // A PUBLISH announcing 200 bytes.
    c.send_bytes(&[0x30, 200, 0x00, 0x01, b't']).await;
    let start = Instant::now();
    loop {
        if start.elapsed() > Duration::from_millis(3000) {
            panic!("a trickling half packet kept the connection open for 3 s (keep alive 1 s)");
        }
        c.send_bytes(b"x").await;
        match c.recv(Duration::from_millis(300)).await {
            Event::Timeout => {}
            Event::Closed => break,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Section 3.1 / issue 4: the CONNECT timeout is not reset by a trickle of bytes
/// that never completes the CONNECT (slowloris).
#[tokio::test]
async fn connect_timeout_not_reset_by_trickle() {
    let b = broker::start_with(crate::broker::short_connect_timeout()).await;
    let mut c = Raw::open(b.addr, V3).await;
    let full = frame(
        0x10,
        &connect_body(b"MQTT", 4, 0x02, b"slowloris-client-id"),
    );
    let start = Instant::now();
    for byte in full.iter().take(full.len() - 1) {
        if start.elapsed() > Duration::from_millis(3000) {
            panic!("a CONNECT trickled byte by byte kept the socket open for 3 s");
        }
        c.send_bytes(&[*byte]).await;
        match c.recv(Duration::from_millis(250)).await {
            Event::Timeout => {}
            Event::Closed => return,
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("the whole CONNECT but one byte was trickled without a close");
}

/// [MQTT-3.1.2-22] With Keep Alive 2 s the close comes at 3 s (1.5 x), not at 4 s
/// or later: still open after the keep alive itself (2.1 s), closed by 3.6 s.
#[tokio::test]
async fn keepalive_2s_closed_at_3s_mqtt_3_1_2_22() {
    let b = broker::start().await;
    let mut con = connect(V5, "two");
    con.keep_alive = 2;
    let (mut c, _) = Raw::connect_ok(b.addr, con).await;
    let start = Instant::now();
    c.expect_nothing(Duration::from_millis(2100)).await;
    c.expect_closed(Duration::from_millis(1500)).await;
    assert!(
        start.elapsed() <= Duration::from_millis(3700),
        "{:?}",
        start.elapsed()
    );
}
