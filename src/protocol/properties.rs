//! MQTT 5.0 properties (section 2.2.2): every property with its type, the packets it
//! may appear in, and the value checks a receiver makes.

use super::wire::{self, Reader};
use super::{ByteStr, Error};
use bytes::{BufMut, Bytes, BytesMut};

/// Property identifiers [MQTT-2.2.2.2].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PropertyId {
    /// Byte: PUBLISH, Will.
    PayloadFormatIndicator = 0x01,
    /// Four-byte integer: PUBLISH, Will.
    MessageExpiryInterval = 0x02,
    /// UTF-8 string: PUBLISH, Will.
    ContentType = 0x03,
    /// UTF-8 string: PUBLISH, Will.
    ResponseTopic = 0x08,
    /// Binary: PUBLISH, Will.
    CorrelationData = 0x09,
    /// Variable byte integer: PUBLISH, SUBSCRIBE.
    SubscriptionIdentifier = 0x0B,
    /// Four-byte integer: CONNECT, CONNACK, DISCONNECT.
    SessionExpiryInterval = 0x11,
    /// UTF-8 string: CONNACK.
    AssignedClientIdentifier = 0x12,
    /// Two-byte integer: CONNACK.
    ServerKeepAlive = 0x13,
    /// UTF-8 string: CONNECT, CONNACK, AUTH.
    AuthenticationMethod = 0x15,
    /// Binary: CONNECT, CONNACK, AUTH.
    AuthenticationData = 0x16,
    /// Byte: CONNECT.
    RequestProblemInformation = 0x17,
    /// Four-byte integer: Will.
    WillDelayInterval = 0x18,
    /// Byte: CONNECT.
    RequestResponseInformation = 0x19,
    /// UTF-8 string: CONNACK.
    ResponseInformation = 0x1A,
    /// UTF-8 string: CONNACK, DISCONNECT.
    ServerReference = 0x1C,
    /// UTF-8 string: CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH.
    ReasonString = 0x1F,
    /// Two-byte integer: CONNECT, CONNACK.
    ReceiveMaximum = 0x21,
    /// Two-byte integer: CONNECT, CONNACK.
    TopicAliasMaximum = 0x22,
    /// Two-byte integer: PUBLISH.
    TopicAlias = 0x23,
    /// Byte: CONNACK.
    MaximumQos = 0x24,
    /// Byte: CONNACK.
    RetainAvailable = 0x25,
    /// UTF-8 string pair: every packet that has properties.
    UserProperty = 0x26,
    /// Four-byte integer: CONNECT, CONNACK.
    MaximumPacketSize = 0x27,
    /// Byte: CONNACK.
    WildcardSubscriptionAvailable = 0x28,
    /// Byte: CONNACK.
    SubscriptionIdentifierAvailable = 0x29,
    /// Byte: CONNACK.
    SharedSubscriptionAvailable = 0x2A,
}

impl PropertyId {
    /// The identifier for a byte, if the specification defines one.
    pub fn from_u8(v: u8) -> Option<PropertyId> {
        use PropertyId::*;
        Some(match v {
            0x01 => PayloadFormatIndicator,
            0x02 => MessageExpiryInterval,
            0x03 => ContentType,
            0x08 => ResponseTopic,
            0x09 => CorrelationData,
            0x0B => SubscriptionIdentifier,
            0x11 => SessionExpiryInterval,
            0x12 => AssignedClientIdentifier,
            0x13 => ServerKeepAlive,
            0x15 => AuthenticationMethod,
            0x16 => AuthenticationData,
            0x17 => RequestProblemInformation,
            0x18 => WillDelayInterval,
            0x19 => RequestResponseInformation,
            0x1A => ResponseInformation,
            0x1C => ServerReference,
            0x1F => ReasonString,
            0x21 => ReceiveMaximum,
            0x22 => TopicAliasMaximum,
            0x23 => TopicAlias,
            0x24 => MaximumQos,
            0x25 => RetainAvailable,
            0x26 => UserProperty,
            0x27 => MaximumPacketSize,
            0x28 => WildcardSubscriptionAvailable,
            0x29 => SubscriptionIdentifierAvailable,
            0x2A => SharedSubscriptionAvailable,
            _ => return None,
        })
    }

    /// The specification's name, with `-` between words as mosquitto's `-D` spells it.
    pub fn cli_name(self) -> &'static str {
        use PropertyId::*;
        match self {
            PayloadFormatIndicator => "payload-format-indicator",
            MessageExpiryInterval => "message-expiry-interval",
            ContentType => "content-type",
            ResponseTopic => "response-topic",
            CorrelationData => "correlation-data",
            SubscriptionIdentifier => "subscription-identifier",
            SessionExpiryInterval => "session-expiry-interval",
            AssignedClientIdentifier => "assigned-client-identifier",
            ServerKeepAlive => "server-keep-alive",
            AuthenticationMethod => "authentication-method",
            AuthenticationData => "authentication-data",
            RequestProblemInformation => "request-problem-information",
            WillDelayInterval => "will-delay-interval",
            RequestResponseInformation => "request-response-information",
            ResponseInformation => "response-information",
            ServerReference => "server-reference",
            ReasonString => "reason-string",
            ReceiveMaximum => "receive-maximum",
            TopicAliasMaximum => "topic-alias-maximum",
            TopicAlias => "topic-alias",
            MaximumQos => "maximum-qos",
            RetainAvailable => "retain-available",
            UserProperty => "user-property",
            MaximumPacketSize => "maximum-packet-size",
            WildcardSubscriptionAvailable => "wildcard-subscription-available",
            SubscriptionIdentifierAvailable => "subscription-identifier-available",
            SharedSubscriptionAvailable => "shared-subscription-available",
        }
    }

    /// Whether the property may appear in the given packet [MQTT-2.2.2-2].
    pub fn allowed_in(self, ctx: PropertyContext) -> bool {
        use PropertyContext as C;
        use PropertyId::*;
        match self {
            PayloadFormatIndicator
            | MessageExpiryInterval
            | ContentType
            | ResponseTopic
            | CorrelationData => matches!(ctx, C::Publish | C::Will),
            SubscriptionIdentifier => matches!(ctx, C::Publish | C::Subscribe),
            SessionExpiryInterval => matches!(ctx, C::Connect | C::ConnAck | C::Disconnect),
            AssignedClientIdentifier
            | ServerKeepAlive
            | ResponseInformation
            | MaximumQos
            | RetainAvailable
            | WildcardSubscriptionAvailable
            | SubscriptionIdentifierAvailable
            | SharedSubscriptionAvailable => ctx == C::ConnAck,
            AuthenticationMethod | AuthenticationData => {
                matches!(ctx, C::Connect | C::ConnAck | C::Auth)
            }
            RequestProblemInformation | RequestResponseInformation => ctx == C::Connect,
            WillDelayInterval => ctx == C::Will,
            ServerReference => matches!(ctx, C::ConnAck | C::Disconnect),
            ReasonString => matches!(
                ctx,
                C::ConnAck | C::PubAck | C::SubAck | C::UnsubAck | C::Disconnect | C::Auth
            ),
            ReceiveMaximum | TopicAliasMaximum | MaximumPacketSize => {
                matches!(ctx, C::Connect | C::ConnAck)
            }
            TopicAlias => ctx == C::Publish,
            UserProperty => true,
        }
    }
}

/// Where a property block sits: decides which properties are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropertyContext {
    /// CONNECT.
    Connect,
    /// CONNACK.
    ConnAck,
    /// PUBLISH.
    Publish,
    /// The will properties inside CONNECT.
    Will,
    /// PUBACK, PUBREC, PUBREL, PUBCOMP.
    PubAck,
    /// SUBSCRIBE.
    Subscribe,
    /// SUBACK.
    SubAck,
    /// UNSUBSCRIBE.
    Unsubscribe,
    /// UNSUBACK.
    UnsubAck,
    /// DISCONNECT.
    Disconnect,
    /// AUTH.
    Auth,
}

/// The properties of one packet. Absent properties are `None`; user properties keep
/// their order and may repeat [MQTT-3.3.2-18].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Properties {
    /// 0x01: 0 = unspecified bytes, 1 = UTF-8 payload.
    pub payload_format_indicator: Option<u8>,
    /// 0x02: lifetime of the message in seconds.
    pub message_expiry_interval: Option<u32>,
    /// 0x03.
    pub content_type: Option<String>,
    /// 0x08: topic for a response (request/response pattern).
    pub response_topic: Option<ByteStr>,
    /// 0x09.
    pub correlation_data: Option<Bytes>,
    /// 0x0B: one in SUBSCRIBE; possibly several in a PUBLISH to a client.
    pub subscription_identifiers: Vec<u32>,
    /// 0x11.
    pub session_expiry_interval: Option<u32>,
    /// 0x12.
    pub assigned_client_identifier: Option<String>,
    /// 0x13.
    pub server_keep_alive: Option<u16>,
    /// 0x15.
    pub authentication_method: Option<String>,
    /// 0x16.
    pub authentication_data: Option<Bytes>,
    /// 0x17.
    pub request_problem_information: Option<u8>,
    /// 0x18.
    pub will_delay_interval: Option<u32>,
    /// 0x19.
    pub request_response_information: Option<u8>,
    /// 0x1A.
    pub response_information: Option<String>,
    /// 0x1C.
    pub server_reference: Option<String>,
    /// 0x1F.
    pub reason_string: Option<String>,
    /// 0x21.
    pub receive_maximum: Option<u16>,
    /// 0x22.
    pub topic_alias_maximum: Option<u16>,
    /// 0x23.
    pub topic_alias: Option<u16>,
    /// 0x24.
    pub maximum_qos: Option<u8>,
    /// 0x25.
    pub retain_available: Option<u8>,
    /// 0x26, in order, duplicates allowed.
    pub user_properties: Vec<(String, String)>,
    /// 0x27.
    pub maximum_packet_size: Option<u32>,
    /// 0x28.
    pub wildcard_subscription_available: Option<u8>,
    /// 0x29.
    pub subscription_identifier_available: Option<u8>,
    /// 0x2A.
    pub shared_subscription_available: Option<u8>,
}

fn dup(id: PropertyId) -> Error {
    let _ = id;
    Error::Protocol("a property other than User Property appears twice [MQTT-2.2.2-1]")
}

fn set<T>(slot: &mut Option<T>, v: T, id: PropertyId) -> Result<(), Error> {
    if slot.is_some() {
        return Err(dup(id));
    }
    *slot = Some(v);
    Ok(())
}

fn flag(r: &mut Reader, what: &'static str) -> Result<u8, Error> {
    let v = r.u8()?;
    if v > 1 {
        return Err(Error::Protocol(what));
    }
    Ok(v)
}

/// Count the User Properties and Subscription Identifiers of a property block, by
/// skipping over every property. Stops at the first malformed property (the decoding
/// pass then reports it).
fn count_repeatable(mut r: Reader) -> (usize, usize) {
    use PropertyId::*;
    let (mut users, mut sub_ids) = (0, 0);
    while !r.is_empty() {
        let Some(id) = r
            .varint()
            .ok()
            .and_then(|v| u8::try_from(v).ok())
            .and_then(PropertyId::from_u8)
        else {
            break;
        };
        let skipped = match id {
            PayloadFormatIndicator
            | RequestProblemInformation
            | RequestResponseInformation
            | MaximumQos
            | RetainAvailable
            | WildcardSubscriptionAvailable
            | SubscriptionIdentifierAvailable
            | SharedSubscriptionAvailable => r.take(1).map(drop),
            ServerKeepAlive | ReceiveMaximum | TopicAliasMaximum | TopicAlias => {
                r.take(2).map(drop)
            }
            MessageExpiryInterval
            | SessionExpiryInterval
            | WillDelayInterval
            | MaximumPacketSize => r.take(4).map(drop),
            SubscriptionIdentifier => {
                sub_ids += 1;
                r.varint().map(drop)
            }
            ContentType
            | ResponseTopic
            | CorrelationData
            | AssignedClientIdentifier
            | AuthenticationMethod
            | AuthenticationData
            | ResponseInformation
            | ServerReference
            | ReasonString => r.binary().map(drop),
            UserProperty => {
                users += 1;
                r.binary().and_then(|_| r.binary()).map(drop)
            }
        };
        if skipped.is_err() {
            break;
        }
    }
    (users, sub_ids)
}

impl Properties {
    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        *self == Properties::default()
    }

    /// Read a property block (length then properties) for the given packet.
    pub(crate) fn decode(r: &mut Reader, ctx: PropertyContext) -> Result<Properties, Error> {
        let len = r.varint()? as usize;
        let block = r.take(len)?;
        let mut r = Reader::new(block);
        let mut p = Properties::default();
        // Size the repeatable properties' vectors exactly, so decoding allocates a fixed
        // multiple of the packet size at most (no doubling growth).
        let (users, sub_ids) = count_repeatable(r.clone());
        p.user_properties.reserve_exact(users);
        p.subscription_identifiers.reserve_exact(sub_ids);
        while !r.is_empty() {
            let raw_id = r.varint()?;
            let id = u8::try_from(raw_id)
                .ok()
                .and_then(PropertyId::from_u8)
                .ok_or(Error::Malformed("unknown property identifier"))?;
            if !id.allowed_in(ctx) {
                return Err(Error::Protocol(
                    "property not allowed in this packet [MQTT-2.2.2-2]",
                ));
            }
            use PropertyId::*;
            match id {
                PayloadFormatIndicator => {
                    let v = flag(&mut r, "Payload Format Indicator must be 0 or 1")?;
                    set(&mut p.payload_format_indicator, v, id)?
                }
                MessageExpiryInterval => set(&mut p.message_expiry_interval, r.u32()?, id)?,
                ContentType => set(&mut p.content_type, r.string_owned()?, id)?,
                ResponseTopic => {
                    let t = r.string()?;
                    if t.is_empty() || t.contains(['+', '#']) {
                        return Err(Error::Protocol(
                            "Response Topic must be a valid topic name [MQTT-3.3.2-14]",
                        ));
                    }
                    set(&mut p.response_topic, t, id)?
                }
                CorrelationData => set(&mut p.correlation_data, r.binary()?, id)?,
                SubscriptionIdentifier => {
                    let v = r.varint()?;
                    if v == 0 {
                        return Err(Error::Protocol(
                            "Subscription Identifier of 0 [MQTT-3.8.2.1.2]",
                        ));
                    }
                    if ctx == PropertyContext::Subscribe && !p.subscription_identifiers.is_empty() {
                        return Err(dup(id));
                    }
                    p.subscription_identifiers.push(v)
                }
                SessionExpiryInterval => set(&mut p.session_expiry_interval, r.u32()?, id)?,
                AssignedClientIdentifier => {
                    set(&mut p.assigned_client_identifier, r.string_owned()?, id)?
                }
                ServerKeepAlive => set(&mut p.server_keep_alive, r.u16()?, id)?,
                AuthenticationMethod => set(&mut p.authentication_method, r.string_owned()?, id)?,
                AuthenticationData => set(&mut p.authentication_data, r.binary()?, id)?,
                RequestProblemInformation => {
                    let v = flag(&mut r, "Request Problem Information must be 0 or 1")?;
                    set(&mut p.request_problem_information, v, id)?
                }
                WillDelayInterval => set(&mut p.will_delay_interval, r.u32()?, id)?,
                RequestResponseInformation => {
                    let v = flag(&mut r, "Request Response Information must be 0 or 1")?;
                    set(&mut p.request_response_information, v, id)?
                }
                ResponseInformation => set(&mut p.response_information, r.string_owned()?, id)?,
                ServerReference => set(&mut p.server_reference, r.string_owned()?, id)?,
                ReasonString => set(&mut p.reason_string, r.string_owned()?, id)?,
                ReceiveMaximum => {
                    let v = r.u16()?;
                    if v == 0 {
                        return Err(Error::Protocol("Receive Maximum of 0 [MQTT-3.1.2.11.3]"));
                    }
                    set(&mut p.receive_maximum, v, id)?
                }
                TopicAliasMaximum => set(&mut p.topic_alias_maximum, r.u16()?, id)?,
                TopicAlias => {
                    let v = r.u16()?;
                    if v == 0 {
                        return Err(Error::Protocol("Topic Alias of 0 [MQTT-3.3.2-8]"));
                    }
                    set(&mut p.topic_alias, v, id)?
                }
                MaximumQos => {
                    let v = flag(&mut r, "Maximum QoS must be 0 or 1 [MQTT-3.2.2.3.4]")?;
                    set(&mut p.maximum_qos, v, id)?
                }
                RetainAvailable => {
                    let v = flag(&mut r, "Retain Available must be 0 or 1")?;
                    set(&mut p.retain_available, v, id)?
                }
                UserProperty => {
                    let k = r.string_owned()?;
                    let v = r.string_owned()?;
                    p.user_properties.push((k, v))
                }
                MaximumPacketSize => {
                    let v = r.u32()?;
                    if v == 0 {
                        return Err(Error::Protocol(
                            "Maximum Packet Size of 0 [MQTT-3.1.2.11.4]",
                        ));
                    }
                    set(&mut p.maximum_packet_size, v, id)?
                }
                WildcardSubscriptionAvailable => {
                    let v = flag(&mut r, "Wildcard Subscription Available must be 0 or 1")?;
                    set(&mut p.wildcard_subscription_available, v, id)?
                }
                SubscriptionIdentifierAvailable => {
                    let v = flag(&mut r, "Subscription Identifier Available must be 0 or 1")?;
                    set(&mut p.subscription_identifier_available, v, id)?
                }
                SharedSubscriptionAvailable => {
                    let v = flag(&mut r, "Shared Subscription Available must be 0 or 1")?;
                    set(&mut p.shared_subscription_available, v, id)?
                }
            }
        }
        Ok(p)
    }

    /// Length of the encoded properties, without the length prefix.
    pub(crate) fn body_len(&self) -> usize {
        let s = |o: &Option<String>| o.as_ref().map_or(0, |v| 3 + v.len());
        let b = |o: &Option<Bytes>| o.as_ref().map_or(0, |v| 3 + v.len());
        let n1 = |o: &Option<u8>| if o.is_some() { 2 } else { 0 };
        let n2 = |o: &Option<u16>| if o.is_some() { 3 } else { 0 };
        let n4 = |o: &Option<u32>| if o.is_some() { 5 } else { 0 };
        n1(&self.payload_format_indicator)
            + n4(&self.message_expiry_interval)
            + s(&self.content_type)
            + self.response_topic.as_ref().map_or(0, |v| 3 + v.len())
            + b(&self.correlation_data)
            + self
                .subscription_identifiers
                .iter()
                .map(|v| 1 + wire::varint_len(*v as usize))
                .sum::<usize>()
            + n4(&self.session_expiry_interval)
            + s(&self.assigned_client_identifier)
            + n2(&self.server_keep_alive)
            + s(&self.authentication_method)
            + b(&self.authentication_data)
            + n1(&self.request_problem_information)
            + n4(&self.will_delay_interval)
            + n1(&self.request_response_information)
            + s(&self.response_information)
            + s(&self.server_reference)
            + s(&self.reason_string)
            + n2(&self.receive_maximum)
            + n2(&self.topic_alias_maximum)
            + n2(&self.topic_alias)
            + n1(&self.maximum_qos)
            + n1(&self.retain_available)
            + self
                .user_properties
                .iter()
                .map(|(k, v)| 5 + k.len() + v.len())
                .sum::<usize>()
            + n4(&self.maximum_packet_size)
            + n1(&self.wildcard_subscription_available)
            + n1(&self.subscription_identifier_available)
            + n1(&self.shared_subscription_available)
    }

    /// Length of the encoded block including its length prefix.
    pub(crate) fn encoded_len(&self) -> usize {
        let n = self.body_len();
        wire::varint_len(n) + n
    }

    /// Write the block (length prefix and properties), in the order of
    /// [`ENCODE_ORDER`].
    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), Error> {
        self.encode_in(ENCODE_ORDER, out)
    }

    /// Write the block of a CONNACK, in mosquitto 2.0's order (see
    /// [`CONNACK_ORDER`]).
    pub(crate) fn encode_connack(&self, out: &mut BytesMut) -> Result<(), Error> {
        self.encode_in(CONNACK_ORDER, out)
    }

    /// Write the block with its properties in `order`, which names every property
    /// once (checked by a test).
    fn encode_in(&self, order: &[PropertyId], out: &mut BytesMut) -> Result<(), Error> {
        wire::put_varint(out, self.body_len());
        for &id in order {
            self.encode_one(id, out)?;
        }
        Ok(())
    }

    /// Write property `id` if it is set (every value of a repeatable one).
    fn encode_one(&self, id: PropertyId, out: &mut BytesMut) -> Result<(), Error> {
        use PropertyId::*;
        let b1 = |out: &mut BytesMut, v: Option<u8>| {
            if let Some(v) = v {
                out.put_u8(id as u8);
                out.put_u8(v);
            }
        };
        let b2 = |out: &mut BytesMut, v: Option<u16>| {
            if let Some(v) = v {
                out.put_u8(id as u8);
                out.put_u16(v);
            }
        };
        let b4 = |out: &mut BytesMut, v: Option<u32>| {
            if let Some(v) = v {
                out.put_u8(id as u8);
                out.put_u32(v);
            }
        };
        let st = |out: &mut BytesMut, v: Option<&str>| -> Result<(), Error> {
            if let Some(v) = v {
                out.put_u8(id as u8);
                wire::put_string(out, v)?;
            }
            Ok(())
        };
        let bin = |out: &mut BytesMut, v: Option<&Bytes>| -> Result<(), Error> {
            if let Some(v) = v {
                out.put_u8(id as u8);
                wire::put_binary(out, v)?;
            }
            Ok(())
        };
        match id {
            PayloadFormatIndicator => b1(out, self.payload_format_indicator),
            MessageExpiryInterval => b4(out, self.message_expiry_interval),
            ContentType => st(out, self.content_type.as_deref())?,
            ResponseTopic => st(out, self.response_topic.as_deref())?,
            CorrelationData => bin(out, self.correlation_data.as_ref())?,
            SubscriptionIdentifier => {
                for v in &self.subscription_identifiers {
                    // A Variable Byte Integer holds at most 268435455 [MQTT-1.5.5]; a
                    // larger value would take five bytes and break the lengths
                    // computed above.
                    if *v > wire::MAX_VARINT {
                        return Err(Error::Encode(
                            "Subscription Identifier larger than 268435455",
                        ));
                    }
                    out.put_u8(SubscriptionIdentifier as u8);
                    wire::put_varint(out, *v as usize);
                }
            }
            SessionExpiryInterval => b4(out, self.session_expiry_interval),
            AssignedClientIdentifier => st(out, self.assigned_client_identifier.as_deref())?,
            ServerKeepAlive => b2(out, self.server_keep_alive),
            AuthenticationMethod => st(out, self.authentication_method.as_deref())?,
            AuthenticationData => bin(out, self.authentication_data.as_ref())?,
            RequestProblemInformation => b1(out, self.request_problem_information),
            WillDelayInterval => b4(out, self.will_delay_interval),
            RequestResponseInformation => b1(out, self.request_response_information),
            ResponseInformation => st(out, self.response_information.as_deref())?,
            ServerReference => st(out, self.server_reference.as_deref())?,
            ReasonString => st(out, self.reason_string.as_deref())?,
            ReceiveMaximum => b2(out, self.receive_maximum),
            TopicAliasMaximum => b2(out, self.topic_alias_maximum),
            TopicAlias => b2(out, self.topic_alias),
            MaximumQos => b1(out, self.maximum_qos),
            RetainAvailable => b1(out, self.retain_available),
            UserProperty => {
                for (k, v) in &self.user_properties {
                    out.put_u8(UserProperty as u8);
                    wire::put_string(out, k)?;
                    wire::put_string(out, v)?;
                }
            }
            MaximumPacketSize => b4(out, self.maximum_packet_size),
            WildcardSubscriptionAvailable => b1(out, self.wildcard_subscription_available),
            SubscriptionIdentifierAvailable => b1(out, self.subscription_identifier_available),
            SharedSubscriptionAvailable => b1(out, self.shared_subscription_available),
        }
        Ok(())
    }
}

/// The order properties are written in: by identifier (the specification leaves
/// the order free).
const ENCODE_ORDER: &[PropertyId] = &[
    PropertyId::PayloadFormatIndicator,
    PropertyId::MessageExpiryInterval,
    PropertyId::ContentType,
    PropertyId::ResponseTopic,
    PropertyId::CorrelationData,
    PropertyId::SubscriptionIdentifier,
    PropertyId::SessionExpiryInterval,
    PropertyId::AssignedClientIdentifier,
    PropertyId::ServerKeepAlive,
    PropertyId::AuthenticationMethod,
    PropertyId::AuthenticationData,
    PropertyId::RequestProblemInformation,
    PropertyId::WillDelayInterval,
    PropertyId::RequestResponseInformation,
    PropertyId::ResponseInformation,
    PropertyId::ServerReference,
    PropertyId::ReasonString,
    PropertyId::ReceiveMaximum,
    PropertyId::TopicAliasMaximum,
    PropertyId::TopicAlias,
    PropertyId::MaximumQos,
    PropertyId::RetainAvailable,
    PropertyId::UserProperty,
    PropertyId::MaximumPacketSize,
    PropertyId::WildcardSubscriptionAvailable,
    PropertyId::SubscriptionIdentifierAvailable,
    PropertyId::SharedSubscriptionAvailable,
];

/// A CONNACK's properties in the order mosquitto 2.0 writes them (read off its
/// CONNACK: Topic Alias Maximum, Server Keep Alive, Assigned Client Identifier,
/// then Retain Available, Maximum Packet Size, Receive Maximum, Maximum QoS), so
/// that byte-level captures compare cleanly; the rest follow in [`ENCODE_ORDER`].
const CONNACK_ORDER: &[PropertyId] = &[
    PropertyId::TopicAliasMaximum,
    PropertyId::ServerKeepAlive,
    PropertyId::AssignedClientIdentifier,
    PropertyId::AuthenticationMethod,
    PropertyId::AuthenticationData,
    PropertyId::RetainAvailable,
    PropertyId::MaximumPacketSize,
    PropertyId::ReceiveMaximum,
    PropertyId::MaximumQos,
    PropertyId::PayloadFormatIndicator,
    PropertyId::MessageExpiryInterval,
    PropertyId::ContentType,
    PropertyId::ResponseTopic,
    PropertyId::CorrelationData,
    PropertyId::SubscriptionIdentifier,
    PropertyId::SessionExpiryInterval,
    PropertyId::RequestProblemInformation,
    PropertyId::WillDelayInterval,
    PropertyId::RequestResponseInformation,
    PropertyId::ResponseInformation,
    PropertyId::ServerReference,
    PropertyId::ReasonString,
    PropertyId::TopicAlias,
    PropertyId::UserProperty,
    PropertyId::WildcardSubscriptionAvailable,
    PropertyId::SubscriptionIdentifierAvailable,
    PropertyId::SharedSubscriptionAvailable,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Each order writes every property exactly once: a property missing from one
    /// would be counted by `body_len` and never written.
    #[test]
    fn encode_orders_name_every_property_once() {
        let all: Vec<PropertyId> = (0..=u8::MAX).filter_map(PropertyId::from_u8).collect();
        for order in [ENCODE_ORDER, CONNACK_ORDER] {
            assert_eq!(order.len(), all.len());
            for id in &all {
                assert_eq!(order.iter().filter(|o| *o == id).count(), 1, "{id:?}");
            }
        }
    }
}
