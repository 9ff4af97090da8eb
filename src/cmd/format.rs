//! mosquitto_sub's `-F` format strings: parsing (with mosquitto_sub's error messages)
//! and rendering of every `%` parameter (flags, field width, precision), `@` strftime
//! form and `\` escape, including the `%j`/`%J` JSON objects.

use crate::cmd::json::{self, Json};
use crate::cmd::output::message_properties;
use crate::cmd::time::{self, Civil};
use crate::protocol::Publish;

/// One piece of a parsed `-F` format string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// Bytes copied as they are (literal text and `\` escapes).
    Literal(Vec<u8>),
    /// A `%` parameter with its flags.
    Param(Param),
    /// `@X`: `strftime`'s `%X` (`@N` = nanoseconds).
    Time(char),
}

/// A `%` parameter: `%[-][0][width][.precision]<conversion>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Param {
    conversion: char,
    left: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

/// A parsed `-F` format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pieces: Vec<Piece>,
}

/// The largest field width or precision accepted (a typo must not allocate gigabytes).
const MAX_WIDTH: usize = 65_535;

/// The `%` conversions mosquitto_sub knows.
const CONVERSIONS: &str = "%ACDEFIjJlmPpqRrStUxX";

impl Format {
    /// Parse and check a format string; the error text is mosquitto_sub's.
    pub fn parse(text: &str) -> Result<Format, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut i = 0;
        let flush = |literal: &mut Vec<u8>, pieces: &mut Vec<Piece>| {
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(literal)));
            }
        };
        while i < chars.len() {
            let c = chars[i];
            match c {
                '%' => {
                    let mut p = Param {
                        conversion: '%',
                        left: false,
                        zero: false,
                        width: 0,
                        precision: None,
                    };
                    i += 1;
                    if chars.get(i) == Some(&'-') {
                        p.left = true;
                        i += 1;
                    }
                    if chars.get(i) == Some(&'0') {
                        p.zero = true;
                        i += 1;
                    }
                    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                        p.width = p.width.saturating_mul(10).saturating_add(d as usize);
                        i += 1;
                    }
                    if chars.get(i) == Some(&'.') {
                        i += 1;
                        let mut prec = 0usize;
                        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                            prec = prec.saturating_mul(10).saturating_add(d as usize);
                            i += 1;
                        }
                        p.precision = Some(prec);
                    }
                    if p.width > MAX_WIDTH || p.precision.is_some_and(|n| n > MAX_WIDTH) {
                        return Err(format!("Field width too large (at most {MAX_WIDTH})."));
                    }
                    let Some(&conv) = chars.get(i) else {
                        return Err("Incomplete format specifier.".into());
                    };
                    if !CONVERSIONS.contains(conv) {
                        return Err(format!("Invalid format specifier '{conv}'."));
                    }
                    p.conversion = conv;
                    flush(&mut literal, &mut pieces);
                    pieces.push(Piece::Param(p));
                }
                '@' => {
                    i += 1;
                    let Some(&t) = chars.get(i) else {
                        return Err("Incomplete format specifier.".into());
                    };
                    if t == '@' {
                        literal.push(b'@');
                    } else {
                        flush(&mut literal, &mut pieces);
                        pieces.push(Piece::Time(t));
                    }
                }
                '\\' => {
                    i += 1;
                    let Some(&e) = chars.get(i) else {
                        return Err("Incomplete escape specifier.".into());
                    };
                    let byte = match e {
                        '\\' => b'\\',
                        '0' => 0,
                        'a' => 0x07,
                        'e' => 0x1b,
                        'n' => b'\n',
                        'r' => b'\r',
                        't' => b'\t',
                        'v' => 0x0b,
                        _ => return Err(format!("Invalid escape specifier '{e}'.")),
                    };
                    literal.push(byte);
                }
                _ => {
                    let mut buf = [0u8; 4];
                    literal.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
            i += 1;
        }
        flush(&mut literal, &mut pieces);
        Ok(Format { pieces })
    }
}

impl Format {
    /// Render one message (without the trailing newline); `%J` problems that
    /// mosquitto_sub reports on stderr are pushed to `errors`.
    pub fn render(
        &self,
        msg: &Publish,
        t: &Civil,
        pretty: bool,
        out: &mut Vec<u8>,
        errors: &mut Vec<String>,
    ) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(bytes) => out.extend_from_slice(bytes),
                Piece::Time(c) => {
                    if *c == 'N' {
                        out.extend_from_slice(format!("{:09}", t.nanos).as_bytes());
                    } else {
                        out.extend_from_slice(time::strftime(*c, t).as_bytes());
                    }
                }
                Piece::Param(p) => param(p, pretty, msg, t, out, errors),
            }
        }
    }
}

/// One `%` parameter.
fn param(
    p: &Param,
    pretty: bool,
    msg: &Publish,
    t: &Civil,
    out: &mut Vec<u8>,
    errors: &mut Vec<String>,
) {
    let props = &msg.properties;
    let pad = if p.zero { b'0' } else { b' ' };
    match p.conversion {
        '%' => out.push(b'%'),
        'A' => opt_int(props.topic_alias.map(i64::from), p, out),
        'C' => match &props.content_type {
            Some(s) => str_field(s.as_bytes(), p, out),
            None => blank(b' ', p.width, out),
        },
        'D' => {
            if let Some(d) = &props.correlation_data {
                out.extend_from_slice(d);
            }
        }
        'E' => opt_int(props.message_expiry_interval.map(i64::from), p, out),
        'F' => opt_int(props.payload_format_indicator.map(i64::from), p, out),
        'I' => {
            let text = format!(
                "{}T{}{}",
                time::strftime('F', t),
                time::strftime('T', t),
                time::strftime('z', t)
            );
            str_field(text.as_bytes(), p, out);
        }
        'j' | 'J' => {
            let raw = p.conversion == 'J';
            match json_mosquitto(msg, t, raw) {
                Some(value) => json::write(&value, pretty, out),
                None => errors.push(format!(
                    "Error: Message payload is not valid JSON on topic {}.",
                    msg.topic
                )),
            }
        }
        'l' => int_field(msg.payload.len() as i64, p, out),
        'm' => int_field(i64::from(msg.packet_id), p, out),
        'P' => {
            for (n, (k, v)) in props.user_properties.iter().enumerate() {
                if n > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b':');
                out.extend_from_slice(v.as_bytes());
            }
        }
        'p' => payload_field(&msg.payload, Hex::No, p, pad, out),
        'q' => out.push(b'0' + msg.qos.as_u8()),
        'R' => {
            if let Some(s) = &props.response_topic {
                str_field(s.as_bytes(), p, out);
            }
        }
        'r' => out.push(if msg.retain { b'1' } else { b'0' }),
        'S' => opt_int(
            props
                .subscription_identifiers
                .first()
                .map(|v| i64::from(*v)),
            p,
            out,
        ),
        't' => str_field(msg.topic.as_bytes(), p, out),
        'U' => {
            out.extend_from_slice(format!("{}.{:09}", t.unix, t.nanos).as_bytes());
        }
        'x' => payload_field(&msg.payload, Hex::Lower, p, pad, out),
        'X' => payload_field(&msg.payload, Hex::Upper, p, pad, out),
        _ => {}
    }
}

/// Hex mode of a payload field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hex {
    No,
    Lower,
    Upper,
}

/// `width` copies of `pad`.
fn blank(pad: u8, width: usize, out: &mut Vec<u8>) {
    out.extend(std::iter::repeat_n(pad, width));
}

/// An integer like printf's `%d`, `%-Nd`, `%0Nd`.
fn int_field(v: i64, p: &Param, out: &mut Vec<u8>) {
    let s = v.to_string();
    if p.left {
        out.extend_from_slice(s.as_bytes());
        blank(b' ', p.width.saturating_sub(s.len()), out);
    } else if p.zero {
        let (sign, digits) = match s.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", s.as_str()),
        };
        out.extend_from_slice(sign.as_bytes());
        blank(b'0', p.width.saturating_sub(s.len()), out);
        out.extend_from_slice(digits.as_bytes());
    } else {
        blank(b' ', p.width.saturating_sub(s.len()), out);
        out.extend_from_slice(s.as_bytes());
    }
}

/// An optional MQTT 5 integer property: blanks of the field width when absent.
fn opt_int(v: Option<i64>, p: &Param, out: &mut Vec<u8>) {
    match v {
        Some(v) => int_field(v, p, out),
        None => blank(if p.zero { b'0' } else { b' ' }, p.width, out),
    }
}

/// A string like printf's `%s` with width and precision (in bytes, as C counts).
fn str_field(s: &[u8], p: &Param, out: &mut Vec<u8>) {
    let s = match p.precision {
        Some(max) if s.len() > max => &s[..max],
        _ => s,
    };
    let padlen = p.width.saturating_sub(s.len());
    if !p.left {
        blank(b' ', padlen, out);
    }
    out.extend_from_slice(s);
    if p.left {
        blank(b' ', padlen, out);
    }
}

/// The payload as raw bytes or hex, with mosquitto_sub's field-width rules (a width
/// truncates the payload; in hex it counts output characters).
fn payload_field(payload: &[u8], hex: Hex, p: &Param, pad: u8, out: &mut Vec<u8>) {
    let mut len = payload.len();
    let padlen;
    if p.width > 0 {
        len = len.min(p.width);
        if hex != Hex::No {
            len /= 2;
            padlen = p.width.saturating_sub(len * 2);
        } else {
            padlen = p.width - len;
        }
    } else {
        padlen = 0;
    }
    if !p.left {
        blank(pad, padlen, out);
    }
    let bytes = &payload[..len];
    match hex {
        Hex::No => out.extend_from_slice(bytes),
        Hex::Lower => {
            for b in bytes {
                out.extend_from_slice(format!("{b:02x}").as_bytes());
            }
        }
        Hex::Upper => {
            for b in bytes {
                out.extend_from_slice(format!("{b:02X}").as_bytes());
            }
        }
    }
    if p.left {
        blank(b' ', padlen, out);
    }
}

/// mosquitto_sub's `%j`/`%J` object: tst, topic, qos, retain, payloadlen, mid (QoS>0),
/// properties (if any), payload (a string; for `%J` the payload's own JSON, `None`
/// when it is not valid JSON).
fn json_mosquitto(msg: &Publish, t: &Civil, raw: bool) -> Option<Json> {
    let tst = format!(
        "{}T{}.{:06}Z{}",
        time::strftime('F', t),
        time::strftime('T', t),
        t.nanos / 1000,
        time::strftime('z', t)
    );
    let mut fields: Vec<(String, Json)> = vec![
        ("tst".into(), Json::Str(tst.into_bytes())),
        ("topic".into(), Json::Str(msg.topic.as_bytes().to_vec())),
        ("qos".into(), Json::Int(i64::from(msg.qos.as_u8()))),
        ("retain".into(), Json::Int(i64::from(msg.retain))),
        ("payloadlen".into(), Json::Int(msg.payload.len() as i64)),
    ];
    if msg.qos.as_u8() > 0 {
        fields.push(("mid".into(), Json::Int(i64::from(msg.packet_id))));
    }
    let props = message_properties(msg, false);
    if !props.is_empty() {
        fields.push(("properties".into(), Json::Object(props)));
    }
    let payload = if msg.payload.is_empty() {
        Json::Null
    } else if raw {
        json::parse(&msg.payload)?
    } else {
        Json::Str(msg.payload.to_vec())
    };
    fields.push(("payload".into(), payload));
    Some(Json::Object(fields))
}
