//! The redb backend: one file (`persistence_location` + `persistence_file`), six
//! tables — the format, retained messages by topic, sessions by client id, their
//! subscriptions by (client id, filter), their queued and in-flight messages by
//! (client id, sequence number), and their QoS 2 packet identifiers awaiting PUBREL
//! by (client id, packet identifier).
//!
//! A file that is not a store, is damaged, or was written by a newer mq is an error
//! naming the file and the cause; it is never recreated or overwritten. redb
//! recovers a file left by a crash itself (its commits are atomic), so `kill -9`
//! loses nothing committed.

use super::record::{
    FORMAT, RecordError, SessionRecord, StoredDelivery, StoredMessage, StoredSubscription,
};
use super::{Backend, Op, StoreError};
use redb::{Database, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const RETAINED: TableDefinition<&str, &[u8]> = TableDefinition::new("retained");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
const SUBSCRIPTIONS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("subscriptions");
const MESSAGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("messages");
const QOS2: TableDefinition<(&str, u16), ()> = TableDefinition::new("qos2");

/// A session as loaded at start.
#[derive(Debug)]
pub struct LoadedSession {
    /// Client identifier.
    pub client_id: String,
    /// The session.
    pub record: SessionRecord,
    /// Its subscriptions.
    pub subscriptions: Vec<(String, StoredSubscription)>,
    /// Its messages, in the order they were queued (by sequence number).
    pub messages: Vec<(u64, StoredDelivery)>,
    /// QoS 2 packet identifiers awaiting PUBREL.
    pub qos2: Vec<u16>,
}

/// Everything the store holds, read at start.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Retained messages.
    pub retained: Vec<StoredMessage>,
    /// Sessions.
    pub sessions: Vec<LoadedSession>,
}

/// The redb store.
pub struct RedbStore {
    db: Database,
    file: PathBuf,
}

impl RedbStore {
    /// Open (or create) the store file, check its format and compact it.
    pub fn open(file: &Path) -> Result<RedbStore, StoreError> {
        let mut store = RedbStore {
            db: create_or_open(file)?,
            file: file.to_path_buf(),
        };
        // Checked before anything is written to the file.
        store.check_format()?;
        // Freed pages of deleted sessions and messages are given back.
        store
            .db
            .compact()
            .map_err(|e| file_error(file, format!("cannot compact the store: {e}")))?;
        Ok(store)
    }

    fn fail(&self, e: impl std::fmt::Display) -> StoreError {
        file_error(&self.file, e)
    }

    /// A new store gets this build's format; an older or newer one is refused.
    fn check_format(&self) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(|e| self.fail(e))?;
        {
            let mut meta = tx.open_table(META).map_err(|e| self.fail(e))?;
            let found = meta
                .get("format")
                .map_err(|e| self.fail(e))?
                .map(|v| v.value());
            match found {
                None => {
                    meta.insert("format", u64::from(FORMAT))
                        .map_err(|e| self.fail(e))?;
                }
                Some(v) if v == u64::from(FORMAT) => {}
                Some(v) => {
                    return Err(self.fail(format!(
                        "the store's format {v} is not the one this mq reads ({FORMAT}); \
                         it was written by another version"
                    )));
                }
            }
            // Every table exists from now on, so reading never meets a missing one.
            tx.open_table(RETAINED).map_err(|e| self.fail(e))?;
            tx.open_table(SESSIONS).map_err(|e| self.fail(e))?;
            tx.open_table(SUBSCRIPTIONS).map_err(|e| self.fail(e))?;
            tx.open_table(MESSAGES).map_err(|e| self.fail(e))?;
            tx.open_table(QOS2).map_err(|e| self.fail(e))?;
        }
        tx.commit().map_err(|e| self.fail(e))
    }

    /// Read everything back. A record that cannot be read is an error naming the
    /// table: the file is left as it is.
    pub fn load(&self) -> Result<Snapshot, StoreError> {
        let tx = self.db.begin_read().map_err(|e| self.fail(e))?;
        let damaged = |what: &str, e: RecordError| self.fail(format!("{what}: {e}"));
        let mut snapshot = Snapshot::default();
        let retained = tx.open_table(RETAINED).map_err(|e| self.fail(e))?;
        for row in retained.iter().map_err(|e| self.fail(e))? {
            let (_, v) = row.map_err(|e| self.fail(e))?;
            snapshot.retained.push(
                StoredMessage::decode(v.value()).map_err(|e| damaged("a retained message", e))?,
            );
        }
        let sessions = tx.open_table(SESSIONS).map_err(|e| self.fail(e))?;
        let subscriptions = tx.open_table(SUBSCRIPTIONS).map_err(|e| self.fail(e))?;
        let messages = tx.open_table(MESSAGES).map_err(|e| self.fail(e))?;
        let qos2 = tx.open_table(QOS2).map_err(|e| self.fail(e))?;
        for row in sessions.iter().map_err(|e| self.fail(e))? {
            let (k, v) = row.map_err(|e| self.fail(e))?;
            let id = k.value().to_string();
            let record = SessionRecord::decode(v.value()).map_err(|e| damaged("a session", e))?;
            let mut s = LoadedSession {
                client_id: id.clone(),
                record,
                subscriptions: Vec::new(),
                messages: Vec::new(),
                qos2: Vec::new(),
            };
            let subs = subscriptions
                .range((id.as_str(), "")..)
                .map_err(|e| self.fail(e))?;
            for row in subs {
                let (k, v) = row.map_err(|e| self.fail(e))?;
                let (owner, filter) = k.value();
                if owner != id {
                    break;
                }
                let sub = StoredSubscription::decode(v.value())
                    .map_err(|e| damaged("a subscription", e))?;
                s.subscriptions.push((filter.to_string(), sub));
            }
            let msgs = messages
                .range((id.as_str(), 0)..=(id.as_str(), u64::MAX))
                .map_err(|e| self.fail(e))?;
            for row in msgs {
                let (k, v) = row.map_err(|e| self.fail(e))?;
                let d = StoredDelivery::decode(v.value()).map_err(|e| damaged("a message", e))?;
                s.messages.push((k.value().1, d));
            }
            let ids = qos2
                .range((id.as_str(), 0)..=(id.as_str(), u16::MAX))
                .map_err(|e| self.fail(e))?;
            for row in ids {
                let (k, _) = row.map_err(|e| self.fail(e))?;
                s.qos2.push(k.value().1);
            }
            snapshot.sessions.push(s);
        }
        Ok(snapshot)
    }

    // redb's own error type, turned into ours by the caller once per batch.
    #[allow(clippy::result_large_err)]
    fn apply_one(tx: &redb::WriteTransaction, op: &Op) -> Result<(), redb::Error> {
        match op {
            Op::Retain(topic, Some(v)) => {
                tx.open_table(RETAINED)?
                    .insert(topic.as_str(), v.as_slice())?;
            }
            Op::Retain(topic, None) => {
                tx.open_table(RETAINED)?.remove(topic.as_str())?;
            }
            Op::PutSession(id, v) => {
                tx.open_table(SESSIONS)?.insert(&**id, v.as_slice())?;
            }
            Op::DeleteSession(id) => {
                let id: &str = id;
                tx.open_table(SESSIONS)?.remove(id)?;
                tx.open_table(SUBSCRIPTIONS)?
                    .retain_in((id, "").., |(owner, _), _| owner != id)?;
                tx.open_table(MESSAGES)?
                    .retain_in((id, 0)..=(id, u64::MAX), |_, _| false)?;
                tx.open_table(QOS2)?
                    .retain_in((id, 0)..=(id, u16::MAX), |_, _| false)?;
            }
            Op::Subscription(id, filter, Some(v)) => {
                tx.open_table(SUBSCRIPTIONS)?
                    .insert((&**id, filter.as_str()), v.as_slice())?;
            }
            Op::Subscription(id, filter, None) => {
                tx.open_table(SUBSCRIPTIONS)?
                    .remove((&**id, filter.as_str()))?;
            }
            Op::Message(id, seq, Some(v)) => {
                tx.open_table(MESSAGES)?
                    .insert((&**id, *seq), v.as_slice())?;
            }
            Op::Message(id, seq, None) => {
                tx.open_table(MESSAGES)?.remove((&**id, *seq))?;
            }
            Op::Qos2(id, packet_id, true) => {
                tx.open_table(QOS2)?.insert((&**id, *packet_id), ())?;
            }
            Op::Qos2(id, packet_id, false) => {
                tx.open_table(QOS2)?.remove((&**id, *packet_id))?;
            }
        }
        Ok(())
    }
}

/// Open the file with redb. redb asserts on some damaged files (one cut short)
/// instead of returning an error: that is caught here and reported like any other
/// damage, with the default panic message kept off the terminal meanwhile.
fn create_or_open(file: &Path) -> Result<Database, StoreError> {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let opened = std::panic::catch_unwind(|| Database::create(file));
    std::panic::set_hook(quiet);
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(file_error(file, format!("cannot open the store: {e}"))),
        Err(_) => Err(file_error(
            file,
            "the store is damaged (cut short?): it is left as it is; move it away to start \
             with an empty store",
        )),
    }
}

fn file_error(file: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::File {
        file: file.to_path_buf(),
        message: e.to_string(),
    }
}

impl Backend for RedbStore {
    fn apply(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        let commit = |e: redb::Error| StoreError::Commit(format!("{}: {e}", self.file.display()));
        let tx = self.db.begin_write().map_err(|e| commit(e.into()))?;
        for op in ops {
            Self::apply_one(&tx, op).map_err(commit)?;
        }
        tx.commit().map_err(|e| commit(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::store::record::publish_of;
    use crate::protocol::{ByteStr, Properties, QoS, SubscriptionOptions};
    use bytes::Bytes;
    use std::sync::Arc;

    fn message(topic: &str) -> StoredMessage {
        StoredMessage {
            publish: publish_of(
                &ByteStr::from(topic),
                &Bytes::from_static(b"x"),
                QoS::AtLeastOnce,
                false,
                &Properties::default(),
            ),
            expires_ms: None,
            origin: None,
        }
    }

    #[test]
    fn operations_are_read_back_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mq.db");
        let id: Arc<str> = "c1".into();
        {
            let mut s = RedbStore::open(&file).unwrap();
            let record = SessionRecord {
                expiry: 300,
                disconnected_ms: None,
                username: None,
                will: None,
            };
            let sub = StoredSubscription {
                options: SubscriptionOptions::qos(QoS::AtLeastOnce),
                id: None,
            };
            let d = |topic: &str| StoredDelivery {
                message: message(topic),
                qos: QoS::AtLeastOnce,
                retain: false,
                sub_ids: vec![],
                packet_id: 0,
                released: false,
            };
            s.apply(&[
                Op::Retain("r/1".into(), Some(message("r/1").encode())),
                Op::PutSession(id.clone(), record.encode()),
                Op::PutSession("c2".into(), record.encode()),
                Op::Subscription(id.clone(), "a/#".into(), Some(sub.encode())),
                Op::Subscription("c2".into(), "b".into(), Some(sub.encode())),
                Op::Message(id.clone(), 2, Some(d("a/2").encode())),
                Op::Message(id.clone(), 1, Some(d("a/1").encode())),
                Op::Message("c2".into(), 1, Some(d("b").encode())),
                Op::Qos2(id.clone(), 7, true),
            ])
            .unwrap();
            s.apply(&[Op::DeleteSession("c2".into())]).unwrap();
        }
        let s = RedbStore::open(&file).unwrap();
        let snap = s.load().unwrap();
        assert_eq!(snap.retained.len(), 1);
        assert_eq!(snap.sessions.len(), 1, "c2 was deleted with its rows");
        let c1 = &snap.sessions[0];
        assert_eq!(c1.subscriptions.len(), 1);
        let order: Vec<u64> = c1.messages.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(order, vec![1, 2]);
        assert_eq!(c1.qos2, vec![7]);
    }

    #[test]
    fn a_file_that_is_not_a_store_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mq.db");
        std::fs::write(&file, b"not a database at all, but somebody's notes").unwrap();
        let e = RedbStore::open(&file).err().expect("refused");
        assert!(e.to_string().contains("mq.db"), "{e}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            b"not a database at all, but somebody's notes"
        );
    }

    #[test]
    fn a_store_of_another_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mq.db");
        drop(RedbStore::open(&file).unwrap());
        {
            let db = Database::create(&file).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META).unwrap().insert("format", 99).unwrap();
            tx.commit().unwrap();
        }
        let e = RedbStore::open(&file).err().expect("refused");
        assert!(e.to_string().contains("format 99"), "{e}");
    }
}
