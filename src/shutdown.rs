//! The one place that waits for a request to stop: Ctrl-C on every platform, and
//! SIGTERM too on Unix (what `kill` and service managers send).

/// Resolves on Ctrl-C, or on SIGTERM on Unix. Never resolves if no signal can be
/// watched (so a caller racing it against work just keeps working).
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                r = tokio::signal::ctrl_c() => {
                    if r.is_err() {
                        term.recv().await;
                    }
                }
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
