//! The listeners a running broker has open, one entry per configured listener,
//! so that a reload can open the ones added to the configuration and close the
//! ones removed from it while the others (and every connected client) go on.

use super::config::Listener;
use super::server::{self, Bind, Bound};
use super::state::State;
use super::{Error, LogTypes, blog};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// A listener's sockets, bound but not yet accepting: binding every listener of a
/// configuration first means a failure leaves nothing half open.
pub(super) struct Opened {
    spec: Option<Listener>,
    bound: Vec<Bound>,
}

/// A listener accepting connections. Dropping it stops accepting (its sockets
/// close); connections it accepted are not touched.
#[derive(Debug)]
pub(super) struct Running {
    /// The configuration's listener; `None` for addresses given to the builder.
    pub spec: Option<Listener>,
    /// The TCP addresses bound (port 0 resolved).
    pub addrs: Vec<SocketAddr>,
    _stop: watch::Sender<bool>,
}

/// Bind the addresses of each listener.
pub(super) async fn bind_all(
    state: &State,
    planned: Vec<(Option<Listener>, Vec<Bind>)>,
) -> Result<Vec<Opened>, Error> {
    let mut out = Vec::new();
    for (spec, binds) in planned {
        let bound = server::bind(state, &binds).await?;
        out.push(Opened { spec, bound });
    }
    Ok(out)
}

/// Start accepting on a bound listener; each accept loop and connection task
/// holds a clone of `done`, which shutdown waits on.
pub(super) fn spawn(state: &Arc<State>, opened: Opened, done: &mpsc::Sender<()>) -> Running {
    let (stop, _) = watch::channel(false);
    let mut addrs = Vec::new();
    for bound in opened.bound {
        if let Some(a) = bound.socket.local_addr() {
            addrs.push(a);
        }
        tokio::spawn(server::accept_loop(
            state.clone(),
            bound,
            done.clone(),
            stop.subscribe(),
        ));
    }
    Running {
        spec: opened.spec,
        addrs,
        _stop: stop,
    }
}

impl Running {
    /// Stop accepting, saying so in the log.
    pub(super) fn close(self, state: &State) {
        let what = match &self.spec {
            Some(l) => describe(l),
            None => "listener".to_string(),
        };
        blog!(
            state.log,
            LogTypes::INFORMATION,
            "Closing {what}: it is no longer in the configuration."
        );
    }
}

/// A listener as the log names it: `listener on port 1883`, `listener on
/// /run/mq.sock`.
pub(super) fn describe(l: &Listener) -> String {
    match (&l.unix_path, &l.address) {
        (Some(path), _) => format!("listener on {}", path.display()),
        (None, Some(a)) => format!("listener on {a} port {}", l.port),
        (None, None) => format!("listener on port {}", l.port),
    }
}

/// What a reload does to the running listeners.
#[derive(Debug, Default)]
pub(super) struct Diff {
    /// Indexes (in the running list) of the listeners no longer configured.
    pub removed: Vec<usize>,
    /// New listeners, with their index in the configuration.
    pub added: Vec<(usize, Listener)>,
    /// Listeners on the same address whose other settings changed: they keep
    /// running as they are, since a new socket cannot be bound beside them.
    pub changed: Vec<Listener>,
}

/// Compare the running listeners with the configuration's. Two listeners are the
/// same when every setting is.
pub(super) fn diff(running: &[Running], wanted: &[Listener]) -> Diff {
    let mut kept = vec![false; running.len()];
    let mut d = Diff::default();
    let mut fresh = Vec::new();
    for (i, l) in wanted.iter().enumerate() {
        let same = (0..running.len()).find(|j| !kept[*j] && running[*j].spec.as_ref() == Some(l));
        match same {
            Some(j) => kept[j] = true,
            None => fresh.push((i, l.clone())),
        }
    }
    for (i, l) in fresh {
        let same_place = |r: &Running| {
            r.spec.as_ref().is_some_and(|s| {
                (s.port != 0 || s.unix_path.is_some())
                    && (s.port, &s.address, &s.unix_path) == (l.port, &l.address, &l.unix_path)
            })
        };
        match (0..running.len()).find(|j| !kept[*j] && same_place(&running[*j])) {
            Some(j) => {
                kept[j] = true;
                d.changed.push(l);
            }
            None => d.added.push((i, l)),
        }
    }
    d.removed = (0..running.len())
        .filter(|j| !kept[*j] && running[*j].spec.is_some())
        .collect();
    d
}
