//! Criterion benchmark of the MQTT codec: decoding and encoding a QoS 0 PUBLISH with a
//! 64-byte payload and a SUBSCRIBE with three filters, under MQTT 3.1.1 and 5.0.
//!
//! Decoding reads packets from a buffer holding many of them back to back, as a
//! connection's read buffer would; encoding appends to a reused output buffer, as a
//! connection's write buffer would. Each iteration is one packet.
//!
//! Run with `cargo bench --bench codec -- --warm-up-time 1 --measurement-time 3`.

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mq::protocol::{
    ByteStr, Packet, ProtocolVersion, Publish, QoS, Subscribe, SubscribeFilter,
    SubscriptionOptions, decode, encode,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Packets decoded per refill of the read buffer (the refill is not timed).
const BATCH: u64 = 1024;

fn publish_qos0_64b() -> Packet {
    Packet::Publish(Publish {
        topic: ByteStr::from("sensors/room1/temperature"),
        qos: QoS::AtMostOnce,
        payload: Bytes::from(vec![0x5A; 64]),
        ..Publish::default()
    })
}

fn subscribe_3_filters() -> Packet {
    let filter = |f: &str, qos| SubscribeFilter {
        filter: f.to_owned(),
        options: SubscriptionOptions::qos(qos),
    };
    Packet::Subscribe(Subscribe {
        packet_id: 42,
        filters: vec![
            filter("carpark/level1/bay/+/state", QoS::AtMostOnce),
            filter("carpark/gate/#", QoS::AtLeastOnce),
            filter("$SYS/broker/clients/connected", QoS::ExactlyOnce),
        ],
        properties: Default::default(),
    })
}

fn bench_codec(c: &mut Criterion) {
    let versions = [
        ("3.1.1", ProtocolVersion::V311),
        ("5.0", ProtocolVersion::V5),
    ];
    let packets = [
        ("publish_qos0_64B", publish_qos0_64b()),
        ("subscribe_3_filters", subscribe_3_filters()),
    ];
    for (pname, packet) in &packets {
        let mut group = c.benchmark_group(*pname);
        group.throughput(Throughput::Elements(1));
        for (vname, version) in versions {
            let mut wire = BytesMut::new();
            encode(packet, version, &mut wire).expect("the benchmark packet encodes");
            let wire = wire.freeze();

            group.bench_function(format!("decode/{vname}"), |b| {
                b.iter_custom(|iters| decode_many(&wire, version, iters))
            });

            let mut out = BytesMut::with_capacity(4096);
            group.bench_function(format!("encode/{vname}"), |b| {
                b.iter(|| {
                    out.clear();
                    encode(black_box(packet), version, &mut out).expect("encodes");
                    black_box(&out);
                })
            });
        }
        group.finish();
    }
}

/// Time decoding `iters` packets, refilling the read buffer every `BATCH` packets
/// outside the timed section.
fn decode_many(wire: &Bytes, version: ProtocolVersion, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        let mut buf = BytesMut::with_capacity(wire.len() * n as usize);
        for _ in 0..n {
            buf.extend_from_slice(wire);
        }
        let start = Instant::now();
        for _ in 0..n {
            let p = decode(black_box(&mut buf), version, 0);
            black_box(&p);
        }
        total += start.elapsed();
        debug_assert!(buf.is_empty());
        left -= n;
    }
    total
}

criterion_group!(benches, bench_codec);
criterion_main!(benches);
