//! mq: one binary for MQTT — a broker, mosquitto_pub/sub-compatible clients, a
//! benchmark tool and a car-park teaching system, all on one protocol codec
//! ([`protocol`]) and one client connection layer ([`client`]).

pub mod broker;
pub mod carpark;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod protocol;
pub mod random;
pub mod shutdown;
pub mod units;
pub mod ws;
