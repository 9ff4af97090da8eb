//! The MQTT codec: every control packet of MQTT 3.1, 3.1.1 and 5.0, with no I/O.
//!
//! One [`Packet`] model serves every protocol version; the version is a parameter of
//! [`decode`] and [`encode`]. Fields that only exist in MQTT 5.0 (properties, reason
//! codes) are simply empty/default under 3.1.1. The decoder is incremental: it returns
//! `Ok(None)` until a whole packet is buffered, checks the maximum packet size from the
//! fixed header before waiting for the body, and validates everything the
//! specifications make a receiver validate. It never panics on any input.

mod codec;
mod error;
mod packet;
mod properties;
mod reason;
pub mod topic;
mod wire;

pub use codec::{MAX_REMAINING_LENGTH, decode, encode, encoded_len, frame_len};
pub use error::Error;
pub use packet::{
    Ack, Auth, ByteStr, ConnAck, Connect, Disconnect, Packet, PacketType, Publish, RetainHandling,
    SubAck, Subscribe, SubscribeFilter, SubscriptionOptions, UnsubAck, Unsubscribe, Will,
};
pub use properties::{Properties, PropertyContext, PropertyId};
pub use reason::ReasonCode;

use std::fmt;

/// The protocol version spoken on a connection: the "protocol level" byte of CONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ProtocolVersion {
    /// MQTT 3.1 (protocol name `MQIsdp`, level 3), accepted for old clients.
    V31,
    /// MQTT 3.1.1 (protocol name `MQTT`, level 4).
    #[default]
    V311,
    /// MQTT 5.0 (protocol name `MQTT`, level 5).
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte sent in CONNECT.
    pub fn level(self) -> u8 {
        match self {
            ProtocolVersion::V31 => 3,
            ProtocolVersion::V311 => 4,
            ProtocolVersion::V5 => 5,
        }
    }

    /// The protocol name sent in CONNECT.
    pub fn protocol_name(self) -> &'static str {
        match self {
            ProtocolVersion::V31 => "MQIsdp",
            _ => "MQTT",
        }
    }

    /// Whether packets carry MQTT 5.0 properties and reason codes.
    pub fn is_v5(self) -> bool {
        self == ProtocolVersion::V5
    }

    /// Parse the names mosquitto's `-V` accepts: `5`, `mqttv5`, `311`, `mqttv311`, `31`, `mqttv31`.
    pub fn from_cli(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "5" | "mqttv5" | "v5" | "5.0" => Some(ProtocolVersion::V5),
            "311" | "mqttv311" | "v311" | "3.1.1" | "4" => Some(ProtocolVersion::V311),
            "31" | "mqttv31" | "v31" | "3.1" | "3" => Some(ProtocolVersion::V31),
            _ => None,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolVersion::V31 => "MQTT 3.1",
            ProtocolVersion::V311 => "MQTT 3.1.1",
            ProtocolVersion::V5 => "MQTT 5.0",
        })
    }
}

/// Quality of service of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum QoS {
    /// At most once.
    #[default]
    AtMostOnce = 0,
    /// At least once.
    AtLeastOnce = 1,
    /// Exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for a number, or `None` for anything but 0, 1 and 2 (QoS 3 is malformed
    /// [MQTT-3.3.1-4]).
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The QoS as its wire number.
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for QoS {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_u8())
    }
}
