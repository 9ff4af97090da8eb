//! `mq carpark`: the car-park teaching system.

/// Flags of `mq carpark`.
#[derive(clap::Args, Debug, Clone)]
pub struct CarparkArgs {}

/// Run a car-park role; returns the process exit code.
pub async fn run(_args: CarparkArgs) -> anyhow::Result<i32> {
    anyhow::bail!("mq carpark is not supported yet")
}
