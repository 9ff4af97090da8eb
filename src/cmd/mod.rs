//! The front ends: each file maps its command's flags to library calls and events to
//! output.

pub mod bench;
pub mod broker;
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
