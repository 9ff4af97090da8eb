//! Hostile input: malformed packets and seeded random bytes thrown at the broker.
//! After each attempt a well-behaved client must still publish and receive within a
//! second — a bad connection closes itself and nothing else [MQTT-4.13.1-1].
//!
//! Hostile TLS and WebSocket clients too: bytes that cannot begin a handshake,
//! handshakes that stop half-way or trickle, an HTTP upgrade request whose header never
//! ends or is far too large, and a crowd of unfinished TLS handshakes. Each is closed —
//! at once when its bytes cannot become a handshake, at the CONNECT timeout when they
//! still could — and a well-behaved client of the same listener is served throughout.

mod common;

use bytes::{Bytes, BytesMut};
use common::{TestPki, next_message};
use mq::broker::{Broker, BrokerHandle, Config, LogDest};
use mq::client::{Client, ConnectOptions};
use mq::protocol::{
    ByteStr, Connect, Packet, ProtocolVersion, Publish, QoS, Subscribe, SubscribeFilter,
    SubscriptionOptions, decode, encode,
};
use std::io::ErrorKind;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A tiny deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn bytes_of(p: &Packet, v: ProtocolVersion) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(p, v, &mut out).unwrap();
    out.to_vec()
}

fn connect(v: ProtocolVersion, id: &str) -> Vec<u8> {
    bytes_of(
        &Packet::Connect(Box::new(Connect {
            protocol: v,
            client_id: id.into(),
            ..Connect::default()
        })),
        v,
    )
}

async fn read_packet(s: &mut TcpStream, buf: &mut BytesMut, v: ProtocolVersion) -> Option<Packet> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        if let Ok(Some(p)) = decode(buf, v, 0) {
            return Some(p);
        }
        let mut chunk = [0u8; 2048];
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

/// The well-behaved pair: a subscriber on `probe` and a publisher.
struct Probe {
    sub: TcpStream,
    sub_buf: BytesMut,
    publ: TcpStream,
    n: u32,
}

impl Probe {
    async fn new(b: &BrokerHandle) -> Probe {
        let v = ProtocolVersion::V311;
        let mut sub = TcpStream::connect(b.local_addr()).await.unwrap();
        let mut sub_buf = BytesMut::new();
        sub.write_all(&connect(v, "probe-sub")).await.unwrap();
        assert!(matches!(
            read_packet(&mut sub, &mut sub_buf, v).await,
            Some(Packet::ConnAck(_))
        ));
        let s = Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![SubscribeFilter {
                filter: "probe".into(),
                options: SubscriptionOptions::qos(QoS::AtMostOnce),
            }],
            properties: Default::default(),
        });
        sub.write_all(&bytes_of(&s, v)).await.unwrap();
        assert!(matches!(
            read_packet(&mut sub, &mut sub_buf, v).await,
            Some(Packet::SubAck(_))
        ));
        let mut publ = TcpStream::connect(b.local_addr()).await.unwrap();
        publ.write_all(&connect(v, "probe-pub")).await.unwrap();
        let mut pb = BytesMut::new();
        assert!(matches!(
            read_packet(&mut publ, &mut pb, v).await,
            Some(Packet::ConnAck(_))
        ));
        Probe {
            sub,
            sub_buf,
            publ,
            n: 0,
        }
    }

    /// Publish and receive within a second.
    async fn check(&mut self, what: &str) {
        self.n += 1;
        let payload = self.n.to_string();
        let p = Packet::Publish(Publish {
            topic: ByteStr::from("probe"),
            payload: Bytes::from(payload.clone()),
            ..Publish::default()
        });
        self.publ
            .write_all(&bytes_of(&p, ProtocolVersion::V311))
            .await
            .unwrap();
        match read_packet(&mut self.sub, &mut self.sub_buf, ProtocolVersion::V311).await {
            Some(Packet::Publish(p)) => assert_eq!(&p.payload[..], payload.as_bytes(), "{what}"),
            other => panic!("after {what}: the broker did not deliver within a second: {other:?}"),
        }
    }
}

async fn hostile(b: &BrokerHandle, bytes: &[u8]) {
    let Ok(mut s) = TcpStream::connect(b.local_addr()).await else {
        return;
    };
    let _ = s.write_all(bytes).await;
    // Read whatever comes back for a moment, then drop the socket.
    let mut chunk = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_millis(20), s.read(&mut chunk)).await;
}

#[tokio::test]
async fn malformed_packets_close_only_their_connection() {
    let b = Broker::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut probe = Probe::new(&b).await;
    let v5 = ProtocolVersion::V5;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("reserved packet type 0", vec![0x00, 0x00]),
        (
            "remaining length over four bytes",
            vec![0x10, 0xff, 0xff, 0xff, 0xff, 0x7f],
        ),
        (
            "CONNECT with reserved flag",
            vec![0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 3, 0, 60, 0, 0],
        ),
        (
            "bad protocol name",
            vec![0x10, 12, 0, 4, b'X', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 0],
        ),
        (
            "invalid UTF-8 client id",
            vec![
                0x10, 14, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 2, 0xc3, 0x28,
            ],
        ),
        ("PUBLISH before CONNECT", vec![0x30, 3, 0, 1, b'a']),
        ("half a packet then silence", vec![0x10, 50, 0, 4, b'M']),
        ("huge remaining length", vec![0x30, 0xff, 0xff, 0xff, 0x7f]),
        (
            "PUBLISH with QoS 3",
            [connect(v5, "h1"), vec![0x36, 5, 0, 1, b'a', 0, 1]].concat(),
        ),
        (
            "SUBSCRIBE wrong flags",
            [connect(v5, "h2"), vec![0x80, 6, 0, 1, 0, 0, 1, b'a']].concat(),
        ),
        (
            "PUBLISH topic with wildcard",
            [connect(v5, "h3"), vec![0x30, 4, 0, 1, b'#', 0]].concat(),
        ),
        (
            "PUBLISH invalid UTF-8 topic",
            [connect(v5, "h4"), vec![0x30, 5, 0, 2, 0xff, 0xfe, 0]].concat(),
        ),
        (
            "server-only packet",
            [connect(v5, "h5"), vec![0x20, 2, 0, 0]].concat(),
        ),
        (
            "reserved type 15 under 3.1.1",
            [connect(ProtocolVersion::V311, "h6"), vec![0xf0, 0]].concat(),
        ),
    ];
    for (what, bytes) in &cases {
        hostile(&b, bytes).await;
        probe.check(what).await;
    }
    b.shutdown().await;
}

#[tokio::test]
async fn seeded_random_bytes_never_hurt_other_clients() {
    let b = Broker::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut probe = Probe::new(&b).await;
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for round in 0..60 {
        let len = rng.below(200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 2 == 0 {
            // Behind a valid CONNECT, so the packet parsers are reached.
            let v = if round % 4 == 0 {
                ProtocolVersion::V5
            } else {
                ProtocolVersion::V311
            };
            bytes = [connect(v, &format!("rnd{round}")), bytes].concat();
        } else if round % 3 == 0 {
            // A valid packet with one byte flipped.
            let mut c = connect(ProtocolVersion::V5, "flip");
            let i = rng.below(c.len() as u64) as usize;
            c[i] ^= 1 << rng.below(8);
            bytes = c;
        }
        hostile(&b, &bytes).await;
        probe.check(&format!("random round {round}")).await;
    }
    b.shutdown().await;
}

/// How late after the CONNECT timeout an unfinished handshake may still be open.
const MARGIN: Duration = Duration::from_secs(1);

/// A broker with the listener `conf` (`listener 0 127.0.0.1`, ...), anonymous clients
/// allowed, closing connections that have not sent CONNECT after `connect_timeout`.
async fn layered_broker(conf: &str, connect_timeout: Duration) -> BrokerHandle {
    let mut config = Config::parse(&format!("allow_anonymous true\n{conf}"), "hostile.conf")
        .expect("configuration parses");
    config.log_dest = LogDest::None;
    config.connect_timeout = connect_timeout;
    Broker::builder()
        .config(config)
        .start()
        .await
        .expect("broker starts")
}

fn tls_listener(pki: &TestPki) -> String {
    format!(
        "listener 0 127.0.0.1\ncertfile {}\nkeyfile {}\n",
        pki.path("server.pem").display(),
        pki.path("server.key").display()
    )
}

const WS_LISTENER: &str = "listener 0 127.0.0.1\nprotocol websockets\n";

/// How the broker closed a connection.
struct Closed {
    /// From the start of the wait.
    after: Duration,
    /// What it sent before (the first 64 KiB).
    sent: Vec<u8>,
    /// Reset rather than ended: Linux resets a connection closed with bytes left
    /// unread in it.
    reset: bool,
}

/// Read what the broker sends until it closes the connection; `None` if it is still
/// open after `limit`.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Closed> {
    let start = Instant::now();
    let mut sent = Vec::new();
    let mut chunk = [0u8; 4096];
    let reset = tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) => return false,
                Ok(n) if sent.len() < 1 << 16 => sent.extend_from_slice(&chunk[..n]),
                Ok(_) => {}
                Err(e) => return e.kind() == ErrorKind::ConnectionReset,
            }
        }
    })
    .await
    .ok()?;
    Some(Closed {
        after: start.elapsed(),
        sent,
        reset,
    })
}

/// Assert that `s`, which has sent an unfinished handshake, is closed by the CONNECT
/// timeout `t`: not long before it — the broker waits for the rest — and no later than
/// [`MARGIN`] after it.
async fn assert_closed_at_the_timeout(s: &mut TcpStream, t: Duration, what: &str) {
    let Some(closed) = closed_within(s, t + MARGIN).await else {
        panic!("{what}: still open {MARGIN:?} after the connect timeout of {t:?}");
    };
    assert!(
        closed.after >= t * 3 / 4,
        "{what}: closed after {:?}, before the connect timeout of {t:?}",
        closed.after
    );
}

/// The first flight of a real TLS client (rustls): one ClientHello record.
fn client_hello() -> Vec<u8> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let mut hello = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut hello).expect("write to a Vec");
    }
    assert_eq!(hello[0], 0x16, "a handshake record");
    hello
}

/// Connect with `o` (to the listener under attack), subscribe, publish to ourselves
/// and receive it, all within `limit`.
async fn assert_serves(mut o: ConnectOptions, limit: Duration, what: &str) {
    o.connect_timeout = limit;
    let exchange = async {
        let (c, mut events) = Client::connect(o).await.expect("connects");
        c.subscribe(
            vec![SubscribeFilter {
                filter: "probe".into(),
                options: SubscriptionOptions::qos(QoS::AtLeastOnce),
            }],
            Default::default(),
        )
        .await
        .expect("subscribes");
        c.publish(Publish {
            topic: "probe".into(),
            payload: Bytes::from_static(b"still served"),
            qos: QoS::AtLeastOnce,
            ..Publish::default()
        })
        .await
        .expect("publishes");
        let m = next_message(&mut events, limit).await;
        assert_eq!(&m.payload[..], b"still served");
        let _ = c.disconnect().await;
    };
    if tokio::time::timeout(limit, exchange).await.is_err() {
        panic!("after {what}: a well-behaved client was not served within {limit:?}");
    }
}

fn mqtts(b: &BrokerHandle, pki: &TestPki) -> ConnectOptions {
    let url = format!("mqtts://localhost:{}", b.local_addr().port());
    let mut o = ConnectOptions::from_url(&url).expect("url");
    o.tls.ca_file = Some(pki.path("ca.pem"));
    o
}

fn ws(b: &BrokerHandle) -> ConnectOptions {
    ConnectOptions::from_url(&format!("ws://127.0.0.1:{}/mqtt", b.local_addr().port()))
        .expect("url")
}

/// Bytes that cannot begin a TLS handshake are answered with a TLS alert and closed as
/// soon as they arrive, long before the CONNECT timeout.
#[tokio::test]
async fn tls_listener_closes_garbage_instead_of_a_client_hello_at_once() {
    let pki = TestPki::new(&["localhost"]);
    let timeout = Duration::from_secs(10);
    let b = layered_broker(&tls_listener(&pki), timeout).await;
    let mut rng = Rng(0x7e57_1a11_0bad_cafe);
    let mut random: Vec<u8> = (0..256).map(|_| rng.next() as u8).collect();
    random[0] = 0xff; // Not a TLS record type.
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("seeded random bytes", random),
        (
            "an HTTP request",
            b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        ),
        (
            "a plain MQTT CONNECT",
            connect(ProtocolVersion::V311, "plain"),
        ),
        (
            "a TLS record longer than TLS allows",
            vec![0x16, 0x03, 0x01, 0xff, 0xff, 0x01],
        ),
        (
            "a ServerHello from the client",
            vec![0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00],
        ),
    ];
    let promptly = Duration::from_secs(1);
    for (what, bytes) in &cases {
        let mut s = TcpStream::connect(b.local_addr()).await.expect("connect");
        s.write_all(bytes).await.expect("write");
        let Some(closed) = closed_within(&mut s, promptly).await else {
            panic!("{what}: still open after {promptly:?} (connect timeout {timeout:?})");
        };
        assert_eq!(closed.sent.first(), Some(&0x15), "{what}: no TLS alert");
        assert_serves(mqtts(&b, &pki), Duration::from_secs(5), what).await;
    }
    b.shutdown().await;
}

/// A TLS record header, half a ClientHello, or a whole one and then nothing: the
/// broker waits for the rest until the CONNECT timeout, then closes the connection.
#[tokio::test]
async fn tls_handshake_that_stops_half_way_is_closed_at_the_connect_timeout() {
    let pki = TestPki::new(&["localhost"]);
    let timeout = Duration::from_millis(600);
    let b = layered_broker(&tls_listener(&pki), timeout).await;
    let hello = client_hello();
    for (what, bytes) in [
        ("a record header", &hello[..5]),
        ("half a ClientHello", &hello[..hello.len() / 2]),
        ("a ClientHello and no more", &hello[..]),
    ] {
        let mut s = TcpStream::connect(b.local_addr()).await.expect("connect");
        s.write_all(bytes).await.expect("write");
        assert_closed_at_the_timeout(&mut s, timeout, what).await;
    }
    assert_serves(
        mqtts(&b, &pki),
        Duration::from_secs(5),
        "unfinished handshakes",
    )
    .await;
    b.shutdown().await;
}

/// An HTTP upgrade request whose headers never end — sent at once, or trickled a byte
/// every 20 ms so that the connection is never idle for long — is closed at the
/// CONNECT timeout.
#[tokio::test]
async fn websocket_request_whose_headers_never_end_is_closed_at_the_connect_timeout() {
    let timeout = Duration::from_millis(600);
    let b = layered_broker(WS_LISTENER, timeout).await;
    let head = b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n";

    let mut s = TcpStream::connect(b.local_addr()).await.expect("connect");
    s.write_all(head).await.expect("write");
    assert_closed_at_the_timeout(&mut s, timeout, "a request line and some headers").await;

    let mut s = TcpStream::connect(b.local_addr()).await.expect("connect");
    let start = Instant::now();
    let endless_header = b"X-Slow: ".iter().chain(std::iter::repeat(&b'a'));
    let mut chunk = [0u8; 1024];
    for &byte in head.iter().chain(endless_header) {
        assert!(
            start.elapsed() < timeout + MARGIN,
            "a trickled request still open after {:?}",
            start.elapsed()
        );
        if s.write_all(&[byte]).await.is_err() {
            break;
        }
        let read = tokio::time::timeout(Duration::from_millis(20), s.read(&mut chunk)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            break;
        }
    }
    assert!(
        start.elapsed() >= timeout * 3 / 4,
        "a trickled request closed after {:?}, before the connect timeout",
        start.elapsed()
    );
    assert_serves(
        ws(&b),
        Duration::from_secs(5),
        "unfinished upgrade requests",
    )
    .await;
    b.shutdown().await;
}

/// 1 MiB of HTTP header, never ended: the broker stops at its limit for a request head
/// (tungstenite's 64 KiB) and closes the connection with the rest unread — long before
/// the CONNECT timeout, before or just after the last byte is written — instead of
/// holding the whole header in memory; the listener still serves.
#[tokio::test]
async fn oversized_websocket_upgrade_header_is_refused_without_being_read() {
    let timeout = Duration::from_secs(10);
    let b = layered_broker(WS_LISTENER, timeout).await;
    let mut s = TcpStream::connect(b.local_addr()).await.expect("connect");
    let start = Instant::now();
    s.write_all(b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Big: ")
        .await
        .expect("write the request line");
    const HEADER: usize = 1 << 20;
    let filler = [b'a'; 16 * 1024];
    let mut written = 0;
    // Refused while writing: the broker reset the connection.
    let mut reset = false;
    while written < HEADER {
        match tokio::time::timeout(timeout, s.write(&filler)).await {
            Ok(Ok(n)) if n > 0 => written += n,
            Ok(Ok(_)) => break,
            Ok(Err(e)) => {
                reset = matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe);
                break;
            }
            Err(_) => panic!("the broker neither read nor closed for {timeout:?}"),
        }
    }
    let Some(closed) = closed_within(&mut s, MARGIN).await else {
        panic!(
            "still open {:?} after {written} header bytes",
            start.elapsed()
        );
    };
    assert!(
        reset || closed.reset,
        "closed after {written} header bytes, but not reset: were they all read?"
    );
    assert!(
        start.elapsed() < timeout / 2,
        "closed only after {:?}: by the connect timeout, not for the header's size",
        start.elapsed()
    );
    assert_serves(ws(&b), Duration::from_secs(5), "an oversized header").await;
    b.shutdown().await;
}

/// 200 TLS handshakes left unfinished at once: while they are pending, a well-behaved
/// client of the same listener is served well within the CONNECT timeout; then each
/// of them is closed at the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_unfinished_tls_handshakes_neither_block_others_nor_outlive_the_timeout() {
    const CROWD: usize = 200;
    let pki = TestPki::new(&["localhost"]);
    let timeout = Duration::from_secs(3);
    let b = layered_broker(&tls_listener(&pki), timeout).await;
    let addr = b.local_addr();
    let hello = Arc::new(client_hello());
    let all_sent = Arc::new(tokio::sync::Barrier::new(CROWD + 1));
    let mut crowd = tokio::task::JoinSet::new();
    for i in 0..CROWD {
        let (hello, all_sent) = (hello.clone(), all_sent.clone());
        crowd.spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            // Half of them send half a ClientHello, the others a whole one.
            let n = if i % 2 == 0 {
                hello.len() / 2
            } else {
                hello.len()
            };
            s.write_all(&hello[..n]).await.expect("write");
            all_sent.wait().await;
            closed_within(&mut s, timeout + MARGIN)
                .await
                .map(|c| c.after)
        });
    }
    tokio::time::timeout(Duration::from_secs(5), all_sent.wait())
        .await
        .expect("200 connections opened and written to within 5 s");
    let start = Instant::now();
    assert_serves(mqtts(&b, &pki), timeout / 2, "200 unfinished handshakes").await;
    let served = start.elapsed();
    let mut waits = Vec::new();
    while let Some(done) = crowd.join_next().await {
        waits.push(done.expect("a hostile client panicked"));
    }
    assert_eq!(waits.len(), CROWD);
    let open = waits.iter().filter(|w| w.is_none()).count();
    assert_eq!(open, 0, "still open {MARGIN:?} after the connect timeout");
    let first = waits.iter().flatten().min().expect("some");
    // Served (in `served`) while every unfinished handshake was still open.
    assert!(
        *first >= served && *first >= timeout / 2,
        "one closed after {first:?}, the client served after {served:?}"
    );
    assert_serves(mqtts(&b, &pki), Duration::from_secs(5), "the crowd").await;
    b.shutdown().await;
}
