//! The client connection layer against a scripted fake server on a real loopback
//! socket (port 0): CONNACK refusals, timeouts, keep alive, QoS 1/2 flows byte for
//! byte, the inflight window, misbehaving servers, topic aliases, server limits and
//! automatic reconnect.

use bytes::{Bytes, BytesMut};
use mq::client::{Backoff, Client, ConnectOptions, Error, Event, Events};
use mq::protocol::{
    self, Ack, ConnAck, Packet, Properties, ProtocolVersion, Publish, QoS, ReasonCode, SubAck,
    SubscribeFilter, SubscriptionOptions, decode, encode,
};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const STEP: Duration = Duration::from_secs(5);

/// One accepted connection of the fake server.
struct Peer {
    stream: TcpStream,
    buf: BytesMut,
    version: ProtocolVersion,
}

impl Peer {
    async fn accept(listener: &TcpListener, version: ProtocolVersion) -> Peer {
        let (stream, _) = timeout(STEP, listener.accept())
            .await
            .expect("client connects in time")
            .expect("accept");
        Peer {
            stream,
            buf: BytesMut::new(),
            version,
        }
    }

    /// The next packet from the client.
    async fn recv(&mut self) -> Packet {
        timeout(STEP, async {
            loop {
                if let Some(p) =
                    decode(&mut self.buf, self.version, 0).expect("client sends valid packets")
                {
                    return p;
                }
                let n = self.stream.read_buf(&mut self.buf).await.expect("read");
                assert!(n > 0, "client closed the connection");
            }
        })
        .await
        .expect("packet from the client in time")
    }

    /// Exactly `n` raw bytes from the client.
    async fn recv_raw(&mut self, n: usize) -> Vec<u8> {
        timeout(STEP, async {
            while self.buf.len() < n {
                let got = self.stream.read_buf(&mut self.buf).await.expect("read");
                assert!(got > 0, "client closed the connection");
            }
            self.buf.split_to(n).to_vec()
        })
        .await
        .expect("bytes from the client in time")
    }

    /// Nothing arrives from the client within `d`.
    async fn expect_silence(&mut self, d: Duration) {
        let r = timeout(d, self.stream.read_buf(&mut self.buf)).await;
        assert!(
            r.is_err() && self.buf.is_empty(),
            "unexpected bytes: {:?}",
            self.buf
        );
    }

    async fn send(&mut self, p: Packet) {
        let mut out = BytesMut::new();
        encode(&p, self.version, &mut out).expect("encode");
        self.send_raw(&out).await;
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Read CONNECT and answer `connack`.
    async fn handshake(&mut self, connack: ConnAck) -> protocol::Connect {
        let Packet::Connect(c) = self.recv().await else {
            panic!("expected CONNECT");
        };
        self.send(Packet::ConnAck(connack)).await;
        *c
    }
}

async fn listen() -> (TcpListener, ConnectOptions) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut opts = ConnectOptions::new("127.0.0.1", port);
    opts.connect_timeout = Duration::from_secs(5);
    (listener, opts)
}

/// Connect a client to a fake server that accepts with `connack`.
async fn connected(
    opts: ConnectOptions,
    listener: &TcpListener,
    connack: ConnAck,
) -> (Client, Events, Peer) {
    let version = opts.version;
    let (client, peer) = tokio::join!(Client::connect(opts), async {
        let mut peer = Peer::accept(listener, version).await;
        peer.handshake(connack).await;
        peer
    });
    let (client, events) = client.expect("connected");
    (client, events, peer)
}

async fn next_event(events: &mut Events) -> Event {
    timeout(STEP, events.recv())
        .await
        .expect("event in time")
        .expect("event stream open")
}

fn publish(topic: &str, qos: QoS, payload: &'static [u8]) -> Publish {
    Publish {
        topic: topic.into(),
        qos,
        payload: Bytes::from_static(payload),
        ..Publish::default()
    }
}

/// Each 3.1.1 return code 1..=5 is `ConnectionRefused` with mosquitto's wording and
/// the code as exit status (3.1.1 table 3.1).
#[tokio::test]
async fn refused_connack_each_v311_code() {
    for rc in 1..=5u8 {
        let (listener, opts) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener, ProtocolVersion::V311).await;
            let _ = peer.recv().await;
            peer.send_raw(&[0x20, 0x02, 0x00, rc]).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        });
        let err = Client::connect(opts).await.expect_err("refused");
        assert!(
            matches!(
                err,
                Error::ConnectionRefused {
                    version: ProtocolVersion::V311,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.exit_code(), i32::from(rc));
        assert_eq!(err.to_string(), ReasonCode::v3_connack_text(rc));
        server.await.expect("server");
    }
}

/// A 5.0 refusal carries the reason code byte as exit status and names it.
#[tokio::test]
async fn refused_connack_v5_codes() {
    for rc in [0x80u8, 0x84, 0x85, 0x86, 0x87, 0x88, 0x8A, 0x8C, 0x97] {
        let (listener, mut opts) = listen().await;
        opts.version = ProtocolVersion::V5;
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener, ProtocolVersion::V5).await;
            let _ = peer.recv().await;
            // CONNACK: flags 0, reason, empty properties.
            peer.send_raw(&[0x20, 0x03, 0x00, rc, 0x00]).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        });
        let err = Client::connect(opts).await.expect_err("refused");
        match &err {
            Error::ConnectionRefused { reason, version } => {
                assert_eq!(reason.0, rc);
                assert_eq!(*version, ProtocolVersion::V5);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(err.exit_code(), i32::from(rc));
        assert_eq!(
            err.to_string(),
            format!("Connection refused: {}", ReasonCode(rc))
        );
        server.await.expect("server");
    }
}

/// A server that never answers CONNECT: `Timeout` after `connect_timeout`.
#[tokio::test]
async fn no_connack_times_out() {
    let (listener, mut opts) = listen().await;
    opts.connect_timeout = Duration::from_millis(300);
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener, ProtocolVersion::V311).await;
        let _ = peer.recv().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let start = Instant::now();
    let err = Client::connect(opts).await.expect_err("timeout");
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(err.to_string().contains("CONNACK"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
    server.abort();
}

/// Nothing listening: an `Io` error naming the address.
#[tokio::test]
async fn nothing_listening_names_the_address() {
    let (listener, opts) = listen().await;
    drop(listener);
    let err = Client::connect(opts.clone()).await.expect_err("refused");
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{}", opts.port)),
        "message names the address: {text}"
    );
    assert_eq!(err.exit_code(), 1);
}

/// Keep alive 1 s: the client sends PINGREQ [MQTT-3.1.2-22] and, when no PINGRESP
/// comes, reports `KeepAliveTimeout` in bounded time.
#[tokio::test]
async fn keepalive_timeout_when_server_stops_answering() {
    let (listener, mut opts) = listen().await;
    opts.keep_alive = 1;
    let (_client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let start = Instant::now();
    // The first ping is answered, the second is not.
    assert_eq!(peer.recv().await, Packet::PingReq);
    peer.send(Packet::PingResp).await;
    assert_eq!(peer.recv().await, Packet::PingReq);
    match next_event(&mut events).await {
        Event::Disconnected(Error::KeepAliveTimeout) => {}
        other => panic!("{other:?}"),
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(
        events.recv().await.is_none(),
        "no reconnect: the stream ends"
    );
}

/// QoS 0 outgoing, byte for byte.
#[tokio::test]
async fn qos0_publish_bytes() {
    let (listener, opts) = listen().await;
    let (client, _events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let ack = client
        .publish(publish("a/b", QoS::AtMostOnce, b"hi"))
        .await
        .expect("written");
    assert_eq!(ack.packet_id, 0);
    assert_eq!(
        peer.recv_raw(9).await,
        [0x30, 7, 0, 3, b'a', b'/', b'b', b'h', b'i']
    );
}

/// QoS 1 outgoing: PUBLISH with packet id 1, completed by PUBACK [MQTT-4.3.2-1].
#[tokio::test]
async fn qos1_publish_flow_bytes() {
    let (listener, opts) = listen().await;
    let (client, _events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let token = client
        .start_publish(publish("a/b", QoS::AtLeastOnce, b"hi"))
        .await
        .expect("accepted");
    assert_eq!(
        peer.recv_raw(11).await,
        [0x32, 9, 0, 3, b'a', b'/', b'b', 0, 1, b'h', b'i']
    );
    peer.send_raw(&[0x40, 0x02, 0x00, 0x01]).await;
    let ack = timeout(STEP, token.wait())
        .await
        .expect("in time")
        .expect("acked");
    assert_eq!(ack.packet_id, 1);
    assert_eq!(ack.reason, ReasonCode::SUCCESS);
}

/// QoS 2 outgoing: PUBLISH, PUBREC, PUBREL (flags 0010 [MQTT-3.6.1-1]), PUBCOMP.
#[tokio::test]
async fn qos2_publish_flow_bytes() {
    let (listener, opts) = listen().await;
    let (client, _events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let c = client.clone();
    let publishing =
        tokio::spawn(async move { c.publish(publish("x", QoS::ExactlyOnce, b"z")).await });
    assert_eq!(peer.recv_raw(8).await, [0x34, 6, 0, 1, b'x', 0, 1, b'z']);
    peer.send_raw(&[0x50, 0x02, 0x00, 0x01]).await;
    assert_eq!(peer.recv_raw(4).await, [0x62, 0x02, 0x00, 0x01]);
    peer.send_raw(&[0x70, 0x02, 0x00, 0x01]).await;
    let ack = publishing.await.expect("task").expect("completed");
    assert_eq!(ack.packet_id, 1);
}

/// A 5.0 PUBREC with an error code ends the QoS 2 flow: no PUBREL, the ack is
/// returned for the caller to judge.
#[tokio::test]
async fn qos2_pubrec_error_ends_flow_v5() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    let (client, _events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let c = client.clone();
    let publishing =
        tokio::spawn(async move { c.publish(publish("x", QoS::ExactlyOnce, b"z")).await });
    let Packet::Publish(p) = peer.recv().await else {
        panic!("expected PUBLISH")
    };
    let mut rec = Ack::new(p.packet_id);
    rec.reason = ReasonCode::NOT_AUTHORIZED;
    peer.send(Packet::PubRec(rec)).await;
    let ack = publishing.await.expect("task").expect("completed");
    assert_eq!(ack.reason, ReasonCode::NOT_AUTHORIZED);
    peer.expect_silence(Duration::from_millis(200)).await;
}

/// QoS 1 incoming: delivered, then PUBACK with the same id [MQTT-4.3.2-4].
#[tokio::test]
async fn qos1_incoming_is_delivered_then_acked() {
    let (listener, opts) = listen().await;
    let (_client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    peer.send_raw(&[0x32, 8, 0, 3, b'a', b'/', b'b', 0, 7, b'!'])
        .await;
    match next_event(&mut events).await {
        Event::Message(p) => {
            assert_eq!(&*p.topic, "a/b");
            assert_eq!(p.qos, QoS::AtLeastOnce);
            assert_eq!(&p.payload[..], b"!");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(peer.recv_raw(4).await, [0x40, 2, 0, 7]);
}

/// With `manual_ack`, a QoS 1 message is PUBACKed only when the application
/// acknowledges it, in the order received [MQTT-4.6.0-2]; an acknowledgement out of
/// order is ignored, and one for a message of an earlier connection sends nothing
/// even when the server uses the same packet identifier again.
#[tokio::test]
async fn manual_ack_acknowledges_when_the_application_says_so() {
    let (listener, mut opts) = listen().await;
    opts.manual_ack = true;
    opts.reconnect = Some(Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(50),
    });
    let (client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let incoming = |id: u16, payload: &'static [u8]| {
        let mut p = publish("a", QoS::AtLeastOnce, payload);
        p.packet_id = id;
        Packet::Publish(p)
    };
    peer.send(incoming(1, b"one")).await;
    peer.send(incoming(2, b"two")).await;
    assert_eq!(received(&mut events).await, (1, Bytes::from_static(b"one")));
    assert_eq!(received(&mut events).await, (2, Bytes::from_static(b"two")));
    peer.expect_silence(Duration::from_millis(100)).await;
    client.acknowledge(2).await.expect("out of order: ignored");
    client.acknowledge(1).await.expect("acknowledge 1");
    client.acknowledge(2).await.expect("acknowledge 2");
    assert!(matches!(peer.recv().await, Packet::PubAck(a) if a.packet_id == 1));
    assert!(matches!(peer.recv().await, Packet::PubAck(a) if a.packet_id == 2));

    // Message 3 arrives, the connection breaks, the new one has a different message 3.
    peer.send(incoming(3, b"old")).await;
    assert_eq!(received(&mut events).await, (3, Bytes::from_static(b"old")));
    drop(peer);
    assert!(matches!(
        next_event(&mut events).await,
        Event::Disconnected(_)
    ));
    let mut peer = Peer::accept(&listener, ProtocolVersion::V311).await;
    peer.handshake(ConnAck::default()).await;
    assert!(matches!(
        next_event(&mut events).await,
        Event::Reconnected { .. }
    ));
    peer.send(incoming(3, b"new")).await;
    assert_eq!(received(&mut events).await, (3, Bytes::from_static(b"new")));
    client
        .acknowledge(3)
        .await
        .expect("the old 3: nothing sent");
    peer.expect_silence(Duration::from_millis(100)).await;
    client.acknowledge(3).await.expect("the new 3");
    assert!(matches!(peer.recv().await, Packet::PubAck(a) if a.packet_id == 3));
    client.disconnect().await.expect("disconnect");
    assert!(matches!(peer.recv().await, Packet::Disconnect(_)));
}

/// The next event, which must be a message: (packet id, payload).
async fn received(events: &mut Events) -> (u16, Bytes) {
    match next_event(events).await {
        Event::Message(p) => (p.packet_id, p.payload),
        other => panic!("{other:?}"),
    }
}

/// Without `manual_ack`, `acknowledge` is refused: the client acknowledges by itself.
#[tokio::test]
async fn acknowledge_needs_manual_ack() {
    let (listener, opts) = listen().await;
    let (client, _events, _peer) = connected(opts, &listener, ConnAck::default()).await;
    assert!(matches!(
        client.acknowledge(1).await,
        Err(Error::Invalid(_))
    ));
}

/// QoS 2 incoming: PUBREC; a re-sent copy (DUP) before PUBREL is answered but not
/// delivered twice [MQTT-4.3.3-10]; PUBREL gets PUBCOMP.
#[tokio::test]
async fn qos2_incoming_delivered_once() {
    let (listener, opts) = listen().await;
    let (_client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    peer.send_raw(&[0x34, 6, 0, 1, b'q', 0, 9, b'1']).await;
    assert!(matches!(next_event(&mut events).await, Event::Message(_)));
    assert_eq!(peer.recv_raw(4).await, [0x50, 2, 0, 9]);
    peer.send_raw(&[0x3C, 6, 0, 1, b'q', 0, 9, b'1']).await;
    assert_eq!(peer.recv_raw(4).await, [0x50, 2, 0, 9]);
    peer.send_raw(&[0x62, 2, 0, 9]).await;
    assert_eq!(peer.recv_raw(4).await, [0x70, 2, 0, 9]);
    peer.send_raw(&[0x30, 5, 0, 1, b'q', b'n', b'x']).await;
    match next_event(&mut events).await {
        Event::Message(p) => assert_eq!(&p.payload[..], b"nx", "the duplicate was not delivered"),
        other => panic!("{other:?}"),
    }
}

/// The inflight window: never more than `max_inflight` unacknowledged QoS 1
/// messages; each PUBACK lets exactly one more go.
#[tokio::test]
async fn inflight_window_respected() {
    let (listener, mut opts) = listen().await;
    opts.max_inflight = 3;
    let (client, _events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let c = client.clone();
    let producer = tokio::spawn(async move {
        let mut tokens = Vec::new();
        for _ in 0..10 {
            tokens.push(
                c.start_publish(publish("w", QoS::AtLeastOnce, b"m"))
                    .await
                    .expect("start"),
            );
        }
        for t in tokens {
            t.wait().await.expect("acked");
        }
    });
    let mut in_flight = Vec::new();
    let mut acked = 0;
    while acked < 10 {
        while in_flight.len() < 3 && acked + in_flight.len() < 10 {
            let Packet::Publish(p) = peer.recv().await else {
                panic!("expected PUBLISH")
            };
            in_flight.push(p.packet_id);
        }
        // The window is full: nothing more may arrive.
        if acked + in_flight.len() < 10 {
            peer.expect_silence(Duration::from_millis(100)).await;
        }
        let id = in_flight.remove(0);
        peer.send(Packet::PubAck(Ack::new(id))).await;
        acked += 1;
    }
    timeout(STEP, producer)
        .await
        .expect("in time")
        .expect("producer");
}

/// A 5.0 server's Receive Maximum narrows the window [MQTT-3.3.4-7].
#[tokio::test]
async fn server_receive_maximum_limits_window() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    let mut connack = ConnAck::default();
    connack.properties.receive_maximum = Some(2);
    let (client, _events, mut peer) = connected(opts, &listener, connack).await;
    let c = client.clone();
    let producer = tokio::spawn(async move {
        for _ in 0..3 {
            let _ = c
                .start_publish(publish("w", QoS::ExactlyOnce, b"m"))
                .await
                .expect("start");
        }
    });
    for _ in 0..2 {
        assert!(matches!(peer.recv().await, Packet::Publish(_)));
    }
    peer.expect_silence(Duration::from_millis(200)).await;
    producer.abort();
}

async fn expect_protocol_error(bytes: &[u8]) {
    let (listener, opts) = listen().await;
    let (client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    peer.send_raw(bytes).await;
    match next_event(&mut events).await {
        Event::Disconnected(Error::Protocol(_)) => {}
        other => panic!("for {bytes:?}: {other:?}"),
    }
    assert!(events.recv().await.is_none());
    let err = client
        .publish(publish("a", QoS::AtMostOnce, b""))
        .await
        .expect_err("closed");
    // A request after the end fails with what ended the connection.
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
}

/// Malformed packets from the server are a clear `Error::Protocol`, never a panic.
#[tokio::test]
async fn malformed_packets_are_protocol_errors() {
    // Reserved packet type 0.
    expect_protocol_error(&[0x00, 0x00]).await;
    // PUBACK with packet identifier 0 [MQTT-2.2.1-3].
    expect_protocol_error(&[0x40, 0x02, 0x00, 0x00]).await;
    // PUBLISH with QoS 3 [MQTT-3.3.1-4].
    expect_protocol_error(&[0x36, 0x03, 0x00, 0x01, b'a']).await;
    // Remaining length longer than four bytes [MQTT-1.5.5-1].
    expect_protocol_error(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]).await;
    // Topic name that is not UTF-8.
    expect_protocol_error(&[0x30, 0x03, 0x00, 0x01, 0xFF]).await;
}

/// Unexpected packets and unknown packet identifiers are protocol errors too.
#[tokio::test]
async fn unexpected_packets_are_protocol_errors() {
    // A second CONNACK [MQTT-3.2.0-2].
    expect_protocol_error(&[0x20, 0x02, 0x00, 0x00]).await;
    // PUBACK / PUBREC / PUBCOMP / SUBACK / UNSUBACK for ids never used.
    expect_protocol_error(&[0x40, 0x02, 0x12, 0x34]).await;
    expect_protocol_error(&[0x50, 0x02, 0x12, 0x34]).await;
    expect_protocol_error(&[0x70, 0x02, 0x12, 0x34]).await;
    expect_protocol_error(&[0x90, 0x03, 0x12, 0x34, 0x00]).await;
    expect_protocol_error(&[0xB0, 0x02, 0x12, 0x34]).await;
    // PINGREQ and SUBSCRIBE from a server.
    expect_protocol_error(&[0xC0, 0x00]).await;
    expect_protocol_error(&[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00]).await;
}

/// SUBSCRIBE and the per-filter SUBACK codes; UNSUBSCRIBE.
#[tokio::test]
async fn subscribe_and_unsubscribe_results() {
    let (listener, opts) = listen().await;
    let (client, _events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let c = client.clone();
    let sub = tokio::spawn(async move {
        c.subscribe(
            vec![
                SubscribeFilter {
                    filter: "a/#".into(),
                    options: SubscriptionOptions::qos(QoS::ExactlyOnce),
                },
                SubscribeFilter {
                    filter: "b".into(),
                    options: SubscriptionOptions::qos(QoS::AtMostOnce),
                },
            ],
            Properties::default(),
        )
        .await
    });
    // SUBSCRIBE: flags 0010, id 1, "a/#" QoS 2, "b" QoS 0.
    assert_eq!(
        peer.recv_raw(14).await,
        [0x82, 12, 0, 1, 0, 3, b'a', b'/', b'#', 2, 0, 1, b'b', 0]
    );
    peer.send_raw(&[0x90, 0x04, 0x00, 0x01, 0x01, 0x80]).await;
    let ack = sub.await.expect("task").expect("suback");
    assert_eq!(
        ack.reason_codes,
        vec![ReasonCode::GRANTED_QOS_1, ReasonCode::UNSPECIFIED_ERROR]
    );
    let c = client.clone();
    let unsub = tokio::spawn(async move {
        c.unsubscribe(vec!["a/#".into()], Properties::default())
            .await
    });
    assert_eq!(
        peer.recv_raw(9).await,
        [0xA2, 7, 0, 2, 0, 3, b'a', b'/', b'#']
    );
    peer.send_raw(&[0xB0, 0x02, 0x00, 0x02]).await;
    unsub.await.expect("task").expect("unsuback");
}

/// A SUBACK whose code count differs from the filters is a protocol error
/// [MQTT-3.9.3-1].
#[tokio::test]
async fn suback_code_count_mismatch() {
    let (listener, opts) = listen().await;
    let (client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let c = client.clone();
    let sub = tokio::spawn(async move {
        c.subscribe(
            vec![SubscribeFilter {
                filter: "a".into(),
                options: SubscriptionOptions::default(),
            }],
            Properties::default(),
        )
        .await
    });
    let Packet::Subscribe(s) = peer.recv().await else {
        panic!("expected SUBSCRIBE")
    };
    peer.send(Packet::SubAck(SubAck {
        packet_id: s.packet_id,
        reason_codes: vec![ReasonCode::SUCCESS, ReasonCode::SUCCESS],
        properties: Properties::default(),
    }))
    .await;
    assert!(matches!(
        next_event(&mut events).await,
        Event::Disconnected(Error::Protocol(_))
    ));
    assert!(sub.await.expect("task").is_err());
}

/// `disconnect()` sends DISCONNECT and ends the event stream.
#[tokio::test]
async fn graceful_disconnect() {
    let (listener, opts) = listen().await;
    let (client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    client.disconnect().await.expect("disconnect");
    assert_eq!(peer.recv_raw(2).await, [0xE0, 0x00]);
    assert!(
        timeout(STEP, events.recv())
            .await
            .expect("in time")
            .is_none()
    );
    assert!(matches!(
        client.publish(publish("a", QoS::AtMostOnce, b"")).await,
        Err(Error::Closed)
    ));
}

/// 5.0 server DISCONNECT: a `ServerDisconnect` event, then `Disconnected`.
#[tokio::test]
async fn server_disconnect_v5() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    let (_client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    peer.send_raw(&[0xE0, 0x01, 0x8B]).await;
    match next_event(&mut events).await {
        Event::ServerDisconnect(d) => assert_eq!(d.reason, ReasonCode::SERVER_SHUTTING_DOWN),
        other => panic!("{other:?}"),
    }
    match next_event(&mut events).await {
        Event::Disconnected(e @ Error::ServerDisconnected(Some(_))) => {
            assert!(e.to_string().contains("Server shutting down"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

/// Topic aliases from the server are resolved when the client announced a Topic
/// Alias Maximum, and are a protocol error otherwise.
#[tokio::test]
async fn topic_alias_resolution_v5() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    opts.properties.topic_alias_maximum = Some(4);
    let (_client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let mut first = publish("t/1", QoS::AtMostOnce, b"one");
    first.properties.topic_alias = Some(2);
    peer.send(Packet::Publish(first)).await;
    let mut second = publish("", QoS::AtMostOnce, b"two");
    second.properties.topic_alias = Some(2);
    peer.send(Packet::Publish(second)).await;
    for payload in [&b"one"[..], b"two"] {
        match next_event(&mut events).await {
            Event::Message(p) => {
                assert_eq!(&*p.topic, "t/1");
                assert_eq!(&p.payload[..], payload);
            }
            other => panic!("{other:?}"),
        }
    }
    let mut unknown = publish("", QoS::AtMostOnce, b"three");
    unknown.properties.topic_alias = Some(3);
    peer.send(Packet::Publish(unknown)).await;
    assert!(matches!(
        next_event(&mut events).await,
        Event::Disconnected(Error::Protocol(_))
    ));
}

#[tokio::test]
async fn topic_alias_not_announced_is_protocol_error_v5() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    let (_client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let mut p = publish("t", QoS::AtMostOnce, b"x");
    p.properties.topic_alias = Some(1);
    peer.send(Packet::Publish(p)).await;
    assert!(matches!(
        next_event(&mut events).await,
        Event::Disconnected(Error::Protocol(_))
    ));
    // A 5.0 client says why it closes (section 4.13.1).
    match peer.recv().await {
        Packet::Disconnect(d) => assert!(d.reason.is_error()),
        other => panic!("{other:?}"),
    }
}

/// The server's Maximum Packet Size, Maximum QoS and Retain Available are respected
/// [MQTT-3.2.2-15, MQTT-3.2.2-11, MQTT-3.2.2-14].
#[tokio::test]
async fn server_limits_v5() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    let mut connack = ConnAck::default();
    connack.properties.maximum_packet_size = Some(32);
    connack.properties.maximum_qos = Some(1);
    connack.properties.retain_available = Some(0);
    let (client, _events, mut peer) = connected(opts, &listener, connack).await;
    let big = Publish {
        topic: "big".into(),
        payload: Bytes::from(vec![0u8; 100]),
        ..Publish::default()
    };
    match client.publish(big).await {
        Err(Error::PacketTooLarge { size, max: 32 }) => assert!(size > 100),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.publish(publish("q", QoS::ExactlyOnce, b"")).await,
        Err(Error::NotSupportedByServer(_))
    ));
    let mut retained = publish("r", QoS::AtMostOnce, b"");
    retained.retain = true;
    assert!(matches!(
        client.publish(retained).await,
        Err(Error::NotSupportedByServer(_))
    ));
    // No Topic Alias Maximum from the server: no aliases [MQTT-3.2.2-18].
    let mut aliased = publish("a", QoS::AtMostOnce, b"");
    aliased.properties.topic_alias = Some(1);
    assert!(matches!(
        client.publish(aliased).await,
        Err(Error::NotSupportedByServer(_))
    ));
    peer.expect_silence(Duration::from_millis(100)).await;
}

/// Invalid topics never reach the wire.
#[tokio::test]
async fn invalid_topics_are_refused_locally() {
    let (listener, opts) = listen().await;
    let (client, _events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    assert!(matches!(
        client.publish(publish("a/#", QoS::AtMostOnce, b"")).await,
        Err(Error::Invalid(_))
    ));
    let bad = SubscribeFilter {
        filter: "a/#/b".into(),
        options: SubscriptionOptions::default(),
    };
    assert!(matches!(
        client.subscribe(vec![bad], Properties::default()).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        client.subscribe(vec![], Properties::default()).await,
        Err(Error::Invalid(_))
    ));
    peer.expect_silence(Duration::from_millis(100)).await;
}

/// The 5.0 CONNECT carries the options; an assigned client identifier is adopted.
#[tokio::test]
async fn connect_packet_and_assigned_id_v5() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    opts.keep_alive = 30;
    opts.clean_start = false;
    opts.session_expiry = Some(120);
    opts.username = Some("u".into());
    opts.password = Some(Bytes::from_static(b"p"));
    opts.will = Some(mq::protocol::Will {
        topic: "will/t".into(),
        payload: Bytes::from_static(b"gone"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    });
    let mut connack = ConnAck::default();
    connack.properties.assigned_client_identifier = Some("given-id".into());
    let (client, peer) = tokio::join!(Client::connect(opts), async {
        let mut peer = Peer::accept(&listener, ProtocolVersion::V5).await;
        let c = peer.handshake(connack).await;
        (peer, c)
    });
    let (client, _events) = client.expect("connected");
    let (_peer, c) = peer;
    assert_eq!(c.protocol, ProtocolVersion::V5);
    assert_eq!(c.keep_alive, 30);
    assert!(!c.clean_start);
    assert_eq!(c.properties.session_expiry_interval, Some(120));
    assert_eq!(c.username.as_deref(), Some("u"));
    assert_eq!(c.will.as_ref().map(|w| &*w.topic), Some("will/t"));
    assert_eq!(c.client_id, "");
    assert_eq!(client.client_id(), "given-id");
    assert_eq!(client.version(), ProtocolVersion::V5);
}

/// Under 3.1.1 an empty client id is replaced by a generated `mq-...` one.
#[tokio::test]
async fn generated_client_id_v311() {
    let (listener, opts) = listen().await;
    let (client, peer) = tokio::join!(Client::connect(opts), async {
        let mut peer = Peer::accept(&listener, ProtocolVersion::V311).await;
        peer.handshake(ConnAck::default()).await
    });
    let (client, _events) = client.expect("connected");
    assert!(
        peer.client_id.starts_with("mq-") && peer.client_id.len() <= 23,
        "{}",
        peer.client_id
    );
    assert_eq!(client.client_id(), peer.client_id);
}

/// Reconnect: the unacknowledged QoS 1 message is re-sent with DUP and the same
/// packet identifier [MQTT-4.4.0-1], and the subscriptions are restored when the
/// server kept no session.
#[tokio::test]
async fn reconnect_resends_with_dup_and_resubscribes() {
    let (listener, mut opts) = listen().await;
    opts.reconnect = Some(Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
    });
    let (client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let c = client.clone();
    let sub = tokio::spawn(async move {
        c.subscribe(
            vec![SubscribeFilter {
                filter: "s/#".into(),
                options: SubscriptionOptions::qos(QoS::AtLeastOnce),
            }],
            Properties::default(),
        )
        .await
    });
    let Packet::Subscribe(s) = peer.recv().await else {
        panic!("expected SUBSCRIBE")
    };
    peer.send(Packet::SubAck(SubAck {
        packet_id: s.packet_id,
        reason_codes: vec![ReasonCode::GRANTED_QOS_1],
        properties: Properties::default(),
    }))
    .await;
    sub.await.expect("task").expect("subscribed");
    let token = client
        .start_publish(publish("p", QoS::AtLeastOnce, b"again"))
        .await
        .expect("started");
    let Packet::Publish(first) = peer.recv().await else {
        panic!("expected PUBLISH")
    };
    assert!(!first.dup);
    drop(peer); // the connection breaks before the PUBACK

    assert!(matches!(
        next_event(&mut events).await,
        Event::Disconnected(_)
    ));
    let mut peer = Peer::accept(&listener, ProtocolVersion::V311).await;
    peer.handshake(ConnAck::default()).await;
    match next_event(&mut events).await {
        Event::Reconnected { session_present } => assert!(!session_present),
        other => panic!("{other:?}"),
    }
    let Packet::Publish(again) = peer.recv().await else {
        panic!("expected PUBLISH")
    };
    assert!(again.dup, "re-sent with DUP [MQTT-3.3.1-1]");
    assert_eq!(again.packet_id, first.packet_id);
    assert_eq!(&again.payload[..], b"again");
    let Packet::Subscribe(s2) = peer.recv().await else {
        panic!("expected SUBSCRIBE")
    };
    assert_eq!(s2.filters, s.filters);
    peer.send(Packet::PubAck(Ack::new(again.packet_id))).await;
    peer.send(Packet::SubAck(SubAck {
        packet_id: s2.packet_id,
        reason_codes: vec![ReasonCode::GRANTED_QOS_1],
        properties: Properties::default(),
    }))
    .await;
    timeout(STEP, token.wait())
        .await
        .expect("in time")
        .expect("acked after reconnect");
    client.disconnect().await.expect("disconnect");
    assert!(matches!(peer.recv().await, Packet::Disconnect(_)));
}

/// A slow consumer: messages beyond the event stream's capacity wait in the socket
/// (not acknowledged), and all arrive in order once read.
#[tokio::test]
async fn slow_consumer_backpressure_keeps_order() {
    let (listener, opts) = listen().await;
    let (_client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let n: u16 = 600;
    let writer = tokio::spawn(async move {
        for i in 1..=n {
            let mut p = publish("o", QoS::AtLeastOnce, b"");
            p.packet_id = i;
            p.payload = Bytes::from(i.to_string());
            peer.send(Packet::Publish(p)).await;
        }
        let mut acks = 0;
        while acks < n {
            if let Packet::PubAck(a) = peer.recv().await {
                acks += 1;
                assert_eq!(a.packet_id, acks);
            }
        }
        peer
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 1..=n {
        match next_event(&mut events).await {
            Event::Message(p) => assert_eq!(p.payload, Bytes::from(i.to_string())),
            other => panic!("{other:?}"),
        }
    }
    timeout(STEP, writer)
        .await
        .expect("in time")
        .expect("writer");
}

/// IPv6 literals (`mqtt://[::1]:port`) and host names (`localhost`) connect; skipped
/// where the machine has no IPv6 loopback.
#[tokio::test]
async fn ipv6_literal_and_host_name() {
    if let Ok(listener) = TcpListener::bind("[::1]:0").await {
        let port = listener.local_addr().expect("addr").port();
        let opts = ConnectOptions::from_url(&format!("mqtt://[::1]:{port}")).expect("url");
        assert_eq!(opts.host, "::1");
        let (client, _events, _peer) = connected(opts, &listener, ConnAck::default()).await;
        drop(client);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let opts = ConnectOptions::from_url(&format!("mqtt://localhost:{port}")).expect("url");
    let (client, _events, _peer) = connected(opts, &listener, ConnAck::default()).await;
    drop(client);
}

/// A name that does not resolve is a `Dns` error.
#[tokio::test]
async fn unresolvable_host_is_dns_error() {
    let mut opts = ConnectOptions::new("no-such-host.invalid", 1883);
    opts.connect_timeout = STEP;
    let err = Client::connect(opts).await.expect_err("fails");
    assert!(matches!(err, Error::Dns(_) | Error::Timeout(_)), "{err:?}");
}

/// Dropping every handle disconnects gracefully.
#[tokio::test]
async fn dropping_the_handles_disconnects() {
    let (listener, opts) = listen().await;
    let (client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    drop(client);
    assert_eq!(peer.recv().await, Packet::Disconnect(Default::default()));
    assert!(
        timeout(STEP, events.recv())
            .await
            .expect("in time")
            .is_none()
    );
}

/// The server's Server Keep Alive replaces ours [MQTT-3.2.2-21].
#[tokio::test]
async fn server_keep_alive_is_used_v5() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    opts.keep_alive = 60;
    let mut connack = ConnAck::default();
    connack.properties.server_keep_alive = Some(1);
    let (_client, _events, mut peer) = connected(opts, &listener, connack).await;
    let start = Instant::now();
    assert_eq!(peer.recv().await, Packet::PingReq);
    assert!(start.elapsed() < Duration::from_secs(3));
}

/// Reconnect into a kept session: a QoS 2 message whose PUBREC arrived gets its
/// PUBREL again (not the PUBLISH [MQTT-4.3.3-6]); subscriptions are not re-sent.
#[tokio::test]
async fn reconnect_with_session_present_resends_pubrel() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    opts.clean_start = false;
    opts.client_id = "keep".into();
    opts.reconnect = Some(Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
    });
    let (client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let c = client.clone();
    let sub = tokio::spawn(async move {
        let f = SubscribeFilter {
            filter: "k".into(),
            options: SubscriptionOptions::default(),
        };
        c.subscribe(vec![f], Properties::default()).await
    });
    let Packet::Subscribe(s) = peer.recv().await else {
        panic!("expected SUBSCRIBE")
    };
    peer.send(Packet::SubAck(SubAck {
        packet_id: s.packet_id,
        reason_codes: vec![ReasonCode::SUCCESS],
        properties: Properties::default(),
    }))
    .await;
    sub.await.expect("task").expect("subscribed");
    let token = client
        .start_publish(publish("two", QoS::ExactlyOnce, b"x"))
        .await
        .expect("started");
    let Packet::Publish(p) = peer.recv().await else {
        panic!("expected PUBLISH")
    };
    peer.send(Packet::PubRec(Ack::new(p.packet_id))).await;
    assert_eq!(peer.recv().await, Packet::PubRel(Ack::new(p.packet_id)));
    drop(peer);
    assert!(matches!(
        next_event(&mut events).await,
        Event::Disconnected(_)
    ));

    let mut peer = Peer::accept(&listener, ProtocolVersion::V5).await;
    let connect = peer
        .handshake(ConnAck {
            session_present: true,
            ..ConnAck::default()
        })
        .await;
    assert!(!connect.clean_start);
    assert!(matches!(
        next_event(&mut events).await,
        Event::Reconnected {
            session_present: true
        }
    ));
    assert_eq!(peer.recv().await, Packet::PubRel(Ack::new(p.packet_id)));
    peer.expect_silence(Duration::from_millis(150)).await;
    peer.send(Packet::PubComp(Ack::new(p.packet_id))).await;
    let ack = timeout(STEP, token.wait())
        .await
        .expect("in time")
        .expect("completed");
    assert_eq!(ack.packet_id, p.packet_id);
}

/// QoS 1 messages published while the connection is down are sent after the
/// reconnect; QoS 0 ones fail at once.
#[tokio::test]
async fn publishing_while_reconnecting() {
    let (listener, mut opts) = listen().await;
    opts.reconnect = Some(Backoff {
        initial: Duration::from_millis(300),
        max: Duration::from_millis(300),
    });
    let (client, mut events, peer) = connected(opts, &listener, ConnAck::default()).await;
    drop(peer);
    assert!(matches!(
        next_event(&mut events).await,
        Event::Disconnected(_)
    ));
    let token = client
        .start_publish(publish("later", QoS::AtLeastOnce, b"1"))
        .await
        .expect("accepted while offline");
    assert!(matches!(
        client.publish(publish("now", QoS::AtMostOnce, b"0")).await,
        Err(Error::ConnectionClosed)
    ));
    let mut peer = Peer::accept(&listener, ProtocolVersion::V311).await;
    peer.handshake(ConnAck::default()).await;
    let Packet::Publish(p) = peer.recv().await else {
        panic!("expected PUBLISH")
    };
    assert_eq!(&*p.topic, "later");
    assert!(!p.dup, "first transmission [MQTT-4.3.2-2]");
    peer.send(Packet::PubAck(Ack::new(p.packet_id))).await;
    timeout(STEP, token.wait())
        .await
        .expect("in time")
        .expect("acked");
}

/// 5.0 properties travel both ways untouched (user properties in order, response
/// topic, correlation data...).
#[tokio::test]
async fn v5_properties_on_publish() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    let (client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    let mut out = publish("props", QoS::AtLeastOnce, b"p");
    out.properties.user_properties = vec![("b".into(), "2".into()), ("a".into(), "1".into())];
    out.properties.response_topic = Some("reply/here".into());
    out.properties.correlation_data = Some(Bytes::from_static(b"\x00\x01"));
    out.properties.content_type = Some("text/plain".into());
    let c = client.clone();
    let sent = out.clone();
    let publishing = tokio::spawn(async move { c.publish(sent).await });
    let Packet::Publish(got) = peer.recv().await else {
        panic!("expected PUBLISH")
    };
    assert_eq!(got.properties, out.properties);
    let mut ack = Ack::new(got.packet_id);
    ack.reason = ReasonCode::NO_MATCHING_SUBSCRIBERS;
    ack.properties.reason_string = Some("nobody".into());
    peer.send(Packet::PubAck(ack.clone())).await;
    assert_eq!(publishing.await.expect("task").expect("acked"), ack);

    let mut incoming = publish("in", QoS::AtMostOnce, b"i");
    incoming.properties.user_properties = vec![("k".into(), "v".into())];
    incoming.properties.subscription_identifiers = vec![7];
    peer.send(Packet::Publish(incoming.clone())).await;
    match next_event(&mut events).await {
        Event::Message(p) => assert_eq!(p.properties, incoming.properties),
        other => panic!("{other:?}"),
    }
}

/// A server that exceeds the Receive Maximum we announced is a protocol error
/// [MQTT-3.3.4-9].
#[tokio::test]
async fn server_exceeding_our_receive_maximum_v5() {
    let (listener, mut opts) = listen().await;
    opts.version = ProtocolVersion::V5;
    opts.properties.receive_maximum = Some(1);
    let (_client, mut events, mut peer) = connected(opts, &listener, ConnAck::default()).await;
    for id in [1u16, 2] {
        let mut p = publish("rm", QoS::ExactlyOnce, b"x");
        p.packet_id = id;
        peer.send(Packet::Publish(p)).await;
    }
    assert!(matches!(next_event(&mut events).await, Event::Message(_)));
    assert!(matches!(
        next_event(&mut events).await,
        Event::Disconnected(Error::Protocol(_))
    ));
}

/// The handles can move between tasks and threads.
#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Client>();
    send::<Events>();
    send::<mq::client::PublishToken>();
    send_sync::<Error>();
}

/// Random bytes from the server, before and after CONNACK, never panic the client:
/// the handshake fails with an error, and an established connection ends with a
/// `Disconnected` event (a panic in the event loop would end the stream without one).
#[tokio::test]
async fn random_server_bytes_never_panic() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for case in 0..120 {
        let len = (next() % 64) as usize + 1;
        let mut noise: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Make packet types plausible half of the time.
        if case % 2 == 0 {
            noise[0] = (noise[0] & 0x0F) | (((next() % 15) as u8 + 1) << 4);
        }
        let version = if case % 3 == 0 {
            ProtocolVersion::V5
        } else {
            ProtocolVersion::V311
        };
        let before_connack = case % 4 == 1;
        let (listener, mut opts) = listen().await;
        opts.version = version;
        opts.connect_timeout = Duration::from_secs(2);
        let bytes = noise.clone();
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener, version).await;
            let _ = peer.recv().await;
            if !before_connack {
                peer.send(Packet::ConnAck(ConnAck::default())).await;
            }
            let _ = peer.stream.write_all(&bytes).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            // Dropping the peer closes the socket.
        });
        match Client::connect(opts).await {
            Err(_) => {}
            Ok((_client, mut events)) => {
                let mut saw_disconnected = false;
                while let Some(ev) = timeout(STEP, events.recv()).await.expect("ends in time") {
                    if matches!(ev, Event::Disconnected(_)) {
                        saw_disconnected = true;
                    }
                }
                assert!(saw_disconnected, "case {case}: {noise:02X?}");
            }
        }
        server.await.expect("server");
    }
}
