//! `mq bench`: MQTT load generator and latency meter.

/// Flags of `mq bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {}

/// Run a benchmark; returns the process exit code.
pub async fn run(_args: BenchArgs) -> anyhow::Result<i32> {
    anyhow::bail!("mq bench is not supported yet")
}
