//! `mq --version` names the version, the commit the binary was built from and its
//! target triple; `mq -V` the version alone (and under a subcommand `-V` stays the
//! MQTT protocol version, as in mosquitto_pub).

use assert_cmd::Command;
use std::path::Path;

fn mq_stdout(args: &[&str]) -> String {
    let out = Command::cargo_bin("mq")
        .expect("mq binary")
        .args(args)
        .output()
        .expect("run mq");
    assert!(out.status.success(), "mq {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `git args…` in this checkout, when git runs and this package is the checkout's top.
fn git(args: &[&str]) -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let top = run(&["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    run(args)
}

/// The part of a target triple that names this operating system.
fn os_in_triple() -> &'static str {
    match std::env::consts::OS {
        "macos" => "apple-darwin",
        other => other,
    }
}

#[test]
fn long_version_names_version_commit_and_target() {
    let out = mq_stdout(&["--version"]);
    let line = out.trim_end();
    assert_eq!(out.lines().count(), 1, "one line: {out:?}");
    let rest = line
        .strip_prefix(&format!("mq {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("`mq VERSION (…)`: {line:?}"));
    let (build, target) = rest
        .split_once(", ")
        .unwrap_or_else(|| panic!("`COMMIT [DATE], TARGET`: {rest:?}"));
    assert!(
        target.starts_with(std::env::consts::ARCH) && target.contains(os_in_triple()),
        "target {target:?} is not this machine's ({} {})",
        std::env::consts::ARCH,
        std::env::consts::OS
    );
    let mut words = build.split(' ');
    let commit = words.next().unwrap_or_default();
    let date = words.next();
    assert_eq!(words.next(), None, "{build:?}");

    if option_env!("MQ_BUILD_COMMIT").is_some_and(|c| !c.trim().is_empty()) {
        // A release build names its commit itself.
        assert_eq!(Some(commit), option_env!("MQ_BUILD_COMMIT").map(str::trim));
    } else if let Some(head) = git(&["rev-parse", "HEAD"]) {
        assert!(
            commit.len() >= 7 && head.starts_with(commit),
            "commit {commit:?} is not HEAD {head}"
        );
        assert_eq!(date, git(&["log", "-1", "--format=%cs"]).as_deref());
    } else {
        assert_eq!((commit, date), ("unknown", None), "{line:?}");
    }
}

#[test]
fn short_version_is_the_version_alone() {
    assert_eq!(
        mq_stdout(&["-V"]),
        format!("mq {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn dash_v_under_pub_is_still_the_protocol_version() {
    let out = Command::cargo_bin("mq")
        .expect("mq binary")
        .args(["pub", "-V", "7", "-t", "t", "-m", "x"])
        .output()
        .expect("run mq");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid protocol version '7'"), "{err}");
}
