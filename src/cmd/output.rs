//! How `mq sub` prints a received message: the payload alone, `topic payload` (`-v`),
//! a mosquitto_sub `-F` format string (with `%j`/`%J` JSON and `--pretty`), or one
//! `--json` object per message. Every mode produces the same bytes as mosquitto_sub
//! 2.0 for the same message (times in the local time zone, see [`crate::cmd::time`]).

use crate::cli::ColorChoice;
pub use crate::cmd::format::Format;
use crate::cmd::json::{self, Json};
use crate::cmd::time::{self, Civil};
use crate::protocol::Publish;
use std::io::IsTerminal;
use std::time::SystemTime;

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
    /// Colour the topic in `-v` output (yellow when retained); no words are added.
    pub color: bool,
    /// Print times in the local time zone, as mosquitto_sub does (else UTC).
    pub local_time: bool,
}

/// ANSI colours (SGR codes only) for the topic in `-v` on a terminal: cyan, or
/// yellow for a retained message.
const TOPIC_COLOR: &str = "\x1b[36m";
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
            local_time: true,
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
                    // Colour marks a retained message; it adds no words, so what
                    // is read is byte for byte what mosquitto_sub prints.
                    let colour = if msg.retain {
                        RETAIN_COLOR
                    } else {
                        TOPIC_COLOR
                    };
                    out.extend_from_slice(colour.as_bytes());
                    out.extend_from_slice(msg.topic.as_bytes());
                    out.extend_from_slice(RESET.as_bytes());
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
                let t = if self.local_time {
                    Civil::from_system_time(now)
                } else {
                    Civil::utc(now)
                };
                format.render(msg, &t, self.pretty, out, errors);
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
}

/// The MQTT 5 properties of a PUBLISH as JSON. mosquitto prints them in wire order:
/// the broker's subscription identifier first, then the publisher's properties, then
/// the message expiry the broker recomputes; the decoded model keeps no wire order,
/// so the publisher's part follows our encoder's order (user properties last).
/// With `all`, every property (for `--json`), with correlation data as text or base64.
pub(super) fn message_properties(msg: &Publish, all: bool) -> Vec<(String, Json)> {
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
pub(super) fn text_or_base64(bytes: &[u8]) -> (Json, bool) {
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
    let t = Civil::utc(now);
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

/// The `-d` packet trace of `mq pub`/`mq sub`/`mq rr`: one line per control packet,
/// worded as mosquitto_pub/mosquitto_sub 2.0 word them (`Client <id> sending CONNECT`,
/// `Client <id> received PUBACK (Mid: 1, RC:0)`...), printed on stdout as they do.
/// Built from the packets the client really sends and receives.
pub struct DebugTrace {
    /// The client identifier; `(null)` until known (mosquitto's spelling).
    id: String,
    /// The last message id shown: QoS 0 messages carry none on the wire, mosquitto
    /// shows the next one of its counter.
    last_mid: u16,
    version: crate::protocol::ProtocolVersion,
}

impl DebugTrace {
    /// A trace for a client that starts as `client_id` ("" = not known yet).
    pub fn new(client_id: &str, version: crate::protocol::ProtocolVersion) -> DebugTrace {
        DebugTrace {
            id: if client_id.is_empty() {
                "(null)".to_string()
            } else {
                client_id.to_string()
            },
            last_mid: 0,
            version,
        }
    }

    /// A hook for [`crate::client::ConnectOptions::packet_trace`] printing every line on
    /// stdout.
    pub fn hook(
        client_id: &str,
        version: crate::protocol::ProtocolVersion,
    ) -> crate::client::PacketTrace {
        let state = std::sync::Mutex::new(DebugTrace::new(client_id, version));
        crate::client::PacketTrace::new(move |dir, packet| {
            // A poisoned lock only means an earlier print panicked; keep tracing.
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            let lines = state.lines(dir, packet);
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for line in lines {
                let _ = std::io::Write::write_all(&mut out, line.as_bytes());
                let _ = std::io::Write::write_all(&mut out, b"\n");
            }
            let _ = std::io::Write::flush(&mut out);
        })
    }

    /// The lines for one packet (SUBSCRIBE and UNSUBSCRIBE give one per filter).
    pub fn lines(
        &mut self,
        dir: crate::client::Direction,
        packet: &crate::protocol::Packet,
    ) -> Vec<String> {
        use crate::client::Direction;
        use crate::protocol::Packet;
        let verb = match dir {
            Direction::Sent => "sending",
            Direction::Received => "received",
        };
        let what: Vec<String> = match (dir, packet) {
            (_, Packet::Connect(c)) => {
                if !c.client_id.is_empty() {
                    self.id = c.client_id.clone();
                }
                vec!["CONNECT".into()]
            }
            (_, Packet::ConnAck(c)) => {
                if let Some(id) = &c.properties.assigned_client_identifier {
                    self.id = id.clone();
                }
                let code = if self.version.is_v5() {
                    c.reason.0
                } else {
                    c.reason.to_v3_connack()
                };
                vec![format!("CONNACK ({code})")]
            }
            (_, Packet::Publish(p)) => {
                let mid = if p.packet_id == 0 {
                    self.last_mid.wrapping_add(1).max(1)
                } else {
                    p.packet_id
                };
                self.last_mid = mid;
                vec![format!(
                    "PUBLISH (d{}, q{}, r{}, m{mid}, '{}', ... ({} bytes))",
                    u8::from(p.dup),
                    p.qos.as_u8(),
                    u8::from(p.retain),
                    &*p.topic,
                    p.payload.len()
                )]
            }
            (Direction::Sent, Packet::PubAck(a)) => {
                vec![format!("PUBACK (m{}, rc{})", a.packet_id, a.reason.0)]
            }
            (Direction::Sent, Packet::PubRec(a)) => {
                vec![format!("PUBREC (m{}, rc{})", a.packet_id, a.reason.0)]
            }
            (Direction::Sent, Packet::PubRel(a)) => vec![format!("PUBREL (m{})", a.packet_id)],
            (Direction::Sent, Packet::PubComp(a)) => vec![format!("PUBCOMP (m{})", a.packet_id)],
            (Direction::Received, Packet::PubAck(a)) => {
                vec![format!("PUBACK (Mid: {}, RC:{})", a.packet_id, a.reason.0)]
            }
            (Direction::Received, Packet::PubRec(a)) => {
                vec![format!("PUBREC (Mid: {})", a.packet_id)]
            }
            (Direction::Received, Packet::PubRel(a)) => {
                vec![format!("PUBREL (Mid: {})", a.packet_id)]
            }
            (Direction::Received, Packet::PubComp(a)) => {
                vec![format!("PUBCOMP (Mid: {}, RC:{})", a.packet_id, a.reason.0)]
            }
            (_, Packet::Subscribe(s)) => {
                self.last_mid = s.packet_id;
                s.filters
                    .iter()
                    .map(|f| {
                        let o = &f.options;
                        let options = (u8::from(o.no_local) << 2)
                            | (u8::from(o.retain_as_published) << 3)
                            | ((o.retain_handling as u8) << 4);
                        format!(
                            "SUBSCRIBE (Mid: {}, Topic: {}, QoS: {}, Options: 0x{options:02x})",
                            s.packet_id,
                            f.filter,
                            o.qos.as_u8()
                        )
                    })
                    .collect()
            }
            (_, Packet::SubAck(_)) => vec!["SUBACK".into()],
            (_, Packet::Unsubscribe(u)) => {
                self.last_mid = u.packet_id;
                u.filters
                    .iter()
                    .map(|f| format!("UNSUBSCRIBE (Mid: {}, Topic: {f})", u.packet_id))
                    .collect()
            }
            (_, Packet::UnsubAck(_)) => vec!["UNSUBACK".into()],
            (_, Packet::PingReq) => vec!["PINGREQ".into()],
            (_, Packet::PingResp) => vec!["PINGRESP".into()],
            (Direction::Sent, Packet::Disconnect(_)) => vec!["DISCONNECT".into()],
            (Direction::Received, Packet::Disconnect(d)) => {
                vec![format!("DISCONNECT ({})", d.reason.0)]
            }
            (_, Packet::Auth(_)) => vec!["AUTH".into()],
        };
        what.into_iter()
            .map(|w| format!("Client {} {verb} {w}", self.id))
            .collect()
    }
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
            local_time: false,
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

    /// Remove ANSI SGR sequences (`ESC [ ... m`), failing on any other escape.
    fn strip_sgr(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == 0x1b {
                assert_eq!(b.get(i + 1), Some(&b'['), "only CSI sequences expected");
                let end = b[i + 2..]
                    .iter()
                    .position(|c| !(c.is_ascii_digit() || *c == b';'))
                    .map(|p| i + 2 + p)
                    .expect("unterminated escape");
                assert_eq!(b[end], b'm', "only SGR sequences expected");
                i = end + 1;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    #[test]
    fn colour_adds_no_words_to_verbose_output() {
        let mut m = msg("hello/retained", b"still here");
        m.retain = true;
        let p = Printer {
            mode: Mode::Verbose,
            eol: true,
            pretty: false,
            color: true,
            local_time: false,
        };
        let mut out = Vec::new();
        p.render(&m, SystemTime::now(), &mut out, &mut Vec::new());
        assert_ne!(out, b"hello/retained still here\n", "colour expected");
        assert_eq!(strip_sgr(&out), b"hello/retained still here\n");
        m.retain = false;
        let mut out = Vec::new();
        p.render(&m, SystemTime::now(), &mut out, &mut Vec::new());
        assert_eq!(strip_sgr(&out), b"hello/retained still here\n");
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
            local_time: false,
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
