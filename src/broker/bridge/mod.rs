//! Bridges to other brokers (`connection` sections of mosquitto.conf): the set
//! of running bridges, started with the broker, and changed by a reload (a bridge
//! added is started, one removed is stopped, one changed is restarted; the others
//! keep running). Each bridge runs in its own task ([`link`]).

pub mod config;
mod lane;
mod link;
mod remote;

use super::log::{LogTypes, blog};
use super::state::State;
use config::BridgeConfig;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a stopping bridge may take before its task is aborted.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// One running bridge.
#[derive(Debug)]
struct Running {
    config: BridgeConfig,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    fn start(state: &Arc<State>, config: BridgeConfig) -> Running {
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(link::run(state.clone(), config.clone(), rx));
        Running { config, stop, task }
    }

    /// Stop it: its connections are closed, "0" published where notifications
    /// go.
    async fn stop(self) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(STOP_TIMEOUT, self.task).await.is_err() {
            abort.abort();
        }
    }
}

/// The broker's bridges.
#[derive(Debug, Default)]
pub struct Bridges {
    running: tokio::sync::Mutex<Vec<Running>>,
}

impl Bridges {
    /// Make the running bridges those of `wanted`: stop the ones not there (or
    /// changed), start the new ones (and the changed ones again).
    pub async fn apply(&self, state: &Arc<State>, wanted: &[BridgeConfig]) {
        let mut running = self.running.lock().await;
        let (kept, gone): (Vec<Running>, Vec<Running>) = running
            .drain(..)
            .partition(|r| wanted.iter().any(|w| same(w, &r.config)));
        for r in gone {
            let name = r.config.name.clone();
            r.stop().await;
            if !wanted.iter().any(|w| w.name == name) {
                blog!(state.log, LogTypes::NOTICE, "Bridge {name} stopped.");
            }
        }
        *running = kept;
        for w in wanted {
            if !running.iter().any(|r| same(&r.config, w)) {
                running.push(Running::start(state, w.clone()));
            }
        }
    }

    /// Stop every bridge (shutdown).
    pub async fn stop_all(&self) {
        let mut running = self.running.lock().await;
        for r in running.drain(..) {
            r.stop().await;
        }
    }
}

/// Whether two sections ask for the same bridge (where in the file they are
/// does not matter).
fn same(a: &BridgeConfig, b: &BridgeConfig) -> bool {
    a.name == b.name
        && BridgeConfig {
            line: 0,
            ..a.clone()
        } == BridgeConfig {
            line: 0,
            ..b.clone()
        }
}

/// Check the bridges before they are started: each section whole (for one
/// built in code rather than read from a file), and its TLS files readable.
pub fn check_all(bridges: &[BridgeConfig]) -> Result<(), String> {
    for b in bridges {
        b.check()?;
        let t = &b.tls;
        let files = [&t.cafile, &t.certfile, &t.keyfile];
        for f in files.into_iter().flatten() {
            std::fs::metadata(f)
                .map_err(|e| format!("connection {}: cannot read {}: {e}", b.name, f.display()))?;
        }
        if let Some(dir) = &t.capath
            && !dir.is_dir()
        {
            return Err(format!(
                "connection {}: bridge_capath {} is not a directory",
                b.name,
                dir.display()
            ));
        }
    }
    Ok(())
}
