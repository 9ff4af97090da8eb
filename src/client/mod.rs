//! The one client connection layer shared by `mq pub`, `mq sub`, `mq bench` and the
//! car-park roles.
//!
//! [`Client::connect`] opens the transport (TCP, TLS, WebSocket), exchanges CONNECT and
//! CONNACK, and spawns an event loop task that owns the socket. The returned
//! [`Client`] is a cheap handle (clone it freely) that sends requests to that task over
//! a bounded channel; [`Events`] is the stream of what the server sends on its own
//! (application messages, disconnections).
//!
//! Flow control: outgoing QoS 1/2 messages hold a place in the inflight window (the
//! smaller of [`ConnectOptions::max_inflight`] and the server's Receive Maximum
//! [MQTT-3.3.4-7]) from [`Client::start_publish`] until they are acknowledged; incoming
//! messages are acknowledged only once queued to [`Events`], so a slow consumer slows
//! the server down instead of growing memory. With [`ConnectOptions::manual_ack`],
//! QoS 1 messages are acknowledged only when the application calls
//! [`Client::acknowledge`], so that a message it had not finished with is sent again.
//!
//! Keep alive: the client sends PINGREQ when nothing was sent or received for the keep
//! alive interval (the server's Server Keep Alive when it gives one [MQTT-3.2.2-21]),
//! and declares the server dead ([`Error::KeepAliveTimeout`]) when no PINGRESP arrives
//! within half the interval (at least one second) after the PINGREQ: a dead server is
//! detected at most 1.5 × keep alive after the last packet from it.
//!
//! When every [`Client`] handle is dropped, the event loop disconnects gracefully.
//!
//! ```no_run
//! use mq::client::{Client, ConnectOptions, Event};
//! use mq::protocol::{Properties, Publish, QoS, SubscribeFilter, SubscriptionOptions};
//!
//! # async fn demo() -> Result<(), mq::client::Error> {
//! let (client, mut events) = Client::connect(ConnectOptions::from_url("mqtt://localhost")?).await?;
//! let filter = SubscribeFilter { filter: "car/#".into(), options: SubscriptionOptions::qos(QoS::AtLeastOnce) };
//! client.subscribe(vec![filter], Properties::default()).await?;
//! client
//!     .publish(Publish { topic: "car/in".into(), qos: QoS::AtLeastOnce, payload: "AB12".into(), ..Publish::default() })
//!     .await?;
//! while let Some(event) = events.recv().await {
//!     if let Event::Message(m) = event {
//!         println!("{} {:?}", m.topic, m.payload);
//!         break;
//!     }
//! }
//! client.disconnect().await
//! # }
//! ```

// `Error` is large (see its doc); returning it by value is what the API promises.
#![allow(clippy::result_large_err)]

mod connection;
mod error;
mod handshake;
mod incoming;
mod options;
mod reconnect;
mod socks5;
mod state;
mod tls;
pub mod transport;

pub use error::Error;
pub use options::{
    Backoff, ConnectFn, ConnectOptions, Connector, Direction, PacketTrace, Proxy, Scheme,
    TlsOptions, TlsVersion, TraceFn,
};

use crate::protocol::{
    Ack, ConnAck, Disconnect, Properties, ProtocolVersion, Publish, QoS, SubAck, Subscribe,
    SubscribeFilter, UnsubAck, Unsubscribe, topic,
};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

/// Capacity of the request channel from the handles to the event loop.
const COMMAND_CAPACITY: usize = 64;
/// Capacity of the event stream (messages waiting for the application).
const EVENT_CAPACITY: usize = 256;

/// Something the server did on its own.
#[derive(Debug)]
pub enum Event {
    /// An application message from the server (already de-aliased: topic always set).
    /// QoS 1 is PUBACKed and QoS 2 PUBRECed by the event loop after the message is
    /// queued to this stream; a QoS 2 message is delivered once even if re-sent before
    /// PUBREL [MQTT-4.3.3-10].
    Message(Publish),
    /// The connection was lost; with `reconnect` set, a `Reconnected` follows later.
    Disconnected(Error),
    /// Automatic reconnect succeeded (subscriptions re-sent, unacked QoS 1/2 re-sent
    /// with DUP).
    Reconnected {
        /// The Session Present flag of the new CONNACK.
        session_present: bool,
    },
    /// The server sent DISCONNECT (5.0) — the reason code and properties.
    ServerDisconnect(Disconnect),
}

/// The stream of incoming events of one connection.
pub struct Events {
    rx: mpsc::Receiver<Event>,
}

impl Events {
    /// Next event; `None` once the connection is closed for good (after
    /// `disconnect()`, or after a loss without reconnect — in that case
    /// `Disconnected(err)` comes first).
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

/// A request from a handle to the event loop.
pub(crate) enum Command {
    Publish {
        publish: Publish,
        /// The place in the inflight window (QoS 1/2), released on acknowledgement.
        permit: Option<OwnedSemaphorePermit>,
        reply: oneshot::Sender<Result<Ack, Error>>,
    },
    Subscribe {
        subscribe: Subscribe,
        reply: oneshot::Sender<Result<SubAck, Error>>,
    },
    Unsubscribe {
        unsubscribe: Unsubscribe,
        reply: oneshot::Sender<Result<UnsubAck, Error>>,
    },
    Disconnect {
        disconnect: Disconnect,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    /// Reply once no incoming QoS 2 message awaits its PUBREL.
    Settle { reply: oneshot::Sender<()> },
    /// `manual_ack`: the application is done with this QoS 1 message.
    Ack { packet_id: u16 },
}

/// What the handles share: the first CONNACK and the inflight window.
struct Shared {
    ended: EndedBy,
    connack: ConnAck,
    client_id: String,
    version: ProtocolVersion,
    window: Arc<Semaphore>,
    manual_ack: bool,
}

/// A handle on one connection; all clones drive the same connection.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Command>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.shared.client_id)
            .field("version", &self.shared.version)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

/// The acknowledgement of a publish started with [`Client::start_publish`].
pub struct PublishToken {
    rx: oneshot::Receiver<Result<Ack, Error>>,
    ended: EndedBy,
}

impl PublishToken {
    /// Wait for the acknowledgement: QoS 0 = written to the socket; QoS 1 = PUBACK;
    /// QoS 2 = PUBCOMP (or a PUBREC with a reason >= 0x80).
    pub async fn wait(self) -> Result<Ack, Error> {
        self.rx
            .await
            .unwrap_or_else(|_| Err(ended_error(&self.ended)))
    }
}

/// Why the connection ended for good, once it has (set by the event loop), so that
/// a request that finds it gone fails with the cause (the server broke the
/// protocol...) rather than a bare "disconnected".
pub(crate) type EndedBy = Arc<std::sync::Mutex<Option<Error>>>;

/// The error for a request that found the connection gone.
fn ended_error(ended: &EndedBy) -> Error {
    ended
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map_or(Error::Closed, Error::duplicate)
}

impl Client {
    /// Connect (TCP/TLS/WS as the scheme says), send CONNECT, await CONNACK.
    /// A refused CONNECT is `Err(Error::ConnectionRefused { .. })`.
    pub async fn connect(opts: ConnectOptions) -> Result<(Client, Events), Error> {
        let mut opts = opts;
        if opts.client_id.is_empty() && !opts.version.is_v5() {
            // 3.1.x servers may reject an empty identifier (3.1.1 section 3.1.3.1); like
            // mosquitto_pub, make one up.
            opts.client_id = random_client_id();
        }
        let established = handshake::establish(&opts, opts.clean_start).await?;
        let client_id = established
            .connack
            .properties
            .assigned_client_identifier
            .clone()
            .unwrap_or_else(|| opts.client_id.clone());
        let server_max = established
            .connack
            .properties
            .receive_maximum
            .unwrap_or(u16::MAX);
        let window = usize::from(opts.max_inflight.max(1).min(server_max.max(1)));
        let window = Arc::new(Semaphore::new(window));
        let (tx, cmd_rx) = mpsc::channel(COMMAND_CAPACITY);
        let (ev_tx, ev_rx) = mpsc::channel(EVENT_CAPACITY);
        let ended = EndedBy::default();
        let shared = Arc::new(Shared {
            ended: ended.clone(),
            connack: established.connack.clone(),
            client_id: client_id.clone(),
            version: opts.version,
            window: window.clone(),
            manual_ack: opts.manual_ack,
        });
        let mut opts = opts;
        opts.client_id = client_id;
        connection::spawn(opts, established, cmd_rx, ev_tx, window, ended);
        Ok((Client { shared, tx }, Events { rx: ev_rx }))
    }

    /// The CONNACK of the first connection (session present, v5 properties).
    pub fn connack(&self) -> &ConnAck {
        &self.shared.connack
    }

    /// The client identifier in use (the assigned one if the server assigned it).
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// The protocol version of the connection.
    pub fn version(&self) -> ProtocolVersion {
        self.shared.version
    }

    /// Publish and wait until done: QoS 0 = written to the socket; QoS 1 = PUBACK;
    /// QoS 2 = PUBCOMP (or a PUBREC with a reason >= 0x80). Returns the
    /// acknowledgement (a reason >= 0x80 is `Ok(ack)`, the caller decides). The packet
    /// identifier is allocated by the client.
    pub async fn publish(&self, publish: Publish) -> Result<Ack, Error> {
        self.start_publish(publish).await?.wait().await
    }

    /// Start a publish: resolves once the message is accepted into the inflight window
    /// (it waits while the window is full); the token resolves when acknowledged.
    pub async fn start_publish(&self, publish: Publish) -> Result<PublishToken, Error> {
        self.check_publish(&publish)?;
        let permit = if publish.qos == QoS::AtMostOnce {
            None
        } else {
            let permit = self
                .shared
                .window
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| ended_error(&self.shared.ended))?;
            Some(permit)
        };
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Publish {
                publish,
                permit,
                reply,
            })
            .await
            .map_err(|_| ended_error(&self.shared.ended))?;
        Ok(PublishToken {
            rx,
            ended: self.shared.ended.clone(),
        })
    }

    /// What the client can check before sending: the topic name [MQTT-3.3.2-2] and the
    /// server's Maximum QoS [MQTT-3.2.2-11] and Retain Available [MQTT-3.2.2-14].
    fn check_publish(&self, publish: &Publish) -> Result<(), Error> {
        let props = &self.shared.connack.properties;
        if let Some(alias) = publish.properties.topic_alias {
            // Our own topic aliases: 1..=the server's Topic Alias Maximum
            // [MQTT-3.3.2-8, MQTT-3.2.2-17]. The caller manages the mapping.
            let max = props.topic_alias_maximum.unwrap_or(0);
            if alias == 0 || alias > max {
                return Err(Error::NotSupportedByServer(format!(
                    "Topic Alias {alias} (the server's Topic Alias Maximum is {max})"
                )));
            }
        }
        if !(publish.topic.is_empty() && publish.properties.topic_alias.is_some()) {
            topic::validate_name(&publish.topic).map_err(|why| {
                Error::Invalid(format!("invalid topic '{}': {why}", publish.topic))
            })?;
        }
        match props.maximum_qos {
            Some(max) if publish.qos.as_u8() > max => {
                return Err(Error::NotSupportedByServer(format!(
                    "QoS {} (the server's Maximum QoS is {max})",
                    publish.qos
                )));
            }
            _ => {}
        }
        if publish.retain && props.retain_available == Some(0) {
            return Err(Error::NotSupportedByServer(
                "retained messages (Retain Available is 0)".to_string(),
            ));
        }
        Ok(())
    }

    /// Subscribe and wait for the SUBACK (one reason code per filter, in order; a
    /// refused filter is a code >= 0x80 in an `Ok`).
    pub async fn subscribe(
        &self,
        filters: Vec<SubscribeFilter>,
        properties: Properties,
    ) -> Result<SubAck, Error> {
        if filters.is_empty() {
            return Err(Error::Invalid(
                "SUBSCRIBE needs at least one topic filter [MQTT-3.8.3-3]".to_string(),
            ));
        }
        for f in &filters {
            topic::validate_filter(&f.filter).map_err(|why| {
                Error::Invalid(format!("invalid topic filter '{}': {why}", f.filter))
            })?;
        }
        let (reply, rx) = oneshot::channel();
        let subscribe = Subscribe {
            packet_id: 0,
            filters,
            properties,
        };
        self.tx
            .send(Command::Subscribe { subscribe, reply })
            .await
            .map_err(|_| ended_error(&self.shared.ended))?;
        rx.await
            .unwrap_or_else(|_| Err(ended_error(&self.shared.ended)))
    }

    /// Unsubscribe and wait for the UNSUBACK.
    pub async fn unsubscribe(
        &self,
        filters: Vec<String>,
        properties: Properties,
    ) -> Result<UnsubAck, Error> {
        if filters.is_empty() {
            return Err(Error::Invalid(
                "UNSUBSCRIBE needs at least one topic filter [MQTT-3.10.3-2]".to_string(),
            ));
        }
        for f in &filters {
            topic::validate_filter(f)
                .map_err(|why| Error::Invalid(format!("invalid topic filter '{f}': {why}")))?;
        }
        let (reply, rx) = oneshot::channel();
        let unsubscribe = Unsubscribe {
            packet_id: 0,
            filters,
            properties,
        };
        self.tx
            .send(Command::Unsubscribe { unsubscribe, reply })
            .await
            .map_err(|_| ended_error(&self.shared.ended))?;
        rx.await
            .unwrap_or_else(|_| Err(ended_error(&self.shared.ended)))
    }

    /// With [`ConnectOptions::manual_ack`]: acknowledge a QoS 1 message received on
    /// [`Events`], once the application is done with it (has stored what it needed,
    /// say); with [`ConnectOptions::manual_ack_qos2`] QoS 2 messages too (their
    /// PUBREC). Call it once for every such message, in the order they were received
    /// (PUBACKs go in that order [MQTT-4.6.0-2]); `packet_id` is the message's, and
    /// an acknowledgement that is not for the oldest message still waiting for one is
    /// ignored. A message received on an earlier connection is not acknowledged (the
    /// server sends it again if it kept the session).
    pub async fn acknowledge(&self, packet_id: u16) -> Result<(), Error> {
        if !self.shared.manual_ack {
            return Err(Error::Invalid(
                "acknowledge needs ConnectOptions::manual_ack".to_string(),
            ));
        }
        self.tx
            .send(Command::Ack { packet_id })
            .await
            .map_err(|_| ended_error(&self.shared.ended))
    }

    /// Graceful DISCONNECT (normal disconnection), then close; `Events::recv` returns
    /// `None` after.
    pub async fn disconnect(&self) -> Result<(), Error> {
        self.disconnect_with(Disconnect::default()).await
    }

    /// DISCONNECT with a reason code and properties (5.0; e.g. 0x04 to have the will
    /// published, or a new Session Expiry Interval), then close.
    /// Wait (at most `limit`) until every incoming QoS 2 message received so far has
    /// been released by the server (PUBREL answered with PUBCOMP, [MQTT-4.3.3-11]), so
    /// that a disconnect right after does not cut the exchange short. Returns whether
    /// that happened within `limit` (false also when the connection is closed).
    pub async fn settle_incoming(&self, limit: std::time::Duration) -> bool {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Command::Settle { reply }).await.is_err() {
            return false;
        }
        matches!(tokio::time::timeout(limit, rx).await, Ok(Ok(())))
    }

    pub async fn disconnect_with(&self, disconnect: Disconnect) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Disconnect { disconnect, reply })
            .await
            .map_err(|_| ended_error(&self.shared.ended))?;
        rx.await
            .unwrap_or_else(|_| Err(ended_error(&self.shared.ended)))
    }
}

/// `mq-` and 16 hex digits: unique enough per process and instant, within the 23
/// characters every 3.1 server accepts [MQTT-3.1.3-5].
fn random_client_id() -> String {
    format!("mq-{:016x}", crate::random::entropy())
}
