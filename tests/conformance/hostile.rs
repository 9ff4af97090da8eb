//! Hostile input (issue 4): a seeded, bounded generator of malformed packets and
//! random bytes thrown at the broker. After every case a well-behaved publisher and
//! subscriber must still exchange a message within a second, and new connections
//! must still be accepted (the broker's tasks did not die). The seed of a failing
//! case is printed so it can be replayed.

use crate::broker;
use crate::raw::{self, Event, Raw, connect};
use mq::protocol::{
    Ack, Packet, Properties, ProtocolVersion, Publish, QoS, Subscribe, SubscribeFilter,
    SubscriptionOptions, Unsubscribe,
};
use std::time::Duration;
use tokio::time::Instant;

/// Cases per seed and the wall-clock budget for the whole test; a deeper run:
/// `MQ_HOSTILE_CASES=20000 MQ_HOSTILE_SECS=300 cargo test --test conformance hostile`.
const CASES: usize = 600;
const BUDGET: Duration = Duration::from_secs(20);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
const SEEDS: [u64; 3] = [
    0x5EED_0000_0000_0001,
    0x0BAD_F00D_DEAD_BEEF,
    0x1234_5678_9ABC_DEF0,
];

/// xorshift64*: small, deterministic, good enough to pick bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
    /// Between `min` and `min + spread - 1` random bytes.
    fn some_bytes(&mut self, min: usize, spread: usize) -> Vec<u8> {
        let n = min + self.below(spread);
        self.bytes(n)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A valid packet of a random kind, to be mutated.
fn valid_packet(rng: &mut Rng, version: ProtocolVersion, case: usize) -> Packet {
    let qos = match rng.below(3) {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    };
    let id = (rng.below(65535) + 1) as u16;
    match rng.below(8) {
        0 | 1 => {
            let mut p = Publish {
                topic: format!("h/{}/{}", case, rng.below(5)).into(),
                qos,
                packet_id: if qos == QoS::AtMostOnce { 0 } else { id },
                retain: rng.chance(20),
                payload: rng.some_bytes(0, 64).into(),
                ..Publish::default()
            };
            if version == ProtocolVersion::V5 && rng.chance(50) {
                p.properties.user_properties = vec![("k".into(), "v".into())];
                p.properties.message_expiry_interval = Some(rng.below(100) as u32);
                p.properties.topic_alias = Some(rng.below(12) as u16 + 1);
            }
            Packet::Publish(p)
        }
        2 => Packet::Subscribe(Subscribe {
            packet_id: id,
            filters: vec![SubscribeFilter {
                filter: ["h/#", "h/+/x", "$share/g/h/#", "#"][rng.below(4)].into(),
                options: SubscriptionOptions::qos(qos),
            }],
            properties: Properties::default(),
        }),
        3 => Packet::Unsubscribe(Unsubscribe {
            packet_id: id,
            filters: vec!["h/#".into()],
            properties: Properties::default(),
        }),
        4 => Packet::PubRel(Ack::new(id)),
        5 => Packet::PubAck(Ack::new(id)),
        6 => Packet::PingReq,
        _ => Packet::Connect(Box::new(connect(version, &format!("h{case}")))),
    }
}

/// Damage a packet's bytes in one of several ways.
fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.is_empty() {
        return rng.bytes(8);
    }
    match rng.below(7) {
        // Flip bits in the first byte (type and flags).
        0 => bytes[0] ^= 1 << rng.below(8),
        // Overwrite a random byte.
        1 => {
            let i = rng.below(bytes.len());
            bytes[i] = rng.byte();
        }
        // Truncate.
        2 => bytes.truncate(rng.below(bytes.len())),
        // Lie about the Remaining Length.
        3 => {
            if bytes.len() > 1 {
                bytes[1] = rng.byte();
            }
        }
        // Append garbage.
        4 => {
            let n = rng.below(32) + 1;
            bytes.extend(rng.bytes(n));
        }
        // A 4-byte Remaining Length with continuation bits everywhere.
        5 => {
            bytes.splice(1..2, [0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
        }
        // Overwrite several bytes.
        _ => {
            for _ in 0..rng.below(4) + 1 {
                let i = rng.below(bytes.len());
                bytes[i] = rng.byte();
            }
        }
    }
    bytes
}

/// The bytes of one hostile case, and whether a CONNECT should precede them.
fn hostile_case(rng: &mut Rng, version: ProtocolVersion, case: usize) -> (bool, Vec<u8>) {
    match rng.below(6) {
        // A header announcing a huge packet (up to 256 MB), then a little of it.
        5 => {
            let mut out = vec![[0x30u8, 0x82, 0xA2, 0x10, 0xC0][rng.below(5)]];
            out.extend([0xFF, 0xFF, 0xFF, 0x7F]);
            out.extend(rng.some_bytes(0, 64));
            (rng.chance(50), out)
        }
        // Random bytes instead of CONNECT.
        0 => (false, rng.some_bytes(1, 200)),
        // A damaged CONNECT.
        1 => {
            let c = Packet::Connect(Box::new(connect(version, &format!("h{case}"))));
            (false, mutate(rng, raw::bytes_of(&c, version)))
        }
        // Connected, then random bytes.
        2 => (true, rng.some_bytes(1, 300)),
        // Connected, then a random first byte and a random body.
        3 => {
            let body = rng.some_bytes(0, 40);
            (true, raw::frame(rng.byte(), &body))
        }
        // Connected, then a damaged valid packet (several in a row sometimes).
        _ => {
            let mut out = Vec::new();
            for _ in 0..rng.below(3) + 1 {
                let p = valid_packet(rng, version, case);
                let bytes = raw::bytes_of(&p, version);
                if rng.chance(70) {
                    out.extend(mutate(rng, bytes));
                } else {
                    out.extend(bytes);
                }
            }
            (true, out)
        }
    }
}

/// Panics raised in the crate's own code (`src/...`), counted by a panic hook: a
/// broker task that panics on input is otherwise invisible in-process (tokio turns
/// it into a dead connection), and the rules say never to panic on network input.
static BROKER_PANICS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

pub fn watch_broker_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(loc) = info.location() {
                let file = loc.file().replace('\\', "/");
                if file.starts_with("src/") {
                    let text = format!("{info}");
                    if let Ok(mut v) = BROKER_PANICS.lock() {
                        v.push(text);
                    }
                }
            }
            default(info);
        }));
    });
}

pub fn assert_no_broker_panic() {
    let panics = BROKER_PANICS.lock().map(|v| v.clone()).unwrap_or_default();
    assert!(
        panics.is_empty(),
        "the broker panicked on input: {panics:#?}"
    );
}

/// The well-behaved pair: a QoS 1 round trip within one second.
pub async fn probe(sub: &mut Raw, publisher: &mut Raw, n: usize, seed: u64) {
    let payload = format!("probe {n}");
    publisher
        .publish("probe/hostile", payload.as_bytes(), QoS::AtLeastOnce)
        .await;
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match sub.recv(left).await {
            Event::Packet(Packet::Publish(m)) => {
                sub.ack(&m).await;
                if m.payload[..] == *payload.as_bytes() {
                    return;
                }
            }
            Event::Packet(_) => {}
            other => panic!(
                "seed {seed:#x}, case {n}: the well-behaved subscriber did not get its \
                 message within 1 s: {other:?}"
            ),
        }
    }
}

/// Issue 4: malformed packets and random bytes, seeded and bounded; after each case
/// the broker still routes a message between good clients within a second, and
/// still accepts connections.
#[tokio::test]
async fn hostile_input_never_disturbs_other_clients() {
    watch_broker_panics();
    let b = broker::start().await;
    let start = Instant::now();
    let mut sub = Raw::v5(b.addr, "probe-sub").await;
    sub.subscribe("probe/hostile", QoS::AtLeastOnce).await;
    let mut publisher = Raw::v311(b.addr, "probe-pub").await;
    let mut held: Vec<Raw> = Vec::new();
    let mut cases = 0;
    let per_seed = env_or("MQ_HOSTILE_CASES", CASES as u64) as usize;
    let budget = Duration::from_secs(env_or("MQ_HOSTILE_SECS", BUDGET.as_secs()));
    'seeds: for seed in SEEDS {
        let mut rng = Rng(seed);
        for case in 0..per_seed {
            if start.elapsed() > budget {
                break 'seeds;
            }
            let version = if rng.chance(50) {
                ProtocolVersion::V5
            } else {
                ProtocolVersion::V311
            };
            let (connect_first, bytes) = hostile_case(&mut rng, version, case);
            let mut c = if connect_first {
                let con = connect(version, &format!("h{case}"));
                let (c, _) = Raw::connect_with(b.addr, con).await;
                c
            } else {
                Raw::open(b.addr, version).await
            };
            c.send_bytes(&bytes).await;
            // Keep some hostile connections open (stalled mid-packet or not) for a
            // while; drop the rest at once.
            if rng.chance(30) {
                held.push(c);
                if held.len() > 16 {
                    held.remove(0);
                }
            }
            probe(&mut sub, &mut publisher, cases, seed).await;
            cases += 1;
            if cases % 50 == 0 {
                // New connections are still accepted.
                let mut fresh = Raw::v5(b.addr, &format!("fresh{cases}")).await;
                fresh.ping().await;
            }
        }
    }
    assert!(
        cases >= 50,
        "only {cases} hostile cases ran within {BUDGET:?}"
    );
    drop(held);
    let mut fresh = Raw::v311(b.addr, "after").await;
    fresh.ping().await;
    probe(&mut sub, &mut publisher, cases, 0).await;
    assert_no_broker_panic();
    b.shutdown().await;
}

/// Pure random bytes on fresh connections, many at once, then a probe.
#[tokio::test]
async fn random_byte_storm_then_broker_still_works() {
    watch_broker_panics();
    let b = broker::start().await;
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    let mut conns = Vec::new();
    for _ in 0..40 {
        let mut c = Raw::open(b.addr, ProtocolVersion::V311).await;
        let n = rng.below(2000) + 1;
        c.send_bytes(&rng.bytes(n)).await;
        conns.push(c);
    }
    let mut sub = Raw::v5(b.addr, "probe-sub").await;
    sub.subscribe("probe/hostile", QoS::AtLeastOnce).await;
    let mut publisher = Raw::v311(b.addr, "probe-pub").await;
    probe(&mut sub, &mut publisher, 0, 0xC0FF_EE00_1234_5678).await;
    drop(conns);
    probe(&mut sub, &mut publisher, 1, 0xC0FF_EE00_1234_5678).await;
    assert_no_broker_panic();
}

/// Issue 4: a subscriber that never reads while a publisher floods QoS 0 messages at
/// it does not stall the publisher or anyone else.
#[tokio::test]
async fn slow_subscriber_does_not_stall_others() {
    let b = broker::start().await;
    let mut slow = Raw::v5(b.addr, "slow").await;
    slow.subscribe("flood/#", QoS::AtMostOnce).await;
    let mut slow1 = Raw::v311(b.addr, "slow1").await;
    slow1.subscribe("flood/#", QoS::AtLeastOnce).await;
    let mut sub = Raw::v5(b.addr, "probe-sub").await;
    sub.subscribe("probe/hostile", QoS::AtLeastOnce).await;
    let mut publisher = Raw::v311(b.addr, "probe-pub").await;
    let mut flooder = Raw::v311(b.addr, "flooder").await;
    let chunk: Vec<u8> = {
        let mut v = Vec::new();
        let m = raw::publish("flood/x", &[0xAB; 1024], QoS::AtMostOnce);
        let one = raw::bytes_of(&Packet::Publish(m), ProtocolVersion::V311);
        for _ in 0..100 {
            v.extend_from_slice(&one);
        }
        v
    };
    let start = Instant::now();
    // 40 MB of QoS 0 messages in 100-message writes; each write must go through.
    for round in 0..400 {
        assert!(
            flooder.try_send_bytes(&chunk, Duration::from_secs(2)).await,
            "the flooding publisher was stalled at round {round}"
        );
        if round % 20 == 0 {
            probe(&mut sub, &mut publisher, round, 0).await;
        }
    }
    flooder.ping().await;
    probe(&mut sub, &mut publisher, 999, 0).await;
    assert!(start.elapsed() < Duration::from_secs(30));
    drop((slow, slow1));
}
