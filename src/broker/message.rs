//! Application messages inside the broker, and their encoding shared by subscribers.
//!
//! A [`Message`] is created once per received PUBLISH (or will) and shared by `Arc`
//! with every subscriber it is routed to. The encoded PUBLISH is cached per variant
//! (protocol family × QoS × retain) as `Bytes`, so all subscribers that get the same
//! bytes share one encoding; the writer copies it into its batch buffer and patches
//! the packet identifier and DUP flag in place. Subscribers that need their own
//! properties (subscription identifiers, topic alias, remaining message expiry) get
//! a packet encoded for them.

use crate::protocol::{self, ByteStr, Packet, Properties, ProtocolVersion, Publish, QoS};
use bytes::{Bytes, BytesMut};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// One application message.
#[derive(Debug)]
pub struct Message {
    /// Topic name.
    pub topic: ByteStr,
    /// Payload.
    pub payload: Bytes,
    /// QoS it was published with.
    pub qos: QoS,
    /// RETAIN flag as published.
    pub retain: bool,
    /// Properties forwarded to 5.0 subscribers (payload format, content type,
    /// response topic, correlation data, user properties) [MQTT-3.3.2-20].
    pub properties: Properties,
    /// When the message expires (from Message Expiry Interval) [MQTT-3.3.2-5].
    pub expires: Option<Instant>,
    /// Client identifier of the publisher (for No Local [MQTT-3.8.3-3]).
    pub origin: Option<Arc<str>>,
    cache: [OnceLock<Bytes>; 12],
}

impl Message {
    /// A message from a received PUBLISH (topic already resolved from an alias).
    pub fn new(
        topic: ByteStr,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        mut properties: Properties,
        origin: Option<Arc<str>>,
    ) -> Message {
        properties.topic_alias = None;
        properties.subscription_identifiers.clear();
        let expires = properties
            .message_expiry_interval
            .take()
            .map(|s| Instant::now() + std::time::Duration::from_secs(u64::from(s)));
        Message {
            topic,
            payload,
            qos,
            retain,
            properties,
            expires,
            origin,
            cache: Default::default(),
        }
    }

    /// Whether the message has expired.
    pub fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }

    /// Seconds left before expiry, rounded up (forwarded to subscribers
    /// [MQTT-3.3.2-6]).
    pub fn remaining_expiry(&self, now: Instant) -> Option<u32> {
        self.expires.map(|e| {
            let d = e.saturating_duration_since(now);
            let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
            u32::try_from(s).unwrap_or(u32::MAX)
        })
    }

    /// Size of the payload in bytes.
    pub fn len(&self) -> usize {
        self.payload.len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    /// The PUBLISH packet for a subscriber, with packet identifier 0 and DUP clear
    /// (the caller sets them).
    pub fn to_publish(
        &self,
        version: ProtocolVersion,
        qos: QoS,
        retain: bool,
        sub_ids: &[u32],
        now: Instant,
    ) -> Publish {
        let properties = if version.is_v5() {
            let mut p = self.properties.clone();
            p.message_expiry_interval = self.remaining_expiry(now);
            p.subscription_identifiers = sub_ids.to_vec();
            p
        } else {
            Properties::default()
        };
        Publish {
            dup: false,
            qos,
            retain,
            topic: self.topic.clone(),
            packet_id: 0,
            properties,
            payload: self.payload.clone(),
        }
    }

    /// The shared encoding of this message for subscribers without per-subscriber
    /// properties, with packet identifier 0 (patch it with [`patch_publish`]).
    /// `None` when the message needs per-subscriber encoding (it can expire).
    pub fn shared_encoding(
        &self,
        version: ProtocolVersion,
        qos: QoS,
        retain: bool,
    ) -> Option<&Bytes> {
        if self.expires.is_some() && version.is_v5() {
            return None;
        }
        let family = usize::from(version.is_v5());
        let slot = family * 6 + usize::from(qos.as_u8()) * 2 + usize::from(retain);
        let cell = self.cache.get(slot)?;
        if let Some(b) = cell.get() {
            return Some(b);
        }
        let publish = self.to_publish(version, qos, retain, &[], Instant::now());
        let mut buf = BytesMut::new();
        protocol::encode(&Packet::Publish(publish), version, &mut buf).ok()?;
        Some(cell.get_or_init(|| buf.freeze()))
    }
}

/// Payloads up to this size are copied out of the read buffer they arrived in
/// (see [`own_bytes`]); larger ones, which fill most of their buffer anyway, are kept
/// where they are.
pub const COPY_LIMIT: usize = 64 * 1024;

/// Copy the parts of a received message that are slices of the connection's read
/// buffer (topic, payload, Response Topic, Correlation Data) into one allocation of
/// their own. A decoded packet shares the buffer it was read into with every other
/// packet of the same read, so a message kept for long — queued for a subscriber
/// that is away or slow, retained, a will — would otherwise keep that whole buffer
/// alive.
pub fn own_bytes(topic: &mut ByteStr, payload: &mut Bytes, properties: &mut Properties) {
    let response = properties.response_topic.as_ref().map_or(0, |t| t.len());
    let correlation = properties.correlation_data.as_ref().map_or(0, Bytes::len);
    let mut all = BytesMut::with_capacity(topic.len() + payload.len() + response + correlation);
    all.extend_from_slice(topic.as_bytes());
    all.extend_from_slice(payload);
    if let Some(t) = &properties.response_topic {
        all.extend_from_slice(t.as_bytes());
    }
    if let Some(d) = &properties.correlation_data {
        all.extend_from_slice(d);
    }
    let mut all = all.freeze();
    let topic_bytes = all.split_to(topic.len());
    *payload = all.split_to(payload.len());
    // Invariant: the bytes were copied from valid UTF-8 strings, so the checks
    // cannot fail; the originals are kept if they ever did.
    if let Ok(t) = ByteStr::from_utf8(topic_bytes) {
        *topic = t;
    }
    if let Some(t) = properties.response_topic.as_mut()
        && let Ok(copy) = ByteStr::from_utf8(all.split_to(response))
    {
        *t = copy;
    }
    if let Some(d) = properties.correlation_data.as_mut() {
        *d = all.split_to(correlation);
    }
}

/// Set the packet identifier and DUP flag of an encoded PUBLISH at the end of `buf`
/// that starts at `start` (QoS 1/2 only) for topic length `topic_len`.
pub fn patch_publish(buf: &mut [u8], start: usize, topic_len: usize, packet_id: u16, dup: bool) {
    let Some(first) = buf.get_mut(start) else {
        return;
    };
    if dup {
        *first |= 0x08;
    }
    // Skip the Remaining Length (1 to 4 bytes, the last one has the top bit clear).
    let mut i = start + 1;
    while buf.get(i).is_some_and(|b| b & 0x80 != 0) {
        i += 1;
    }
    let at = i + 1 + 2 + topic_len;
    if let Some(slot) = buf.get_mut(at..at + 2) {
        slot.copy_from_slice(&packet_id.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(part: &[u8], whole: &Bytes) -> bool {
        let start = whole.as_ptr() as usize;
        let p = part.as_ptr() as usize;
        p >= start && p < start + whole.len()
    }

    #[test]
    fn own_bytes_copies_every_slice_of_the_read_buffer() {
        let read = Bytes::from_static(b"a/b hello r/t corr and the rest of a big read");
        let mut topic = ByteStr::from_utf8(read.slice(0..3)).unwrap();
        let mut payload = read.slice(4..9);
        let mut properties = Properties {
            response_topic: Some(ByteStr::from_utf8(read.slice(10..13)).unwrap()),
            correlation_data: Some(read.slice(14..18)),
            ..Properties::default()
        };
        own_bytes(&mut topic, &mut payload, &mut properties);
        assert_eq!(&*topic, "a/b");
        assert_eq!(&payload[..], b"hello");
        let response = properties.response_topic.unwrap();
        let correlation = properties.correlation_data.unwrap();
        assert_eq!(&*response, "r/t");
        assert_eq!(&correlation[..], b"corr");
        for part in [
            topic.as_bytes(),
            &payload,
            response.as_bytes(),
            &correlation,
        ] {
            assert!(!within(part, &read), "still a slice of the read buffer");
        }
    }
}
