//! The MQTT handshake: open the transport, send CONNECT, and wait for a successful
//! CONNACK (section 3.1.4), all within the connect timeout.

use super::transport::{self, Transport};
use super::{ConnectOptions, Direction, Error, tls};
use crate::protocol::{self, ConnAck, Connect, Packet, decode, encode};
use bytes::BytesMut;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

/// A connection that has been accepted by the server.
pub(super) struct Established {
    pub transport: Transport,
    pub connack: ConnAck,
    /// Bytes read after the CONNACK.
    pub rbuf: BytesMut,
}

/// Open the transport, send CONNECT and wait for a successful CONNACK, all within
/// `opts.connect_timeout`.
pub(super) async fn establish(
    opts: &ConnectOptions,
    clean_start: bool,
) -> Result<Established, Error> {
    let now = Instant::now();
    // A huge timeout means "no timeout": a year is as good as forever here.
    let deadline = now
        .checked_add(opts.connect_timeout)
        .unwrap_or(now + Duration::from_secs(365 * 24 * 3600));
    let mut transport = transport::connect(opts, deadline).await?;
    let v = opts.version;
    let mut properties = opts.properties.clone();
    if opts.session_expiry.is_some() {
        properties.session_expiry_interval = opts.session_expiry;
    }
    let connect = Connect {
        protocol: v,
        clean_start,
        keep_alive: opts.keep_alive,
        client_id: opts.client_id.clone(),
        will: opts.will.clone(),
        username: opts.username.clone(),
        password: opts.password.clone(),
        properties,
        bridge: opts.bridge,
    };
    let mut buf = BytesMut::new();
    let connect = Packet::Connect(Box::new(connect));
    encode(&connect, v, &mut buf)
        .map_err(|e| Error::Invalid(format!("cannot encode CONNECT: {e}")))?;
    if let Some(trace) = &opts.packet_trace {
        trace.call(Direction::Sent, &connect);
    }
    let server = opts.host_port();
    let io_err = |e: io::Error, what: &str| {
        if tls::is_tls_error(&e) {
            // TLS 1.3: a server that rejects our certificate says so after the
            // handshake, on the first read.
            return tls::handshake_error(e, &server);
        }
        Error::Io(io::Error::new(e.kind(), format!("{what} {server}: {e}")))
    };
    timeout_at(deadline, async {
        transport.write_all(&buf).await?;
        transport.flush().await
    })
    .await
    .map_err(|_| Error::Timeout("sending CONNECT"))?
    .map_err(|e| io_err(e, "sending CONNECT to"))?;
    let max = our_max_packet_size(opts);
    let mut rbuf = BytesMut::with_capacity(1024);
    let packet = timeout_at(deadline, async {
        loop {
            if let Some(p) = decode(&mut rbuf, v, max)? {
                return Ok(p);
            }
            let n = transport
                .read_buf(&mut rbuf)
                .await
                .map_err(|e| io_err(e, "reading from"))?;
            if n == 0 {
                return Err(Error::ConnectionClosed);
            }
        }
    })
    .await
    .map_err(|_| Error::Timeout("waiting for CONNACK"))??;
    if let Some(trace) = &opts.packet_trace {
        trace.call(Direction::Received, &packet);
    }
    match packet {
        Packet::ConnAck(connack) if connack.reason.is_error() => Err(Error::ConnectionRefused {
            reason: connack.reason,
            version: v,
        }),
        Packet::ConnAck(connack) => Ok(Established {
            transport,
            connack,
            rbuf,
        }),
        Packet::Disconnect(d) => Err(Error::ServerDisconnected(Some(d))),
        Packet::Auth(_) => Err(Error::Protocol(protocol::Error::Protocol(
            "the server asked for enhanced authentication (AUTH), which is not supported yet",
        ))),
        _ => Err(Error::Protocol(protocol::Error::Protocol(
            "the first packet from the server is not CONNACK [MQTT-3.2.0-1]",
        ))),
    }
}

/// The Maximum Packet Size we announced (5.0), 0 = none.
pub(super) fn our_max_packet_size(opts: &ConnectOptions) -> usize {
    if opts.version.is_v5() {
        opts.properties.maximum_packet_size.unwrap_or(0) as usize
    } else {
        0
    }
}
