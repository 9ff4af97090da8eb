//! The broker's security, one value built from the configuration and its files:
//! who may connect (anonymous access, the password file) and which topics each
//! client may publish to, subscribe to and receive (the ACL file). The connection
//! code asks it at CONNECT, PUBLISH (wills and retained messages included),
//! SUBSCRIBE and each delivery, and never reads the files itself, so that a reload
//! can replace the whole value at once.

pub mod acl;
pub mod backoff;
pub mod password;

use super::config::{Config, SecuritySettings};
use crate::protocol::topic;
use acl::{Access, Acl};
use password::PasswordFile;

/// A security file that cannot be used: the file, the line (0 = the whole file) and
/// why.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", if *.line > 0 { format!(":{}", .line) } else { String::new() })]
pub struct SecurityError {
    /// The file.
    pub file: String,
    /// The line, from 1; 0 when the whole file is concerned.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Authentication and authorisation as configured: one [`Realm`] for every
/// listener, or one per listener with `per_listener_settings true`.
#[derive(Debug, Default)]
pub struct Security {
    /// The global security options (and the default listener's).
    global: Realm,
    /// Listener `i`'s options, as realm `i + 1`, with `per_listener_settings true`.
    listeners: Vec<Realm>,
}

/// Which realm a client is checked in: 0 is the global one.
pub type RealmId = usize;

impl Security {
    /// The security of a configuration, its files read now.
    pub fn from_config(config: &Config) -> Result<Security, SecurityError> {
        let global = Realm::load(&config.security, config.anonymous_allowed())?;
        let mut listeners = Vec::new();
        if config.per_listener_settings {
            for l in &config.listeners {
                // Listeners are defined, so mosquitto's default is no anonymous access.
                let anonymous = l.security.allow_anonymous.unwrap_or(false);
                listeners.push(Realm::load(&l.security, anonymous)?);
            }
        }
        Ok(Security { global, listeners })
    }

    /// The realm of the configuration's listener `index` (`None`: a listener that
    /// is not in the configuration, such as the local-only ones).
    pub fn realm_of(config: &Config, index: Option<usize>) -> RealmId {
        match index {
            Some(i) if config.per_listener_settings => i + 1,
            _ => 0,
        }
    }

    /// A realm; an unknown identifier is the global realm.
    pub fn realm(&self, id: RealmId) -> &Realm {
        id.checked_sub(1)
            .and_then(|i| self.listeners.get(i))
            .unwrap_or(&self.global)
    }

    /// Whether an ACL file is in force in any realm (the per-delivery check costs
    /// something).
    pub fn has_acl(&self) -> bool {
        self.global.acl.is_some() || self.listeners.iter().any(|r| r.acl.is_some())
    }

    /// Lines of the files that were left out, as `FILE:LINE: why`.
    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.global)
            .chain(&self.listeners)
            .flat_map(|r| r.passwords.as_ref().map_or(&[][..], |p| &p.warnings))
    }
}

/// One set of security options: who may connect (anonymous access, the password
/// file), which client identifiers are accepted, and which topics each client may
/// publish to, subscribe to and receive (the ACL file).
#[derive(Debug)]
pub struct Realm {
    /// Clients without a user name may connect (`allow_anonymous`).
    anonymous: bool,
    /// `password_file`, read when the broker starts.
    passwords: Option<PasswordFile>,
    /// `acl_file`: without one, every client may use every topic.
    acl: Option<Acl>,
    /// `allow_zero_length_clientid`.
    zero_length_ids: bool,
    /// `auto_id_prefix`.
    auto_id_prefix: String,
}

impl Default for Realm {
    fn default() -> Self {
        let settings = SecuritySettings::default();
        Realm {
            anonymous: true,
            passwords: None,
            acl: None,
            zero_length_ids: settings.allow_zero_length_clientid,
            auto_id_prefix: settings.auto_id_prefix,
        }
    }
}

impl Realm {
    fn load(settings: &SecuritySettings, anonymous: bool) -> Result<Realm, SecurityError> {
        let passwords = match &settings.password_file {
            Some(path) => Some(PasswordFile::load(path)?),
            None => None,
        };
        let acl = match &settings.acl_file {
            Some(path) => Some(Acl::load(path)?),
            None => None,
        };
        Ok(Realm {
            anonymous,
            passwords,
            acl,
            zero_length_ids: settings.allow_zero_length_clientid,
            auto_id_prefix: settings.auto_id_prefix.clone(),
        })
    }

    /// Whether the client may publish to `name` (its will and retained messages
    /// too).
    pub fn may_publish(&self, client_id: &str, username: Option<&str>, name: &str) -> bool {
        self.acl
            .as_ref()
            .is_none_or(|a| a.allows(client_id, username, name, Access::Write))
    }

    /// Whether the client may receive a message published to `name`.
    pub fn may_read(&self, client_id: &str, username: Option<&str>, name: &str) -> bool {
        self.acl
            .as_ref()
            .is_none_or(|a| a.allows(client_id, username, name, Access::Read))
    }

    /// Whether the client may subscribe to `filter` (a shared subscription by the
    /// filter it shares).
    pub fn may_subscribe(&self, client_id: &str, username: Option<&str>, filter: &str) -> bool {
        let filter = topic::parse_shared(filter).map_or(filter, |(_, f)| f);
        self.acl
            .as_ref()
            .is_none_or(|a| a.may_subscribe(client_id, username, filter))
    }

    /// Whether a CONNECT with this user name may go on to [`Realm::authenticate`]:
    /// no user name needs anonymous access.
    pub fn may_try(&self, username: Option<&str>) -> bool {
        username.is_some() || self.anonymous
    }

    /// Whether checking the credentials costs a password hash (to be run off the
    /// routing threads).
    pub fn checks_passwords(&self, username: Option<&str>) -> bool {
        username.is_some() && self.passwords.is_some()
    }

    /// Whether the credentials of a CONNECT are accepted, as mosquitto decides: with
    /// a password file, a user name must be in it with the right password; without
    /// one, any user name is accepted. CPU-bound when [`Realm::checks_passwords`].
    pub fn authenticate(&self, username: Option<&str>, password: Option<&[u8]>) -> bool {
        match (username, &self.passwords) {
            (None, _) => self.anonymous,
            (Some(_), None) => true,
            (Some(user), Some(file)) => password.is_some_and(|p| file.verify(user, p)),
        }
    }

    /// Whether an empty client identifier is accepted (one is then assigned).
    pub fn allows_zero_length_id(&self) -> bool {
        self.zero_length_ids
    }

    /// The prefix of assigned client identifiers.
    pub fn auto_id_prefix(&self) -> &str {
        &self.auto_id_prefix
    }
}
