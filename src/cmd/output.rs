//! How `mq sub` prints a received message: the payload alone, `topic payload` (`-v`),
//! a mosquitto_sub `-F` format string (with `%j`/`%J` JSON and `--pretty`), or one
//! `--json` object per message. Every mode produces the same bytes as mosquitto_sub
//! 2.0 for the same message (times are printed in UTC).

use crate::cli::ColorChoice;
use crate::cmd::json::{self, Json};
use crate::cmd::time::{self, Civil};
use crate::protocol::Publish;
use std::io::IsTerminal;
use std::time::SystemTime;

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

/// How messages are printed.
#[derive(Clone, Debug)]
pub enum Mode {
    /// The payload alone (mosquitto_sub's default).
    Payload,
    /// `topic payload` (`-v`).
    Verbose,
    /// A `-F` format string.
    Format(Format),
    /// One `--json` object per message.
    Json,
}

/// Prints received messages.
#[derive(Clone, Debug)]
pub struct Printer {
    /// The output mode.
    pub mode: Mode,
    /// Append a newline to each message (false with `-N`).
    pub eol: bool,
    /// Pretty-print JSON (`--pretty`).
    pub pretty: bool,
    /// Colour the topic (and QoS/retain markers) in `-v` output.
    pub color: bool,
}

/// ANSI colours for `-v` on a terminal.
const TOPIC_COLOR: &str = "\x1b[36m";
const QOS_COLOR: &str = "\x1b[2;32m";
const RETAIN_COLOR: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

impl Printer {
    /// The printer for `-F`, `--json`, `-v`, `-N` (`eol` false), `--pretty` and
    /// `--color` (auto: on a terminal, unless `NO_COLOR` is set).
    pub fn from_flags(
        format: Option<&str>,
        json: bool,
        verbose: bool,
        eol: bool,
        pretty: bool,
        color: ColorChoice,
    ) -> anyhow::Result<Printer> {
        let mode = if let Some(f) = format {
            Mode::Format(
                Format::parse(f).map_err(|e| anyhow::anyhow!("{}", e.trim_end_matches('.')))?,
            )
        } else if json {
            Mode::Json
        } else if verbose {
            Mode::Verbose
        } else {
            Mode::Payload
        };
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Ok(Printer {
            mode,
            eol,
            pretty,
            color,
        })
    }

    /// Render one message into `out`; problems that mosquitto_sub reports on stderr
    /// (e.g. `%J` with a payload that is not JSON) are pushed to `errors`.
    pub fn render(
        &self,
        msg: &Publish,
        now: SystemTime,
        out: &mut Vec<u8>,
        errors: &mut Vec<String>,
    ) {
        match &self.mode {
            Mode::Payload => {
                // mosquitto_sub prints nothing at all for an empty payload.
                if !msg.payload.is_empty() {
                    out.extend_from_slice(&msg.payload);
                    if self.eol {
                        out.push(b'\n');
                    }
                }
            }
            Mode::Verbose => {
                if msg.payload.is_empty() && !self.eol {
                    // mosquitto_sub prints nothing for an empty payload with -N.
                    return;
                }
                if self.color {
                    out.extend_from_slice(TOPIC_COLOR.as_bytes());
                    out.extend_from_slice(msg.topic.as_bytes());
                    out.extend_from_slice(RESET.as_bytes());
                    if msg.qos.as_u8() > 0 {
                        out.extend_from_slice(
                            format!(" {QOS_COLOR}q{}{RESET}", msg.qos).as_bytes(),
                        );
                    }
                    if msg.retain {
                        out.extend_from_slice(format!(" {RETAIN_COLOR}retained{RESET}").as_bytes());
                    }
                } else {
                    out.extend_from_slice(msg.topic.as_bytes());
                }
                if !msg.payload.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(&msg.payload);
                    if self.eol {
                        out.push(b'\n');
                    }
                } else {
                    out.extend_from_slice(b" (null)\n");
                }
            }
            Mode::Format(format) => {
                for piece in &format.pieces {
                    match piece {
                        Piece::Literal(bytes) => out.extend_from_slice(bytes),
                        Piece::Time(c) => {
                            let t = Civil::from_system_time(now);
                            if *c == 'N' {
                                out.extend_from_slice(format!("{:09}", t.nanos).as_bytes());
                            } else {
                                out.extend_from_slice(time::strftime(*c, &t).as_bytes());
                            }
                        }
                        Piece::Param(p) => self.param(p, msg, now, out, errors),
                    }
                }
                if self.eol {
                    out.push(b'\n');
                }
            }
            Mode::Json => {
                let value = json_message(msg, now);
                json::write(&value, self.pretty, out);
                if self.eol {
                    out.push(b'\n');
                }
            }
        }
    }

    /// One `%` parameter.
    fn param(
        &self,
        p: &Param,
        msg: &Publish,
        now: SystemTime,
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
                let t = Civil::from_system_time(now);
                let text = format!(
                    "{}T{}{}",
                    time::strftime('F', &t),
                    time::strftime('T', &t),
                    time::strftime('z', &t)
                );
                str_field(text.as_bytes(), p, out);
            }
            'j' | 'J' => {
                let raw = p.conversion == 'J';
                match json_mosquitto(msg, now, raw) {
                    Some(value) => json::write(&value, self.pretty, out),
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
                let (secs, nanos) = time::unix(now);
                out.extend_from_slice(format!("{secs}.{nanos:09}").as_bytes());
            }
            'x' => payload_field(&msg.payload, Hex::Lower, p, pad, out),
            'X' => payload_field(&msg.payload, Hex::Upper, p, pad, out),
            _ => {}
        }
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
fn json_mosquitto(msg: &Publish, now: SystemTime, raw: bool) -> Option<Json> {
    let t = Civil::from_system_time(now);
    let tst = format!(
        "{}T{}.{:06}Z{}",
        time::strftime('F', &t),
        time::strftime('T', &t),
        t.nanos / 1000,
        time::strftime('z', &t)
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

/// The MQTT 5 properties of a PUBLISH as JSON. mosquitto prints them in wire order:
/// the broker's subscription identifier first, then the publisher's properties, then
/// the message expiry the broker recomputes; the decoded model keeps no wire order,
/// so the publisher's part follows our encoder's order (user properties last).
/// With `all`, every property (for `--json`), with correlation data as text or base64.
fn message_properties(msg: &Publish, all: bool) -> Vec<(String, Json)> {
    let p = &msg.properties;
    let mut out: Vec<(String, Json)> = Vec::new();
    if all {
        if !p.subscription_identifiers.is_empty() {
            let ids = p
                .subscription_identifiers
                .iter()
                .map(|v| Json::Int(i64::from(*v)))
                .collect();
            out.push(("subscription-identifiers".into(), Json::Array(ids)));
        }
    } else if let Some(id) = p.subscription_identifiers.first() {
        out.push(("subscription-identifier".into(), Json::Int(i64::from(*id))));
    }
    if let Some(f) = p.payload_format_indicator {
        out.push(("payload-format-indicator".into(), Json::Int(i64::from(f))));
    }
    if let Some(c) = &p.content_type {
        out.push(("content-type".into(), Json::Str(c.as_bytes().to_vec())));
    }
    if let Some(r) = &p.response_topic {
        out.push(("response-topic".into(), Json::Str(r.as_bytes().to_vec())));
    }
    if let Some(d) = &p.correlation_data {
        let v = if all {
            text_or_base64(d).0
        } else {
            Json::Str(d.to_vec())
        };
        out.push(("correlation-data".into(), v));
    }
    if let Some(a) = p.topic_alias {
        out.push(("topic-alias".into(), Json::Int(i64::from(a))));
    }
    if !p.user_properties.is_empty() {
        let pairs = p
            .user_properties
            .iter()
            .map(|(k, v)| (k.clone(), Json::Str(v.as_bytes().to_vec())))
            .collect();
        out.push(("user-properties".into(), Json::Object(pairs)));
    }
    if let Some(e) = p.message_expiry_interval {
        out.push(("message-expiry-interval".into(), Json::Int(i64::from(e))));
    }
    out
}

/// A payload as a JSON string when it is UTF-8, else base64 (and whether it is).
fn text_or_base64(bytes: &[u8]) -> (Json, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Json::Str(s.as_bytes().to_vec()), false),
        Err(_) => (Json::Str(json::base64_encode(bytes).into_bytes()), true),
    }
}

/// The `--json` object: topic, payload (UTF-8 text, else base64 with
/// `"payload_encoding":"base64"`), qos, retain, dup, mid, properties, received.
pub fn json_message(msg: &Publish, now: SystemTime) -> Json {
    let (payload, is_b64) = text_or_base64(&msg.payload);
    let (secs, nanos) = time::unix(now);
    let t = Civil::from_system_time(now);
    let mut fields: Vec<(String, Json)> = vec![
        ("topic".into(), Json::Str(msg.topic.as_bytes().to_vec())),
        ("payload".into(), payload),
    ];
    if is_b64 {
        fields.push(("payload_encoding".into(), Json::Str(b"base64".to_vec())));
    }
    fields.extend([
        ("qos".to_string(), Json::Int(i64::from(msg.qos.as_u8()))),
        ("retain".to_string(), Json::Bool(msg.retain)),
        ("dup".to_string(), Json::Bool(msg.dup)),
        ("mid".to_string(), Json::Int(i64::from(msg.packet_id))),
    ]);
    let props = message_properties(msg, true);
    if !props.is_empty() {
        fields.push(("properties".into(), Json::Object(props)));
    }
    fields.push((
        "received".into(),
        Json::Str(
            format!(
                "{}T{}.{:09}Z",
                time::strftime('F', &t),
                time::strftime('T', &t),
                nanos
            )
            .into_bytes(),
        ),
    ));
    fields.push((
        "received_unix".into(),
        Json::Raw(format!("{secs}.{nanos:09}").into_bytes()),
    ));
    Json::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ByteStr, QoS};
    use bytes::Bytes;
    use std::time::{Duration, UNIX_EPOCH};

    fn msg(topic: &str, payload: &[u8]) -> Publish {
        Publish {
            topic: ByteStr::from(topic),
            payload: Bytes::copy_from_slice(payload),
            qos: QoS::AtLeastOnce,
            packet_id: 7,
            ..Publish::default()
        }
    }

    fn render(mode: Mode, eol: bool, m: &Publish) -> Vec<u8> {
        let p = Printer {
            mode,
            eol,
            pretty: false,
            color: false,
        };
        let mut out = Vec::new();
        let mut errors = Vec::new();
        // 2020-05-06T21:48:00.123456789Z
        let now = UNIX_EPOCH + Duration::new(1_588_801_680, 123_456_789);
        p.render(m, now, &mut out, &mut errors);
        out
    }

    fn fmt(f: &str, m: &Publish) -> String {
        String::from_utf8(render(Mode::Format(Format::parse(f).unwrap()), false, m)).unwrap()
    }

    #[test]
    fn payload_and_verbose_like_mosquitto_sub() {
        assert_eq!(render(Mode::Payload, true, &msg("a", b"hi")), b"hi\n");
        assert_eq!(render(Mode::Payload, true, &msg("a", b"")), b"");
        assert_eq!(render(Mode::Verbose, true, &msg("a/b", b"hi")), b"a/b hi\n");
        assert_eq!(
            render(Mode::Verbose, true, &msg("a/b", b"")),
            b"a/b (null)\n"
        );
        assert_eq!(render(Mode::Verbose, false, &msg("a/b", b"")), b"");
        assert_eq!(render(Mode::Verbose, false, &msg("a/b", b"x")), b"a/b x");
    }

    #[test]
    fn format_widths_match_mosquitto_sub() {
        let m = msg("x", b"hello");
        assert_eq!(
            fmt(
                "%10t|%-10t|%05l|%.2t|%q%r%m|%-05x|%08.3C|%3A|%5p|%2p|%-8X|",
                &m
            ),
            "         x|x         |00005|x|107|6865 |        |   |hello|he|6865    |"
        );
        assert_eq!(fmt("%x %X %%", &msg("t", b"\x01\xab")), "01ab 01AB %");
    }

    #[test]
    fn format_times_in_utc() {
        let m = msg("x", b"p");
        assert_eq!(fmt("%I", &m), "2020-05-06T21:48:00+0000");
        assert_eq!(fmt("%U", &m), "1588801680.123456789");
        assert_eq!(
            fmt("@Y-@m-@d @H:@M:@S.@N @s @@ @Q", &m),
            "2020-05-06 21:48:00.123456789 1588801680 @ %Q"
        );
    }

    #[test]
    fn format_errors_are_mosquitto_sub_messages() {
        assert_eq!(
            Format::parse("abc%").unwrap_err(),
            "Incomplete format specifier."
        );
        assert_eq!(
            Format::parse("abc@").unwrap_err(),
            "Incomplete format specifier."
        );
        assert_eq!(
            Format::parse("%Z").unwrap_err(),
            "Invalid format specifier 'Z'."
        );
        assert_eq!(
            Format::parse("\\q").unwrap_err(),
            "Invalid escape specifier 'q'."
        );
        assert_eq!(
            Format::parse("\\").unwrap_err(),
            "Incomplete escape specifier."
        );
        assert_eq!(fmt("a\\tb\\0c\\\\", &msg("x", b"")), "a\tb\0c\\");
    }

    #[test]
    fn json_like_mosquitto_sub() {
        let m = msg("j/a", b"h\xc3\xa9 \"q\" \\ /x\ttab");
        assert_eq!(
            fmt("%j", &m),
            "{\"tst\":\"2020-05-06T21:48:00.123456Z+0000\",\"topic\":\"j/a\",\"qos\":1,\"retain\":0,\"payloadlen\":16,\"mid\":7,\"payload\":\"h\u{e9} \\\"q\\\" \\\\ /x\\ttab\"}"
        );
        let j = msg("e/b", b"{\"x\": [1, 2.50, {}], \"w\": 27.0}");
        assert_eq!(
            fmt("%J", &j),
            "{\"tst\":\"2020-05-06T21:48:00.123456Z+0000\",\"topic\":\"e/b\",\"qos\":1,\"retain\":0,\"payloadlen\":31,\"mid\":7,\"payload\":{\"x\":[1,2.5,{}],\"w\":27}}"
        );
        let mut errors = Vec::new();
        let p = Printer {
            mode: Mode::Format(Format::parse("%J").unwrap()),
            eol: true,
            pretty: false,
            color: false,
        };
        let mut out = Vec::new();
        p.render(
            &msg("bad", b"not json"),
            SystemTime::now(),
            &mut out,
            &mut errors,
        );
        assert_eq!(out, b"\n");
        assert_eq!(
            errors,
            ["Error: Message payload is not valid JSON on topic bad."]
        );
    }
}
