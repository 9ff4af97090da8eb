//! Build script: records the commit and the target `mq` is built from, for
//! `mq --version` (`mq 0.1.0 (abc1234 2026-12-03, x86_64-unknown-linux-gnu)`).
//!
//! It sets `MQ_BUILD_INFO` to `<commit>[ <date>], <target>`. The commit (and its
//! date) comes from the first of:
//! 1. `MQ_BUILD_COMMIT` (and `MQ_BUILD_DATE`), set by a release build that may have
//!    no git at hand (a cross-compilation container);
//! 2. `git`, when this package is the top of a git checkout (not merely somewhere
//!    inside one: an unpacked crate under a home directory kept in git must not
//!    report that repository's commit);
//! 3. `.cargo_vcs_info.json`, which `cargo package` writes into the package (an
//!    install from crates.io; it holds the commit but no date);
//! 4. else `unknown`.
//!
//! No dependency: it runs `git` as a program and reads one field of cargo's file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=MQ_BUILD_COMMIT");
    println!("cargo::rerun-if-env-changed=MQ_BUILD_DATE");
    // Invariant: cargo sets both for every build script.
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let target = std::env::var("TARGET").expect("set by cargo");

    let (commit, date) = from_env()
        .or_else(|| from_git(&dir))
        .or_else(|| from_vcs_info(&dir))
        .unwrap_or_else(|| ("unknown".to_string(), None));
    let info = match date {
        Some(date) => format!("{commit} {date}, {target}"),
        None => format!("{commit}, {target}"),
    };
    println!("cargo::rustc-env=MQ_BUILD_INFO={info}");
}

/// `MQ_BUILD_COMMIT` and `MQ_BUILD_DATE`, when the commit is set and not empty.
fn from_env() -> Option<(String, Option<String>)> {
    let commit = one_word(&std::env::var("MQ_BUILD_COMMIT").ok()?)?;
    let date = std::env::var("MQ_BUILD_DATE")
        .ok()
        .and_then(|d| one_word(&d));
    Some((commit, date))
}

/// The short commit and its committer date, when `dir` is the top of a git checkout.
/// Asks cargo to run this script again when HEAD moves.
fn from_git(dir: &Path) -> Option<(String, Option<String>)> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    if std::fs::canonicalize(top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    watch_head(dir);
    let line = git(
        dir,
        &["log", "-1", "--no-show-signature", "--format=%h %cs"],
    )?;
    let mut words = line.split_whitespace();
    let commit = one_word(words.next()?)?;
    let date = words.next().and_then(one_word);
    Some((commit, date))
}

/// `rerun-if-changed` on what a commit or a checkout changes: HEAD (in this
/// worktree's git directory), the branch it points to and packed-refs (in the
/// directory shared by all worktrees). Only files that exist: cargo runs the script
/// on every build for a missing one.
fn watch_head(dir: &Path) {
    let absolute = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { dir.join(p) }
    };
    let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]).map(absolute) else {
        return;
    };
    let common = git(dir, &["rev-parse", "--git-common-dir"])
        .map(absolute)
        .unwrap_or_else(|| git_dir.clone());
    let mut files = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        files.push(common.join(branch));
    }
    for file in files.iter().filter(|f| f.is_file()) {
        println!("cargo::rerun-if-changed={}", file.display());
    }
}

/// The commit `cargo package` recorded (`"git": {"sha1": "<40 hex>"}`), shortened to
/// seven digits as `git rev-parse --short` shows it.
fn from_vcs_info(dir: &Path) -> Option<(String, Option<String>)> {
    let path = dir.join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(&path).ok()?;
    println!("cargo::rerun-if-changed={}", path.display());
    // The file is cargo's, pretty-printed JSON with one "sha1" key; the value is
    // checked to be hexadecimal, so anything else falls back to `unknown`.
    let after_key = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let value = after_key.trim_start().strip_prefix(':')?.trim_start();
    let sha: String = value
        .strip_prefix('"')?
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    if sha.len() < 7 {
        return None;
    }
    Some((sha[..7].to_string(), None))
}

/// Run `git -C dir args…`: its first line of output, when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

/// `s` trimmed, when it is one printable word (it ends up in a one-line version).
fn one_word(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic());
    ok.then(|| s.to_string())
}
