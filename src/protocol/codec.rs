//! Incremental decoding and encoding of control packets (sections 2 and 3 of the
//! MQTT 3.1.1 and 5.0 specifications).

use super::properties::PropertyContext;
use super::topic;
use super::wire::{self, Reader};
use super::*;
use bytes::{BufMut, Bytes, BytesMut};

/// Largest Remaining Length a fixed header can carry [MQTT-1.5.5].
pub const MAX_REMAINING_LENGTH: usize = wire::MAX_VARINT as usize;

/// Decode one packet from the front of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed (nothing is consumed), `Ok(Some(p))`
/// after consuming exactly one packet, or an error naming the violated rule. The
/// fixed header is checked as soon as it is complete: reserved packet types and flag
/// bits [MQTT-2.2.2-2], a Remaining Length of at most four bytes [MQTT-1.5.5-1], and
/// the total size against `max_packet_size` (0 = no limit but the protocol's) before
/// the body is waited for, so a peer cannot make the receiver buffer more than the
/// limit.
///
/// `version` is the version of the connection; a CONNECT carries its own and ignores it.
pub fn decode(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max_packet_size: usize,
) -> Result<Option<Packet>, Error> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    check_fixed_header_flags(first, version)?;
    let Some((header_len, remaining)) = fixed_header(buf)? else {
        return Ok(None);
    };
    let total = header_len + remaining;
    if max_packet_size > 0 && total > max_packet_size {
        return Err(Error::PacketTooLarge {
            size: total,
            max: max_packet_size,
        });
    }
    if buf.len() < total {
        return Ok(None);
    }
    let mut frame = buf.split_to(total).freeze();
    let body = frame.split_off(header_len);
    decode_body(first, body, version).map(Some)
}

/// The fixed header at the start of `buf`: its length and the Remaining Length, or
/// `None` while it is incomplete. A Remaining Length over four bytes is malformed
/// [MQTT-1.5.5-1].
fn fixed_header(buf: &[u8]) -> Result<Option<(usize, usize)>, Error> {
    let mut remaining: usize = 0;
    let mut header_len = 1;
    loop {
        let Some(&b) = buf.get(header_len) else {
            return Ok(None);
        };
        remaining |= usize::from(b & 0x7F) << (7 * (header_len - 1));
        header_len += 1;
        if b & 0x80 == 0 {
            return Ok(Some((header_len, remaining)));
        }
        if header_len == 5 {
            return Err(Error::Malformed(
                "Remaining Length longer than four bytes [MQTT-1.5.5-1]",
            ));
        }
    }
}

/// The whole size of the packet at the start of `buf` (fixed header and Remaining
/// Length), once its fixed header is complete; `None` before that, or when the
/// header is malformed ([`decode`] says why). Lets a reader size its buffer for the
/// packet it is receiving.
pub fn frame_len(buf: &[u8]) -> Option<usize> {
    fixed_header(buf)
        .ok()
        .flatten()
        .map(|(header_len, remaining)| header_len + remaining)
}

/// Reject reserved packet types and wrong flag bits [MQTT-2.2.2-2], QoS 3
/// [MQTT-3.3.1-4] and DUP on QoS 0 [MQTT-3.3.1-2].
fn check_fixed_header_flags(first: u8, version: ProtocolVersion) -> Result<(), Error> {
    let flags = first & 0x0F;
    let ok = match first >> 4 {
        0 => return Err(Error::Malformed("reserved packet type 0")),
        3 => {
            if (flags >> 1) & 0x03 == 3 {
                return Err(Error::Malformed("PUBLISH with QoS 3 [MQTT-3.3.1-4]"));
            }
            if flags & 0x08 != 0 && (flags >> 1) & 0x03 == 0 {
                return Err(Error::Malformed(
                    "DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]",
                ));
            }
            true
        }
        6 | 8 | 10 => flags == 0x02,
        15 if !version.is_v5() => {
            return Err(Error::Malformed("reserved packet type 15 in MQTT 3.1.1"));
        }
        _ => flags == 0,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Malformed(
            "reserved flag bits in the fixed header [MQTT-2.2.2-2]",
        ))
    }
}

fn nonzero_id(id: u16) -> Result<u16, Error> {
    if id == 0 {
        Err(Error::Protocol(
            "packet identifier 0 where one is required [MQTT-2.2.1-3]",
        ))
    } else {
        Ok(id)
    }
}

/// Count the entries of a SUBSCRIBE / UNSUBSCRIBE payload (a string followed by
/// `trailer` bytes each) so the vector of filters is allocated once, at its exact size:
/// decoding then allocates a fixed multiple of the packet size at most. Stops at the
/// first malformed entry (the decoding pass then reports it).
fn count_entries(mut r: Reader, trailer: usize) -> usize {
    let mut n = 0;
    while !r.is_empty() {
        if r.binary().and_then(|_| r.take(trailer)).is_err() {
            break;
        }
        n += 1;
    }
    n
}

fn finish(r: &Reader) -> Result<(), Error> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(Error::Malformed("bytes after the end of the packet"))
    }
}

fn decode_body(first: u8, body: Bytes, version: ProtocolVersion) -> Result<Packet, Error> {
    let flags = first & 0x0F;
    let mut r = Reader::new(body);
    let v5 = version.is_v5();
    let packet = match first >> 4 {
        1 => Packet::Connect(Box::new(decode_connect(&mut r)?)),
        2 => {
            let ack_flags = r.u8()?;
            if ack_flags & 0xFE != 0 {
                return Err(Error::Malformed(
                    "reserved CONNACK acknowledge flags [MQTT-3.2.2-1]",
                ));
            }
            let rc = r.u8()?;
            let (reason, properties) = if v5 {
                if r.is_empty() {
                    // No Property Length: a 3.1.1 CONNACK, as a server that does not
                    // speak 5.0 answers a level-5 CONNECT (return code 1,
                    // [MQTT-3.1.2-2]). 5.0 has no reason codes 1..=5 in CONNACK, so
                    // those are read as the 3.1.1 return codes they are: refusals.
                    let reason = match rc {
                        1..=5 => ReasonCode::from_v3_connack(rc).unwrap_or(ReasonCode(rc)),
                        _ => ReasonCode(rc),
                    };
                    (reason, Properties::default())
                } else {
                    let props = Properties::decode(&mut r, PropertyContext::ConnAck)?;
                    (ReasonCode(rc), props)
                }
            } else {
                let reason = ReasonCode::from_v3_connack(rc)
                    .ok_or(Error::Malformed("reserved CONNACK return code"))?;
                (reason, Properties::default())
            };
            Packet::ConnAck(ConnAck {
                session_present: ack_flags & 1 == 1,
                reason,
                properties,
            })
        }
        3 => Packet::Publish(decode_publish(flags, &mut r, v5)?),
        4..=7 => {
            let ack = decode_ack(&mut r, v5)?;
            match first >> 4 {
                4 => Packet::PubAck(ack),
                5 => Packet::PubRec(ack),
                6 => Packet::PubRel(ack),
                _ => Packet::PubComp(ack),
            }
        }
        8 => Packet::Subscribe(decode_subscribe(&mut r, v5)?),
        9 => {
            let packet_id = nonzero_id(r.u16()?)?;
            let properties = if v5 {
                Properties::decode(&mut r, PropertyContext::SubAck)?
            } else {
                Properties::default()
            };
            let codes = r.rest();
            if codes.is_empty() {
                return Err(Error::Protocol("SUBACK without return codes"));
            }
            if !v5 && codes.iter().any(|c| !matches!(c, 0 | 1 | 2 | 0x80)) {
                return Err(Error::Malformed(
                    "reserved SUBACK return code [MQTT-3.9.3-2]",
                ));
            }
            let reason_codes = codes.iter().map(|&c| ReasonCode(c)).collect();
            Packet::SubAck(SubAck {
                packet_id,
                reason_codes,
                properties,
            })
        }
        10 => {
            let packet_id = nonzero_id(r.u16()?)?;
            let properties = if v5 {
                Properties::decode(&mut r, PropertyContext::Unsubscribe)?
            } else {
                Properties::default()
            };
            let mut filters = Vec::with_capacity(count_entries(r.clone(), 0));
            while !r.is_empty() {
                let f = r.string_owned()?;
                topic::validate_filter(&f).map_err(Error::InvalidTopicFilter)?;
                filters.push(f);
            }
            if filters.is_empty() {
                return Err(Error::Protocol(
                    "UNSUBSCRIBE without a topic filter [MQTT-3.10.3-2]",
                ));
            }
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                properties,
            })
        }
        11 => {
            let packet_id = nonzero_id(r.u16()?)?;
            let (properties, reason_codes) = if v5 {
                let p = Properties::decode(&mut r, PropertyContext::UnsubAck)?;
                (p, r.rest().iter().map(|&c| ReasonCode(c)).collect())
            } else {
                (Properties::default(), Vec::new())
            };
            Packet::UnsubAck(UnsubAck {
                packet_id,
                reason_codes,
                properties,
            })
        }
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => {
            let (reason, properties) =
                decode_reason_props(&mut r, v5, PropertyContext::Disconnect)?;
            Packet::Disconnect(Disconnect { reason, properties })
        }
        15 => {
            let (reason, properties) = decode_reason_props(&mut r, v5, PropertyContext::Auth)?;
            Packet::Auth(Auth { reason, properties })
        }
        _ => return Err(Error::Malformed("reserved packet type")),
    };
    finish(&r)?;
    Ok(packet)
}

/// DISCONNECT and AUTH: in 5.0 an absent reason code means success, and absent
/// properties mean none [MQTT-3.14.2.1], [MQTT-3.15.2.1].
fn decode_reason_props(
    r: &mut Reader,
    v5: bool,
    ctx: PropertyContext,
) -> Result<(ReasonCode, Properties), Error> {
    if !v5 || r.is_empty() {
        return Ok((ReasonCode::SUCCESS, Properties::default()));
    }
    let reason = ReasonCode(r.u8()?);
    let props = if r.is_empty() {
        Properties::default()
    } else {
        Properties::decode(r, ctx)?
    };
    Ok((reason, props))
}

fn decode_connect(r: &mut Reader) -> Result<Connect, Error> {
    let name = r.binary()?;
    let raw_level = r.u8()?;
    // Bit 7 marks a bridge (mosquitto's `try_private`), under 3.1 and 3.1.1 only.
    let bridge = raw_level & 0x80 != 0 && matches!(raw_level & 0x7f, 3 | 4);
    let level = if bridge { raw_level & 0x7f } else { raw_level };
    let protocol = match (&name[..], level) {
        (b"MQTT", 4) => ProtocolVersion::V311,
        (b"MQTT", 5) => ProtocolVersion::V5,
        (b"MQIsdp", 3) => ProtocolVersion::V31,
        (b"MQTT", l) | (b"MQIsdp", l) => return Err(Error::UnsupportedProtocolLevel(l)),
        _ => return Err(Error::InvalidProtocolName),
    };
    let v5 = protocol.is_v5();
    let flags = r.u8()?;
    if flags & 0x01 != 0 {
        return Err(Error::Malformed("reserved CONNECT flag set [MQTT-3.1.2-3]"));
    }
    let clean_start = flags & 0x02 != 0;
    let will_flag = flags & 0x04 != 0;
    let will_qos = (flags >> 3) & 0x03;
    let will_retain = flags & 0x20 != 0;
    let password_flag = flags & 0x40 != 0;
    let username_flag = flags & 0x80 != 0;
    if !will_flag && (will_qos != 0 || will_retain) {
        return Err(Error::Malformed(
            "Will QoS or Will Retain set without the Will Flag [MQTT-3.1.2-11]",
        ));
    }
    let will_qos = QoS::from_u8(will_qos).ok_or(Error::Malformed("Will QoS 3 [MQTT-3.1.2-12]"))?;
    if !v5 && password_flag && !username_flag {
        return Err(Error::Malformed(
            "Password Flag set without the User Name Flag [MQTT-3.1.2-22]",
        ));
    }
    let keep_alive = r.u16()?;
    let properties = if v5 {
        Properties::decode(r, PropertyContext::Connect)?
    } else {
        Properties::default()
    };
    let client_id = r.string_owned()?;
    let will = if will_flag {
        let properties = if v5 {
            Properties::decode(r, PropertyContext::Will)?
        } else {
            Properties::default()
        };
        let topic = r.string()?;
        topic::validate_name(&topic).map_err(Error::InvalidTopicName)?;
        let payload = r.binary()?;
        Some(Will {
            topic,
            payload,
            qos: will_qos,
            retain: will_retain,
            properties,
        })
    } else {
        None
    };
    let username = if username_flag {
        Some(r.string_owned()?)
    } else {
        None
    };
    let password = if password_flag {
        Some(r.binary()?)
    } else {
        None
    };
    Ok(Connect {
        protocol,
        clean_start,
        keep_alive,
        client_id,
        will,
        username,
        password,
        properties,
        bridge,
    })
}

fn decode_publish(flags: u8, r: &mut Reader, v5: bool) -> Result<Publish, Error> {
    // Flags were checked by `check_fixed_header_flags`; QoS 3 cannot reach here.
    let qos = QoS::from_u8((flags >> 1) & 0x03).unwrap_or(QoS::ExactlyOnce);
    let topic = r.string()?;
    let packet_id = if qos == QoS::AtMostOnce {
        0
    } else {
        nonzero_id(r.u16()?)?
    };
    let properties = if v5 {
        Properties::decode(r, PropertyContext::Publish)?
    } else {
        Properties::default()
    };
    if topic.is_empty() {
        if properties.topic_alias.is_none() {
            return Err(if v5 {
                Error::Protocol("empty topic name without a Topic Alias [MQTT-3.3.2-1]")
            } else {
                Error::InvalidTopicName("empty topic name [MQTT-4.7.3-1]")
            });
        }
    } else {
        topic::validate_name(&topic).map_err(Error::InvalidTopicName)?;
    }
    Ok(Publish {
        dup: flags & 0x08 != 0,
        qos,
        retain: flags & 0x01 != 0,
        topic,
        packet_id,
        properties,
        payload: r.rest(),
    })
}

fn decode_ack(r: &mut Reader, v5: bool) -> Result<Ack, Error> {
    let packet_id = nonzero_id(r.u16()?)?;
    if !v5 || r.is_empty() {
        return Ok(Ack::new(packet_id));
    }
    let reason = ReasonCode(r.u8()?);
    let properties = if r.is_empty() {
        Properties::default()
    } else {
        Properties::decode(r, PropertyContext::PubAck)?
    };
    Ok(Ack {
        packet_id,
        reason,
        properties,
    })
}

fn decode_subscribe(r: &mut Reader, v5: bool) -> Result<Subscribe, Error> {
    let packet_id = nonzero_id(r.u16()?)?;
    let properties = if v5 {
        Properties::decode(r, PropertyContext::Subscribe)?
    } else {
        Properties::default()
    };
    let mut filters = Vec::with_capacity(count_entries(r.clone(), 1));
    while !r.is_empty() {
        let filter = r.string_owned()?;
        let opts = r.u8()?;
        let reserved = if v5 { opts & 0xC0 } else { opts & 0xFC };
        if reserved != 0 {
            return Err(Error::Malformed(
                "reserved subscription option bits set [MQTT-3.8.3-5]",
            ));
        }
        let qos = QoS::from_u8(opts & 0x03)
            .ok_or(Error::Malformed("subscription with QoS 3 [MQTT-3.8.3-4]"))?;
        let retain_handling = match (opts >> 4) & 0x03 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(Error::Protocol("Retain Handling 3 [MQTT-3.8.3.1]")),
        };
        let options = SubscriptionOptions {
            qos,
            no_local: opts & 0x04 != 0,
            retain_as_published: opts & 0x08 != 0,
            retain_handling,
        };
        topic::validate_filter(&filter).map_err(Error::InvalidTopicFilter)?;
        if options.no_local && topic::is_shared(&filter) {
            return Err(Error::Protocol(
                "No Local on a shared subscription [MQTT-3.8.3-4]",
            ));
        }
        filters.push(SubscribeFilter { filter, options });
    }
    if filters.is_empty() {
        return Err(Error::Protocol(
            "SUBSCRIBE without a topic filter [MQTT-3.8.3-3]",
        ));
    }
    Ok(Subscribe {
        packet_id,
        filters,
        properties,
    })
}

// ---------------------------------------------------------------------------
// Encoding

fn string_len(s: &str) -> usize {
    2 + s.len()
}

fn props_len(p: &Properties, v5: bool) -> usize {
    if v5 { p.encoded_len() } else { 0 }
}

/// Length of the variable header and payload (the Remaining Length).
fn remaining_len(packet: &Packet, version: ProtocolVersion) -> usize {
    let v5 = version.is_v5();
    match packet {
        Packet::Connect(c) => {
            let cv5 = c.protocol.is_v5();
            let mut n = string_len(c.protocol.protocol_name()) + 1 + 1 + 2;
            n += props_len(&c.properties, cv5);
            n += string_len(&c.client_id);
            if let Some(w) = &c.will {
                n += props_len(&w.properties, cv5);
                n += string_len(&w.topic) + 2 + w.payload.len();
            }
            if let Some(u) = &c.username {
                n += string_len(u);
            }
            if let Some(p) = &c.password {
                n += 2 + p.len();
            }
            n
        }
        Packet::ConnAck(c) => 2 + props_len(&c.properties, v5),
        Packet::Publish(p) => {
            let id = if p.qos == QoS::AtMostOnce { 0 } else { 2 };
            string_len(&p.topic) + id + props_len(&p.properties, v5) + p.payload.len()
        }
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            ack_len(a, v5)
        }
        Packet::Subscribe(s) => {
            2 + props_len(&s.properties, v5)
                + s.filters
                    .iter()
                    .map(|f| string_len(&f.filter) + 1)
                    .sum::<usize>()
        }
        Packet::SubAck(s) => 2 + props_len(&s.properties, v5) + s.reason_codes.len(),
        Packet::Unsubscribe(u) => {
            2 + props_len(&u.properties, v5)
                + u.filters.iter().map(|f| string_len(f)).sum::<usize>()
        }
        Packet::UnsubAck(u) => {
            if v5 {
                2 + props_len(&u.properties, v5) + u.reason_codes.len()
            } else {
                2
            }
        }
        Packet::PingReq | Packet::PingResp => 0,
        Packet::Disconnect(Disconnect { reason, properties })
        | Packet::Auth(Auth { reason, properties }) => {
            if !v5 || (*reason == ReasonCode::SUCCESS && properties.is_empty()) {
                0
            } else if properties.is_empty() {
                1
            } else {
                1 + properties.encoded_len()
            }
        }
    }
}

fn ack_len(a: &Ack, v5: bool) -> usize {
    if !v5 || (a.reason == ReasonCode::SUCCESS && a.properties.is_empty()) {
        2
    } else if a.properties.is_empty() {
        3
    } else {
        3 + a.properties.encoded_len()
    }
}

/// Total encoded size of `packet` under `version`, fixed header included.
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> usize {
    let n = remaining_len(packet, version);
    1 + wire::varint_len(n) + n
}

fn first_byte(packet: &Packet) -> u8 {
    let t = (packet.packet_type() as u8) << 4;
    match packet {
        Packet::Publish(p) => {
            t | (u8::from(p.dup) << 3) | (p.qos.as_u8() << 1) | u8::from(p.retain)
        }
        Packet::PubRel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => t | 0x02,
        _ => t,
    }
}

/// Append the encoding of `packet` under `version` to `out`.
///
/// A CONNECT is encoded in its own `protocol` version. Fails without writing
/// anything usable if a string exceeds 65535 bytes or the packet exceeds the
/// largest Remaining Length; `out` is truncated back on failure.
pub fn encode(packet: &Packet, version: ProtocolVersion, out: &mut BytesMut) -> Result<(), Error> {
    let start = out.len();
    let res = encode_inner(packet, version, out);
    if res.is_err() {
        out.truncate(start);
    }
    res
}

fn encode_inner(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut BytesMut,
) -> Result<(), Error> {
    let v5 = version.is_v5();
    if matches!(packet, Packet::Auth(_)) && !v5 {
        return Err(Error::Encode("AUTH exists only in MQTT 5.0"));
    }
    let remaining = remaining_len(packet, version);
    if remaining > MAX_REMAINING_LENGTH {
        return Err(Error::Encode(
            "packet larger than the protocol's 256 MB limit",
        ));
    }
    out.reserve(1 + wire::varint_len(remaining) + remaining);
    out.put_u8(first_byte(packet));
    wire::put_varint(out, remaining);
    match packet {
        Packet::Connect(c) => {
            let cv5 = c.protocol.is_v5();
            wire::put_string(out, c.protocol.protocol_name())?;
            let bridge_bit = if c.bridge && !cv5 { 0x80 } else { 0 };
            out.put_u8(c.protocol.level() | bridge_bit);
            let mut flags = 0u8;
            if c.clean_start {
                flags |= 0x02;
            }
            if let Some(w) = &c.will {
                flags |= 0x04 | (w.qos.as_u8() << 3);
                if w.retain {
                    flags |= 0x20;
                }
            }
            if c.password.is_some() {
                flags |= 0x40;
            }
            if c.username.is_some() {
                flags |= 0x80;
            }
            out.put_u8(flags);
            out.put_u16(c.keep_alive);
            if cv5 {
                c.properties.encode(out)?;
            }
            wire::put_string(out, &c.client_id)?;
            if let Some(w) = &c.will {
                if cv5 {
                    w.properties.encode(out)?;
                }
                wire::put_string(out, &w.topic)?;
                wire::put_binary(out, &w.payload)?;
            }
            if let Some(u) = &c.username {
                wire::put_string(out, u)?;
            }
            if let Some(p) = &c.password {
                wire::put_binary(out, p)?;
            }
        }
        Packet::ConnAck(c) => {
            // Under 3.1 the acknowledge flags are reserved: zero, whatever the
            // session (MQTT 3.1 section 3.2 has no Session Present flag).
            out.put_u8(u8::from(
                c.session_present && version != ProtocolVersion::V31,
            ));
            if v5 {
                out.put_u8(c.reason.0);
                c.properties.encode_connack(out)?;
            } else {
                out.put_u8(c.reason.to_v3_connack());
            }
        }
        Packet::Publish(p) => {
            wire::put_string(out, &p.topic)?;
            if p.qos != QoS::AtMostOnce {
                out.put_u16(p.packet_id);
            }
            if v5 {
                p.properties.encode(out)?;
            }
            out.put_slice(&p.payload);
        }
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            out.put_u16(a.packet_id);
            let len = ack_len(a, v5);
            if len >= 3 {
                out.put_u8(a.reason.0);
            }
            if len > 3 {
                a.properties.encode(out)?;
            }
        }
        Packet::Subscribe(s) => {
            out.put_u16(s.packet_id);
            if v5 {
                s.properties.encode(out)?;
            }
            for f in &s.filters {
                wire::put_string(out, &f.filter)?;
                let o = &f.options;
                let mut b = o.qos.as_u8();
                if v5 {
                    b |= u8::from(o.no_local) << 2;
                    b |= u8::from(o.retain_as_published) << 3;
                    b |= match o.retain_handling {
                        RetainHandling::SendAtSubscribe => 0,
                        RetainHandling::SendIfNew => 1,
                        RetainHandling::DoNotSend => 2,
                    } << 4;
                }
                out.put_u8(b);
            }
        }
        Packet::SubAck(s) => {
            out.put_u16(s.packet_id);
            if v5 {
                s.properties.encode(out)?;
            }
            for c in &s.reason_codes {
                out.put_u8(c.0);
            }
        }
        Packet::Unsubscribe(u) => {
            out.put_u16(u.packet_id);
            if v5 {
                u.properties.encode(out)?;
            }
            for f in &u.filters {
                wire::put_string(out, f)?;
            }
        }
        Packet::UnsubAck(u) => {
            out.put_u16(u.packet_id);
            if v5 {
                u.properties.encode(out)?;
                for c in &u.reason_codes {
                    out.put_u8(c.0);
                }
            }
        }
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(Disconnect { reason, properties })
        | Packet::Auth(Auth { reason, properties }) => {
            if remaining >= 1 {
                out.put_u8(reason.0);
            }
            if remaining > 1 {
                properties.encode(out)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::frame_len;

    #[test]
    fn frame_len_reads_the_fixed_header() {
        assert_eq!(frame_len(&[]), None);
        assert_eq!(frame_len(&[0x10]), None);
        // Remaining Length 10: 12 bytes in all.
        assert_eq!(frame_len(&[0x10, 10]), Some(12));
        // Remaining Length 200 (0xC8 0x01): 203 bytes in all.
        assert_eq!(frame_len(&[0x30, 0xC8, 0x01, 0, 0]), Some(203));
        // An unfinished Remaining Length, and one over four bytes [MQTT-1.5.5-1].
        assert_eq!(frame_len(&[0x30, 0xFF, 0xFF]), None);
        assert_eq!(frame_len(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), None);
    }
}
