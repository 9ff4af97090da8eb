//! Handing a session over from the connection that holds it to a new connection
//! with the same client identifier [MQTT-3.1.4-3].
//!
//! A takeover must not overtake what the client sent on the old connection: a
//! client that sends DISCONNECT, closes its socket and connects again at once
//! expects its will deleted [MQTT-3.1.2-10] and a session it ended with Session
//! Expiry Interval 0 gone. So the new connection closes the old one and waits: the
//! old connection handles what it had already received (see
//! `connection::finish_received`), tears down, and only then does the new
//! connection claim the session. Since the old connection handles nothing after
//! its teardown, a QoS 2 PUBLISH resent on the new connection is never routed twice
//! [MQTT-4.3.3-10].

use super::log::LogTypes;
use super::session::{Link, lock};
use super::state::State;
use crate::protocol::ReasonCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long a new connection waits for the old one. The old connection bounds its
/// own ending (what it still handles, its will); this is a safety net, after which
/// the old connection handles nothing more.
const WAIT_FOR_OLD: Duration = Duration::from_secs(5);

/// Close the connection that holds the session of `client_id`, if there is one,
/// and wait until it has handled what it had received and ended. With
/// `clean_start`, the session ends with the old connection, so that its will is
/// due at once [MQTT-3.1.2-8].
pub async fn take_over(state: &State, client_id: &str, clean_start: bool) {
    let old = {
        let sessions = lock(&state.sessions);
        sessions.get(client_id).and_then(|s| {
            let mut st = lock(&s.state);
            if st.is_ended() {
                return None;
            }
            if clean_start {
                st.set_expiry(0);
            }
            st.link().cloned()
        })
    };
    let Some(link) = old else {
        return;
    };
    // A connection message, which mosquitto logs as an error.
    if state.log.connections(LogTypes::ERROR) {
        state.log.log(
            LogTypes::ERROR,
            format_args!("Client {client_id} already connected, closing old connection."),
        );
    }
    close(&link);
    if !link.wait_finished(WAIT_FOR_OLD).await {
        tracing::debug!("client {client_id}: the old connection did not end in time");
        link.cut.store(true, Ordering::Release);
    }
}

/// Ask a connection to end because a new one takes its session over: it sends
/// DISCONNECT 0x8E Session taken over (5.0) [MQTT-3.1.4-3] and handles what it had
/// already received.
pub fn close(link: &Link) {
    link.taken_over.store(true, Ordering::Release);
    link.close(Some(ReasonCode::SESSION_TAKEN_OVER));
}

/// Close a connection that attached to the session while the new one waited for
/// the old one (two new connections at once): it is not waited for again.
pub fn cut(link: &Link) {
    close(link);
    link.cut.store(true, Ordering::Release);
}
