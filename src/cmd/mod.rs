//! The front ends: each file maps its command's flags to library calls and events to
//! output. `bench_args` and `carpark_args` hold the flags of `mq bench` and
//! `mq carpark` and lower them into the plain options of `bench` and `crate::carpark`.

pub mod bench;
pub mod bench_args;
pub mod broker;
pub mod carpark_args;
pub mod format;
pub mod generate;
pub mod json;
pub mod output;
pub mod passwd;
pub mod publish;
pub mod request;
pub mod session;
pub mod subscribe;
pub mod time;
