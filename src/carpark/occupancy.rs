//! The controller's counting state machine, free of I/O: cars in and out, free spaces
//! never below 0 nor above the capacity, duplicates (QoS 1 redeliveries) counted once,
//! impossible events turned into alerts; plus restoring the count from a retained
//! display and keeping it in a state file (written atomically).
//!
//! Duplicates are recognised two ways. A numbered car (`seq`, see
//! [`CarEvent::sender`]) is a duplicate when its number is not above the highest one
//! counted from its sender on its topic ([`LastSeq`]); that record is small, so it
//! travels in every display state and survives a restart of the controller. Any
//! other id is remembered in memory only, among the last [`DEFAULT_ID_MEMORY`].

use super::clock::{format_rfc3339, parse_rfc3339};
use super::messages::{AlertKind, CarEvent, DisplayState, PayloadError};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;
use std::time::SystemTime;

/// How many recent event ids are remembered for duplicate detection.
pub const DEFAULT_ID_MEMORY: usize = 4096;

/// A bounded set of the most recently seen ids: the oldest is forgotten first.
#[derive(Debug, Clone)]
pub struct RecentIds {
    order: VecDeque<String>,
    set: HashSet<String>,
    limit: usize,
}

impl RecentIds {
    /// Remember at most `limit` ids (at least one).
    pub fn new(limit: usize) -> RecentIds {
        RecentIds {
            order: VecDeque::new(),
            set: HashSet::new(),
            limit: limit.max(1),
        }
    }

    /// Record `id`; false if it was already among the recent ones.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.limit
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        self.order.push_back(id.to_string());
        self.set.insert(id.to_string());
        true
    }

    /// Number of ids remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Nothing remembered yet.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// How many senders [`LastSeq`] keeps; the one that sent nothing for the longest is
/// forgotten first.
///
/// Forgetting a sender is safe once none of its cars can come again. Only a car the
/// broker has not seen acknowledged can, the controller acknowledges in order, and
/// every car after it was then unacknowledged too; so for a sender to be forgotten
/// while a car of its could still come again, more than 64 cars of other senders
/// would have had to be in flight to the controller at once, beyond the broker's
/// window (20 by default in mosquitto and `mq broker`).
pub const MAX_SENDERS: usize = 64;

/// The highest car number counted per (topic, sender): a numbered car whose number is
/// not above it was counted already. Exact because each sender's cars reach the
/// controller in the order they were sent: a sender publishes them in order on one
/// topic, and the broker forwards a client's messages on a topic in the order it
/// received them [MQTT-4.6.0-6] (a redelivery repeats a message, it never brings an
/// older one after a newer one for the first time).
#[derive(Debug, Clone, Default)]
pub struct LastSeq {
    /// (topic, sender, highest seq, when last used); at most [`MAX_SENDERS`].
    entries: Vec<(String, String, u64, u64)>,
    clock: u64,
}

impl LastSeq {
    /// Record car `seq` of `sender` on `topic`; false if it was counted already.
    pub fn insert(&mut self, topic: &str, sender: &str, seq: u64) -> bool {
        self.clock += 1;
        let now = self.clock;
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.0 == topic && e.1 == sender)
        {
            e.3 = now;
            if seq <= e.2 {
                return false;
            }
            e.2 = seq;
            return true;
        }
        if self.entries.len() >= MAX_SENDERS
            && let Some(oldest) = (0..self.entries.len()).min_by_key(|&i| self.entries[i].3)
        {
            self.entries.swap_remove(oldest);
        }
        self.entries
            .push((topic.to_string(), sender.to_string(), seq, now));
        true
    }

    /// The record as it goes into the display state: topic → sender → seq.
    pub fn to_map(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut map: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for (topic, sender, seq, _) in &self.entries {
            map.entry(topic.clone())
                .or_default()
                .insert(sender.clone(), *seq);
        }
        map
    }

    /// Take over the record of a saved display state (if it has more than
    /// [`MAX_SENDERS`], which ours never do, the surplus is dropped).
    pub fn from_map(map: &BTreeMap<String, BTreeMap<String, u64>>) -> LastSeq {
        let mut last = LastSeq::default();
        for (topic, senders) in map {
            for (sender, seq) in senders {
                last.insert(topic, sender, *seq);
            }
        }
        last
    }
}

/// Which way a car went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Into the car park.
    In,
    /// Out of the car park.
    Out,
}

/// What the controller made of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Counted: the display changed.
    Counted,
    /// Same id seen before: ignored.
    Duplicate,
    /// Impossible (entry while full, exit while empty): rejected, with the alert to send.
    Rejected(AlertKind),
}

/// Running totals, for logs and the demo's summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Entries counted.
    pub entered: u64,
    /// Exits counted.
    pub exited: u64,
    /// Entries rejected because the car park was full.
    pub rejected_full: u64,
    /// Exits rejected because the car park was empty.
    pub rejected_empty: u64,
    /// Events ignored as duplicates.
    pub duplicates: u64,
    /// Unreadable payloads.
    pub unreadable: u64,
}

/// The car park's count.
#[derive(Debug, Clone)]
pub struct Occupancy {
    capacity: u32,
    occupied: u32,
    temperature: Option<f64>,
    seen: RecentIds,
    last_seq: LastSeq,
    totals: Totals,
}

impl Occupancy {
    /// An empty car park of `capacity` spaces.
    pub fn new(capacity: u32) -> Occupancy {
        Occupancy::with_id_memory(capacity, DEFAULT_ID_MEMORY)
    }

    /// An empty car park that remembers `ids` recent event ids.
    pub fn with_id_memory(capacity: u32, ids: usize) -> Occupancy {
        Occupancy {
            capacity,
            occupied: 0,
            temperature: None,
            seen: RecentIds::new(ids),
            last_seq: LastSeq::default(),
            totals: Totals::default(),
        }
    }

    /// Number of spaces.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Cars inside.
    pub fn occupied(&self) -> u32 {
        self.occupied
    }

    /// Free spaces.
    pub fn free(&self) -> u32 {
        self.capacity - self.occupied
    }

    /// Last temperature.
    pub fn temperature(&self) -> Option<f64> {
        self.temperature
    }

    /// Totals since start.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Apply one car event that came on `topic` (relative to the prefix). A numbered
    /// car is checked against [`LastSeq`]; other ids are remembered per direction, so
    /// an entry and an exit may share an id. A rejected event is remembered too, so
    /// its redelivery does not raise a second alert.
    pub fn apply(&mut self, direction: Direction, topic: &str, event: &CarEvent) -> Outcome {
        if let Some((sender, seq)) = event.sender() {
            if !self.last_seq.insert(topic, sender, seq) {
                self.totals.duplicates += 1;
                return Outcome::Duplicate;
            }
        } else if let Some(id) = &event.id {
            let key = match direction {
                Direction::In => format!("in:{id}"),
                Direction::Out => format!("out:{id}"),
            };
            if !self.seen.insert(&key) {
                self.totals.duplicates += 1;
                return Outcome::Duplicate;
            }
        }
        match direction {
            Direction::In if self.occupied >= self.capacity => {
                self.totals.rejected_full += 1;
                Outcome::Rejected(AlertKind::EntryWhileFull)
            }
            Direction::In => {
                self.occupied += 1;
                self.totals.entered += 1;
                Outcome::Counted
            }
            Direction::Out if self.occupied == 0 => {
                self.totals.rejected_empty += 1;
                Outcome::Rejected(AlertKind::ExitWhileEmpty)
            }
            Direction::Out => {
                self.occupied -= 1;
                self.totals.exited += 1;
                Outcome::Counted
            }
        }
    }

    /// Count an unreadable payload.
    pub fn unreadable(&mut self) {
        self.totals.unreadable += 1;
    }

    /// Record a temperature; true if the value changed.
    pub fn set_temperature(&mut self, celsius: f64) -> bool {
        let changed = self.temperature != Some(celsius);
        self.temperature = Some(celsius);
        changed
    }

    /// Take over the count of an earlier run (its display or state file). The capacity
    /// stays ours; a count above it is clamped to it. Returns the count taken over.
    pub fn restore(&mut self, earlier: &DisplayState) -> u32 {
        self.occupied = earlier.occupied.min(self.capacity);
        self.last_seq = LastSeq::from_map(&earlier.last_seq);
        if self.temperature.is_none() {
            self.temperature = earlier.temperature;
        }
        self.occupied
    }

    /// The state to publish on `<prefix>/display`.
    pub fn display(&self, now: SystemTime) -> DisplayState {
        DisplayState {
            capacity: self.capacity,
            occupied: self.occupied,
            free: self.free(),
            full: self.free() == 0,
            temperature: self.temperature,
            updated: format_rfc3339(now),
            last_seq: self.last_seq.to_map(),
        }
    }
}

/// The more recent of two saved states (by their `updated` time; an unreadable time
/// counts as oldest).
pub fn newest(a: Option<DisplayState>, b: Option<DisplayState>) -> Option<DisplayState> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let ta = parse_rfc3339(&a.updated).ok();
            let tb = parse_rfc3339(&b.updated).ok();
            if tb > ta { Some(b) } else { Some(a) }
        }
        (a, b) => a.or(b),
    }
}

/// Read a `--state` file; `Ok(None)` if it does not exist yet.
pub fn load_state(path: &Path) -> Result<Option<DisplayState>, PayloadError> {
    match std::fs::read(path) {
        Ok(bytes) => DisplayState::parse(&bytes)
            .map(Some)
            .map_err(|e| PayloadError(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PayloadError(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Write a `--state` file atomically: the JSON goes to a temporary file next to it,
/// which is then renamed over it, so a crash never leaves a half-written state.
pub fn save_state(path: &Path, state: &DisplayState) -> std::io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, state.to_json())?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn car(id: &str) -> CarEvent {
        CarEvent {
            id: Some(id.into()),
            ..CarEvent::default()
        }
    }

    #[test]
    fn counts_in_and_out() {
        let mut o = Occupancy::new(3);
        assert_eq!(
            o.apply(Direction::In, "entry", &CarEvent::default()),
            Outcome::Counted
        );
        assert_eq!(
            o.apply(Direction::In, "entry", &CarEvent::default()),
            Outcome::Counted
        );
        assert_eq!((o.occupied(), o.free()), (2, 1));
        assert_eq!(
            o.apply(Direction::Out, "exit", &CarEvent::default()),
            Outcome::Counted
        );
        assert_eq!((o.occupied(), o.free()), (1, 2));
    }

    #[test]
    fn free_never_below_zero_nor_above_capacity() {
        let mut o = Occupancy::new(2);
        assert_eq!(
            o.apply(Direction::Out, "exit", &CarEvent::default()),
            Outcome::Rejected(AlertKind::ExitWhileEmpty)
        );
        assert_eq!(o.free(), 2);
        for _ in 0..2 {
            assert_eq!(
                o.apply(Direction::In, "entry", &CarEvent::default()),
                Outcome::Counted
            );
        }
        assert_eq!(
            o.apply(Direction::In, "entry", &CarEvent::default()),
            Outcome::Rejected(AlertKind::EntryWhileFull)
        );
        assert_eq!((o.occupied(), o.free()), (2, 0));
        assert!(o.display(SystemTime::now()).full);
        let t = o.totals();
        assert_eq!((t.entered, t.rejected_full, t.rejected_empty), (2, 1, 1));
    }

    #[test]
    fn zero_capacity_is_always_full() {
        let mut o = Occupancy::new(0);
        assert_eq!(
            o.apply(Direction::In, "entry", &CarEvent::default()),
            Outcome::Rejected(AlertKind::EntryWhileFull)
        );
        assert!(o.display(SystemTime::now()).full);
    }

    #[test]
    fn duplicates_by_id_count_once() {
        let mut o = Occupancy::new(10);
        assert_eq!(o.apply(Direction::In, "entry", &car("a")), Outcome::Counted);
        assert_eq!(
            o.apply(Direction::In, "entry", &car("a")),
            Outcome::Duplicate
        );
        assert_eq!(o.apply(Direction::Out, "exit", &car("a")), Outcome::Counted);
        assert_eq!(
            o.apply(Direction::Out, "exit", &car("a")),
            Outcome::Duplicate
        );
        assert_eq!(o.occupied(), 0);
        assert_eq!(o.totals().duplicates, 2);
        // A rejected event's redelivery is a duplicate, not a second alert.
        assert_eq!(
            o.apply(Direction::Out, "exit", &car("b")),
            Outcome::Rejected(AlertKind::ExitWhileEmpty)
        );
        assert_eq!(
            o.apply(Direction::Out, "exit", &car("b")),
            Outcome::Duplicate
        );
    }

    fn numbered(sender: &str, seq: u64) -> CarEvent {
        CarEvent {
            id: Some(format!("{sender}-{seq}")),
            seq: Some(seq),
            ..CarEvent::default()
        }
    }

    #[test]
    fn numbered_cars_count_once_even_after_a_restore() {
        let mut o = Occupancy::new(10);
        let n = |seq| numbered("north-ab12", seq);
        assert_eq!(
            o.apply(Direction::In, "entry/north", &n(1)),
            Outcome::Counted
        );
        assert_eq!(
            o.apply(Direction::In, "entry/north", &n(2)),
            Outcome::Counted
        );
        assert_eq!(
            o.apply(Direction::In, "entry/north", &n(2)),
            Outcome::Duplicate
        );
        assert_eq!(
            o.apply(Direction::In, "entry/north", &n(1)),
            Outcome::Duplicate
        );
        // A gap (a car the gate gave up on) is fine; the same sender on another topic
        // is counted on its own.
        assert_eq!(
            o.apply(Direction::In, "entry/north", &n(5)),
            Outcome::Counted
        );
        assert_eq!(
            o.apply(Direction::In, "entry/east", &n(1)),
            Outcome::Counted
        );
        let saved = o.display(SystemTime::now());
        assert_eq!(saved.last_seq["entry/north"]["north-ab12"], 5);
        let saved = DisplayState::parse(&saved.to_json()).unwrap();
        let mut again = Occupancy::new(10);
        again.restore(&saved);
        assert_eq!(again.occupied(), 4);
        assert_eq!(
            again.apply(Direction::In, "entry/north", &n(5)),
            Outcome::Duplicate
        );
        assert_eq!(
            again.apply(Direction::In, "entry/east", &n(1)),
            Outcome::Duplicate
        );
        assert_eq!(
            again.apply(Direction::In, "entry/north", &n(6)),
            Outcome::Counted
        );
    }

    #[test]
    fn last_seq_forgets_the_least_recent_sender() {
        let mut last = LastSeq::default();
        for i in 0..MAX_SENDERS {
            assert!(last.insert("entry", &format!("s{i}"), 1));
        }
        // s0 is used again, so s1 is the least recent when one more sender comes.
        assert!(!last.insert("entry", "s0", 1));
        assert!(last.insert("entry", "new", 1));
        let map = last.to_map();
        assert_eq!(map["entry"].len(), MAX_SENDERS);
        assert!(map["entry"].contains_key("s0"));
        assert!(!map["entry"].contains_key("s1"));
        assert!(last.insert("entry", "s1", 1), "forgotten: counted again");
    }

    #[test]
    fn id_memory_is_bounded() {
        let mut ids = RecentIds::new(3);
        for id in ["a", "b", "c", "d"] {
            assert!(ids.insert(id));
        }
        assert_eq!(ids.len(), 3);
        assert!(ids.insert("a"), "the oldest id was forgotten");
        assert!(!ids.insert("d"));
        let mut o = Occupancy::with_id_memory(100, 2);
        for id in ["x", "y", "z"] {
            o.apply(Direction::In, "entry", &car(id));
        }
        assert_eq!(
            o.apply(Direction::In, "entry", &car("z")),
            Outcome::Duplicate
        );
        assert_eq!(o.apply(Direction::In, "entry", &car("x")), Outcome::Counted);
    }

    #[test]
    fn restores_and_clamps() {
        let mut earlier = Occupancy::new(50);
        for _ in 0..40 {
            earlier.apply(Direction::In, "entry", &CarEvent::default());
        }
        earlier.set_temperature(12.5);
        let saved = earlier.display(SystemTime::now());
        let mut o = Occupancy::new(50);
        assert_eq!(o.restore(&saved), 40);
        assert_eq!(o.temperature(), Some(12.5));
        let mut smaller = Occupancy::new(30);
        assert_eq!(smaller.restore(&saved), 30);
        assert!(smaller.display(SystemTime::now()).full);
    }

    #[test]
    fn temperature_changes() {
        let mut o = Occupancy::new(1);
        assert!(o.set_temperature(18.5));
        assert!(!o.set_temperature(18.5));
        assert!(o.set_temperature(18.6));
    }

    #[test]
    fn newest_state_wins() {
        let at = |occupied: u32, updated: &str| DisplayState {
            capacity: 10,
            occupied,
            free: 10 - occupied,
            full: occupied == 10,
            temperature: None,
            updated: updated.into(),
            last_seq: BTreeMap::new(),
        };
        let old = at(1, "2026-01-01T00:00:00Z");
        let new = at(2, "2026-01-01T00:00:01+00:00");
        assert_eq!(
            newest(Some(old.clone()), Some(new.clone())),
            Some(new.clone())
        );
        assert_eq!(
            newest(Some(new.clone()), Some(old.clone())),
            Some(new.clone())
        );
        assert_eq!(newest(None, Some(old.clone())), Some(old.clone()));
        assert_eq!(newest(Some(at(3, "junk")), Some(old.clone())), Some(old));
        assert_eq!(newest(None, None), None);
    }

    #[test]
    fn state_file_round_trip_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(load_state(&path), Ok(None));
        let mut o = Occupancy::new(5);
        o.apply(Direction::In, "entry", &CarEvent::default());
        let s = o.display(SystemTime::now());
        save_state(&path, &s).unwrap();
        save_state(&path, &s).unwrap();
        assert_eq!(load_state(&path), Ok(Some(s)));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        std::fs::write(&path, b"garbage").unwrap();
        assert!(load_state(&path).is_err());
    }
}
