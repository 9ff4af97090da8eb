//! The one client connection layer shared by `mq pub`, `mq sub`, `mq bench` and the
//! car-park roles.

mod options;

pub use options::ConnectOptions;
