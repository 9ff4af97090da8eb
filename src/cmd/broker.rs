//! `mq broker`: run the MQTT broker from the command line.

/// Flags of `mq broker`.
#[derive(clap::Args, Debug, Clone)]
pub struct BrokerArgs {}

/// Run the broker until Ctrl-C; returns the process exit code.
pub async fn run(_args: BrokerArgs) -> anyhow::Result<i32> {
    anyhow::bail!("mq broker is not supported yet")
}
