//! What the store keeps, and its bytes on disk.
//!
//! A message is kept as an MQTT 5.0 PUBLISH packet, encoded and decoded by the
//! project's own codec, behind a small header of what a packet cannot say (when the
//! message expires, as Unix milliseconds, and who published it). Reusing the codec
//! means one definition of a message's bytes, with its checks (UTF-8 topics,
//! property rules) applied to what is read back. Every record starts with a format
//! byte, so a newer file is recognised and refused instead of misread.

use crate::protocol::{
    self, ByteStr, Packet, Properties, ProtocolVersion, Publish, QoS, RetainHandling,
    SubscriptionOptions, Will,
};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The record format this build writes and reads.
pub const FORMAT: u8 = 1;

/// A record that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Written by a newer mq: its format is unknown here.
    #[error("record format {0} is newer than this mq reads ({FORMAT})")]
    Newer(u8),
    /// Cut short or damaged.
    #[error("damaged record: {0}")]
    Damaged(&'static str),
    /// The PUBLISH inside does not decode.
    #[error("damaged message: {0}")]
    Message(#[from] protocol::Error),
}

/// Unix time in milliseconds.
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A message as kept: the PUBLISH (topic, payload, QoS, retain, properties), when
/// it expires and who published it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMessage {
    /// The message as a PUBLISH (packet identifier and DUP unused).
    pub publish: Publish,
    /// Expiry as Unix milliseconds [MQTT-3.3.2-5]: it keeps counting while the
    /// broker is down.
    pub expires_ms: Option<u64>,
    /// Client identifier of the publisher (No Local).
    pub origin: Option<String>,
}

/// One copy of a message queued for, or in flight to, a persistent session.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredDelivery {
    /// The message.
    pub message: StoredMessage,
    /// QoS for this subscriber.
    pub qos: QoS,
    /// RETAIN flag to send.
    pub retain: bool,
    /// Subscription identifiers.
    pub sub_ids: Vec<u32>,
    /// Packet identifier once sent (0 = still queued).
    pub packet_id: u16,
    /// PUBREC received (QoS 2): PUBREL is what is resent.
    pub released: bool,
}

/// A session that outlives its connection, without its subscriptions and messages
/// (kept in their own tables).
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    /// Session Expiry Interval, seconds (u32::MAX = never).
    pub expiry: u32,
    /// When the connection ended, as Unix milliseconds (`None` while connected):
    /// expiry counts from here, across restarts.
    pub disconnected_ms: Option<u64>,
    /// The user name of its last connection (for the ACL checks of deliveries).
    pub username: Option<String>,
    /// The will, until a normal DISCONNECT deletes it.
    pub will: Option<Will>,
}

/// A subscription as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSubscription {
    /// Options.
    pub options: SubscriptionOptions,
    /// Subscription identifier.
    pub id: Option<u32>,
}

fn put_opt_str(out: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => {
            out.put_u8(1);
            out.put_u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
            out.put_slice(s.as_bytes());
        }
        None => out.put_u8(0),
    }
}

fn get_u8(buf: &mut &[u8]) -> Result<u8, RecordError> {
    if buf.remaining() < 1 {
        return Err(RecordError::Damaged("cut short"));
    }
    Ok(buf.get_u8())
}

fn get_u32(buf: &mut &[u8]) -> Result<u32, RecordError> {
    if buf.remaining() < 4 {
        return Err(RecordError::Damaged("cut short"));
    }
    Ok(buf.get_u32())
}

fn get_u64(buf: &mut &[u8]) -> Result<u64, RecordError> {
    if buf.remaining() < 8 {
        return Err(RecordError::Damaged("cut short"));
    }
    Ok(buf.get_u64())
}

fn get_opt_str(buf: &mut &[u8]) -> Result<Option<String>, RecordError> {
    if get_u8(buf)? == 0 {
        return Ok(None);
    }
    let len = get_u32(buf)? as usize;
    if buf.remaining() < len {
        return Err(RecordError::Damaged("cut short"));
    }
    let s = std::str::from_utf8(&buf[..len]).map_err(|_| RecordError::Damaged("not UTF-8"))?;
    buf.advance(len);
    Ok(Some(s.to_string()))
}

fn get_opt_u64(buf: &mut &[u8]) -> Result<Option<u64>, RecordError> {
    Ok(match get_u8(buf)? {
        0 => None,
        _ => Some(get_u64(buf)?),
    })
}

fn put_opt_u64(out: &mut BytesMut, v: Option<u64>) {
    match v {
        Some(v) => {
            out.put_u8(1);
            out.put_u64(v);
        }
        None => out.put_u8(0),
    }
}

/// The format byte, checked.
fn format(buf: &mut &[u8]) -> Result<(), RecordError> {
    match get_u8(buf)? {
        FORMAT => Ok(()),
        0 => Err(RecordError::Damaged("no format")),
        v => Err(RecordError::Newer(v)),
    }
}

/// A PUBLISH, length first.
fn put_publish(out: &mut BytesMut, p: &Publish) {
    let mut packet = BytesMut::new();
    // Invariant: a message the broker accepted encodes (its parts passed the
    // codec's checks when it came in); an empty record would be refused on reading.
    let _ = protocol::encode(
        &Packet::Publish(p.clone()),
        ProtocolVersion::V5,
        &mut packet,
    );
    out.put_u32(u32::try_from(packet.len()).unwrap_or(u32::MAX));
    out.put_slice(&packet);
}

fn get_publish(buf: &mut &[u8]) -> Result<Publish, RecordError> {
    let len = get_u32(buf)? as usize;
    if buf.remaining() < len {
        return Err(RecordError::Damaged("cut short"));
    }
    let mut packet = BytesMut::from(&buf[..len]);
    buf.advance(len);
    match protocol::decode(&mut packet, ProtocolVersion::V5, 0)? {
        Some(Packet::Publish(p)) => Ok(p),
        _ => Err(RecordError::Damaged("not a PUBLISH")),
    }
}

impl StoredMessage {
    fn put(&self, out: &mut BytesMut) {
        put_opt_u64(out, self.expires_ms);
        put_opt_str(out, self.origin.as_deref());
        put_publish(out, &self.publish);
    }

    fn get(buf: &mut &[u8]) -> Result<StoredMessage, RecordError> {
        let expires_ms = get_opt_u64(buf)?;
        let origin = get_opt_str(buf)?;
        let publish = get_publish(buf)?;
        Ok(StoredMessage {
            publish,
            expires_ms,
            origin,
        })
    }

    /// The record of a retained message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = BytesMut::new();
        out.put_u8(FORMAT);
        self.put(&mut out);
        out.to_vec()
    }

    /// Read a retained message's record.
    pub fn decode(mut buf: &[u8]) -> Result<StoredMessage, RecordError> {
        format(&mut buf)?;
        StoredMessage::get(&mut buf)
    }

    /// Whether it has expired at `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        self.expires_ms.is_some_and(|e| e <= now_ms)
    }

    /// Time left before expiry, from `now_ms`.
    pub fn time_left(&self, now_ms: u64) -> Option<Duration> {
        self.expires_ms
            .map(|e| Duration::from_millis(e.saturating_sub(now_ms)))
    }
}

impl StoredDelivery {
    /// Its record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = BytesMut::new();
        out.put_u8(FORMAT);
        out.put_u8(self.qos.as_u8());
        out.put_u8(u8::from(self.retain) | (u8::from(self.released) << 1));
        out.put_u16(self.packet_id);
        out.put_u32(u32::try_from(self.sub_ids.len()).unwrap_or(0));
        for id in &self.sub_ids {
            out.put_u32(*id);
        }
        self.message.put(&mut out);
        out.to_vec()
    }

    /// Read one back.
    pub fn decode(mut buf: &[u8]) -> Result<StoredDelivery, RecordError> {
        let buf = &mut buf;
        format(buf)?;
        let qos = QoS::from_u8(get_u8(buf)?).ok_or(RecordError::Damaged("QoS"))?;
        let flags = get_u8(buf)?;
        if buf.remaining() < 2 {
            return Err(RecordError::Damaged("cut short"));
        }
        let packet_id = buf.get_u16();
        let n = get_u32(buf)? as usize;
        if n > buf.remaining() / 4 {
            return Err(RecordError::Damaged("subscription identifiers"));
        }
        let sub_ids = (0..n).map(|_| buf.get_u32()).collect();
        let message = StoredMessage::get(buf)?;
        Ok(StoredDelivery {
            message,
            qos,
            retain: flags & 1 != 0,
            sub_ids,
            packet_id,
            released: flags & 2 != 0,
        })
    }
}

impl SessionRecord {
    /// Its record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = BytesMut::new();
        out.put_u8(FORMAT);
        out.put_u32(self.expiry);
        put_opt_u64(&mut out, self.disconnected_ms);
        put_opt_str(&mut out, self.username.as_deref());
        match &self.will {
            Some(w) => {
                out.put_u8(1);
                let mut properties = w.properties.clone();
                properties.will_delay_interval = None;
                put_publish(
                    &mut out,
                    &publish_of(&w.topic, &w.payload, w.qos, w.retain, &properties),
                );
                // The Will Delay Interval is not a PUBLISH property.
                out.put_u32(w.properties.will_delay_interval.unwrap_or(0));
            }
            None => out.put_u8(0),
        }
        out.to_vec()
    }

    /// Read one back.
    pub fn decode(mut buf: &[u8]) -> Result<SessionRecord, RecordError> {
        let buf = &mut buf;
        format(buf)?;
        let expiry = get_u32(buf)?;
        let disconnected_ms = get_opt_u64(buf)?;
        let username = get_opt_str(buf)?;
        let will = match get_u8(buf)? {
            0 => None,
            _ => {
                let p = get_publish(buf)?;
                let delay = get_u32(buf)?;
                let mut properties = p.properties;
                properties.will_delay_interval = (delay > 0).then_some(delay);
                Some(Will {
                    topic: p.topic,
                    payload: p.payload,
                    qos: p.qos,
                    retain: p.retain,
                    properties,
                })
            }
        };
        Ok(SessionRecord {
            expiry,
            disconnected_ms,
            username,
            will,
        })
    }
}

impl StoredSubscription {
    /// Its record.
    pub fn encode(&self) -> Vec<u8> {
        let o = &self.options;
        let rh = match o.retain_handling {
            RetainHandling::SendAtSubscribe => 0,
            RetainHandling::SendIfNew => 1,
            RetainHandling::DoNotSend => 2,
        };
        let mut out = BytesMut::new();
        out.put_u8(FORMAT);
        out.put_u8(
            o.qos.as_u8()
                | u8::from(o.no_local) << 2
                | u8::from(o.retain_as_published) << 3
                | rh << 4,
        );
        put_opt_u64(&mut out, self.id.map(u64::from));
        out.to_vec()
    }

    /// Read one back.
    pub fn decode(mut buf: &[u8]) -> Result<StoredSubscription, RecordError> {
        let buf = &mut buf;
        format(buf)?;
        let b = get_u8(buf)?;
        let qos = QoS::from_u8(b & 3).ok_or(RecordError::Damaged("QoS"))?;
        let retain_handling = match (b >> 4) & 3 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(RecordError::Damaged("retain handling")),
        };
        let id = get_opt_u64(buf)?.and_then(|v| u32::try_from(v).ok());
        Ok(StoredSubscription {
            options: SubscriptionOptions {
                qos,
                no_local: b & 4 != 0,
                retain_as_published: b & 8 != 0,
                retain_handling,
            },
            id,
        })
    }
}

/// A message for [`StoredMessage`] from the broker's parts.
pub fn publish_of(
    topic: &ByteStr,
    payload: &Bytes,
    qos: QoS,
    retain: bool,
    properties: &Properties,
) -> Publish {
    Publish {
        dup: false,
        qos,
        retain,
        topic: topic.clone(),
        packet_id: if qos == QoS::AtMostOnce { 0 } else { 1 },
        properties: properties.clone(),
        payload: payload.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> StoredMessage {
        let props = Properties {
            content_type: Some("text/plain".into()),
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        };
        StoredMessage {
            publish: publish_of(
                &ByteStr::from("car/park"),
                &Bytes::from_static(b"entered"),
                QoS::ExactlyOnce,
                true,
                &props,
            ),
            expires_ms: Some(1_800_000_000_000),
            origin: Some("gate-1".into()),
        }
    }

    #[test]
    fn records_read_back_as_written() {
        let m = message();
        assert_eq!(StoredMessage::decode(&m.encode()).unwrap(), m);
        let d = StoredDelivery {
            message: m,
            qos: QoS::AtLeastOnce,
            retain: false,
            sub_ids: vec![7, 300_000],
            packet_id: 42,
            released: true,
        };
        assert_eq!(StoredDelivery::decode(&d.encode()).unwrap(), d);
        let props = Properties {
            will_delay_interval: Some(30),
            ..Properties::default()
        };
        let s = SessionRecord {
            expiry: 300,
            disconnected_ms: Some(5),
            username: Some("alice".into()),
            will: Some(Will {
                topic: "w".into(),
                payload: Bytes::from_static(b"gone"),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: props,
            }),
        };
        assert_eq!(SessionRecord::decode(&s.encode()).unwrap(), s);
        let sub = StoredSubscription {
            options: SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                no_local: true,
                retain_as_published: true,
                retain_handling: RetainHandling::DoNotSend,
            },
            id: Some(9),
        };
        assert_eq!(StoredSubscription::decode(&sub.encode()).unwrap(), sub);
    }

    #[test]
    fn damaged_and_newer_records_are_refused() {
        let bytes = message().encode();
        for cut in 0..bytes.len() {
            assert!(
                StoredMessage::decode(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut newer = bytes.clone();
        newer[0] = FORMAT + 1;
        assert!(matches!(
            StoredMessage::decode(&newer),
            Err(RecordError::Newer(_))
        ));
    }
}
