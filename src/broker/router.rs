//! The subscription tree: topic filters by level, with `+` and `#` as ordinary
//! children, and shared subscriptions (`$share/group/filter`) as groups at the node
//! of their filter. Routing walks the levels of a topic name once and returns every
//! session the message goes to, merged so that a client gets one copy at the highest
//! granted QoS with all matching subscription identifiers [MQTT-3.3.4-2],
//! [MQTT-3.3.4-4] — the same choice for 3.1.1, where overlapping subscriptions
//! deliver once at the highest QoS [MQTT-3.3.5-1]. A shared group delivers each
//! message to one member, round robin, preferring connected members [MQTT-4.8.2-4].
//!
//! The tree lives behind a read-mostly lock taken by the publisher's task and never
//! held across an `.await`.

use super::session::Session;
use crate::protocol::{QoS, SubscriptionOptions, topic};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One subscription in the tree.
#[derive(Clone, Debug)]
pub struct Subscriber {
    /// The subscribing session.
    pub session: Arc<Session>,
    /// Its options.
    pub options: SubscriptionOptions,
    /// Its subscription identifier (5.0).
    pub id: Option<u32>,
}

#[derive(Debug, Default)]
struct SharedGroup {
    members: Vec<Subscriber>,
    next: AtomicUsize,
}

#[derive(Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    subscribers: Vec<Subscriber>,
    shared: HashMap<Box<str>, SharedGroup>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.subscribers.is_empty() && self.shared.is_empty()
    }

    /// Whether this node stays when the one child on a pruned path goes: it holds
    /// subscriptions or other children.
    fn stays_when_pruned(&self) -> bool {
        self.children.len() > 1 || !self.subscribers.is_empty() || !self.shared.is_empty()
    }
}

/// Dropping a node drops its subtree without recursion: a filter may have tens of
/// thousands of levels [MQTT-4.7.3-3], and a recursive drop would overflow the stack.
impl Drop for Node {
    fn drop(&mut self) {
        if self.children.is_empty() {
            return;
        }
        let mut work: Vec<Node> = self.children.drain().map(|(_, n)| n).collect();
        while let Some(mut n) = work.pop() {
            work.extend(n.children.drain().map(|(_, c)| c));
            // `n` is dropped here with no children left: no recursion.
        }
    }
}

/// A summary, not the tree: printing a deep tree must not recurse either.
impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("children", &self.children.len())
            .field("subscribers", &self.subscribers.len())
            .field("shared", &self.shared.len())
            .finish()
    }
}

/// Where a routed message goes.
#[derive(Debug)]
pub struct Target {
    /// The receiving session.
    pub session: Arc<Session>,
    /// Highest granted QoS of the matching subscriptions.
    pub qos: QoS,
    /// Whether a matching subscription has Retain As Published.
    pub retain_as_published: bool,
    /// Identifiers of the matching subscriptions.
    pub sub_ids: Vec<u32>,
}

/// The subscription tree.
#[derive(Debug, Default)]
pub struct Router {
    root: Node,
    count: usize,
    shared_count: usize,
}

impl Router {
    /// Number of subscriptions (non-shared).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Number of shared subscriptions.
    pub fn shared_count(&self) -> usize {
        self.shared_count
    }

    /// Add or replace the subscription of `session` to `filter` (a valid filter,
    /// possibly shared). Returns true if it replaced an existing one [MQTT-3.8.4-3].
    pub fn subscribe(&mut self, filter: &str, sub: Subscriber) -> bool {
        let (group, filter) = match topic::parse_shared(filter) {
            Some((g, f)) => (Some(g), f),
            None => (None, filter),
        };
        let mut node = &mut self.root;
        for level in filter.split('/') {
            node = node.children.entry(level.into()).or_default();
        }
        let list = match group {
            Some(g) => &mut node.shared.entry(g.into()).or_default().members,
            None => &mut node.subscribers,
        };
        if let Some(existing) = list.iter_mut().find(|s| s.session.key == sub.session.key) {
            *existing = sub;
            true
        } else {
            list.push(sub);
            if group.is_some() {
                self.shared_count += 1;
            } else {
                self.count += 1;
            }
            false
        }
    }

    /// Remove the subscription of session `key` to `filter`; true if it existed.
    pub fn unsubscribe(&mut self, filter: &str, key: u64) -> bool {
        let (group, filter) = match topic::parse_shared(filter) {
            Some((g, f)) => (Some(g), f),
            None => (None, filter),
        };
        let removed = remove(&mut self.root, filter, group, key);
        if removed {
            if group.is_some() {
                self.shared_count -= 1;
            } else {
                self.count -= 1;
            }
        }
        removed
    }

    /// Every session a message on `topic` from client `origin` goes to.
    pub fn route(&self, topic_name: &str, origin: Option<&str>) -> Vec<Target> {
        let mut found: Vec<&Subscriber> = Vec::new();
        let mut groups: Vec<&SharedGroup> = Vec::new();
        collect(&self.root, topic_name, &mut found, &mut groups);
        // No Local: not to the publishing client's own subscriptions [MQTT-3.8.3-3].
        found.retain(|s| {
            !(s.options.no_local && origin.is_some_and(|o| *o == *s.session.client_id))
        });
        found.sort_by_key(|s| s.session.key);
        let mut targets: Vec<Target> = Vec::with_capacity(found.len() + groups.len());
        for s in found {
            match targets.last_mut() {
                Some(t) if t.session.key == s.session.key => {
                    t.qos = t.qos.max(s.options.qos);
                    t.retain_as_published |= s.options.retain_as_published;
                    t.sub_ids.extend(s.id);
                }
                _ => targets.push(target(s)),
            }
        }
        for g in groups {
            if let Some(s) = pick(g) {
                targets.push(target(s));
            }
        }
        targets
    }
}

fn target(s: &Subscriber) -> Target {
    Target {
        session: s.session.clone(),
        qos: s.options.qos,
        retain_as_published: s.options.retain_as_published,
        sub_ids: s.id.into_iter().collect(),
    }
}

/// One member of a shared group: the next connected one round robin, or the next one.
fn pick(g: &SharedGroup) -> Option<&Subscriber> {
    let n = g.members.len();
    if n == 0 {
        return None;
    }
    let start = g.next.fetch_add(1, Ordering::Relaxed);
    (0..n)
        .map(|i| &g.members[(start + i) % n])
        .find(|m| m.session.online.load(Ordering::Acquire))
        .or_else(|| g.members.get(start % n))
}

/// Collect the subscriptions matching `topic_name`, depth first with an explicit
/// stack (a topic may have tens of thousands of levels [MQTT-4.7.3-3]). A stack
/// entry is a node and the byte offset in the topic of the level it matches next
/// (`None` once every level is matched). Each node is visited at most once, since
/// its depth fixes the level it is compared with.
fn collect<'a>(
    root: &'a Node,
    topic_name: &str,
    found: &mut Vec<&'a Subscriber>,
    groups: &mut Vec<&'a SharedGroup>,
) {
    let mut add = |n: &'a Node| {
        found.extend(n.subscribers.iter());
        groups.extend(n.shared.values());
    };
    let dollar = topic_name.starts_with('$');
    let mut stack: Vec<(&'a Node, Option<usize>)> = Vec::with_capacity(8);
    stack.push((root, Some(0)));
    while let Some((node, at)) = stack.pop() {
        // A filter starting with a wildcard does not match `$` topics [MQTT-4.7.2-1].
        let wild_ok = !(dollar && std::ptr::eq(node, root));
        if wild_ok && let Some(h) = node.children.get("#") {
            // `#` also matches the parent level: `a/#` matches `a` [MQTT-4.7.1-2].
            add(h);
        }
        let Some(start) = at else {
            add(node);
            continue;
        };
        let rest = topic_name.get(start..).unwrap_or_default();
        let (level, next) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(start + i + 1)),
            None => (rest, None),
        };
        // Pushed in reverse so the exact level is explored before `+`.
        if wild_ok && let Some(c) = node.children.get("+") {
            stack.push((c, next));
        }
        if let Some(c) = node.children.get(level) {
            stack.push((c, next));
        }
    }
}

/// Remove the subscription of session `key` to `filter` (group `group` if shared)
/// and prune the nodes left empty, without recursion.
fn remove(root: &mut Node, filter: &str, group: Option<&str>, key: u64) -> bool {
    // Walk down, remembering the deepest node that stays if the path below it is
    // pruned: `cut` is its depth (the root always stays).
    let mut cut = 0;
    let mut node = &mut *root;
    for (depth, level) in filter.split('/').enumerate() {
        if node.stays_when_pruned() {
            cut = depth;
        }
        node = match node.children.get_mut(level) {
            Some(c) => c,
            None => return false,
        };
    }
    let removed = match group {
        Some(g) => {
            let Some(sg) = node.shared.get_mut(g) else {
                return false;
            };
            let before = sg.members.len();
            sg.members.retain(|s| s.session.key != key);
            let removed = sg.members.len() != before;
            if sg.members.is_empty() {
                node.shared.remove(g);
            }
            removed
        }
        None => {
            let before = node.subscribers.len();
            node.subscribers.retain(|s| s.session.key != key);
            node.subscribers.len() != before
        }
    };
    if node.is_empty() {
        // Detach the now useless branch below the node at depth `cut`; dropping it
        // is iterative too (see `Drop for Node`).
        let mut levels = filter.split('/');
        let mut keep = &mut *root;
        for level in levels.by_ref().take(cut) {
            keep = match keep.children.get_mut(level) {
                Some(c) => c,
                None => return removed,
            };
        }
        if let Some(level) = levels.next() {
            keep.children.remove(level);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(key: u64, id: &str, qos: QoS) -> Subscriber {
        Subscriber {
            session: Arc::new(Session::new(
                key,
                id.into(),
                0,
                Arc::new(crate::broker::budget::QueueBudget::new(0)),
            )),
            options: SubscriptionOptions::qos(qos),
            id: None,
        }
    }

    #[test]
    fn wildcards_and_dollar_topics() {
        let mut r = Router::default();
        r.subscribe("a/+/c", sub(1, "one", QoS::AtMostOnce));
        r.subscribe("a/#", sub(2, "two", QoS::AtLeastOnce));
        r.subscribe("#", sub(3, "three", QoS::AtMostOnce));
        let keys = |t: Vec<Target>| t.iter().map(|t| t.session.key).collect::<Vec<_>>();
        assert_eq!(keys(r.route("a/b/c", None)), vec![1, 2, 3]);
        assert_eq!(keys(r.route("a", None)), vec![2, 3]);
        // [MQTT-4.7.2-1]
        assert!(r.route("$SYS/x", None).is_empty());
        assert!(r.unsubscribe("a/#", 2));
        assert_eq!(keys(r.route("a/b/c", None)), vec![1, 3]);
        assert_eq!(r.count(), 2);
    }

    #[test]
    fn overlapping_subscriptions_merge_at_highest_qos() {
        let mut r = Router::default();
        let s = sub(1, "one", QoS::AtMostOnce);
        r.subscribe("a/+", s.clone());
        r.subscribe(
            "a/b",
            Subscriber {
                options: SubscriptionOptions::qos(QoS::ExactlyOnce),
                ..s
            },
        );
        let t = r.route("a/b", None);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].qos, QoS::ExactlyOnce);
    }

    #[test]
    fn unsubscribe_prunes_only_empty_branches() {
        let mut r = Router::default();
        r.subscribe("a/b/c", sub(1, "one", QoS::AtMostOnce));
        r.subscribe("a/b", sub(1, "one", QoS::AtMostOnce));
        r.subscribe("a/x/y", sub(2, "two", QoS::AtMostOnce));
        r.subscribe("$share/g/a/b/c", sub(3, "three", QoS::AtMostOnce));
        assert!(r.unsubscribe("a/b/c", 1));
        assert!(!r.unsubscribe("a/b/c", 1));
        assert_eq!(r.route("a/b/c", None).len(), 1, "the shared one is left");
        assert!(r.unsubscribe("$share/g/a/b/c", 3));
        assert!(r.route("a/b/c", None).is_empty());
        assert_eq!(r.route("a/b", None).len(), 1);
        assert!(r.unsubscribe("a/b", 1));
        assert_eq!(r.route("a/x/y", None).len(), 1);
        assert!(r.unsubscribe("a/x/y", 2));
        assert!(r.root.children.is_empty(), "every empty node was pruned");
        assert_eq!((r.count(), r.shared_count()), (0, 0));
    }

    /// [MQTT-4.7.3-3] Tens of thousands of levels: matching, unsubscribing and
    /// dropping the tree use no recursion (a recursive walk overflows the 2 MB stack
    /// of a test thread long before 60,001 levels).
    #[test]
    fn deep_topics_and_filters_do_not_recurse() {
        let deep = "/".repeat(60_000);
        let deep_wild = format!("{}#", "+/".repeat(29_999));
        let mut r = Router::default();
        r.subscribe(&deep, sub(1, "one", QoS::AtMostOnce));
        r.subscribe(&deep_wild, sub(2, "two", QoS::AtLeastOnce));
        r.subscribe(&format!("{deep}x"), sub(3, "three", QoS::AtMostOnce));
        let keys = |t: Vec<Target>| t.iter().map(|t| t.session.key).collect::<Vec<_>>();
        assert_eq!(keys(r.route(&deep, None)), vec![1, 2]);
        assert_eq!(keys(r.route(&format!("{deep}x"), None)), vec![2, 3]);
        assert!(r.unsubscribe(&deep, 1));
        assert_eq!(keys(r.route(&deep, None)), vec![2]);
        assert!(r.unsubscribe(&format!("{deep}x"), 3));
        assert!(r.unsubscribe(&deep_wild, 2));
        assert!(r.root.children.is_empty());
        // Dropping a deep tree.
        r.subscribe(&deep, sub(1, "one", QoS::AtMostOnce));
        drop(r);
    }
}
