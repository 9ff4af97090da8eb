//! Start-up with `persistence true`: open the store, and put what it holds back
//! into the broker — retained messages, and each durable session with its
//! subscriptions, queued messages, in-flight messages (resent with DUP and their
//! packet identifiers [MQTT-4.4.0-1]) and QoS 2 packet identifiers awaiting PUBREL
//! (so a PUBLISH resent across the restart is not delivered twice
//! [MQTT-4.3.3-10]). Session expiry and message expiry count on from the times
//! stored, so the time the broker was down counts too; a will whose connection the
//! restart ended is published after its delay, as for any connection that ends
//! without DISCONNECT [MQTT-3.1.2-8].

use super::log::{LogTypes, blog};
use super::session::{Delivery, Durable, Inflight, OutState, Session, lock, message_of};
use super::state::State;
use super::store::record::{self, StoredDelivery};
use super::store::redb_store::{LoadedSession, RedbStore, Snapshot};
use super::store::{Op, Store, StoreError};
use crate::protocol::QoS;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Open the store file of the configuration and read it whole.
pub fn open(file: &std::path::Path) -> Result<(RedbStore, Snapshot), StoreError> {
    let store = RedbStore::open(file)?;
    let snapshot = store.load()?;
    Ok((store, snapshot))
}

/// Put the snapshot's contents into a fresh broker state (before any listener
/// opens). Returns the number of sessions and retained messages restored.
pub fn restore(state: &Arc<State>, store: &Arc<Store>, snapshot: Snapshot) -> (usize, usize) {
    let now_ms = record::unix_ms(SystemTime::now());
    let mut retained = 0;
    for m in snapshot.retained {
        if m.expired(now_ms) {
            store.push(Op::Retain(m.publish.topic.to_string(), None));
            continue;
        }
        let msg = Arc::new(message_of(&m));
        state
            .retained
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set(msg);
        retained += 1;
    }
    let mut sessions = 0;
    for loaded in snapshot.sessions {
        if restore_session(state, store, loaded, now_ms) {
            sessions += 1;
        }
    }
    blog!(
        state.log,
        LogTypes::INFORMATION,
        "Restored {sessions} sessions and {retained} retained messages from {}.",
        state.config().store_file().display()
    );
    (sessions, retained)
}

/// One session; false when it had expired while the broker was down (it is
/// deleted).
fn restore_session(state: &Arc<State>, store: &Arc<Store>, s: LoadedSession, now_ms: u64) -> bool {
    let id: Arc<str> = s.client_id.as_str().into();
    let r = &s.record;
    // A session whose connection the restart cut ends from now.
    let since = r.disconnected_ms.unwrap_or(now_ms);
    let away = Duration::from_millis(now_ms.saturating_sub(since));
    let left = (r.expiry != u32::MAX)
        .then(|| Duration::from_secs(u64::from(r.expiry)).saturating_sub(away));
    if left.is_some_and(|l| l.is_zero()) {
        store.push(Op::DeleteSession(id));
        return false;
    }
    let session = Arc::new(Session::new(
        state.next_key(),
        id.clone(),
        r.expiry,
        state.budget.clone(),
    ));
    let next_seq = s.messages.last().map_or(1, |(seq, _)| seq + 1);
    let attach_count = {
        let mut st = lock(&session.state);
        st.set_principal(r.username.as_deref().map(Into::into), 0);
        st.restore(
            s.messages.into_iter().map(|(seq, d)| restored(seq, d)),
            s.qos2,
        );
        let durable = Durable::restored(store.clone(), id.clone(), next_seq, r.will.clone(), since);
        st.restore_durable(durable);
        if r.will.is_some() {
            st.set_will_pending(true);
        }
        st.attach_count()
    };
    for (filter, sub) in s.subscriptions {
        state.subscribe(&session, &filter, sub.options, sub.id);
    }
    lock(&state.sessions).insert(id.clone(), session.clone());
    if let Some(left) = left {
        let (state, session) = (state.clone(), session.clone());
        tokio::spawn(async move { state.expire(&session, attach_count, left).await });
    }
    if let Some(will) = r.will.clone() {
        let delay = will.properties.will_delay_interval.unwrap_or(0);
        let delay = left.map_or(delay, |l| {
            delay.min(u32::try_from(l.as_secs()).unwrap_or(delay))
        });
        let who = (id, r.username.as_deref().map(Into::into), 0);
        super::connection::spawn_delayed_will(
            state.clone(),
            session,
            will,
            who,
            attach_count,
            delay,
        );
    }
    true
}

/// A stored copy as the session holds it: queued (no packet identifier yet) or
/// in flight, to be resent with DUP.
fn restored(seq: u64, d: StoredDelivery) -> Result<Delivery, Inflight> {
    let delivery = Delivery {
        msg: Arc::new(message_of(&d.message)),
        qos: d.qos,
        retain: d.retain,
        sub_ids: d.sub_ids,
        seq,
        routed: None,
    };
    if d.packet_id == 0 || d.qos == QoS::AtMostOnce {
        return Ok(delivery);
    }
    Err(Inflight {
        packet_id: d.packet_id,
        delivery,
        state: if d.released {
            OutState::AwaitComp
        } else {
            OutState::AwaitAck
        },
        resend: true,
    })
}
