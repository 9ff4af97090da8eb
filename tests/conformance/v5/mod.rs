//! MQTT 5.0 features: message expiry, topic aliases both ways, Receive Maximum both
//! ways, Maximum Packet Size both ways, subscription identifiers, No Local, shared
//! subscriptions, property passthrough, Request Problem Information, Server Keep
//! Alive, server-sent DISCONNECT.

mod alias;
mod expiry;
mod flow;
mod limits;
mod properties;
mod subscription;

use crate::broker;
use crate::raw::{self, Event, QUIET, Raw, WAIT, connect};
use bytes::Bytes;
use mq::broker::Config;
use mq::protocol::{
    Ack, Packet, Properties, ProtocolVersion, Publish, QoS, ReasonCode, SubscriptionOptions,
};
use std::collections::HashMap;
use std::time::Duration;

const V5: ProtocolVersion = ProtocolVersion::V5;

fn props() -> Properties {
    Properties::default()
}

/// Read packets until the broker closes; return them (PUBRECs, PUBACKs...) and the
/// reason code of the final DISCONNECT, if any.
async fn until_closed(c: &mut Raw) -> (Vec<Packet>, Option<ReasonCode>) {
    let got = c.expect_closed(WAIT).await;
    let reason = got.iter().rev().find_map(|p| match p {
        Packet::Disconnect(d) => Some(d.reason),
        _ => None,
    });
    (got, reason)
}
