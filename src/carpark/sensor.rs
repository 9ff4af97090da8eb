//! `mq carpark sensor`: a temperature sensor publishing °C (QoS 0) on
//! `<prefix>/temperature[/<sensor>]` every `--interval`: a plausible random walk
//! (seeded by `--seed`), a fixed `--value`, or one reading per line of stdin (`--stdin`).

use super::messages::{Topics, parse_temperature};
use super::traffic::Rng;
use super::{Shutdown, connect, publish, stamp};
use crate::client::ConnectOptions;
use crate::protocol::QoS;
use bytes::Bytes;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// Where readings come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// A random walk around a plausible temperature.
    RandomWalk { seed: Option<u64> },
    /// Always this value.
    Fixed(f64),
    /// One reading per line of stdin.
    Stdin,
}

/// Everything `sensor::run` needs (`mq carpark sensor` lowers its flags into it).
#[derive(Debug, Clone)]
pub struct SensorOptions {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// The car park's topics.
    pub topics: Topics,
    /// The sensor's name (last topic level), if any.
    pub sensor: Option<String>,
    /// Time between readings (random walk and fixed value).
    pub interval: Duration,
    /// Where readings come from.
    pub source: Source,
    /// Stop after this many readings.
    pub count: Option<u64>,
    /// Print nothing per reading.
    pub quiet: bool,
}

/// A temperature that drifts slowly and plausibly: mean-reverting steps around a base
/// value, rounded to 0.1 °C.
#[derive(Debug, Clone)]
pub struct RandomWalk {
    rng: Rng,
    base: f64,
    value: f64,
}

impl RandomWalk {
    /// A walk starting somewhere between 8 and 22 °C.
    pub fn new(mut rng: Rng) -> RandomWalk {
        let base = 8.0 + 14.0 * rng.next_f64();
        RandomWalk {
            rng,
            base,
            value: base,
        }
    }

    /// The next reading.
    pub fn next_reading(&mut self) -> f64 {
        let step = 0.2 * self.rng.gaussian() + 0.1 * (self.base - self.value);
        self.value = (self.value + step).clamp(-30.0, 50.0);
        (self.value * 10.0).round() / 10.0
    }
}

/// Run a sensor until its readings are sent, its input ends, or `shutdown`; returns the
/// number of readings sent.
pub async fn run(config: SensorOptions, mut shutdown: Shutdown) -> anyhow::Result<u64> {
    let (client, _events) = connect(config.connect.clone(), None).await?;
    let topic = config.topics.temperature(config.sensor.as_deref());
    let mut sent = 0u64;
    let send = |celsius: f64| {
        let client = client.clone();
        let topic = topic.clone();
        let quiet = config.quiet;
        let reconnecting = config.connect.reconnect.is_some();
        async move {
            let payload = Bytes::from(format!("{celsius}"));
            let sent = publish(&client, &topic, payload, QoS::AtMostOnce, false).await;
            match sent {
                // A reading lost while reconnecting is replaced by the next one.
                Err(e) if reconnecting => {
                    println!("{} sensor {topic}: reading not sent: {e:#}", stamp());
                    return anyhow::Ok(());
                }
                other => other?,
            }
            if !quiet {
                println!("{} sensor {topic}: {celsius:.1} °C", stamp());
            }
            anyhow::Ok(())
        }
    };
    let result: anyhow::Result<()> = async {
        match config.source {
            Source::Stdin => {
                let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
                while config.count.is_none_or(|c| sent < c) {
                    let line = tokio::select! {
                        _ = shutdown.wait() => break,
                        line = lines.next_line() => line?,
                    };
                    let Some(line) = line else { break };
                    if line.trim().is_empty() {
                        continue;
                    }
                    match parse_temperature(line.as_bytes()) {
                        Ok(celsius) => {
                            send(celsius).await?;
                            sent += 1;
                        }
                        Err(e) => eprintln!("mq: skipping {line:?}: {e}"),
                    }
                }
            }
            Source::Fixed(_) | Source::RandomWalk { .. } => {
                let mut walk = match config.source {
                    Source::RandomWalk { seed } => Some(RandomWalk::new(Rng::from_seed_flag(seed))),
                    _ => None,
                };
                let mut tick = tokio::time::interval(config.interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                while config.count.is_none_or(|c| sent < c) {
                    tokio::select! {
                        _ = shutdown.wait() => break,
                        _ = tick.tick() => {}
                    }
                    let celsius = match (&mut walk, config.source) {
                        (Some(w), _) => w.next_reading(),
                        (None, Source::Fixed(v)) => v,
                        (None, _) => break,
                    };
                    send(celsius).await?;
                    sent += 1;
                }
            }
        }
        Ok(())
    }
    .await;
    let _ = client.disconnect().await;
    result.map(|_| sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_walk_is_plausible_and_repeatable() {
        let mut a = RandomWalk::new(Rng::new(1));
        let mut b = RandomWalk::new(Rng::new(1));
        let mut previous = a.next_reading();
        assert_eq!(previous, b.next_reading());
        for _ in 0..10_000 {
            let v = a.next_reading();
            assert_eq!(v, b.next_reading());
            assert!((-30.0..=50.0).contains(&v));
            assert!((v - previous).abs() < 2.0, "jump from {previous} to {v}");
            assert_eq!((v * 10.0).round() / 10.0, v);
            previous = v;
        }
    }
}
