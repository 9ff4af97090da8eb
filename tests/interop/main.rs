//! Interoperability tests against real peers: Debian's `mosquitto`,
//! `mosquitto_pub`/`mosquitto_sub`, Python's `paho-mqtt` and `prometheus_client`,
//! and MQTT.js. Every test that needs a peer is `#[ignore = "needs …; run by
//! .ci/run"]`; `.ci/run` installs the peers and runs them with `--include-ignored`.
//! The few that need none (mq's own client in the same scenario as its peer test)
//! run in plain `cargo test`.

#[path = "../common/mod.rs"]
mod common;

mod bench;
mod bridge;
mod broker;
mod cli;
mod client;
mod logs;
mod metrics;
mod passwords;
mod peers;
mod terminal;
mod tls_refusals;
mod transports;
