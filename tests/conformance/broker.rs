//! One in-process broker per test, on 127.0.0.1 port 0, through the embedding API
//! (`Broker::builder()...start()`), optionally with a configuration for the limits
//! a test needs.

use mq::broker::{Broker, BrokerHandle, Config};
use std::net::SocketAddr;

/// A running broker; shut down when the test drops it (the runtime ends anyway).
pub struct TestBroker {
    /// The handle from `start()`.
    pub handle: BrokerHandle,
    /// The bound address.
    pub addr: SocketAddr,
}

impl TestBroker {
    /// Stop the broker and wait for it.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

/// Start a broker with mosquitto's defaults.
pub async fn start() -> TestBroker {
    start_with(Config::default()).await
}

/// Start a broker with a configuration.
pub async fn start_with(mut config: Config) -> TestBroker {
    // Tests read packets, not log lines; `MQ_TEST_LOG=1` shows the broker's log.
    if std::env::var_os("MQ_TEST_LOG").is_none() {
        config.log_dest = mq::broker::LogDest::None;
    }
    let handle = Broker::builder()
        .listen("127.0.0.1:0".parse().expect("literal address"))
        .config(config)
        .start()
        .await
        .expect("broker starts");
    let addr = handle.local_addr();
    TestBroker { handle, addr }
}

/// How long the CONNECT-timeout tests wait for the close (the configured timeout
/// plus slack).
pub const CONNECT_TIMEOUT_WAIT: std::time::Duration = std::time::Duration::from_millis(2500);

/// A configuration with a 1-second CONNECT timeout.
pub fn short_connect_timeout() -> Config {
    Config {
        connect_timeout: std::time::Duration::from_secs(1),
        ..Config::default()
    }
}
