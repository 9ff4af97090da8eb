//! Reloading the whole configuration (SIGHUP, [`BrokerHandle::reload`]): every
//! step that can fail (security files, listeners to open, log destinations) runs
//! before anything is put in force, so a broken file or a busy port leaves the
//! configuration in force as it was. Connected clients are not touched: they
//! keep what their CONNECT was granted, and see new limits where they are
//! checked per message (queue sizes, message size, QoS, retain).
//!
//! [`BrokerHandle::reload`]: super::BrokerHandle::reload

use super::bridge::Bridges;
use super::config::{Config, ConfigError};
use super::listeners::{self, Running};
use super::security::{Security, SecurityError};
use super::state::State;
use super::{Error, LogError, LogTypes, blog, listener_specs};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Why a reload was refused (the configuration in force stays).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The configuration file cannot be read or parsed (file and line named).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A password or ACL file cannot be used (file and line named).
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// A new log destination cannot be opened.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A new listener cannot be opened.
    #[error(transparent)]
    Listener(Box<Error>),
    /// A bridge cannot be started (a TLS file it needs is missing...).
    #[error("{0}")]
    Bridge(String),
    /// A change that only a restart can make.
    #[error("{0}: restart the broker to change it")]
    NeedsRestart(String),
}

/// What a reload works on: the broker's state and its running listeners.
pub(super) struct Reload<'a> {
    pub state: &'a Arc<State>,
    pub running: &'a mut Vec<Running>,
    /// Listeners given to the builder: the configuration's are not used.
    pub fixed: bool,
    /// Held by the accept loops of new listeners (`None` once shutting down).
    pub done: Option<mpsc::Sender<()>>,
    /// The bridges running.
    pub bridges: &'a Bridges,
}

impl Reload<'_> {
    /// Check `fresh`, then put it in force, step by step.
    pub async fn apply(self, mut fresh: Config) -> Result<(), ReloadError> {
        let old = self.state.config();
        super::settle(&mut fresh);
        keep_restart_only(&old, &mut fresh, self.state)?;
        let security = Security::from_config(&fresh)?;
        super::bridge::check_all(&fresh.bridges).map_err(ReloadError::Bridge)?;

        let (removed, opened, changed) = if self.fixed {
            (Vec::new(), Vec::new(), Vec::new())
        } else {
            let wanted = listener_specs(&fresh);
            if fresh.per_listener_settings && !wanted.starts_with(&listener_specs(&old)) {
                // Each listener's security options are found by its position.
                return Err(ReloadError::NeedsRestart(
                    "with per_listener_settings true, listeners can only be added after \
                     the others"
                        .into(),
                ));
            }
            let diff = listeners::diff(self.running, &wanted);
            let mut planned = Vec::new();
            for (i, l) in diff.added {
                let binds = super::binds_of(&fresh, i, &l)
                    .await
                    .map_err(|e| ReloadError::Listener(Box::new(e)))?;
                planned.push((Some(l), binds));
            }
            let opened = listeners::bind_all(self.state, planned)
                .await
                .map_err(|e| ReloadError::Listener(Box::new(e)))?;
            (diff.removed, opened, diff.changed)
        };
        // The last step that can fail: it puts the log settings in force (files
        // opened again, for logrotate).
        self.state.log.reconfigure(fresh.log_settings())?;

        // From here on nothing fails.
        for w in security.warnings() {
            blog!(self.state.log, LogTypes::WARNING, "Warning: {w}");
        }
        self.state.put_security(security);
        self.state.budget.set_limit(fresh.memory_limit);
        self.state.set_config(fresh);
        for l in changed {
            blog!(
                self.state.log,
                LogTypes::WARNING,
                "Warning: {} changed: it takes effect when the broker is restarted.",
                listeners::describe(&l)
            );
        }
        for i in removed.into_iter().rev() {
            self.running.remove(i).close(self.state);
        }
        if let Some(done) = &self.done {
            for o in opened {
                self.running.push(listeners::spawn(self.state, o, done));
            }
        }
        // Bridges added are started, removed ones stopped, changed ones
        // restarted; the others keep running.
        if self.done.is_some() {
            self.bridges
                .apply(self.state, &self.state.config().bridges)
                .await;
        }
        Ok(())
    }
}

/// Options that only a restart changes: their values in force are kept, and the
/// log says so; `per_listener_settings` changes what every security option means,
/// so a change to it refuses the reload.
fn keep_restart_only(old: &Config, fresh: &mut Config, state: &State) -> Result<(), ReloadError> {
    if old.per_listener_settings != fresh.per_listener_settings {
        return Err(ReloadError::NeedsRestart(
            "per_listener_settings changed".into(),
        ));
    }
    let mut kept = Vec::new();
    if old.persistence != fresh.persistence || old.store_file() != fresh.store_file() {
        kept.push("persistence");
        fresh.persistence = old.persistence;
        fresh.persistence_location = old.persistence_location.clone();
        fresh.persistence_file = old.persistence_file.clone();
    }
    if old.sys_interval != fresh.sys_interval {
        kept.push("sys_interval");
        fresh.sys_interval = old.sys_interval;
    }
    for option in kept {
        blog!(
            state.log,
            LogTypes::WARNING,
            "Warning: {option} changed: it takes effect when the broker is restarted."
        );
    }
    Ok(())
}
