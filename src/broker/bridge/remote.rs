//! The remote side of a bridge: its connection options (TLS, the will that
//! says "0" for the bridge, `try_private`), and the states of its connection.

use super::config::BridgeConfig;
use super::lane::state_message;
use super::link::{SEND_WINDOW, Step};
use crate::client::{self, Client, ConnectOptions, Event, Events, Scheme, TlsOptions};
use crate::protocol::{Properties, Will};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use tokio::time::Instant;

/// A connection attempt to the remote.
pub(super) type Attempt =
    Pin<Box<dyn Future<Output = Result<(Client, Events), client::Error>> + Send>>;

/// The remote side's connection.
pub(super) enum Remote {
    /// Waiting until the next attempt.
    Down(Instant),
    /// Connecting to `addresses[index]`.
    Connecting(Attempt),
    /// Connected (the client is beside it).
    Up(Events),
    /// `start_type once`: not connected again.
    Finished,
    /// `start_type lazy`: not connected until enough messages wait for it.
    Idle,
}

/// The remote side's next happening: a message, the end of a connection, the
/// outcome of an attempt, or the time for the next one.
pub(super) async fn remote_event(remote: &mut Remote) -> Step {
    match remote {
        Remote::Up(events) => loop {
            match events.recv().await {
                Some(Event::Message(p)) => return Step::Remote(p),
                Some(Event::ServerDisconnect(_) | Event::Reconnected { .. }) => {}
                Some(Event::Disconnected(e)) => return Step::RemoteLost(e.to_string()),
                None => return Step::RemoteLost("closed".into()),
            }
        },
        Remote::Connecting(attempt) => match attempt.await {
            Ok((c, ev)) => Step::RemoteConnected(c, ev),
            Err(e) => Step::RemoteFailed(e),
        },
        Remote::Down(at) => {
            tokio::time::sleep_until(*at).await;
            Step::RemoteDue
        }
        Remote::Finished | Remote::Idle => std::future::pending().await,
    }
}

/// The remote side's options (`try_private`: until the remote refuses it).
pub(super) fn remote_options(
    cfg: &BridgeConfig,
    try_private: bool,
    host: &str,
    port: u16,
) -> Result<ConnectOptions, String> {
    let v5 = cfg.protocol.is_v5();
    let mut o = ConnectOptions::new(host, port);
    if cfg.tls.enabled() {
        o.scheme = Scheme::Mqtts;
        o.tls = TlsOptions {
            ca_file: cfg.tls.cafile.clone(),
            ca_path: cfg.tls.capath.clone(),
            cert_file: cfg.tls.certfile.clone(),
            key_file: cfg.tls.keyfile.clone(),
            insecure: cfg.tls.insecure,
            alpn: cfg.tls.alpn.iter().cloned().collect(),
            version: match &cfg.tls.version {
                Some(v) => Some(client::TlsVersion::parse(v).map_err(|e| e.to_string())?),
                None => None,
            },
            os_certs: false,
        };
    }
    o.version = cfg.protocol;
    o.client_id = cfg.remote_id();
    o.keep_alive = cfg.keepalive;
    o.clean_start = cfg.cleansession;
    if v5 && !cfg.cleansession {
        o.session_expiry = Some(u32::MAX);
    }
    o.username = cfg.remote_username.clone();
    o.password = cfg.remote_password.clone().map(Bytes::from);
    if cfg.notifications && !cfg.notifications_local_only {
        // The remote says "0" for us when we go without a word (mosquitto).
        let m = state_message(&cfg.state_topic(), false);
        o.will = Some(Will {
            topic: m.topic,
            payload: m.payload,
            qos: m.qos,
            retain: true,
            properties: Properties::default(),
        });
    }
    o.bridge = try_private && !v5;
    o.manual_ack = true;
    o.manual_ack_qos2 = true;
    o.max_inflight = SEND_WINDOW;
    if v5 {
        o.properties.receive_maximum = Some(SEND_WINDOW);
    }
    o.bind_address = cfg.bind_address.clone();
    Ok(o)
}
