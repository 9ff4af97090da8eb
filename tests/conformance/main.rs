//! The broker's conformance suite: clause by clause against the OASIS MQTT 3.1.1 and
//! 5.0 specifications, over real sockets, with a raw client that can send anything.
//! Each test names the conformance statement(s) it checks (`[MQTT-x.y.z-n]`); where a
//! behaviour has no numbered statement the section is cited instead.
//!
//! Every wait is bounded (at most a couple of seconds), so a missing behaviour fails
//! fast. Tests that check timeouts use 1-second keepalives.

mod broker;
mod client_hostile_broker;
mod raw;

mod acl;
mod audit_v311;
mod audit_v5;
mod connect;
mod hostile;
mod malformed;
mod publish;
mod regressions;
mod resources;
mod retain;
mod security;
mod session;
mod subscribe;
mod sys;
mod timeouts;
mod v5;
mod will;
