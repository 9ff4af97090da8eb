//! clap definitions shared by every client command: the connection flags
//! (`ConnectArgs`) that `pub`, `sub`, `bench` and every car-park role flatten in.

use crate::client::ConnectOptions;
use clap::Args;

/// Connection flags, spelled as mosquitto_pub/mosquitto_sub spell them (`-h` is the host).
#[derive(Args, Clone, Debug, Default)]
pub struct ConnectArgs {
    /// Broker host to connect to (default: localhost)
    #[arg(short = 'h', long = "host", env = "MQ_HOST")]
    pub host: Option<String>,
    /// Network port (default: 1883, 8883 for MQTT over TLS)
    #[arg(short = 'p', long = "port", env = "MQ_PORT")]
    pub port: Option<u16>,
    /// Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]
    #[arg(short = 'L', long = "url")]
    pub url: Option<String>,
    /// Client identifier
    #[arg(short = 'i', long = "id")]
    pub id: Option<String>,
    /// Keep alive in seconds (default: 60)
    #[arg(short = 'k', long = "keepalive")]
    pub keepalive: Option<u16>,
    /// User name
    #[arg(short = 'u', long = "username", env = "MQ_USERNAME")]
    pub username: Option<String>,
    /// Password
    #[arg(short = 'P', long = "pw")]
    pub password: Option<String>,
    /// MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)
    #[arg(short = 'V', long = "protocol-version")]
    pub protocol_version: Option<String>,
    /// CA certificates (PEM) to verify the broker with; enables TLS
    #[arg(long = "cafile")]
    pub cafile: Option<std::path::PathBuf>,
    /// Client certificate (PEM) for TLS client authentication
    #[arg(long = "cert")]
    pub cert: Option<std::path::PathBuf>,
    /// Client private key (PEM)
    #[arg(long = "key")]
    pub key: Option<std::path::PathBuf>,
    /// Do not check the broker's host name against its certificate
    #[arg(long = "insecure")]
    pub insecure: bool,
}

impl ConnectArgs {
    /// Build client options from the flags (flags win over the URL and the environment).
    pub fn to_options(&self) -> anyhow::Result<ConnectOptions> {
        anyhow::bail!("connection options are not supported yet")
    }
}
