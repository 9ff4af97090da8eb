//! The bench payload header: every message `mq bench` publishes starts with it, so a
//! subscriber (in this process or another) can count loss, duplicates and reordering
//! per publisher and measure end-to-end latency.
//!
//! Layout (28 bytes, big-endian), followed by filler up to `--size`:
//!
//! | bytes  | field                                                         |
//! |--------|---------------------------------------------------------------|
//! | 0..4   | magic `mqb1`                                                  |
//! | 4..8   | run id: random per `mq bench` process                         |
//! | 8..12  | publisher index within the run                                |
//! | 12..20 | sequence number, 0, 1, 2... per publisher                      |
//! | 20..28 | timestamp: nanoseconds since the Unix epoch (intended send time |
//! |        | when the publisher is paced, actual send time otherwise)       |

/// The four magic bytes that start a bench payload.
pub const MAGIC: [u8; 4] = *b"mqb1";
/// Size of the header; the smallest `--size` accepted.
pub const HEADER_LEN: usize = 28;

/// The decoded header of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Random id of the publishing `mq bench` process.
    pub run_id: u32,
    /// Index of the publisher within its run.
    pub publisher: u32,
    /// Sequence number within that publisher.
    pub seq: u64,
    /// Send timestamp, nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
}

impl Header {
    /// The key that identifies a publisher across runs: run id and index.
    pub fn publisher_key(&self) -> u64 {
        (u64::from(self.run_id) << 32) | u64::from(self.publisher)
    }

    /// Write the header into the first [`HEADER_LEN`] bytes of `out`. `out` must be at
    /// least that long (the caller sized the payload to `--size >= HEADER_LEN`).
    pub fn write(&self, out: &mut [u8]) {
        if out.len() < HEADER_LEN {
            return;
        }
        out[0..4].copy_from_slice(&MAGIC);
        out[4..8].copy_from_slice(&self.run_id.to_be_bytes());
        out[8..12].copy_from_slice(&self.publisher.to_be_bytes());
        out[12..20].copy_from_slice(&self.seq.to_be_bytes());
        out[20..28].copy_from_slice(&self.timestamp_ns.to_be_bytes());
    }

    /// Read a header from the start of a payload; `None` if it is not a bench payload.
    pub fn read(payload: &[u8]) -> Option<Header> {
        let h = payload.get(..HEADER_LEN)?;
        if h[0..4] != MAGIC {
            return None;
        }
        let u32_at = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[i..i + 8]);
            u64::from_be_bytes(b)
        };
        Some(Header {
            run_id: u32_at(4),
            publisher: u32_at(8),
            seq: u64_at(12),
            timestamp_ns: u64_at(20),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = Header {
            run_id: 0xDEAD_BEEF,
            publisher: 7,
            seq: 123_456_789_012,
            timestamp_ns: 1_700_000_000_123_456_789,
        };
        let mut buf = vec![0u8; 64];
        h.write(&mut buf);
        assert_eq!(Header::read(&buf), Some(h));
        assert_eq!(h.publisher_key(), 0xDEAD_BEEF_0000_0007);
    }

    #[test]
    fn foreign_payloads_are_not_headers() {
        assert_eq!(Header::read(b"hello"), None);
        assert_eq!(Header::read(&[0u8; 40]), None);
    }
}
