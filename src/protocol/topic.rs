//! Topic names and topic filters (section 4.7): validation, shared subscriptions and
//! matching.

/// Largest topic in bytes: it is a UTF-8 string field [MQTT-4.7.3-3].
pub const MAX_TOPIC_LEN: usize = 65_535;

/// Check a topic name: at least one character [MQTT-4.7.3-1], no wildcard
/// [MQTT-4.7.0-1], no U+0000 [MQTT-4.7.3-2].
pub fn validate_name(topic: &str) -> Result<(), &'static str> {
    if topic.is_empty() {
        return Err("a topic name must be at least one character long [MQTT-4.7.3-1]");
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err("a topic name must be at most 65535 bytes [MQTT-4.7.3-3]");
    }
    if topic.contains(['+', '#']) {
        return Err("a topic name must not contain the wildcards '+' or '#' [MQTT-4.7.0-1]");
    }
    if topic.contains('\0') {
        return Err("a topic name must not contain U+0000 [MQTT-4.7.3-2]");
    }
    Ok(())
}

/// Check a topic filter: `#` only alone as the last level [MQTT-4.7.1-2], `+` only as a
/// whole level [MQTT-4.7.1-3], and a shared subscription `$share/{group}/{filter}` with
/// a non-empty group without wildcards and a valid filter [MQTT-4.8.2-1], [MQTT-4.8.2-2].
pub fn validate_filter(filter: &str) -> Result<(), &'static str> {
    if filter.is_empty() {
        return Err("a topic filter must be at least one character long [MQTT-4.7.3-1]");
    }
    if filter.len() > MAX_TOPIC_LEN {
        return Err("a topic filter must be at most 65535 bytes [MQTT-4.7.3-3]");
    }
    if filter.contains('\0') {
        return Err("a topic filter must not contain U+0000 [MQTT-4.7.3-2]");
    }
    let filter = match split_shared(filter) {
        SharedSplit::NotShared => filter,
        SharedSplit::Shared { group, filter } => {
            if group.is_empty() {
                return Err(
                    "a shared subscription needs a group name: $share/{group}/{filter} [MQTT-4.8.2-1]",
                );
            }
            if group.contains(['+', '#']) {
                return Err("a share name must not contain '+' or '#' [MQTT-4.8.2-2]");
            }
            if filter.is_empty() {
                return Err(
                    "a shared subscription needs a topic filter after the group [MQTT-4.8.2-2]",
                );
            }
            filter
        }
        SharedSplit::Invalid => {
            return Err("a shared subscription is $share/{group}/{filter} [MQTT-4.8.2-2]");
        }
    };
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err(
                "'#' must be alone in the last level of a topic filter, as in 'a/#' [MQTT-4.7.1-2]",
            );
        }
        if level.contains('+') && level != "+" {
            return Err(
                "'+' must occupy a whole level of a topic filter, as in 'a/+/b' [MQTT-4.7.1-3]",
            );
        }
    }
    Ok(())
}

enum SharedSplit<'a> {
    NotShared,
    Shared { group: &'a str, filter: &'a str },
    Invalid,
}

fn split_shared(filter: &str) -> SharedSplit<'_> {
    let Some(rest) = filter.strip_prefix("$share/") else {
        if filter == "$share" {
            return SharedSplit::Invalid;
        }
        return SharedSplit::NotShared;
    };
    match rest.split_once('/') {
        Some((group, filter)) => SharedSplit::Shared { group, filter },
        None => SharedSplit::Invalid,
    }
}

/// Whether a filter is a shared subscription (`$share/...`).
pub fn is_shared(filter: &str) -> bool {
    filter.starts_with("$share/")
}

/// Split a valid shared subscription into (group, filter); `None` if not shared.
pub fn parse_shared(filter: &str) -> Option<(&str, &str)> {
    match split_shared(filter) {
        SharedSplit::Shared { group, filter } => Some((group, filter)),
        _ => None,
    }
}

/// Whether a filter contains a wildcard.
pub fn has_wildcard(filter: &str) -> bool {
    filter.contains(['+', '#'])
}

/// Whether `topic` (a valid topic name) matches `filter` (a valid, non-shared filter).
/// A filter starting with a wildcard does not match a topic starting with `$`
/// [MQTT-4.7.2-1].
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(fl), Some(tl)) if fl == tl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("a/b").is_ok());
        assert!(validate_name("/").is_ok());
        assert!(validate_name("$SYS/x").is_ok());
        assert!(validate_name("").is_err()); // [MQTT-4.7.3-1]
        assert!(validate_name("a/+").is_err()); // [MQTT-4.7.0-1]
        assert!(validate_name("a/#").is_err());
        assert!(validate_name("a\0b").is_err()); // [MQTT-4.7.3-2]
    }

    #[test]
    fn filters() {
        for ok in [
            "#",
            "+",
            "a/#",
            "a/+/b",
            "+/+",
            "/+",
            "a//b",
            "$share/g/a/#",
            "$share/g/#",
            "sport/tennis/#",
        ] {
            assert!(validate_filter(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a/#/b",
            "a+",
            "a/b#",
            "#/a",
            "a/+b",
            "$share/g",
            "$share//a",
            "$share/g+/a",
            "$share/g/",
            "$share",
        ] {
            assert!(validate_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shared_parse() {
        assert_eq!(parse_shared("$share/g/a/b"), Some(("g", "a/b")));
        assert_eq!(parse_shared("a/b"), None);
    }

    #[test]
    fn matching() {
        // Examples of section 4.7.1.2 and 4.7.1.3.
        assert!(matches("sport/tennis/player1/#", "sport/tennis/player1"));
        assert!(matches(
            "sport/tennis/player1/#",
            "sport/tennis/player1/ranking"
        ));
        assert!(matches(
            "sport/tennis/player1/#",
            "sport/tennis/player1/score/wimbledon"
        ));
        assert!(matches("sport/#", "sport"));
        assert!(matches("sport/tennis/+", "sport/tennis/player1"));
        assert!(!matches("sport/tennis/+", "sport/tennis/player1/ranking"));
        assert!(!matches("sport/+", "sport"));
        assert!(matches("sport/+", "sport/"));
        assert!(matches("+/+", "/finance"));
        assert!(matches("/+", "/finance"));
        assert!(!matches("+", "/finance"));
        assert!(matches("#", "a/b/c"));
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(!matches("a/b/c", "a/b"));
    }

    #[test]
    fn dollar_topics_not_matched_by_leading_wildcard() {
        // [MQTT-4.7.2-1]
        assert!(!matches("#", "$SYS/broker/uptime"));
        assert!(!matches("+/monitor/Clients", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/#", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
    }
}
