//! Fuzz target for the MQTT decoder: any input is decoded as a stream of packets under
//! MQTT 3.1, 3.1.1 and 5.0 with a maximum packet size. Decoding must never panic; every
//! packet it accepts must encode to `encoded_len` bytes and decode back to itself.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mq::protocol::{ProtocolVersion, decode, encode, encoded_len};

/// The receiver's maximum packet size for the run.
const MAX_PACKET_SIZE: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    for version in [
        ProtocolVersion::V31,
        ProtocolVersion::V311,
        ProtocolVersion::V5,
    ] {
        let mut buf = BytesMut::from(data);
        // Each successful decode consumes at least two bytes, so this ends.
        while let Ok(Some(packet)) = decode(&mut buf, version, MAX_PACKET_SIZE) {
            let mut out = BytesMut::new();
            if let Err(e) = encode(&packet, version, &mut out) {
                panic!("a decoded packet does not encode: {e}: {packet:?}");
            }
            assert_eq!(out.len(), encoded_len(&packet, version), "{packet:?}");
            match decode(&mut out, version, 0) {
                Ok(Some(again)) => assert_eq!(again, packet, "re-decoded packet differs"),
                other => panic!("re-encoded packet does not decode: {other:?}: {packet:?}"),
            }
            assert!(
                out.is_empty(),
                "re-encoded packet has trailing bytes: {packet:?}"
            );
        }
    }
});
