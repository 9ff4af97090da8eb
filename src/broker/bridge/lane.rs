//! The messages crossing a bridge, one direction at a time: a [`Lane`] keeps
//! them in the order their source sent them and acknowledges each to its source
//! only once the destination has acknowledged it, in that same order (the order
//! acknowledgements must go in [MQTT-4.6.0-2]); and what a message becomes on
//! the other side.

use crate::client::{self, Client, PublishToken};
use crate::protocol::{Ack, Publish, QoS, SubscribeFilter, SubscriptionOptions};
use bytes::Bytes;
use futures_util::stream::FuturesOrdered;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

/// A message on its way across the bridge.
pub(super) struct Forward {
    /// What to send; `None` once there is nothing (more) to send, only the
    /// acknowledgement to its source, in its turn.
    pub publish: Option<Publish>,
    /// Its packet identifier on the source connection (0: nothing to acknowledge).
    pub source_id: u16,
    /// The remote connection it came from (the remote lane's source), so that an
    /// acknowledgement is never sent on a later connection.
    pub link: u64,
}

pub(super) type Pending =
    Pin<Box<dyn Future<Output = (Forward, Result<Ack, client::Error>)> + Send>>;

/// One direction: messages in the order their source sent them, then those
/// started on the destination, waiting for its acknowledgement.
#[derive(Default)]
pub(super) struct Lane {
    pub queue: VecDeque<Forward>,
    pub flight: FuturesOrdered<Pending>,
}

impl Lane {
    /// Move entries with nothing to send from the front to the acknowledgements.
    pub fn settle_front(&mut self) {
        while self.queue.front().is_some_and(|f| f.publish.is_none()) {
            if let Some(f) = self.queue.pop_front() {
                self.acknowledge_in_turn(f);
            }
        }
    }

    pub fn acknowledge_in_turn(&mut self, f: Forward) {
        if f.source_id != 0 {
            self.flight
                .push_back(Box::pin(async move { (f, Ok(Ack::new(0))) }));
        }
    }

    pub fn next_publish(&self) -> Option<Publish> {
        self.queue.front().and_then(|f| f.publish.clone())
    }

    /// The front entry was accepted by the destination.
    pub fn started(&mut self, token: PublishToken) {
        if let Some(f) = self.queue.pop_front()
            && f.source_id != 0
        {
            self.flight
                .push_back(Box::pin(async move { (f, token.wait().await) }));
        }
    }

    /// The front entry cannot be sent (too large, refused by the destination's
    /// limits): dropped, acknowledged in its turn.
    pub fn skip_front(&mut self) {
        if let Some(mut f) = self.queue.pop_front() {
            f.publish = None;
            self.acknowledge_in_turn(f);
        }
    }

    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.flight.is_empty()
    }
}

/// Start `p` on `side`, within what that broker said it supports (its Maximum
/// QoS [MQTT-3.2.2-11] and Retain Available [MQTT-3.2.2-14]).
pub(super) async fn start(
    side: Option<&Client>,
    p: Option<Publish>,
) -> Result<PublishToken, client::Error> {
    let (Some(c), Some(mut p)) = (side, p) else {
        return std::future::pending().await;
    };
    let props = &c.connack().properties;
    if let Some(max) = props.maximum_qos.and_then(QoS::from_u8) {
        p.qos = p.qos.min(max);
    }
    if props.retain_available == Some(0) {
        p.retain = false;
    }
    c.start_publish(p).await
}

/// Acknowledge message `id` to its source (0: nothing to acknowledge).
pub(super) async fn acknowledge(c: &Client, id: u16) {
    if id != 0 {
        let _ = c.acknowledge(id).await;
    }
}

/// A message as it goes on: under its new topic, without what belonged to the
/// connection it came on (packet identifier, topic alias, subscription
/// identifiers).
pub(super) fn onward(mut p: Publish, topic: String, retain: bool) -> Publish {
    p.topic = topic.into();
    p.packet_id = 0;
    p.dup = false;
    p.retain = retain;
    p.properties.topic_alias = None;
    p.properties.subscription_identifiers.clear();
    p
}

/// A subscription of the bridge: No Local, so that what it publishes on that
/// side does not come back [MQTT-3.8.3-3], and Retain As Published, so that a
/// retained message stays retained on the other side [MQTT-3.3.1-13].
pub(super) fn filter(f: String, qos: QoS) -> SubscribeFilter {
    SubscribeFilter {
        filter: f,
        options: SubscriptionOptions {
            qos,
            no_local: true,
            retain_as_published: true,
            ..SubscriptionOptions::default()
        },
    }
}

/// "1" (up) or "0" (down), retained, QoS 1.
pub(super) fn state_message(topic: &str, up: bool) -> Publish {
    Publish {
        topic: topic.into(),
        qos: QoS::AtLeastOnce,
        retain: true,
        payload: Bytes::from_static(if up { b"1" } else { b"0" }),
        ..Publish::default()
    }
}
