//! `mq pub`: publish messages, as mosquitto_pub does. The message comes from `-m`,
//! `-f`, `-s` (all of stdin), `-n` (empty) or `-l` (one message per stdin line, over one
//! connection, streamed through the inflight window); `--json` replays the JSON lines
//! `mq sub --json` prints. Exits 0 once every QoS 1/2 message is acknowledged and the
//! DISCONNECT is sent; a v5 acknowledgement with a reason code >= 0x80 is a failure.

use crate::cli::PubArgs;
use crate::cmd::json::{self, Json};
use crate::cmd::session::{self, Role};
use crate::protocol::{Ack, ByteStr, Publish, QoS, topic};
use anyhow::{Context, bail};
use bytes::Bytes;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};
use tokio::task::JoinSet;

/// Where the messages come from.
enum Source {
    /// One message (`-m`, `-f`, `-s`, `-n`), sent `--repeat` times.
    Single(Bytes),
    /// One message per stdin line (`-l`).
    Lines,
    /// One JSON object per stdin line (`--json`).
    JsonLines,
}

/// mosquitto_pub's "Both topic and message must be supplied", with a short usage.
fn no_topic_or_message() -> anyhow::Error {
    crate::cli::UsageError {
        message: "both topic and message must be supplied (-t and one of -m, -f, -s, -l, -n)"
            .into(),
        usage: crate::cli::PUB_USAGE,
    }
    .into()
}

/// Run `mq pub`; returns the exit code.
pub async fn run(args: PubArgs) -> anyhow::Result<i32> {
    let reads_stdin = args.stdin_file || args.stdin_line || args.json;
    if reads_stdin && args.connect.password.as_deref() == Some("-") {
        bail!("-P - reads the password from stdin: it cannot be combined with -s, -l or --json");
    }
    let mut base = args.connect.to_options()?;
    let topic_name = args
        .topic
        .clone()
        .or_else(|| base.url_topic.take().filter(|t| !t.is_empty()));
    let source = if args.json {
        Source::JsonLines
    } else if let Some(m) = &args.message {
        Source::Single(Bytes::from(m.clone()))
    } else if let Some(f) = &args.file {
        let data = std::fs::read(f)
            .with_context(|| format!("cannot load input file \"{}\"", f.display()))?;
        Source::Single(Bytes::from(data))
    } else if args.stdin_file {
        let mut data = Vec::new();
        tokio::io::stdin()
            .read_to_end(&mut data)
            .await
            .context("cannot read stdin")?;
        Source::Single(Bytes::from(data))
    } else if args.null_message {
        Source::Single(Bytes::new())
    } else if args.stdin_line {
        Source::Lines
    } else {
        return Err(no_topic_or_message());
    };
    match (&topic_name, &source) {
        (Some(t), _) => validate_topic(t)?,
        (None, Source::JsonLines) => {}
        (None, _) => return Err(no_topic_or_message()),
    }
    if args.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let repeat_delay = Duration::try_from_secs_f64(args.repeat_delay)
        .map_err(|_| anyhow::anyhow!("--repeat-delay must be a number of seconds >= 0"))?;
    if args.max_inflight == 0 {
        bail!("-M must be at least 1");
    }
    let props = session::parse_properties(&args.client.property, Role::Publish, base.version)?;
    let mut opts = session::options(base, &args.connect, &args.client, Role::Publish, &props)?;
    opts.max_inflight = args.max_inflight;

    let (client, _events) = crate::client::Client::connect(opts).await?;
    let template = Publish {
        topic: ByteStr::from(topic_name.clone().unwrap_or_default()),
        qos: args.qos,
        retain: args.retain,
        properties: props.publish.clone(),
        ..Publish::default()
    };
    let result = match source {
        Source::Single(payload) => {
            let mut r = Ok(());
            for n in 0..args.repeat {
                if n > 0 && !repeat_delay.is_zero() {
                    tokio::time::sleep(repeat_delay).await;
                }
                let msg = Publish {
                    payload: payload.clone(),
                    ..template.clone()
                };
                if let Err(e) = publish_one(&client, msg).await {
                    r = Err(e);
                    break;
                }
            }
            r
        }
        Source::Lines | Source::JsonLines => {
            let json = matches!(source, Source::JsonLines);
            tokio::select! {
                r = stream_lines(&client, &template, json) => r,
                _ = crate::shutdown::signal() => Ok(()),
            }
        }
    };
    let d = crate::protocol::Disconnect {
        properties: props.disconnect.clone(),
        ..Default::default()
    };
    let disconnected = client.disconnect_with(d).await;
    result?;
    disconnected?;
    Ok(0)
}

/// A topic name must not be empty nor hold wildcards [MQTT-3.3.2-2].
fn validate_topic(t: &str) -> anyhow::Result<()> {
    topic::validate_name(t).map_err(|e| {
        anyhow::anyhow!("invalid publish topic '{t}', does it contain '+' or '#'? ({e})")
    })
}

/// Publish one message and wait for its acknowledgement.
async fn publish_one(client: &crate::client::Client, msg: Publish) -> anyhow::Result<()> {
    let ack = client.publish(msg).await?;
    check_ack(&ack)
}

/// A v5 PUBACK/PUBREC with a reason code >= 0x80 is a failure.
fn check_ack(ack: &Ack) -> anyhow::Result<()> {
    if ack.reason.is_error() {
        let mut text = format!("the broker refused the message: {}", ack.reason);
        if let Some(r) = &ack.properties.reason_string {
            text.push_str(": ");
            text.push_str(r);
        }
        bail!(text);
    }
    Ok(())
}

/// `-l` / `--json`: one message per stdin line, streamed through the inflight window.
async fn stream_lines(
    client: &crate::client::Client,
    template: &Publish,
    json: bool,
) -> anyhow::Result<()> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).split(b'\n');
    let progress = progress_bar();
    let mut pending: JoinSet<Result<Ack, crate::client::Error>> = JoinSet::new();
    let mut line_no = 0u64;
    while let Some(line) = lines.next_segment().await.context("cannot read stdin")? {
        line_no += 1;
        if let Some(bar) = &progress {
            bar.inc(line.len() as u64 + 1);
        }
        let msg = if json {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            json_line(&line, template).with_context(|| format!("stdin line {line_no}"))?
        } else {
            // Like mosquitto_pub, only the '\n' is removed (a '\r' stays).
            Publish {
                payload: Bytes::from(line),
                ..template.clone()
            }
        };
        let token = client.start_publish(msg).await?;
        pending.spawn(token.wait());
        while let Some(done) = pending.try_join_next() {
            check_ack(&done.context("publish task failed")??)?;
        }
    }
    while let Some(done) = pending.join_next().await {
        check_ack(&done.context("publish task failed")??)?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(())
}

/// A progress bar on stderr for `-l`/`--json` when stderr is a terminal and stdin is a
/// file of known size (`mq pub -l < big.txt`).
fn progress_bar() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let size = stdin_file_size()?;
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// The size of stdin when it is a regular file.
#[cfg(unix)]
fn stdin_file_size() -> Option<u64> {
    let meta = std::fs::metadata("/dev/stdin").ok()?;
    (meta.is_file() && meta.len() > 0).then_some(meta.len())
}

/// The size of stdin when it is a regular file (not detected on this platform).
#[cfg(not(unix))]
fn stdin_file_size() -> Option<u64> {
    None
}

/// One `--json` line: `{"topic":..,"payload":..,"payload_encoding":"base64"?,"qos":..,"retain":..}`
/// (what `mq sub --json` prints); missing fields come from `-t`/`-q`/`-r`.
fn json_line(line: &[u8], template: &Publish) -> anyhow::Result<Publish> {
    let v = json::parse(line).context("not a JSON object")?;
    if !matches!(v, Json::Object(_)) {
        bail!("not a JSON object");
    }
    let mut msg = template.clone();
    match v.get("topic") {
        Some(Json::Str(t)) => {
            let t = String::from_utf8(t.clone()).context("the topic is not UTF-8")?;
            msg.topic = ByteStr::from(t);
        }
        Some(_) => bail!("\"topic\" must be a string"),
        None => {}
    }
    if msg.topic.is_empty() {
        bail!("no topic: give \"topic\" or -t");
    }
    validate_topic(&msg.topic)?;
    let base64 = matches!(v.get("payload_encoding"), Some(Json::Str(e)) if e == b"base64");
    msg.payload = match v.get("payload") {
        Some(Json::Str(s)) if base64 => Bytes::from(
            json::base64_decode(std::str::from_utf8(s).unwrap_or(""))
                .context("\"payload\" is not valid base64")?,
        ),
        Some(Json::Str(s)) => Bytes::from(s.clone()),
        Some(Json::Null) | None => Bytes::new(),
        Some(other) => {
            // Any other JSON value is sent as its JSON text.
            let mut out = Vec::new();
            json::write(other, false, &mut out);
            Bytes::from(out)
        }
    };
    if let Some(q) = v.get("qos") {
        msg.qos = match q {
            Json::Num(n) => n.parse::<u8>().ok().and_then(QoS::from_u8),
            Json::Int(n) => u8::try_from(*n).ok().and_then(QoS::from_u8),
            _ => None,
        }
        .context("\"qos\" must be 0, 1 or 2")?;
    }
    match v.get("retain") {
        Some(Json::Bool(b)) => msg.retain = *b,
        Some(Json::Num(n)) => msg.retain = n != "0",
        Some(_) => bail!("\"retain\" must be true or false"),
        None => {}
    }
    if let Some(props) = v.get("properties") {
        json_properties(props, &mut msg.properties).context("in \"properties\"")?;
    }
    Ok(msg)
}

/// The MQTT 5 PUBLISH properties of a `--json` line, as `mq sub --json` prints them:
/// `user-properties` (an object), `content-type`, `response-topic`,
/// `correlation-data`, `payload-format-indicator`, `message-expiry-interval`.
/// Properties only a server sets (subscription identifiers, topic alias) are skipped.
fn json_properties(v: &Json, p: &mut crate::protocol::Properties) -> anyhow::Result<()> {
    let Json::Object(fields) = v else {
        bail!("must be an object");
    };
    let text = |v: &Json, name: &str| -> anyhow::Result<String> {
        match v {
            Json::Str(s) => {
                String::from_utf8(s.clone()).with_context(|| format!("{name} is not UTF-8"))
            }
            _ => bail!("{name} must be a string"),
        }
    };
    let number = |v: &Json, name: &str| -> anyhow::Result<u32> {
        match v {
            Json::Num(n) => n.parse::<u32>().ok(),
            Json::Int(n) => u32::try_from(*n).ok(),
            _ => None,
        }
        .with_context(|| format!("{name} must be a number"))
    };
    for (name, value) in fields {
        match name.as_str() {
            "user-properties" => {
                let Json::Object(pairs) = value else {
                    bail!("user-properties must be an object");
                };
                for (k, v) in pairs {
                    p.user_properties.push((k.clone(), text(v, k)?));
                }
            }
            "content-type" => p.content_type = Some(text(value, name)?),
            "response-topic" => p.response_topic = Some(ByteStr::from(text(value, name)?)),
            "correlation-data" => p.correlation_data = Some(Bytes::from(text(value, name)?)),
            "payload-format-indicator" => {
                let n = number(value, name)?;
                if n > 1 {
                    bail!("payload-format-indicator must be 0 or 1");
                }
                p.payload_format_indicator = Some(n as u8);
            }
            "message-expiry-interval" => p.message_expiry_interval = Some(number(value, name)?),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_replay_sub_json_output() {
        let t = Publish::default();
        let m = json_line(
            br#"{"topic":"a/b","payload":"hi","qos":1,"retain":true}"#,
            &t,
        )
        .unwrap();
        assert_eq!(
            (&*m.topic, &m.payload[..], m.qos, m.retain),
            ("a/b", &b"hi"[..], QoS::AtLeastOnce, true)
        );
        let m = json_line(
            br#"{"topic":"a","payload":"/wAB","payload_encoding":"base64"}"#,
            &t,
        )
        .unwrap();
        assert_eq!(&m.payload[..], b"\xff\x00\x01");
        assert!(json_line(br#"{"topic":"a/#","payload":"x"}"#, &t).is_err());
        assert!(json_line(br#"{"payload":"x"}"#, &t).is_err());
        assert!(json_line(br#"{"topic":"a","qos":3}"#, &t).is_err());
        assert!(json_line(b"nope", &t).is_err());
        let m = json_line(
            br#"{"topic":"p","payload":"x","properties":{"user-properties":{"k":"v","k":"w"},"content-type":"text/plain","message-expiry-interval":60,"subscription-identifiers":[3]}}"#,
            &t,
        )
        .unwrap();
        assert_eq!(
            m.properties.user_properties,
            vec![("k".into(), "v".into()), ("k".into(), "w".into())]
        );
        assert_eq!(m.properties.content_type.as_deref(), Some("text/plain"));
        assert_eq!(m.properties.message_expiry_interval, Some(60));
        assert!(m.properties.subscription_identifiers.is_empty());
    }
}
