//! Hostile input: malformed packets and seeded random bytes thrown at the broker.
//! After each attempt a well-behaved client must still publish and receive within a
//! second — a bad connection closes itself and nothing else [MQTT-4.13.1-1].

use bytes::{Bytes, BytesMut};
use mq::broker::{Broker, BrokerHandle};
use mq::protocol::{
    ByteStr, Connect, Packet, ProtocolVersion, Publish, QoS, Subscribe, SubscribeFilter,
    SubscriptionOptions, decode, encode,
};
use std::time::Duration;
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
