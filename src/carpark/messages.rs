//! The car-park topic contract and its payloads: topic names under a prefix, reading
//! entry/exit events and temperature readings, and the JSON of display updates and
//! alerts. Documented for people in `docs/carpark.md`.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Payload of the controller's status topic while it runs.
pub const ONLINE: &str = "online";
/// Payload of the controller's status topic after it stops (also its will).
pub const OFFLINE: &str = "offline";

/// The topic names of one car park, all under one prefix (default `carpark`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
}

/// What a topic under the prefix is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicKind {
    /// `<prefix>/entry` or `<prefix>/entry/<gate>`.
    Entry { gate: Option<String> },
    /// `<prefix>/exit` or `<prefix>/exit/<gate>`.
    Exit { gate: Option<String> },
    /// `<prefix>/temperature` or `<prefix>/temperature/<sensor>`.
    Temperature { sensor: Option<String> },
    /// `<prefix>/display`.
    Display,
    /// `<prefix>/time`.
    Time,
    /// `<prefix>/controller/status`.
    Status,
    /// `<prefix>/alerts`.
    Alerts,
}

impl Topics {
    /// Topics under `prefix`. The prefix must be a valid topic name without wildcards,
    /// and not end with `/` [MQTT-4.7.3-1] [MQTT-4.7.3-2].
    pub fn new(prefix: &str) -> Result<Topics, String> {
        if prefix.is_empty() || prefix.ends_with('/') {
            return Err(format!(
                "invalid prefix {prefix:?}: it must not be empty or end with '/'"
            ));
        }
        crate::protocol::topic::validate_name(prefix)
            .map_err(|e| format!("invalid prefix {prefix:?}: {e}"))?;
        Ok(Topics {
            prefix: prefix.to_string(),
        })
    }

    /// The prefix itself.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn topic(&self, suffix: &str) -> String {
        format!("{}/{suffix}", self.prefix)
    }

    /// Where an entry gate reports a car: `<prefix>/entry[/<gate>]`.
    pub fn entry(&self, gate: Option<&str>) -> String {
        match gate {
            Some(g) => self.topic(&format!("entry/{g}")),
            None => self.topic("entry"),
        }
    }

    /// Where an exit gate reports a car: `<prefix>/exit[/<gate>]`.
    pub fn exit(&self, gate: Option<&str>) -> String {
        match gate {
            Some(g) => self.topic(&format!("exit/{g}")),
            None => self.topic("exit"),
        }
    }

    /// Where a sensor reports: `<prefix>/temperature[/<sensor>]`.
    pub fn temperature(&self, sensor: Option<&str>) -> String {
        match sensor {
            Some(s) => self.topic(&format!("temperature/{s}")),
            None => self.topic("temperature"),
        }
    }

    /// `<prefix>/display`: the controller's retained state.
    pub fn display(&self) -> String {
        self.topic("display")
    }

    /// `<prefix>/time`: the controller's clock.
    pub fn time(&self) -> String {
        self.topic("time")
    }

    /// `<prefix>/controller/status`: `online` / `offline`, retained.
    pub fn status(&self) -> String {
        self.topic("controller/status")
    }

    /// `<prefix>/alerts`.
    pub fn alerts(&self) -> String {
        self.topic("alerts")
    }

    /// `topic` without the prefix (`entry/north` for `carpark/entry/north`), if it is
    /// under the prefix.
    pub fn relative<'a>(&self, topic: &'a str) -> Option<&'a str> {
        topic.strip_prefix(&self.prefix)?.strip_prefix('/')
    }

    /// Every topic of this car park: `<prefix>/#`.
    pub fn all(&self) -> String {
        self.topic("#")
    }

    /// The filters the controller subscribes to for car events and readings.
    pub fn controller_filters(&self) -> Vec<String> {
        vec![
            self.entry(None),
            self.topic("entry/+"),
            self.exit(None),
            self.topic("exit/+"),
            self.temperature(None),
            self.topic("temperature/+"),
        ]
    }

    /// What `topic` is in this car park, if it is one of ours.
    pub fn classify(&self, topic: &str) -> Option<TopicKind> {
        let rest = topic.strip_prefix(&self.prefix)?.strip_prefix('/')?;
        let (head, tail) = match rest.split_once('/') {
            Some((h, t)) => (h, Some(t)),
            None => (rest, None),
        };
        let name = |t: Option<&str>| -> Option<Option<String>> {
            match t {
                None => Some(None),
                Some(t) if !t.is_empty() && !t.contains('/') => Some(Some(t.to_string())),
                Some(_) => None,
            }
        };
        match (head, tail) {
            ("entry", t) => Some(TopicKind::Entry { gate: name(t)? }),
            ("exit", t) => Some(TopicKind::Exit { gate: name(t)? }),
            ("temperature", t) => Some(TopicKind::Temperature { sensor: name(t)? }),
            ("display", None) => Some(TopicKind::Display),
            ("time", None) => Some(TopicKind::Time),
            ("controller", Some("status")) => Some(TopicKind::Status),
            ("alerts", None) => Some(TopicKind::Alerts),
            _ => None,
        }
    }
}

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError(pub String);

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PayloadError {}

/// One car at a gate. Every field is optional: any text is one car.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarEvent {
    /// Identifier of this event; a repeated id is counted once (QoS 1 redelivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The car's number at its sender (1, 2, 3... in the order sent), with `id` =
    /// `<sender>-<seq>`: see [`CarEvent::sender`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The gate the car used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    /// The car's number plate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
}

/// A JSON string or number as text (ids may be sent as numbers).
fn text_field(
    obj: &serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Result<Option<String>, PayloadError> {
    match obj.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(PayloadError(format!(
            "field {key:?} must be a string, not {other}"
        ))),
    }
}

impl CarEvent {
    /// Read an entry/exit payload: a JSON object `{"id", "gate", "plate"}` (all optional),
    /// or any other non-empty text, which is one car without details. An empty payload,
    /// bytes that are not UTF-8, or text that starts like a JSON object but is not one
    /// are unreadable.
    pub fn parse(payload: &[u8]) -> Result<CarEvent, PayloadError> {
        let text = std::str::from_utf8(payload)
            .map_err(|_| PayloadError("payload is not UTF-8 text".into()))?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(PayloadError("empty payload".into()));
        }
        if !trimmed.starts_with('{') {
            return Ok(CarEvent::default());
        }
        let value: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| PayloadError(format!("invalid JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| PayloadError("invalid JSON object".into()))?;
        let seq = match obj.get("seq") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| {
                PayloadError(format!("field \"seq\" must be an integer >= 0, not {v}"))
            })?),
        };
        Ok(CarEvent {
            id: text_field(obj, "id")?.filter(|s| !s.is_empty()),
            seq,
            gate: text_field(obj, "gate")?,
            plate: text_field(obj, "plate")?,
        })
    }

    /// The sender of a numbered event: an event with a `seq` whose id is
    /// `<sender>-<seq>` is car number `seq` of `sender`, which numbers its cars in
    /// the order it sends them. `None` for any other event (no `seq`, or an id that
    /// does not end in `-<seq>`): it is then recognised by its id alone.
    pub fn sender(&self) -> Option<(&str, u64)> {
        let seq = self.seq?;
        let sender = self.id.as_deref()?.strip_suffix(&format!("-{seq}"))?;
        (!sender.is_empty()).then_some((sender, seq))
    }

    /// The JSON payload a gate sends.
    pub fn to_json(&self) -> Bytes {
        // Serializing a struct of strings cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// Read a temperature payload: a number of °C (`18.5`) or JSON `{"celsius": 18.5}`.
/// The value must be finite and physically plausible (-100 to 100 °C).
pub fn parse_temperature(payload: &[u8]) -> Result<f64, PayloadError> {
    let text = std::str::from_utf8(payload)
        .map_err(|_| PayloadError("payload is not UTF-8 text".into()))?
        .trim();
    let value = if text.starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PayloadError(format!("invalid JSON: {e}")))?;
        v.get("celsius")
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| PayloadError("expected {\"celsius\": <number>}".into()))?
    } else {
        text.parse::<f64>()
            .map_err(|_| PayloadError(format!("not a temperature: {text:?}")))?
    };
    if !value.is_finite() || !(-100.0..=100.0).contains(&value) {
        return Err(PayloadError(format!("implausible temperature: {value}")));
    }
    Ok(value)
}

/// The retained state on `<prefix>/display`, published by the controller on every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisplayState {
    /// Number of spaces.
    pub capacity: u32,
    /// Cars inside.
    pub occupied: u32,
    /// Free spaces: `capacity - occupied`.
    pub free: u32,
    /// `free == 0`.
    pub full: bool,
    /// Last temperature reading in °C, if any.
    pub temperature: Option<f64>,
    /// When this state was made (RFC 3339).
    pub updated: String,
    /// The highest car number counted per topic (relative to the prefix) and sender
    /// (see [`CarEvent::sender`]): what a restarted controller needs to recognise a
    /// redelivered car it had already counted. Absent when empty; older states
    /// without it are read as empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub last_seq: BTreeMap<String, BTreeMap<String, u64>>,
}

impl DisplayState {
    /// Read a display payload; the counts must agree with each other.
    pub fn parse(payload: &[u8]) -> Result<DisplayState, PayloadError> {
        let state: DisplayState = serde_json::from_slice(payload)
            .map_err(|e| PayloadError(format!("invalid display state: {e}")))?;
        if state.occupied > state.capacity
            || state.free != state.capacity - state.occupied
            || state.full != (state.free == 0)
        {
            return Err(PayloadError(format!(
                "inconsistent display state: capacity {}, occupied {}, free {}, full {}",
                state.capacity, state.occupied, state.free, state.full
            )));
        }
        Ok(state)
    }

    /// The JSON payload.
    pub fn to_json(&self) -> Bytes {
        // Serializing plain numbers and strings cannot fail (non-finite floats become null).
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// What went wrong, in an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A car left while the car park was empty.
    ExitWhileEmpty,
    /// A car entered while the car park was full.
    EntryWhileFull,
    /// A payload on an entry, exit or temperature topic could not be read.
    UnreadablePayload,
}

impl AlertKind {
    /// The snake_case name used in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::ExitWhileEmpty => "exit_while_empty",
            AlertKind::EntryWhileFull => "entry_while_full",
            AlertKind::UnreadablePayload => "unreadable_payload",
        }
    }
}

/// An anomaly, published on `<prefix>/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What went wrong.
    pub alert: AlertKind,
    /// A sentence for people.
    pub message: String,
    /// The topic of the offending message.
    pub topic: String,
    /// The event id, if the message had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Cars inside when it happened.
    pub occupied: u32,
    /// Number of spaces.
    pub capacity: u32,
    /// When it happened (RFC 3339).
    pub time: String,
}

impl Alert {
    /// The JSON payload.
    pub fn to_json(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_under_a_prefix() {
        let t = Topics::new("carpark").unwrap();
        assert_eq!(t.entry(None), "carpark/entry");
        assert_eq!(t.entry(Some("north")), "carpark/entry/north");
        assert_eq!(t.exit(Some("south")), "carpark/exit/south");
        assert_eq!(t.temperature(None), "carpark/temperature");
        assert_eq!(t.display(), "carpark/display");
        assert_eq!(t.time(), "carpark/time");
        assert_eq!(t.status(), "carpark/controller/status");
        assert_eq!(t.alerts(), "carpark/alerts");
        assert_eq!(t.all(), "carpark/#");
        assert_eq!(t.relative("carpark/entry/north"), Some("entry/north"));
        assert_eq!(t.relative("carparkx/entry"), None);
        let l2 = Topics::new("carpark/level2").unwrap();
        assert_eq!(l2.display(), "carpark/level2/display");
        assert_eq!(l2.controller_filters()[1], "carpark/level2/entry/+");
    }

    #[test]
    fn prefix_must_be_a_plain_topic_name() {
        for bad in ["", "carpark/", "car+park", "carpark/#", "a\0b"] {
            assert!(Topics::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn classifies_topics() {
        let t = Topics::new("cp").unwrap();
        let gate = |g: &str| Some(g.to_string());
        assert_eq!(
            t.classify("cp/entry"),
            Some(TopicKind::Entry { gate: None })
        );
        assert_eq!(
            t.classify("cp/entry/north"),
            Some(TopicKind::Entry {
                gate: gate("north")
            })
        );
        assert_eq!(
            t.classify("cp/exit/s"),
            Some(TopicKind::Exit { gate: gate("s") })
        );
        assert_eq!(
            t.classify("cp/temperature/roof"),
            Some(TopicKind::Temperature {
                sensor: gate("roof")
            })
        );
        assert_eq!(t.classify("cp/display"), Some(TopicKind::Display));
        assert_eq!(t.classify("cp/time"), Some(TopicKind::Time));
        assert_eq!(t.classify("cp/controller/status"), Some(TopicKind::Status));
        assert_eq!(t.classify("cp/alerts"), Some(TopicKind::Alerts));
        for other in [
            "cp",
            "cpx/entry",
            "cp/entry/a/b",
            "cp/entry/",
            "cp/display/x",
            "x/cp/entry",
        ] {
            assert_eq!(t.classify(other), None, "{other}");
        }
    }

    #[test]
    fn any_text_is_one_car() {
        assert_eq!(CarEvent::parse(b"car"), Ok(CarEvent::default()));
        assert_eq!(CarEvent::parse(b"  1 "), Ok(CarEvent::default()));
        assert_eq!(CarEvent::parse(b"[1,2]"), Ok(CarEvent::default()));
    }

    #[test]
    fn json_car_events() {
        let e = CarEvent::parse(br#"{"id":"n-1","gate":"north","plate":"AB12 CDE"}"#).unwrap();
        assert_eq!(e.id.as_deref(), Some("n-1"));
        assert_eq!(e.gate.as_deref(), Some("north"));
        assert_eq!(e.plate.as_deref(), Some("AB12 CDE"));
        assert_eq!(CarEvent::parse(b"{}"), Ok(CarEvent::default()));
        let n = CarEvent::parse(br#"{"id": 42, "extra": true}"#).unwrap();
        assert_eq!(n.id.as_deref(), Some("42"));
        assert_eq!(CarEvent::parse(&e.to_json()), Ok(e));
        assert_eq!(CarEvent::default().to_json(), Bytes::from_static(b"{}"));
    }

    #[test]
    fn numbered_car_events_name_their_sender() {
        let e = CarEvent::parse(br#"{"id":"north-ffa087-7","seq":7,"gate":"north"}"#).unwrap();
        assert_eq!(e.sender(), Some(("north-ffa087", 7)));
        assert_eq!(CarEvent::parse(&e.to_json()), Ok(e));
        // Without a seq, or with an id that does not end in -<seq>: no sender.
        for other in [
            &br#"{"id":"north-ffa087-7"}"#[..],
            br#"{"id":"north-ffa087-7","seq":8}"#,
            br#"{"id":"-7","seq":7}"#,
            br#"{"seq":7}"#,
            b"car",
        ] {
            assert_eq!(CarEvent::parse(other).unwrap().sender(), None, "{other:?}");
        }
        for bad in [
            &br#"{"id":"a-1","seq":-1}"#[..],
            br#"{"seq":"1"}"#,
            br#"{"seq":1.5}"#,
        ] {
            assert!(CarEvent::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unreadable_car_events() {
        for bad in [
            &b""[..],
            b"  ",
            b"\xff\xfe",
            b"{id: 1}",
            br#"{"id": [1]}"#,
            b"{",
        ] {
            assert!(CarEvent::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn temperatures() {
        assert_eq!(parse_temperature(b"18.5"), Ok(18.5));
        assert_eq!(parse_temperature(b" -3 "), Ok(-3.0));
        assert_eq!(parse_temperature(br#"{"celsius": 21.25}"#), Ok(21.25));
        for bad in [
            &b"warm"[..],
            b"",
            b"NaN",
            b"inf",
            b"1000",
            br#"{"celsius":"x"}"#,
            br#"{"fahrenheit":60}"#,
            b"\xff",
        ] {
            assert!(parse_temperature(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_json_round_trip_and_field_order() {
        let s = DisplayState {
            capacity: 120,
            occupied: 79,
            free: 41,
            full: false,
            temperature: Some(18.5),
            updated: "2026-11-24T21:27:09.000+00:00".into(),
            last_seq: BTreeMap::new(),
        };
        let json = s.to_json();
        assert_eq!(
            std::str::from_utf8(&json).unwrap(),
            r#"{"capacity":120,"occupied":79,"free":41,"full":false,"temperature":18.5,"updated":"2026-11-24T21:27:09.000+00:00"}"#
        );
        assert_eq!(DisplayState::parse(&json), Ok(s.clone()));
        let mut numbered = s;
        numbered
            .last_seq
            .entry("entry/north".into())
            .or_default()
            .insert("north-ffa087".into(), 7);
        let json = numbered.to_json();
        assert!(
            std::str::from_utf8(&json)
                .unwrap()
                .ends_with(r#""last_seq":{"entry/north":{"north-ffa087":7}}}"#)
        );
        assert_eq!(DisplayState::parse(&json), Ok(numbered));
    }

    #[test]
    fn inconsistent_display_is_rejected() {
        let bad = br#"{"capacity":10,"occupied":11,"free":0,"full":true,"temperature":null,"updated":""}"#;
        assert!(DisplayState::parse(bad).is_err());
        let bad = br#"{"capacity":10,"occupied":3,"free":6,"full":false,"temperature":null,"updated":""}"#;
        assert!(DisplayState::parse(bad).is_err());
        assert!(DisplayState::parse(b"online").is_err());
        let ok = br#"{"capacity":10,"occupied":10,"free":0,"full":true,"temperature":null,"updated":""}"#;
        assert!(DisplayState::parse(ok).is_ok());
    }

    #[test]
    fn alert_json() {
        let a = Alert {
            alert: AlertKind::ExitWhileEmpty,
            message: "a car left while the car park was empty".into(),
            topic: "carpark/exit/south".into(),
            id: Some("s-1".into()),
            occupied: 0,
            capacity: 5,
            time: "2026-11-24T21:27:09.000+00:00".into(),
        };
        let v: serde_json::Value = serde_json::from_slice(&a.to_json()).unwrap();
        assert_eq!(v["alert"], "exit_while_empty");
        assert_eq!(v["id"], "s-1");
        assert_eq!(AlertKind::EntryWhileFull.name(), "entry_while_full");
    }

    proptest::proptest! {
        /// Network input never panics: every payload is a car, an error, or a state.
        #[test]
        fn arbitrary_payloads_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = CarEvent::parse(&bytes);
            let _ = parse_temperature(&bytes);
            let _ = DisplayState::parse(&bytes);
        }

        #[test]
        fn arbitrary_topics_classify_without_panic(topic in ".{0,40}") {
            let _ = Topics::new("carpark").unwrap().classify(&topic);
        }
    }
}
