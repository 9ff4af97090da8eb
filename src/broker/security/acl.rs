//! mosquitto's ACL file (`acl_file`): which topics each client may read and write.
//!
//! The syntax is mosquitto's: `topic [read|write|readwrite|deny] FILTER` lines before
//! any `user` line apply to clients without a user name; after `user NAME`, to that
//! user; `pattern [read|write|readwrite|deny] FILTER` lines apply to every client,
//! with `%c` replaced by its client identifier and `%u` by its user name. The access
//! defaults to readwrite. With an ACL file, what no line grants is denied, and a
//! `deny` line wins over the others.
//!
//! A PUBLISH (its will and retained messages included) needs write access to its
//! topic; each delivery needs read access to the message's topic, so a wide
//! subscription only ever carries what the subscriber may read. A SUBSCRIBE is
//! refused (SUBACK 0x80 under 3.1.1, 0x87 under 5.0) when its filter can match no
//! topic the client may read; mosquitto 2.0.11 grants every SUBSCRIBE and filters at
//! delivery only. A `%c` or `%u` whose value holds `+`, `#` or `/` never matches, so
//! a client identifier cannot widen a pattern.

use super::SecurityError;
use crate::protocol::topic;
use std::path::Path;

/// What a client wants to do with a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Receive messages published to it.
    Read,
    /// Publish to it.
    Write,
}

/// What a rule grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grant {
    Read,
    Write,
    ReadWrite,
    Deny,
}

impl Grant {
    fn allows(self, access: Access) -> bool {
        matches!(
            (self, access),
            (Grant::ReadWrite, _) | (Grant::Read, Access::Read) | (Grant::Write, Access::Write)
        )
    }
}

/// One `topic` or `pattern` line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    grant: Grant,
    filter: String,
}

/// Who a `topic` line is for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Section {
    Anonymous,
    User(String),
}

/// A parsed ACL file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acl {
    /// `topic` lines with the section they are in.
    topics: Vec<(Section, Rule)>,
    /// `pattern` lines.
    patterns: Vec<Rule>,
}

impl Acl {
    /// Read an ACL file.
    pub fn load(path: &Path) -> Result<Acl, SecurityError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SecurityError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read the ACL file: {e}"),
        })?;
        Acl::parse(&text, &file)
    }

    /// Parse ACL file text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Acl, SecurityError> {
        let mut acl = Acl::default();
        let mut section = Section::Anonymous;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| SecurityError {
                file: file.to_string(),
                line: i + 1,
                message,
            };
            let (key, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let rest = rest.trim();
            match key {
                "user" if !rest.is_empty() => section = Section::User(rest.to_string()),
                "topic" | "pattern" => {
                    let rule = parse_rule(rest).map_err(err)?;
                    if key == "topic" {
                        acl.topics.push((section.clone(), rule));
                    } else {
                        acl.patterns.push(rule);
                    }
                }
                "user" => return Err(err("'user' needs a user name".into())),
                other => {
                    return Err(err(format!("'{other}' is not one of user, topic, pattern")));
                }
            }
        }
        Ok(acl)
    }

    /// Whether the client may `access` the topic `name`.
    pub fn allows(
        &self,
        client_id: &str,
        username: Option<&str>,
        name: &str,
        access: Access,
    ) -> bool {
        let mut granted = false;
        for (grant, filter) in self.rules_for(client_id, username).flatten() {
            if !topic::matches(&filter, name) {
                continue;
            }
            if grant == Grant::Deny {
                return false;
            }
            granted |= grant.allows(access);
        }
        granted
    }

    /// Whether a subscription to `filter` could carry any message the client may
    /// read: some read rule's filter overlaps it and no deny rule covers it whole.
    pub fn may_subscribe(&self, client_id: &str, username: Option<&str>, filter: &str) -> bool {
        let mut readable = false;
        for (grant, rule) in self.rules_for(client_id, username).flatten() {
            if grant == Grant::Deny {
                if covers(&rule, filter) {
                    return false;
                }
            } else if grant.allows(Access::Read) && overlaps(&rule, filter) {
                readable = true;
            }
        }
        readable
    }

    /// The rules that apply to a client, patterns substituted (`None` for a pattern
    /// that cannot apply to it).
    fn rules_for<'a>(
        &'a self,
        client_id: &'a str,
        username: Option<&'a str>,
    ) -> impl Iterator<Item = Option<(Grant, String)>> + 'a {
        let topics = self
            .topics
            .iter()
            .filter(move |(section, _)| match (section, username) {
                (Section::Anonymous, None) => true,
                (Section::User(u), Some(name)) => u == name,
                _ => false,
            })
            .map(|(_, r)| Some((r.grant, r.filter.clone())));
        let patterns = self
            .patterns
            .iter()
            .map(move |r| substitute(&r.filter, client_id, username).map(|f| (r.grant, f)));
        topics.chain(patterns)
    }
}

/// `[read|write|readwrite|deny] FILTER`.
fn parse_rule(rest: &str) -> Result<Rule, String> {
    let (first, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let (grant, filter) = match first {
        "read" => (Grant::Read, after.trim()),
        "write" => (Grant::Write, after.trim()),
        "readwrite" => (Grant::ReadWrite, after.trim()),
        "deny" => (Grant::Deny, after.trim()),
        // `topic FILTER`: readwrite. A first word followed by more is a misspelt
        // access type, as mosquitto reports it.
        word if after.trim().is_empty() => (Grant::ReadWrite, word),
        word => {
            return Err(format!(
                "invalid access type '{word}' (read, write, readwrite or deny)"
            ));
        }
    };
    if filter.is_empty() {
        return Err("a topic filter is needed".into());
    }
    topic::validate_filter(filter).map_err(|e| format!("'{filter}' is not a topic filter: {e}"))?;
    Ok(Rule {
        grant,
        filter: filter.to_string(),
    })
}

/// A pattern with `%c` and `%u` replaced; `None` when a value would add levels or
/// wildcards, or `%u` is used by a client without a user name.
fn substitute(pattern: &str, client_id: &str, username: Option<&str>) -> Option<String> {
    let safe = |v: &str| !v.contains(['+', '#', '/']);
    let mut out = pattern.to_string();
    if pattern.contains("%c") {
        if !safe(client_id) {
            return None;
        }
        out = out.replace("%c", client_id);
    }
    if pattern.contains("%u") {
        let user = username.filter(|u| safe(u))?;
        out = out.replace("%u", user);
    }
    Some(out)
}

/// Whether some topic name matches both filters. Wildcards in the first level do
/// not match topics beginning with `$` [MQTT-4.7.2-1].
fn overlaps(a: &str, b: &str) -> bool {
    let dollar = |f: &str| f.starts_with('$');
    let wild_first = |f: &str| f.starts_with('+') || f.starts_with('#');
    if (dollar(a) && wild_first(b)) || (dollar(b) && wild_first(a)) {
        return false;
    }
    let (mut x, mut y) = (a.split('/'), b.split('/'));
    loop {
        match (x.next(), y.next()) {
            (Some("#"), _) | (_, Some("#")) => return true,
            (None, None) => return true,
            // One filter is longer: only a trailing `#` (handled above) could match.
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(p), Some(q)) => {
                if p != "+" && q != "+" && p != q {
                    return false;
                }
            }
        }
    }
}

/// Whether every topic name `inner` matches is matched by `outer`.
fn covers(outer: &str, inner: &str) -> bool {
    let (mut o, mut i) = (outer.split('/'), inner.split('/'));
    loop {
        match (o.next(), i.next()) {
            (Some("#"), _) => return true,
            (None, None) => return true,
            // `a` does not cover `a/#` (which matches a/b); nor a shorter inner.
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(p), Some(q)) => {
                let ok = match (p, q) {
                    ("+", "#") => false,
                    ("+", _) => true,
                    (_, "+" | "#") => false,
                    (p, q) => p == q,
                };
                if !ok {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# anonymous clients\n\
        topic read public/#\n\
        user alice\n\
        topic readwrite a/#\n\
        topic deny a/secret\n\
        topic write w/only\n\
        pattern readwrite clients/%c/#\n\
        pattern read users/%u/#\n";

    fn acl() -> Acl {
        Acl::parse(FILE, "acl").expect("parses")
    }

    #[test]
    fn topic_lines_by_section_and_deny_first() {
        let a = acl();
        let alice = |t, acc| a.allows("ca", Some("alice"), t, acc);
        assert!(alice("a/b", Access::Read) && alice("a/b", Access::Write));
        assert!(!alice("a/secret", Access::Read) && !alice("a/secret", Access::Write));
        assert!(alice("w/only", Access::Write) && !alice("w/only", Access::Read));
        assert!(
            !alice("public/x", Access::Read),
            "the anonymous section is not alice's"
        );
        let anon = |t, acc| a.allows("n", None, t, acc);
        assert!(anon("public/x", Access::Read) && !anon("public/x", Access::Write));
        assert!(!anon("a/b", Access::Read));
        assert!(
            !a.allows("x", Some("bob"), "a/b", Access::Read),
            "no rule: denied"
        );
    }

    #[test]
    fn patterns_substitute_client_id_and_user_name() {
        let a = acl();
        assert!(a.allows("ca", Some("alice"), "clients/ca/x", Access::Write));
        assert!(!a.allows("ca", Some("alice"), "clients/zz/x", Access::Write));
        assert!(
            a.allows("n", None, "clients/n/x", Access::Read),
            "patterns apply to all"
        );
        assert!(a.allows("ca", Some("alice"), "users/alice/t", Access::Read));
        assert!(
            !a.allows("n", None, "users//t", Access::Read),
            "%u needs a user name"
        );
        // A client id with wildcards or levels never widens a pattern.
        assert!(!a.allows("+", None, "clients/zz/x", Access::Read));
        assert!(!a.allows("a/b", None, "clients/a/b/x", Access::Read));
    }

    #[test]
    fn subscriptions_granted_when_something_readable_can_match() {
        let a = acl();
        let sub = |f| a.may_subscribe("ca", Some("alice"), f);
        assert!(sub("a/#") && sub("#") && sub("+/x") && sub("clients/ca/x"));
        assert!(!sub("a/secret"), "covered by a deny line");
        assert!(!sub("w/only"), "write only");
        assert!(!sub("clients/zz/x") && !sub("public/x"));
        assert!(!a.may_subscribe("n", None, "a/x"));
        assert!(a.may_subscribe("n", None, "public/#"));
    }

    #[test]
    fn filter_overlap_and_cover() {
        assert!(overlaps("a/#", "#") && overlaps("a/+", "+/b") && overlaps("a/#", "a"));
        assert!(!overlaps("a/b", "a/c") && !overlaps("a/b/c", "a/b"));
        assert!(!overlaps("$SYS/#", "#") && overlaps("$SYS/#", "$SYS/+"));
        assert!(covers("a/#", "a/+/c") && covers("a/+", "a/b") && covers("#", "x/#"));
        assert!(!covers("a/+", "a/#") && !covers("a", "a/#") && !covers("a/b", "a/+"));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Acl::parse("user alice\ntopic read a/#/b\n", "acl").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.to_string()
                .starts_with("acl:2: 'a/#/b' is not a topic filter"),
            "{e}"
        );
        let e = Acl::parse("topic bogus a/b\n", "acl").unwrap_err();
        assert!(e.to_string().contains("invalid access type 'bogus'"), "{e}");
        let e = Acl::parse("topics a\n", "acl").unwrap_err();
        assert!(e.to_string().contains("'topics' is not one of"), "{e}");
    }
}
