//! What `mq pub`, `mq sub` and `mq rr` share beyond the connection flags: the client
//! identifier default, clean session / session expiry, the will, `-D` MQTT 5
//! properties per packet, the transport flags, the `-d` packet trace, and the refusal
//! of the flag we cannot honour yet (`-S`).

use crate::cli::{ClientArgs, ConnectArgs};
use crate::client::ConnectOptions;
use crate::cmd::output::DebugTrace;
use crate::protocol::{ByteStr, Properties, PropertyContext, PropertyId, ProtocolVersion, Will};
use anyhow::{Context, bail};
use bytes::Bytes;

/// `-D` properties sorted by the packet they go in.
#[derive(Clone, Debug, Default)]
pub struct CommandProperties {
    /// CONNECT.
    pub connect: Properties,
    /// PUBLISH.
    pub publish: Properties,
    /// SUBSCRIBE.
    pub subscribe: Properties,
    /// UNSUBSCRIBE.
    pub unsubscribe: Properties,
    /// DISCONNECT.
    pub disconnect: Properties,
    /// The will message.
    pub will: Properties,
}

/// Which command the session is for (`-D` accepts different packets per command).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `mq pub`
    Publish,
    /// `mq sub`
    Subscribe,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Publish => "pub",
            Role::Subscribe => "sub",
        }
    }
}

/// A random alphanumeric string (see [`crate::random`]).
pub fn random_suffix(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = crate::random::Rng::from_entropy();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len() as u64) as usize]))
        .collect()
}

/// Complete the client options for `mq pub`/`mq sub`/`mq rr`: `opts` comes from
/// [`ConnectArgs::to_options`] (called once: `-P -` reads stdin), the rest from the
/// session, transport and `-d` flags.
pub fn options(
    mut opts: ConnectOptions,
    connect: &ConnectArgs,
    client: &ClientArgs,
    role: Role,
    props: &CommandProperties,
) -> anyhow::Result<ConnectOptions> {
    if client.srv {
        bail!("-S is not supported yet");
    }
    if let Some(prefix) = &client.id_prefix {
        opts.client_id = format!("{prefix}{}", std::process::id());
    }
    if opts.client_id.is_empty() && !opts.version.is_v5() {
        // 3.1 requires an identifier of 1-23 characters; mosquitto_pub sends its own.
        opts.client_id = format!("mq-{}-{}", role.name(), random_suffix(16));
    }
    if client.disable_clean_session {
        if connect.id.is_none() && client.id_prefix.is_none() {
            bail!("you must provide a client id (-i) if you are using the -c option");
        }
        opts.clean_start = false;
    }
    if opts.version.is_v5() {
        opts.session_expiry = match client.session_expiry {
            Some(x) => Some(x),
            // mosquitto: -c without -x means the session never expires.
            None if client.disable_clean_session => Some(u32::MAX),
            None => None,
        };
    } else if client.session_expiry.is_some() {
        bail!("-x (session expiry) needs MQTT 5 (-V 5)");
    }
    if let Some(topic) = &client.will_topic {
        crate::protocol::topic::validate_name(topic)
            .map_err(|e| anyhow::anyhow!("invalid will topic '{topic}': {e}"))?;
        opts.will = Some(Will {
            topic: ByteStr::from(topic.as_str()),
            payload: client
                .will_payload
                .as_ref()
                .map(|p| Bytes::from(p.clone()))
                .unwrap_or_default(),
            qos: client.will_qos.unwrap_or_default(),
            retain: client.will_retain,
            properties: props.will.clone(),
        });
    }
    opts.properties = props.connect.clone();
    client.apply_transport(&mut opts)?;
    if client.debug {
        // -d: mosquitto's packet lines on stdout, built from the real packets.
        opts.packet_trace = Some(DebugTrace::hook(&opts.client_id, opts.version));
    }
    Ok(opts)
}

/// Split the flat `-D` values into one group per flag: `user-property` takes a key
/// and a value, every other property one value.
fn group_properties(flat: &[String]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut groups = Vec::new();
    let mut rest = flat;
    while !rest.is_empty() {
        let n = if rest.get(1).map(String::as_str) == Some("user-property") {
            4
        } else {
            3
        };
        if rest.len() < n {
            bail!("-D needs a command, a property name and a value");
        }
        groups.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    Ok(groups)
}

/// Parse every `-D COMMAND NAME VALUE` (`-D COMMAND user-property KEY VALUE`), given
/// as the flat list of values clap collects.
pub fn parse_properties(
    flat: &[String],
    role: Role,
    version: ProtocolVersion,
) -> anyhow::Result<CommandProperties> {
    parse_groups(&group_properties(flat)?, role, version)
}

/// [`parse_properties`] on the values already split one group per `-D`.
fn parse_groups(
    raw: &[Vec<String>],
    role: Role,
    version: ProtocolVersion,
) -> anyhow::Result<CommandProperties> {
    let mut out = CommandProperties::default();
    if raw.is_empty() {
        return Ok(out);
    }
    if !version.is_v5() {
        bail!("-D (MQTT 5 properties) needs MQTT 5 (-V 5)");
    }
    for d in raw {
        let [command, name, rest @ ..] = d.as_slice() else {
            bail!("-D needs a command, a property name and a value");
        };
        let (ctx, target) = match (command.to_ascii_lowercase().as_str(), role) {
            ("connect", _) => (PropertyContext::Connect, &mut out.connect),
            ("publish", Role::Publish) => (PropertyContext::Publish, &mut out.publish),
            ("subscribe", Role::Subscribe) => (PropertyContext::Subscribe, &mut out.subscribe),
            ("unsubscribe", Role::Subscribe) => {
                (PropertyContext::Unsubscribe, &mut out.unsubscribe)
            }
            ("disconnect", _) => (PropertyContext::Disconnect, &mut out.disconnect),
            ("will", _) => (PropertyContext::Will, &mut out.will),
            (other, _) => bail!("invalid command '{other}' for -D in mq {}", role.name()),
        };
        let id = (0u8..=0x2A)
            .filter_map(PropertyId::from_u8)
            .find(|p| p.cli_name() == name.as_str())
            .with_context(|| format!("invalid property name '{name}' for -D"))?;
        if !id.allowed_in(ctx) {
            bail!("the property '{name}' is not allowed in {command}");
        }
        set_property(target, id, rest).with_context(|| format!("invalid -D {command} {name}"))?;
    }
    Ok(out)
}

fn set_property(p: &mut Properties, id: PropertyId, values: &[String]) -> anyhow::Result<()> {
    use PropertyId as P;
    if id == P::UserProperty {
        let [k, v] = values else {
            bail!("user-property needs a key and a value");
        };
        p.user_properties.push((k.clone(), v.clone()));
        return Ok(());
    }
    let [v] = values else {
        bail!("expected one value");
    };
    let num = |max: u64| -> anyhow::Result<u64> {
        let n: u64 = v
            .parse()
            .with_context(|| format!("'{v}' is not a number"))?;
        if n > max {
            bail!("{n} is out of range (at most {max})");
        }
        Ok(n)
    };
    match id {
        P::PayloadFormatIndicator => p.payload_format_indicator = Some(num(1)? as u8),
        P::MessageExpiryInterval => p.message_expiry_interval = Some(num(u32::MAX.into())? as u32),
        P::ContentType => p.content_type = Some(v.clone()),
        P::ResponseTopic => p.response_topic = Some(ByteStr::from(v.as_str())),
        P::CorrelationData => p.correlation_data = Some(Bytes::from(v.clone())),
        P::SubscriptionIdentifier => {
            let n = num(268_435_455)? as u32;
            if n == 0 {
                bail!("the subscription identifier must be 1-268435455");
            }
            p.subscription_identifiers.push(n);
        }
        P::SessionExpiryInterval => p.session_expiry_interval = Some(num(u32::MAX.into())? as u32),
        P::AuthenticationMethod => p.authentication_method = Some(v.clone()),
        P::AuthenticationData => p.authentication_data = Some(Bytes::from(v.clone())),
        P::RequestProblemInformation => p.request_problem_information = Some(num(1)? as u8),
        P::WillDelayInterval => p.will_delay_interval = Some(num(u32::MAX.into())? as u32),
        P::RequestResponseInformation => p.request_response_information = Some(num(1)? as u8),
        P::ReasonString => p.reason_string = Some(v.clone()),
        P::ReceiveMaximum => {
            let n = num(65535)? as u16;
            if n == 0 {
                bail!("receive-maximum must be 1-65535");
            }
            p.receive_maximum = Some(n);
        }
        P::TopicAliasMaximum => p.topic_alias_maximum = Some(num(65535)? as u16),
        P::TopicAlias => p.topic_alias = Some(num(65535)? as u16),
        P::MaximumPacketSize => {
            let n = num(u32::MAX.into())? as u32;
            if n == 0 {
                bail!("maximum-packet-size must be at least 1");
            }
            p.maximum_packet_size = Some(n);
        }
        other => bail!("'{}' cannot be set by a client", other.cli_name()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn properties_by_command() {
        let p = parse_groups(
            &[
                d(&["publish", "user-property", "k", "v"]),
                d(&["publish", "content-type", "text/plain"]),
                d(&["connect", "receive-maximum", "10"]),
                d(&["will", "will-delay-interval", "5"]),
            ],
            Role::Publish,
            ProtocolVersion::V5,
        )
        .unwrap();
        assert_eq!(p.publish.user_properties, vec![("k".into(), "v".into())]);
        assert_eq!(p.publish.content_type.as_deref(), Some("text/plain"));
        assert_eq!(p.connect.receive_maximum, Some(10));
        assert_eq!(p.will.will_delay_interval, Some(5));
    }

    #[test]
    fn properties_rejected_where_not_allowed() {
        // [MQTT-2.2.2-2]: a property only in the packets that define it.
        assert!(
            parse_groups(
                &[d(&["connect", "content-type", "x"])],
                Role::Publish,
                ProtocolVersion::V5
            )
            .is_err()
        );
        assert!(
            parse_groups(
                &[d(&["subscribe", "content-type", "x"])],
                Role::Publish,
                ProtocolVersion::V5
            )
            .is_err()
        );
        assert!(
            parse_groups(
                &[d(&["publish", "no-such", "x"])],
                Role::Publish,
                ProtocolVersion::V5
            )
            .is_err()
        );
        assert!(
            parse_groups(
                &[d(&["publish", "topic-alias", "x"])],
                Role::Publish,
                ProtocolVersion::V5
            )
            .is_err()
        );
        assert!(
            parse_groups(
                &[d(&["publish", "content-type", "x"])],
                Role::Publish,
                ProtocolVersion::V311
            )
            .is_err()
        );
    }

    #[test]
    fn random_suffix_is_alphanumeric() {
        let s = random_suffix(16);
        assert_eq!(s.len(), 16);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(s, random_suffix(16));
    }
}
