//! The front ends: each file maps its command's flags to library calls and events to
//! output.

pub mod bench;
pub mod broker;
