//! mosquitto's password file (`password_file`), as `mosquitto_passwd` writes it: one
//! `user:hash` line per user, where the hash is `$7$ITERATIONS$SALT$HASH`
//! (PBKDF2-HMAC-SHA512, mosquitto 2's default) or `$6$SALT$HASH` (SHA-512 of the
//! password followed by the salt, mosquitto 1.6 and earlier), salt and hash in
//! standard base64. Comments (`#`) and blank lines are allowed. As mosquitto does, a
//! line it cannot use (a plain-text password, an unknown hash type) is left out with
//! a warning rather than stopping the broker; the warnings name the file and line.

use super::SecurityError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha512};
use std::path::Path;

/// Most PBKDF2 iterations accepted from a `$7$` line: bounds the work one login
/// costs (mosquitto_passwd writes 101).
const MAX_ITERATIONS: u32 = 1_000_000;

/// One user's stored hash.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Hash {
    /// `$7$`: PBKDF2-HMAC-SHA512 with this many iterations.
    Pbkdf2 {
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// `$6$`: SHA-512 of password then salt.
    Sha512 { salt: Vec<u8>, hash: Vec<u8> },
}

impl Hash {
    /// Parse the part after `user:`.
    fn parse(text: &str) -> Result<Hash, String> {
        let fields: Vec<&str> = text.split('$').collect();
        let b64 = |s: &str, what: &str| {
            STANDARD
                .decode(s)
                .map_err(|e| format!("the {what} is not base64: {e}"))
        };
        match fields.as_slice() {
            ["", "7", iterations, salt, hash] => {
                let iterations: u32 = iterations
                    .parse()
                    .map_err(|_| format!("'{iterations}' is not a number of iterations"))?;
                if iterations == 0 || iterations > MAX_ITERATIONS {
                    return Err(format!(
                        "{iterations} iterations is outside 1..={MAX_ITERATIONS}"
                    ));
                }
                Ok(Hash::Pbkdf2 {
                    iterations,
                    salt: b64(salt, "salt")?,
                    hash: b64(hash, "hash")?,
                })
            }
            ["", "6", salt, hash] => Ok(Hash::Sha512 {
                salt: b64(salt, "salt")?,
                hash: b64(hash, "hash")?,
            }),
            _ => Err("not a $6$ or $7$ hash (plain-text passwords need `mosquitto_passwd -U` or `mq passwd -U`)".into()),
        }
    }

    /// Whether `password` hashes to this, in time independent of where they differ.
    fn matches(&self, password: &[u8]) -> bool {
        match self {
            Hash::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, &mut out);
                constant_time_eq(&out, hash)
            }
            Hash::Sha512 { salt, hash } => {
                let mut h = Sha512::new();
                h.update(password);
                h.update(salt);
                constant_time_eq(&h.finalize(), hash)
            }
        }
    }

    /// The text after `user:`, as mosquitto_passwd writes it.
    fn to_text(&self) -> String {
        match self {
            Hash::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => format!(
                "$7${iterations}${}${}",
                STANDARD.encode(salt),
                STANDARD.encode(hash)
            ),
            Hash::Sha512 { salt, hash } => {
                format!("$6${}${}", STANDARD.encode(salt), STANDARD.encode(hash))
            }
        }
    }
}

/// Equal, compared without an early exit (the hashes have a fixed length, which is
/// not secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A password file's users and hashes, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PasswordFile {
    users: Vec<(String, Hash)>,
    /// Lines left out, as `FILE:LINE: why`, for the broker to log.
    pub warnings: Vec<String>,
}

impl PasswordFile {
    /// Read a password file.
    pub fn load(path: &Path) -> Result<PasswordFile, SecurityError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SecurityError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read the password file: {e}"),
        })?;
        Ok(PasswordFile::parse(&text, &file))
    }

    /// Parse password file text; `file` names it in warnings.
    pub fn parse(text: &str, file: &str) -> PasswordFile {
        let mut out = PasswordFile::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let warn = |why: String| format!("{file}:{}: {why}", i + 1);
            // mosquitto trims the spaces around both fields.
            let Some((user, hash)) = line.split_once(':').map(|(u, h)| (u.trim(), h.trim())) else {
                out.warnings
                    .push(warn("no ':' between user name and hash".into()));
                continue;
            };
            match Hash::parse(hash) {
                Ok(h) => {
                    out.users.retain(|(u, _)| u != user);
                    out.users.push((user.to_string(), h));
                }
                Err(why) => out
                    .warnings
                    .push(warn(format!("user '{user}' left out: {why}"))),
            }
        }
        out
    }

    /// Whether `user` exists and `password` is theirs. CPU-bound (PBKDF2): callers
    /// on an async runtime run it with `spawn_blocking`.
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        match self.users.iter().find(|(u, _)| u == user) {
            Some((_, h)) => h.matches(password),
            None => {
                // As much work as for a user who exists, so that the time taken
                // does not tell which user names do.
                let _ = HashKind::Pbkdf2Sha512
                    .hash(password, [0; 12])
                    .matches(password);
                false
            }
        }
    }

    /// Whether `user` has an entry.
    pub fn contains(&self, user: &str) -> bool {
        self.users.iter().any(|(u, _)| u == user)
    }

    /// Add or replace `user` with a hash of `password` (see [`hash_line`]).
    pub fn set(&mut self, user: &str, password: &[u8], kind: HashKind, salt: [u8; 12]) {
        let entry = kind.hash(password, salt);
        match self.users.iter_mut().find(|(u, _)| u == user) {
            Some((_, h)) => *h = entry,
            None => self.users.push((user.to_string(), entry)),
        }
    }

    /// The file's text, one `user:hash` line per user.
    pub fn to_text(&self) -> String {
        self.users
            .iter()
            .map(|(u, h)| format!("{u}:{}\n", h.to_text()))
            .collect()
    }
}

/// The hash `mosquitto_passwd -H` chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HashKind {
    /// `sha512-pbkdf2` (`$7$`, 101 iterations): the default.
    #[default]
    Pbkdf2Sha512,
    /// `sha512` (`$6$`), for mosquitto 1.6 and earlier.
    Sha512,
}

impl HashKind {
    fn hash(self, password: &[u8], salt: [u8; 12]) -> Hash {
        match self {
            HashKind::Pbkdf2Sha512 => {
                let iterations = 101;
                let mut hash = vec![0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, &salt, iterations, &mut hash);
                Hash::Pbkdf2 {
                    iterations,
                    salt: salt.to_vec(),
                    hash,
                }
            }
            HashKind::Sha512 => {
                let mut h = Sha512::new();
                h.update(password);
                h.update(salt);
                Hash::Sha512 {
                    salt: salt.to_vec(),
                    hash: h.finalize().to_vec(),
                }
            }
        }
    }
}

/// The line `user:hash` for a password, as mosquitto_passwd writes it; `salt` must
/// be random (12 bytes, as mosquitto_passwd).
pub fn hash_line(user: &str, password: &[u8], kind: HashKind, salt: [u8; 12]) -> String {
    format!("{user}:{}", kind.hash(password, salt).to_text())
}

/// Password file text with `user`'s line replaced by `line`, or added at the end, or
/// removed when `line` is `None`; every other line (comments included) kept as it is.
pub fn edit_text(text: &str, user: &str, line: Option<&str>) -> String {
    let mut out = String::with_capacity(text.len() + 160);
    let mut done = false;
    for l in text.lines() {
        let is_user =
            !l.starts_with('#') && l.split_once(':').is_some_and(|(u, _)| u.trim() == user);
        if !is_user {
            out.push_str(l);
            out.push('\n');
        } else if let (Some(new), false) = (line, done) {
            out.push_str(new);
            out.push('\n');
            done = true;
        }
    }
    if let (Some(new), false) = (line, done) {
        out.push_str(new);
        out.push('\n');
    }
    out
}

/// Whether the part after `user:` is already a hash mosquitto reads (what
/// `mosquitto_passwd -U` leaves as it is).
pub fn is_hashed(rest: &str) -> bool {
    rest.starts_with("$6$") || rest.starts_with("$7$")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by Debian's mosquitto_passwd 2.0.11 (`-c -b`, then `-H sha512 -b`).
    const FILE: &str = "alice:$7$101$i33LMAT9zB47QYqp$5QWV/FWLC+Xqqj61qPHH916CO2BfMgt5+i/XXlRnY/lSpaoxwptXl4sY/sSFY6kG5KmdFw6ngUoMptv876Tezg==\n\
        # a comment\n\n\
        bob:$6$ksEKJnYGKiRE2uvK$koemXpwe+uwYs3QHoJTzq+3ckmXyyjylrR0TKo4nL11DQ2r3Ta25tuCrY7BjvsxJD71970yvFtVilMZFSheAzQ==\n";

    #[test]
    fn mosquitto_passwd_hashes_verify() {
        let f = PasswordFile::parse(FILE, "pw");
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert!(f.verify("alice", b"secret"));
        assert!(f.verify("bob", b"hunter2"));
        assert!(!f.verify("alice", b"Secret"));
        assert!(!f.verify("bob", b""));
        assert!(!f.verify("carol", b"secret"));
    }

    #[test]
    fn unusable_lines_are_left_out_with_file_and_line() {
        let f = PasswordFile::parse("carol:plain\ndave\neve:$7$x$AA==$AA==\n", "pw");
        assert!(!f.contains("carol") && !f.contains("dave") && !f.contains("eve"));
        assert_eq!(f.warnings.len(), 3, "{:?}", f.warnings);
        assert!(f.warnings[0].starts_with("pw:1: user 'carol' left out"));
        assert!(f.warnings[1].starts_with("pw:2: no ':'"));
        assert!(f.warnings[2].starts_with("pw:3: user 'eve' left out"));
    }

    #[test]
    fn set_writes_what_verify_accepts_and_round_trips() {
        let mut f = PasswordFile::default();
        f.set("zoe", b"pa:ss", HashKind::Pbkdf2Sha512, [7; 12]);
        assert!(f.verify("zoe", b"pa:ss"));
        let text = f.to_text();
        assert!(text.starts_with("zoe:$7$101$"), "{text}");
        let back = PasswordFile::parse(&text, "pw");
        assert!(back.verify("zoe", b"pa:ss"));
        f.set("zoe", b"new", HashKind::Sha512, [8; 12]);
        assert!(!f.verify("zoe", b"pa:ss") && f.verify("zoe", b"new"));
        assert!(f.to_text().starts_with("zoe:$6$"));
    }

    #[test]
    fn edit_text_keeps_other_lines() {
        let text = "# users\nalice:$6$x$y\nbob:$6$a$b\n";
        let line = hash_line("bob", b"pw", HashKind::Pbkdf2Sha512, [1; 12]);
        let edited = edit_text(text, "bob", Some(&line));
        assert!(
            edited.starts_with("# users\nalice:$6$x$y\nbob:$7$101$"),
            "{edited}"
        );
        assert!(PasswordFile::parse(&edited, "pw").verify("bob", b"pw"));
        assert_eq!(edit_text(&edited, "bob", None), "# users\nalice:$6$x$y\n");
        assert!(edit_text("", "carol", Some("carol:$6$a$b")).ends_with("carol:$6$a$b\n"));
    }

    #[test]
    fn spaces_around_fields_are_trimmed_as_mosquitto_does() {
        let line = hash_line("spaced", b"pw", HashKind::Pbkdf2Sha512, [3; 12]);
        let (u, h) = line.split_once(':').expect("user:hash");
        let f = PasswordFile::parse(&format!(" {u} : {h}  \n"), "pw");
        assert!(f.verify("spaced", b"pw"), "{:?}", f.warnings);
    }

    #[test]
    fn iterations_are_bounded() {
        let f = PasswordFile::parse("a:$7$4000000000$AA==$AA==\n", "pw");
        assert!(!f.contains("a"));
    }
}
