//! Random bytes never make the decoder panic or allocate beyond a bound set by the
//! maximum packet size.
//!
//! This test binary installs a counting global allocator that tracks, per thread, the
//! bytes currently allocated and their peak. Each `decode` call is measured on its own:
//! the peak extra allocation while it runs (its result still alive) must stay within
//! `ALLOC_FACTOR * max_packet_size + ALLOC_SLACK`, whatever length fields the input
//! announces. A `realloc` is counted as holding the old and the new block at once.
//!
//! The default case count keeps `cargo test` fast. The full run the project documents
//! (10 million random byte strings) is:
//!
//! ```text
//! PROPTEST_CASES=10000000 cargo test --release --test protocol_alloc
//! ```

use bytes::BytesMut;
use mq::protocol::{ProtocolVersion, decode};
use proptest::collection::vec;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // `const` thread locals without destructors need no allocation and are never torn
    // down, so the allocator may use them.
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grow(n: usize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + n;
        c.set(now);
        let _ = PEAK.try_with(|p| {
            if now > p.get() {
                p.set(now);
            }
        });
    });
}

fn shrink(n: usize) {
    // Blocks freed on another thread than the one that allocated them can make the
    // per-thread count go below zero; saturate.
    let _ = CURRENT.try_with(|c| c.set(c.get().saturating_sub(n)));
}

// SAFETY: every method forwards to the system allocator with the caller's arguments
// and only adds bookkeeping in thread-local cells.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grow(new_size);
            shrink(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes the decoder may allocate per byte of the maximum packet size. The packet model
/// stores repeated entries in vectors sized exactly (the decoder counts them first), so
/// the worst case is a body made only of the smallest repeated entry:
/// - an empty User Property (5 bytes on the wire) is a `(String, String)`, 48 bytes: 9.6x;
/// - a one-character SUBSCRIBE filter (4 bytes) is a `SubscribeFilter` (32 bytes) plus
///   a 1-byte string: 8.25x;
/// - a one-character UNSUBSCRIBE filter (3 bytes) is a `String` (24 bytes) plus 1: 8.3x;
/// - a Subscription Identifier (2 bytes) is a `u32`: 2x; a reason code: 1x.
///
/// `crafted_worst_cases_stay_within_the_bound` measures these. Before the decoder
/// sized its vectors exactly, doubling growth made the first case 28.8x.
const ALLOC_FACTOR: usize = 10;
/// Fixed overhead: the shared buffer header `BytesMut::split_to` creates, a boxed
/// CONNECT, empty vectors' first allocations.
const ALLOC_SLACK: usize = 1024;

fn bound(max_packet_size: usize) -> usize {
    ALLOC_FACTOR * max_packet_size + ALLOC_SLACK
}

/// Decode every packet in `bytes` under `version` with `max`, returning the largest
/// extra allocation any single `decode` call made while it and its result were alive.
fn peak_over_decodes(bytes: &[u8], version: ProtocolVersion, max: usize) -> usize {
    let mut buf = BytesMut::from(bytes);
    let mut worst = 0;
    // At most one packet per two bytes, plus the final Ok(None).
    for _ in 0..=bytes.len() {
        let base = CURRENT.with(Cell::get);
        PEAK.with(|p| p.set(base));
        let result = decode(&mut buf, version, max);
        let peak = PEAK.with(Cell::get) - base;
        worst = worst.max(peak);
        match result {
            Ok(Some(packet)) => drop(packet),
            Ok(None) | Err(_) => break,
        }
    }
    worst
}

fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![
        Just(ProtocolVersion::V31),
        Just(ProtocolVersion::V311),
        Just(ProtocolVersion::V5)
    ]
}

fn max_size() -> impl Strategy<Value = usize> {
    prop_oneof![Just(16usize), Just(64), Just(256), Just(1024), Just(4096)]
}

/// A Remaining Length as a Variable Byte Integer (at most 268435455).
fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return out;
        }
    }
}

/// A fixed header with valid flags for its type, announcing `len` bytes.
fn fixed_header(kind: u8, publish_flags: u8, len: usize) -> Vec<u8> {
    let flags = match kind {
        3 => publish_flags & 0x09 | (publish_flags % 3) << 1, // QoS 0-2
        6 | 8 | 10 => 0x02,
        _ => 0,
    };
    let mut v = vec![kind << 4 | flags];
    v.extend(varint(len));
    v
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes.
    #[test]
    fn random_bytes_never_panic_nor_over_allocate(
        bytes in vec(any::<u8>(), 0..600),
        version in version(),
        max in max_size(),
    ) {
        let peak = peak_over_decodes(&bytes, version, max);
        prop_assert!(peak <= bound(max), "peak {} > bound {} for max {}", peak, bound(max), max);
    }

    /// Random bodies behind a valid fixed header (so the body parsers are reached), with
    /// the Remaining Length matching the body, or announcing more than is there.
    #[test]
    fn random_bodies_behind_a_valid_fixed_header(
        kind in 1..=15u8,
        publish_flags in any::<u8>(),
        body in vec(any::<u8>(), 0..600),
        extra in prop_oneof![3 => Just(0usize), 1 => 0..268_435_455usize],
        version in version(),
        max in max_size(),
    ) {
        let mut bytes = fixed_header(kind, publish_flags, body.len().saturating_add(extra).min(268_435_455));
        bytes.extend(&body);
        let peak = peak_over_decodes(&bytes, version, max);
        prop_assert!(peak <= bound(max), "peak {} > bound {} for max {}", peak, bound(max), max);
    }

    /// Property blocks made of random bytes behind a valid 5.0 PUBLISH / CONNECT start.
    #[test]
    fn random_property_blocks(
        props in vec(any::<u8>(), 0..400),
        connect in any::<bool>(),
        max in max_size(),
    ) {
        let mut body = if connect {
            b"\x00\x04MQTT\x05\xC6\x00\x3C".to_vec()
        } else {
            b"\x00\x01t".to_vec()
        };
        body.extend(varint(props.len()));
        body.extend(&props);
        let mut bytes = fixed_header(if connect { 1 } else { 3 }, 0, body.len());
        bytes.extend(&body);
        let peak = peak_over_decodes(&bytes, ProtocolVersion::V5, max);
        prop_assert!(peak <= bound(max), "peak {} > bound {} for max {}", peak, bound(max), max);
    }
}

/// Packets built to maximise the decoder's allocation per byte: bodies made of the
/// smallest repeated entries (user properties, filters, reason codes, subscription
/// identifiers), each decoded with a limit of exactly its size.
#[test]
fn crafted_worst_cases_stay_within_the_bound() {
    let n = 4097; // entries: one past a power of two, so the last push doubles a Vec
    let mut cases: Vec<(&str, ProtocolVersion, Vec<u8>)> = Vec::new();

    // PUBLISH with n empty User Properties (5 bytes each).
    let props: Vec<u8> = (0..n).flat_map(|_| [0x26, 0, 0, 0, 0]).collect();
    let mut body = b"\x00\x01t".to_vec();
    body.extend(varint(props.len()));
    body.extend(&props);
    cases.push((
        "user properties",
        ProtocolVersion::V5,
        with_header(0x30, &body),
    ));

    // PUBLISH with n Subscription Identifiers (2 bytes each).
    let props: Vec<u8> = (0..n).flat_map(|_| [0x0B, 0x01]).collect();
    let mut body = b"\x00\x01t".to_vec();
    body.extend(varint(props.len()));
    body.extend(&props);
    cases.push((
        "subscription ids",
        ProtocolVersion::V5,
        with_header(0x30, &body),
    ));

    // SUBSCRIBE with n one-character filters (4 bytes each).
    let mut body = vec![0x00, 0x01];
    body.extend((0..n).flat_map(|_| [0x00, 0x01, b'a', 0x00]));
    cases.push((
        "subscribe filters",
        ProtocolVersion::V311,
        with_header(0x82, &body),
    ));

    // UNSUBSCRIBE with n one-character filters (3 bytes each).
    let mut body = vec![0x00, 0x01];
    body.extend((0..n).flat_map(|_| [0x00, 0x01, b'a']));
    cases.push((
        "unsubscribe filters",
        ProtocolVersion::V311,
        with_header(0xA2, &body),
    ));

    // SUBACK and 5.0 UNSUBACK with n reason codes (1 byte each).
    let mut body = vec![0x00, 0x01];
    body.extend(std::iter::repeat_n(0x00, n));
    cases.push((
        "suback codes",
        ProtocolVersion::V311,
        with_header(0x90, &body),
    ));
    let mut body = vec![0x00, 0x01, 0x00];
    body.extend(std::iter::repeat_n(0x11, n));
    cases.push((
        "unsuback codes",
        ProtocolVersion::V5,
        with_header(0xB0, &body),
    ));

    for (what, version, bytes) in cases {
        let size = bytes.len();
        let peak = peak_over_decodes(&bytes, version, size);
        let mut buf = BytesMut::from(&bytes[..]);
        assert!(
            matches!(decode(&mut buf, version, size), Ok(Some(_))),
            "{what} decodes"
        );
        eprintln!(
            "{what}: {size} bytes, peak {peak} = {:.2} x size",
            peak as f64 / size as f64
        );
        assert!(
            peak <= bound(size),
            "{what}: peak {peak} > bound {}",
            bound(size)
        );
    }
}

fn with_header(first: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    v.extend(varint(body.len()));
    v.extend(body);
    v
}

/// A length field far beyond the limit never causes an allocation of that size.
#[test]
fn huge_length_fields_allocate_nothing_large() {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        // Header announcing 268435455 bytes: refused before buffering.
        let peak = peak_over_decodes(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00], version, 1 << 20);
        assert!(peak <= ALLOC_SLACK, "{peak}");
        // Without a limit the decoder waits for the body, allocating nothing for it.
        let peak = peak_over_decodes(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00], version, 0);
        assert!(peak <= ALLOC_SLACK, "{peak}");
        // A string length of 65535 inside a 10-byte packet.
        let peak = peak_over_decodes(&[0x30, 0x04, 0xFF, 0xFF, b'a', b'b'], version, 64);
        assert!(peak <= ALLOC_SLACK, "{peak}");
    }
    // A 5.0 property length of 268435455 inside a small packet.
    let peak = peak_over_decodes(
        &[0x30, 0x08, 0x00, 0x01, b't', 0xFF, 0xFF, 0xFF, 0x7F, 0x26],
        ProtocolVersion::V5,
        64,
    );
    assert!(peak <= ALLOC_SLACK, "{peak}");
}
