//! The broker's security, one value built from the configuration and its files:
//! who may connect (anonymous access, the password file) and which topics each
//! client may publish to, subscribe to and receive (the ACL file). The connection
//! code asks it at CONNECT, PUBLISH (wills and retained messages included),
//! SUBSCRIBE and each delivery, and never reads the files itself, so that a reload
//! can replace the whole value at once.

pub mod acl;
pub mod backoff;
pub mod password;

use super::config::Config;
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

/// Authentication as configured.
#[derive(Debug, Default)]
pub struct Security {
    /// Clients without a user name may connect (`allow_anonymous`).
    anonymous: bool,
    /// `password_file`, read when the broker starts.
    passwords: Option<PasswordFile>,
    /// `acl_file`: without one, every client may use every topic.
    acl: Option<Acl>,
}

impl Security {
    /// The security of a configuration, its files read now.
    pub fn from_config(config: &Config) -> Result<Security, SecurityError> {
        let passwords = match &config.password_file {
            Some(path) => Some(PasswordFile::load(path)?),
            None => None,
        };
        let acl = match &config.acl_file {
            Some(path) => Some(Acl::load(path)?),
            None => None,
        };
        Ok(Security {
            anonymous: config.anonymous_allowed(),
            passwords,
            acl,
        })
    }

    /// Whether an ACL file is in force (the per-delivery check costs something).
    pub fn has_acl(&self) -> bool {
        self.acl.is_some()
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

    /// Lines of the files that were left out, as `FILE:LINE: why`.
    pub fn warnings(&self) -> &[String] {
        self.passwords.as_ref().map_or(&[], |p| &p.warnings)
    }

    /// Whether a CONNECT with this user name may go on to [`Security::authenticate`]:
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
    /// one, any user name is accepted. CPU-bound when [`Security::checks_passwords`].
    pub fn authenticate(&self, username: Option<&str>, password: Option<&[u8]>) -> bool {
        match (username, &self.passwords) {
            (None, _) => self.anonymous,
            (Some(_), None) => true,
            (Some(user), Some(file)) => password.is_some_and(|p| file.verify(user, p)),
        }
    }
}
