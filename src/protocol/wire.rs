//! Primitive data representations of section 1.5: integers, Variable Byte Integers,
//! UTF-8 strings, binary data and string pairs, read from a received packet body and
//! written into an output buffer.

use super::{ByteStr, Error};
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Largest value of a Variable Byte Integer [MQTT-1.5.5].
pub const MAX_VARINT: u32 = 268_435_455;

/// A cursor over the body of one packet. Slices share the packet's allocation, and a
/// clone (used to count entries before decoding them) costs no copy.
#[derive(Clone)]
pub struct Reader {
    buf: Bytes,
}

impl Reader {
    pub fn new(buf: Bytes) -> Reader {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn u8(&mut self) -> Result<u8, Error> {
        if self.buf.is_empty() {
            return Err(Error::Malformed("packet ends before a one-byte field"));
        }
        Ok(self.buf.get_u8())
    }

    pub fn u16(&mut self) -> Result<u16, Error> {
        if self.buf.len() < 2 {
            return Err(Error::Malformed("packet ends before a two-byte integer"));
        }
        Ok(self.buf.get_u16())
    }

    pub fn u32(&mut self) -> Result<u32, Error> {
        if self.buf.len() < 4 {
            return Err(Error::Malformed("packet ends before a four-byte integer"));
        }
        Ok(self.buf.get_u32())
    }

    /// Variable Byte Integer: at most four bytes [MQTT-1.5.5-1].
    pub fn varint(&mut self) -> Result<u32, Error> {
        let mut value: u32 = 0;
        for i in 0..4 {
            let b = self.u8()?;
            value |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Error::Malformed(
            "variable byte integer longer than four bytes [MQTT-1.5.5-1]",
        ))
    }

    pub fn take(&mut self, n: usize) -> Result<Bytes, Error> {
        if self.buf.len() < n {
            return Err(Error::Malformed("length field exceeds the packet"));
        }
        Ok(self.buf.split_to(n))
    }

    pub fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.buf)
    }

    /// Binary Data: two-byte length then bytes [MQTT-1.5.6].
    pub fn binary(&mut self) -> Result<Bytes, Error> {
        let len = usize::from(self.u16()?);
        self.take(len)
    }

    /// UTF-8 Encoded String [MQTT-1.5.4]: valid UTF-8, no U+0000 [MQTT-1.5.4-2]
    /// (surrogates are already impossible in valid UTF-8 [MQTT-1.5.4-1]).
    pub fn string(&mut self) -> Result<ByteStr, Error> {
        let raw = self.binary()?;
        check_utf8(raw)
    }

    pub fn string_owned(&mut self) -> Result<String, Error> {
        Ok(self.string()?.as_str().to_owned())
    }
}

/// Check bytes form a valid MQTT UTF-8 string.
pub fn check_utf8(raw: Bytes) -> Result<ByteStr, Error> {
    if raw.contains(&0) {
        return Err(Error::Malformed(
            "UTF-8 string contains U+0000 [MQTT-1.5.4-2]",
        ));
    }
    ByteStr::from_utf8(raw)
        .map_err(|_| Error::Malformed("invalid UTF-8 in a string [MQTT-1.5.4-1]"))
}

/// Bytes needed to encode `v` as a Variable Byte Integer.
pub fn varint_len(v: usize) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

pub fn put_varint(out: &mut BytesMut, mut v: usize) {
    loop {
        let mut b = (v % 128) as u8;
        v /= 128;
        if v > 0 {
            b |= 0x80;
        }
        out.put_u8(b);
        if v == 0 {
            break;
        }
    }
}

pub fn put_binary(out: &mut BytesMut, data: &[u8]) -> Result<(), Error> {
    let len = u16::try_from(data.len())
        .map_err(|_| Error::Encode("string or binary field longer than 65535 bytes"))?;
    out.put_u16(len);
    out.put_slice(data);
    Ok(())
}

pub fn put_string(out: &mut BytesMut, s: &str) -> Result<(), Error> {
    put_binary(out, s.as_bytes())
}
