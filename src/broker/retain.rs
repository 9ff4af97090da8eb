//! The retained message store: the last retained message of each topic
//! [MQTT-3.3.1-5], replaced by a newer one and deleted by an empty payload
//! [MQTT-3.3.1-10], handed to new subscriptions whose filter matches.

use super::message::Message;
use crate::protocol::topic;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Retained messages by topic name.
#[derive(Debug, Default)]
pub struct RetainedStore {
    messages: HashMap<Arc<str>, Arc<Message>>,
    bytes: usize,
}

impl RetainedStore {
    /// Store, replace or (empty payload) delete the retained message of its topic.
    pub fn set(&mut self, msg: Arc<Message>) {
        let key: Arc<str> = Arc::from(msg.topic.as_str());
        if let Some(old) = self.messages.remove(&key) {
            self.bytes -= old.len();
        }
        if !msg.is_empty() {
            self.bytes += msg.len();
            self.messages.insert(key, msg);
        }
    }

    /// Retained messages matching a (non-shared) filter, skipping expired ones.
    pub fn matching(&self, filter: &str) -> Vec<Arc<Message>> {
        let now = Instant::now();
        if !topic::has_wildcard(filter) {
            return self
                .messages
                .get(filter)
                .filter(|m| !m.expired(now))
                .cloned()
                .into_iter()
                .collect();
        }
        self.messages
            .iter()
            .filter(|(t, m)| topic::matches(filter, t) && !m.expired(now))
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Drop expired messages.
    pub fn purge_expired(&mut self) {
        let now = Instant::now();
        let mut freed = 0;
        self.messages.retain(|_, m| {
            let keep = !m.expired(now);
            if !keep {
                freed += m.len();
            }
            keep
        });
        self.bytes -= freed;
    }

    /// Number of retained messages.
    pub fn count(&self) -> usize {
        self.messages.len()
    }

    /// Payload bytes of retained messages.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}
