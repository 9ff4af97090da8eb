//! Building the messages: the topic template (`%i`, `%c`, `%s`), the PUBLISH template
//! that is encoded once by the codec and patched per message, and the clock and run id
//! that go into every payload header.

use super::payload::Header;
use crate::protocol::{self, ByteStr, Packet, ProtocolVersion, Publish, QoS, topic};
use bytes::{Bytes, BytesMut};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A wall clock read through the monotonic clock: one Unix-epoch anchor taken at start,
/// then `Instant` differences, so timestamps never jump backwards inside a run.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base: Instant,
    base_unix_ns: u64,
}

impl Clock {
    /// Anchor now.
    pub fn new() -> Clock {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Clock {
            base: Instant::now(),
            base_unix_ns: unix,
        }
    }

    /// Nanoseconds since the Unix epoch at `t`.
    pub fn at(&self, t: Instant) -> u64 {
        let since = t.saturating_duration_since(self.base).as_nanos() as u64;
        self.base_unix_ns + since
    }

    /// Nanoseconds since the Unix epoch now.
    pub fn now_ns(&self) -> u64 {
        self.at(Instant::now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// A random-enough 32-bit id for this run, without a random-number crate: the std
/// hasher is randomly keyed per process.
pub fn run_id() -> u32 {
    crate::random::entropy() as u32
}

/// A topic template: `%i` client index, `%c` client id, `%s` message sequence, `%%`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicTemplate {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Lit(String),
    Index,
    ClientId,
    Seq,
}

impl TopicTemplate {
    /// Parse a template; an unknown `%x` is an error.
    pub fn parse(s: &str) -> Result<TopicTemplate, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            let p = match chars.next() {
                Some('i') => Part::Index,
                Some('c') => Part::ClientId,
                Some('s') => Part::Seq,
                Some('%') => {
                    lit.push('%');
                    continue;
                }
                Some(o) => {
                    return Err(format!(
                        "unknown placeholder %{o} in topic '{s}' (use %i, %c, %s)"
                    ));
                }
                None => return Err(format!("topic '{s}' ends with a lone %")),
            };
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(p);
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        let t = TopicTemplate { parts };
        topic::validate_name(&t.render(0, "c", 0))
            .map_err(|e| format!("invalid topic '{s}': {e}"))?;
        Ok(t)
    }

    /// Whether the topic changes with every message.
    pub fn has_seq(&self) -> bool {
        self.parts.contains(&Part::Seq)
    }

    /// The topic for one message.
    pub fn render(&self, index: u32, client_id: &str, seq: u64) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => s.push_str(l),
                Part::Index => s.push_str(&index.to_string()),
                Part::ClientId => s.push_str(client_id),
                Part::Seq => s.push_str(&seq.to_string()),
            }
        }
        s
    }

    /// The filter that matches every topic of the template: each level holding a
    /// placeholder becomes `+` (`bench/%i` -> `bench/+`).
    pub fn matching_filter(template: &str) -> String {
        template
            .split('/')
            .map(|l| if l.contains('%') { "+" } else { l })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// A PUBLISH encoded once by the codec; each message copies it and patches the
/// payload header (and packet identifier) in place.
pub struct PublishTemplate {
    bytes: Bytes,
    payload_off: usize,
    pid_off: Option<usize>,
}

impl PublishTemplate {
    /// Encode the template for a fixed topic.
    pub fn new(
        topic: &str,
        qos: QoS,
        retain: bool,
        size: usize,
        version: ProtocolVersion,
    ) -> Result<PublishTemplate, protocol::Error> {
        let publish = Publish {
            qos,
            retain,
            topic: ByteStr::from(topic),
            packet_id: if qos == QoS::AtMostOnce { 0 } else { 1 },
            payload: Bytes::from(vec![0u8; size]),
            ..Publish::default()
        };
        let mut b = BytesMut::new();
        protocol::encode(&Packet::Publish(publish), version, &mut b)?;
        let payload_off = b.len() - size;
        // Variable header: topic, packet identifier (QoS > 0), properties (5.0: an
        // empty block is one zero byte) [MQTT-3.3.2].
        let props = usize::from(version.is_v5());
        let pid_off = (qos != QoS::AtMostOnce).then(|| payload_off - props - 2);
        Ok(PublishTemplate {
            bytes: b.freeze(),
            payload_off,
            pid_off,
        })
    }

    /// Append one message.
    pub fn append(&self, out: &mut BytesMut, header: &Header, packet_id: u16) {
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        header.write(&mut out[start + self.payload_off..]);
        if let Some(o) = self.pid_off {
            out[start + o..start + o + 2].copy_from_slice(&packet_id.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ByteStr, Packet, ProtocolVersion, Publish, QoS};

    #[test]
    fn topic_templates() {
        let t = TopicTemplate::parse("bench/%i/%c/%s/100%%").expect("valid template");
        assert_eq!(t.render(3, "cid", 42), "bench/3/cid/42/100%");
        assert!(t.has_seq());
        assert!(TopicTemplate::parse("bench/%x").is_err());
        assert!(
            TopicTemplate::parse("bench/#").is_err(),
            "wildcards are not topic names"
        );
        assert_eq!(TopicTemplate::matching_filter("bench/%i"), "bench/+");
        assert_eq!(TopicTemplate::matching_filter("a/x%c/b"), "a/+/b");
    }

    #[test]
    fn template_encoding_matches_the_codec() {
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                let t = PublishTemplate::new("bench/7", qos, true, 40, version).expect("encodes");
                let h = Header {
                    run_id: 9,
                    publisher: 7,
                    seq: 5,
                    timestamp_ns: 77,
                };
                let mut fast = BytesMut::new();
                t.append(&mut fast, &h, 0x1234);
                let mut payload = vec![0u8; 40];
                h.write(&mut payload);
                let p = Publish {
                    qos,
                    retain: true,
                    topic: ByteStr::from("bench/7"),
                    packet_id: if qos == QoS::AtMostOnce { 0 } else { 0x1234 },
                    payload: Bytes::from(payload),
                    ..Publish::default()
                };
                let mut slow = BytesMut::new();
                protocol::encode(&Packet::Publish(p), version, &mut slow).expect("encodes");
                assert_eq!(fast, slow, "{version:?} {qos:?}");
            }
        }
    }
}
