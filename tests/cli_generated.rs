//! The checked-in shell completions (`completions/`) and man pages (`man/`) must be
//! exactly what the binary generates from its clap definitions today.

use std::path::{Path, PathBuf};
use std::process::Command;

const REGENERATE: &str = "cargo run -- completions --dir completions && cargo run -- man --dir man";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generate into a temporary directory with the real binary.
fn generate(args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new(env!("CARGO_BIN_EXE_mq"))
        .args(args)
        .arg("--dir")
        .arg(dir.path())
        .status()
        .expect("run mq");
    assert!(status.success(), "mq {args:?} --dir failed");
    dir
}

/// Every file in `fresh` must exist with the same bytes in `committed`, and
/// `committed` must hold no other file.
fn compare(fresh: &Path, committed: &Path) {
    let list = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let want = list(fresh);
    let have = list(committed);
    assert_eq!(
        have,
        want,
        "{} is stale (files differ); regenerate with: {REGENERATE}",
        committed.display()
    );
    for name in want {
        let a = std::fs::read(fresh.join(&name)).expect("read fresh");
        let b = std::fs::read(committed.join(&name)).expect("read committed");
        assert!(
            a == b,
            "{}/{name} is stale; regenerate with: {REGENERATE}",
            committed.display()
        );
    }
}

#[test]
fn completions_are_fresh() {
    let fresh = generate(&["completions"]);
    compare(fresh.path(), &root().join("completions"));
}

#[test]
fn man_pages_are_fresh() {
    let fresh = generate(&["man"]);
    compare(fresh.path(), &root().join("man"));
}

#[test]
fn completions_print_to_stdout_per_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_mq"))
            .args(["completions", shell])
            .output()
            .expect("run mq");
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("mq"),
            "{shell}"
        );
    }
}
