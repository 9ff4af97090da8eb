//! Errors of the client connection layer. Each `Display` is one human line that reads
//! well after `mq: ` (no "Error:" prefix).

use crate::protocol::{self, Disconnect, ProtocolVersion, ReasonCode};

/// Why a connection, a request or the whole client failed.
///
/// `ServerDisconnected` carries the server's DISCONNECT (with its properties) by
/// value, as the public API promises; that makes the enum large, which is fine for an
/// error that ends a connection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL given (`-L`) is not a valid broker URL.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// A socket error; the message names the address (e.g. "connection refused by
    /// 127.0.0.1:1883 (is a broker running?)").
    #[error("{0}")]
    Io(std::io::Error),
    /// The host name could not be resolved.
    #[error("{0}")]
    Dns(String),
    /// The TLS handshake or configuration failed; the message names the cause (unknown
    /// CA, hostname mismatch, certificate expired, handshake refused by the server).
    #[error("TLS error: {0}")]
    Tls(String),
    /// The WebSocket handshake failed or the WebSocket stream broke.
    #[error("WebSocket error: {0}")]
    WebSocket(String),
    /// A step did not finish in time; the string names the step.
    #[error("timed out {0}")]
    Timeout(&'static str),
    /// The server refused the CONNECT (a CONNACK with a failure code).
    #[error("{}", refused_text(*.reason, *.version))]
    ConnectionRefused {
        /// The reason code (3.1.x return codes are mapped onto 5.0 reason codes).
        reason: ReasonCode,
        /// The protocol version of the connection.
        version: ProtocolVersion,
    },
    /// The server broke the protocol (malformed packet, unexpected packet, unknown
    /// packet identifier...).
    #[error("the server broke the protocol: {0}")]
    Protocol(protocol::Error),
    /// No PINGRESP arrived in time after a PINGREQ: the server or the network is dead.
    #[error("keep alive timeout: the server stopped answering")]
    KeepAliveTimeout,
    /// The server sent DISCONNECT (5.0: with a reason code) or closed after one.
    #[error("{}", server_disconnected_text(.0.as_ref()))]
    ServerDisconnected(Option<Disconnect>),
    /// The socket closed without a DISCONNECT.
    #[error("the server closed the connection")]
    ConnectionClosed,
    /// The client was disconnected (by `disconnect()`) or its event loop has ended.
    #[error("the client is disconnected")]
    Closed,
    /// A packet larger than the server's Maximum Packet Size was not sent.
    #[error("packet too large for the server: {size} bytes, its Maximum Packet Size is {max}")]
    PacketTooLarge {
        /// The encoded size of the packet.
        size: usize,
        /// The server's Maximum Packet Size.
        max: usize,
    },
    /// The request uses a feature the server said it does not support (CONNACK
    /// Maximum QoS, Retain Available...).
    #[error("not supported by the server: {0}")]
    NotSupportedByServer(String),
    /// The request itself is invalid (bad topic name or filter, empty filter list...).
    #[error("{0}")]
    Invalid(String),
}

fn refused_text(reason: ReasonCode, version: ProtocolVersion) -> String {
    if version.is_v5() {
        format!("Connection refused: {reason}")
    } else {
        ReasonCode::v3_connack_text(reason.to_v3_connack()).to_string()
    }
}

fn server_disconnected_text(d: Option<&Disconnect>) -> String {
    match d {
        None => "the server sent DISCONNECT".to_string(),
        Some(d) => {
            let mut s = format!("the server disconnected: {}", d.reason);
            if let Some(r) = &d.properties.reason_string {
                s.push_str(": ");
                s.push_str(r);
            }
            s
        }
    }
}

impl Error {
    /// mosquitto-compatible process exit code for this failure: for a refused CONNECT
    /// the CONNACK code (3.1.x: 1..5, 5.0: the reason code byte); 2 when the server
    /// broke the protocol (mosquitto's MOSQ_ERR_PROTOCOL); otherwise 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Protocol(_) => 2,
            Error::ConnectionRefused { reason, version } => {
                if version.is_v5() {
                    i32::from(reason.0)
                } else {
                    i32::from(reason.to_v3_connack())
                }
            }
            _ => 1,
        }
    }

    /// A copy of this error for a second receiver (errors are reported both to the
    /// pending requests and to the event stream). `std::io::Error` is not `Clone`, so
    /// its kind and message are copied.
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::InvalidUrl(s) => Error::InvalidUrl(s.clone()),
            Error::Io(e) => Error::Io(std::io::Error::new(e.kind(), e.to_string())),
            Error::Dns(s) => Error::Dns(s.clone()),
            Error::Tls(s) => Error::Tls(s.clone()),
            Error::WebSocket(s) => Error::WebSocket(s.clone()),
            Error::Timeout(s) => Error::Timeout(s),
            Error::ConnectionRefused { reason, version } => Error::ConnectionRefused {
                reason: *reason,
                version: *version,
            },
            Error::Protocol(e) => Error::Protocol(e.clone()),
            Error::KeepAliveTimeout => Error::KeepAliveTimeout,
            Error::ServerDisconnected(d) => Error::ServerDisconnected(d.clone()),
            Error::ConnectionClosed => Error::ConnectionClosed,
            Error::Closed => Error::Closed,
            Error::PacketTooLarge { size, max } => Error::PacketTooLarge {
                size: *size,
                max: *max,
            },
            Error::NotSupportedByServer(s) => Error::NotSupportedByServer(s.clone()),
            Error::Invalid(s) => Error::Invalid(s.clone()),
        }
    }
}

impl From<protocol::Error> for Error {
    fn from(e: protocol::Error) -> Error {
        Error::Protocol(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_v311_uses_mosquitto_wording_and_exit_code() {
        let e = Error::ConnectionRefused {
            reason: ReasonCode::NOT_AUTHORIZED,
            version: ProtocolVersion::V311,
        };
        assert_eq!(e.exit_code(), 5);
        assert_eq!(e.to_string(), ReasonCode::v3_connack_text(5));
    }

    #[test]
    fn refused_v5_names_the_reason() {
        let e = Error::ConnectionRefused {
            reason: ReasonCode::NOT_AUTHORIZED,
            version: ProtocolVersion::V5,
        };
        assert_eq!(e.exit_code(), 0x87);
        assert_eq!(e.to_string(), "Connection refused: Not authorized (0x87)");
    }
}
