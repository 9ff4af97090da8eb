//! `mq passwd`: a drop-in for `mosquitto_passwd`, writing the password files that
//! `mq broker` and mosquitto read: `-c` create, `-b` batch (password on the command
//! line), `-D` delete, `-U` upgrade a plain-text file, `-H sha512-pbkdf2|sha512`.
//! Without `-b` the password is asked twice, without echo. Lines other than the
//! user's are kept as they are.

use crate::broker::security::password::{self, HashKind};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// The hashes of `-H`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    /// PBKDF2-SHA512, `$7$` (the default, mosquitto 2)
    #[value(name = "sha512-pbkdf2")]
    Pbkdf2,
    /// Salted SHA-512, `$6$` (mosquitto 1.6 and earlier)
    #[value(name = "sha512")]
    Sha512,
}

/// Flags of `mq passwd` (mosquitto_passwd's).
#[derive(Args, Clone, Debug)]
pub struct PasswdArgs {
    /// Create a new password file (overwrites an existing one)
    #[arg(short = 'c', conflicts_with_all = ["delete", "upgrade"])]
    pub create: bool,
    /// Batch mode: the password is the last argument
    #[arg(short = 'b', conflicts_with_all = ["delete", "upgrade"])]
    pub batch: bool,
    /// Delete the user instead of adding or updating it
    #[arg(short = 'D', conflicts_with = "upgrade")]
    pub delete: bool,
    /// Hash every plain-text password of the file (user:password lines)
    #[arg(short = 'U')]
    pub upgrade: bool,
    /// The hash to write
    #[arg(short = 'H', value_enum, default_value = "sha512-pbkdf2")]
    pub hash: HashArg,
    /// The password file
    pub file: PathBuf,
    /// The user name (not with -U)
    pub username: Option<String>,
    /// The password (with -b)
    pub password: Option<String>,
}

/// Run `mq passwd`; returns the exit code.
pub fn run(args: PasswdArgs) -> anyhow::Result<i32> {
    let kind = match args.hash {
        HashArg::Pbkdf2 => HashKind::Pbkdf2Sha512,
        HashArg::Sha512 => HashKind::Sha512,
    };
    if args.upgrade {
        if args.username.is_some() {
            bail!("-U takes only the password file");
        }
        let text = read(&args.file)?;
        return write(&args.file, &upgrade(&text, kind)?);
    }
    let Some(user) = args.username.as_deref() else {
        bail!("a user name is needed (mq passwd [-c] [-b] FILE USER [PASSWORD])");
    };
    if user.contains(':') {
        bail!("user names must not contain ':'");
    }
    let text = if args.create {
        String::new()
    } else {
        read(&args.file)?
    };
    if args.delete {
        return write(&args.file, &password::edit_text(&text, user, None));
    }
    let pw = match (args.batch, args.password) {
        (true, Some(pw)) => pw,
        (true, None) => bail!("-b needs the password as the last argument"),
        (false, Some(_)) => bail!("a password on the command line needs -b"),
        (false, None) => ask_twice()?,
    };
    if pw.is_empty() {
        bail!("empty password");
    }
    let line = password::hash_line(user, pw.as_bytes(), kind, salt()?);
    write(&args.file, &password::edit_text(&text, user, Some(&line)))
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the password file {} (-c creates one)",
            path.display()
        )
    })
}

fn write(path: &Path, text: &str) -> anyhow::Result<i32> {
    std::fs::write(path, text)
        .with_context(|| format!("cannot write the password file {}", path.display()))?;
    Ok(0)
}

/// The password, typed twice without echo.
fn ask_twice() -> anyhow::Result<String> {
    let first = rpassword::prompt_password("Password: ")
        .context("cannot read a password from the terminal (use -b in scripts)")?;
    let again = rpassword::prompt_password("Reenter password: ")
        .context("cannot read a password from the terminal (use -b in scripts)")?;
    if first != again {
        bail!("passwords do not match");
    }
    Ok(first)
}

/// 12 random bytes from the operating system, as mosquitto_passwd's salt.
fn salt() -> anyhow::Result<[u8; 12]> {
    use ring::rand::SecureRandom;
    let mut salt = [0u8; 12];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| anyhow::anyhow!("no random numbers from the operating system"))?;
    Ok(salt)
}

/// `-U`: every `user:password` line whose password is not a hash gets one.
fn upgrade(text: &str, kind: HashKind) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.lines() {
        match line.split_once(':') {
            Some((user, rest)) if !line.starts_with('#') && !password::is_hashed(rest) => {
                out.push_str(&password::hash_line(user, rest.as_bytes(), kind, salt()?));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    Ok(out)
}
