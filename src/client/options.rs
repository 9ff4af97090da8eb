//! Connection options, from flags and from `mqtt://` URLs.

/// Where and how to connect.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {}
