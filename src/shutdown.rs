//! The one place that waits for a request to stop: Ctrl-C on every platform, and
//! SIGTERM too on Unix (what `kill` and service managers send).

/// Stop requests, watched from the moment [`Signals::watch`] returns: a signal that
/// arrives before anyone awaits [`Signals::recv`] is kept, not lost to the default
/// action (which would end the process abruptly). The broker builds this before it
/// opens its listeners, so a SIGTERM sent as soon as the port is announced is a
/// clean shutdown.
pub struct Signals {
    #[cfg(unix)]
    unix: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Starts watching now. Must be called inside the tokio runtime.
    pub fn watch() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let unix = match (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) {
                (Ok(int), Ok(term)) => Some((int, term)),
                _ => None,
            };
            Signals { unix }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Resolves on Ctrl-C, or on SIGTERM on Unix. Never resolves if no signal can
    /// be watched (so a caller racing it against work just keeps working).
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some((int, term)) = self.unix.as_mut() {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix; watching starts at the first poll.
/// Never resolves if no signal can be watched.
pub async fn signal() {
    Signals::watch().recv().await
}

/// After Ctrl-C the terminal has echoed `^C` without a line end: end that line, so
/// that what follows (a summary, or the shell's prompt) starts on a line of its own.
/// Only when stderr is a terminal, so piped output is unchanged.
pub fn end_echoed_line() {
    use std::io::{IsTerminal, Write};
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = err.write_all(b"\n");
        let _ = err.flush();
    }
}
