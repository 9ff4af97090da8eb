//! Errors of the codec, each naming the rule that was violated.

use super::ReasonCode;

/// Why a packet could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes do not form a valid packet; the string names the violated rule.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// The packet is well formed but breaks a protocol rule.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
    /// The packet is larger than the receiver's maximum packet size.
    #[error("packet too large: {size} bytes, the limit is {max}")]
    PacketTooLarge {
        /// The size announced by the fixed header.
        size: usize,
        /// The limit in force.
        max: usize,
    },
    /// CONNECT with a protocol name other than `MQTT` / `MQIsdp` [MQTT-3.1.2-1].
    #[error("invalid protocol name in CONNECT")]
    InvalidProtocolName,
    /// CONNECT with a protocol level this codec does not speak [MQTT-3.1.2-2].
    #[error("unsupported protocol level {0}")]
    UnsupportedProtocolLevel(u8),
    /// A PUBLISH topic name is invalid (wildcards, empty, NUL) [MQTT-3.3.2-2].
    #[error("invalid topic name: {0}")]
    InvalidTopicName(&'static str),
    /// A SUBSCRIBE/UNSUBSCRIBE topic filter is invalid [MQTT-4.7.1-1].
    #[error("invalid topic filter: {0}")]
    InvalidTopicFilter(&'static str),
    /// A value cannot be encoded (string longer than 65535 bytes, packet too big...).
    #[error("cannot encode: {0}")]
    Encode(&'static str),
}

impl Error {
    /// The MQTT 5.0 reason code a receiver sends (in CONNACK or DISCONNECT) for this error.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Error::Malformed(_) => ReasonCode::MALFORMED_PACKET,
            Error::Protocol(_) => ReasonCode::PROTOCOL_ERROR,
            Error::PacketTooLarge { .. } => ReasonCode::PACKET_TOO_LARGE,
            Error::InvalidProtocolName => ReasonCode::MALFORMED_PACKET,
            Error::UnsupportedProtocolLevel(_) => ReasonCode::UNSUPPORTED_PROTOCOL_VERSION,
            Error::InvalidTopicName(_) => ReasonCode::TOPIC_NAME_INVALID,
            Error::InvalidTopicFilter(_) => ReasonCode::TOPIC_FILTER_INVALID,
            Error::Encode(_) => ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR,
        }
    }
}
