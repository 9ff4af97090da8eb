//! Interoperability tests against real peers: Debian's `mosquitto`,
//! `mosquitto_pub`/`mosquitto_sub`, and Python's `paho-mqtt`. Every test here is
//! `#[ignore = "needs mosquitto; run by .ci/run"]`; `.ci/run` installs the peers and
//! runs them with `--include-ignored`.

#[path = "../common/mod.rs"]
mod common;

mod bench;
mod broker;
mod cli;
mod client;
mod logs;
mod passwords;
mod peers;
mod transports;
