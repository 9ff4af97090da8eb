//! `mq passwd`, mosquitto_passwd's drop-in: create (-c), batch (-b), delete (-D),
//! upgrade a plain-text file (-U), the hash (-H); other lines kept; bad input is a
//! clear error with a non-zero exit.

mod common;

use assert_cmd::Command;
use common::mq_command;
use mq::broker::security::password::PasswordFile;
use predicates::str::contains;

fn passwd(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::from_std(mq_command())
        .arg("passwd")
        .args(args)
        .assert()
}

fn file_of(path: &std::path::Path) -> PasswordFile {
    PasswordFile::parse(&std::fs::read_to_string(path).expect("read"), "pw")
}

#[test]
fn create_add_update_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    let f = pw.to_str().unwrap();
    passwd(&["-c", "-b", f, "alice", "one"]).success();
    passwd(&["-b", f, "bob", "two"]).success();
    passwd(&["-b", "-H", "sha512", f, "alice", "three"]).success();
    let text = std::fs::read_to_string(&pw).unwrap();
    assert!(text.starts_with("alice:$6$"), "{text}");
    assert!(text.contains("\nbob:$7$101$"), "{text}");
    let file = file_of(&pw);
    assert!(file.verify("alice", b"three") && file.verify("bob", b"two"));
    passwd(&["-D", f, "alice"]).success();
    let file = file_of(&pw);
    assert!(!file.contains("alice") && file.verify("bob", b"two"));
}

#[test]
fn other_lines_are_kept_and_plain_text_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "# class 3b\ncarol:plain\n").unwrap();
    let f = pw.to_str().unwrap();
    passwd(&["-U", f]).success();
    let text = std::fs::read_to_string(&pw).unwrap();
    assert!(text.starts_with("# class 3b\ncarol:$7$"), "{text}");
    assert!(file_of(&pw).verify("carol", b"plain"));
    passwd(&["-b", f, "dave", "x"]).success();
    assert!(
        std::fs::read_to_string(&pw)
            .unwrap()
            .starts_with("# class 3b\n")
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let m = missing.to_str().unwrap();
    passwd(&["-b", m, "alice", "x"])
        .failure()
        .stderr(contains("cannot read the password file"))
        .stderr(contains("-c creates one"));
    passwd(&["-c", "-b", m, "a:b", "x"])
        .failure()
        .stderr(contains("must not contain ':'"));
    passwd(&["-c", "-b", m, "alice"])
        .failure()
        .stderr(contains("-b needs the password"));
    passwd(&["-c", m, "alice", "x"])
        .failure()
        .stderr(contains("needs -b"));
    passwd(&["-c", "-b", m, "alice", ""])
        .failure()
        .stderr(contains("empty password"));
}
