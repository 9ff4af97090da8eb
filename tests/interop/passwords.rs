//! Password files both ways: one written by Debian's `mosquitto_passwd` (both hash
//! types) is accepted by `mq broker`, and one written by mq's `PasswordFile` is
//! accepted by mosquitto.

use crate::common::{MqBroker, mq_command};
use crate::peers::Mosquitto;
use mq::broker::security::password::{HashKind, PasswordFile};
use std::process::Command;

/// Publish once as `user`/`password`; the exit status.
fn publish(mut cmd: Command, port: u16, user: &str, password: &str) -> Option<i32> {
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args([
            "-u", user, "-P", password, "-t", "pw/t", "-m", "x", "-q", "1",
        ])
        .output()
        .expect("runs")
        .status
        .code()
}

#[test]
#[ignore = "needs mosquitto_passwd; run by .ci/run"]
fn mosquitto_passwd_files_work_with_mq_broker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("passwords");
    let passwd = |args: &[&str]| {
        let ok = Command::new("mosquitto_passwd")
            .args(args)
            .status()
            .expect("mosquitto_passwd runs")
            .success();
        assert!(ok, "mosquitto_passwd {args:?}");
    };
    let f = file.to_str().expect("UTF-8 path");
    passwd(&["-c", "-b", f, "alice", "s3cret"]);
    passwd(&["-H", "sha512", "-b", f, "bob", "pw2"]);
    let conf = dir.path().join("mq.conf");
    std::fs::write(&conf, format!("listener 0 127.0.0.1\npassword_file {f}\n")).expect("write");
    let b = MqBroker::start(&["-c", conf.to_str().expect("UTF-8 path")]);
    let pub_ = || {
        let mut c = mq_command();
        c.arg("pub");
        c
    };
    assert_eq!(publish(pub_(), b.port, "alice", "s3cret"), Some(0));
    assert_eq!(publish(pub_(), b.port, "bob", "pw2"), Some(0));
    assert_eq!(
        publish(pub_(), b.port, "alice", "wrong"),
        Some(5),
        "not authorised"
    );
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn mq_password_files_work_with_mosquitto() {
    let mut file = PasswordFile::default();
    file.set("zoe", b"pa55", HashKind::Pbkdf2Sha512, [42; 12]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mq-passwords");
    std::fs::write(&path, file.to_text()).expect("write");
    let m = Mosquitto::start_with(&format!("password_file {}\n", path.display()));
    let ok = publish(Command::new("mosquitto_pub"), m.port, "zoe", "pa55");
    assert_eq!(ok, Some(0), "mosquitto accepts the file mq wrote");
    let bad = publish(Command::new("mosquitto_pub"), m.port, "zoe", "nope");
    assert_ne!(bad, Some(0), "and refuses a wrong password");
}

/// A file written by `mq passwd` (the binary) is read by mosquitto.
#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn mq_passwd_files_work_with_mosquitto() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pw");
    let f = path.to_str().expect("UTF-8 path");
    for args in [
        &["-c", "-b", f, "amy", "pw1"][..],
        &["-b", "-H", "sha512", f, "ben", "pw2"][..],
    ] {
        let ok = mq_command()
            .arg("passwd")
            .args(args)
            .status()
            .expect("runs");
        assert!(ok.success(), "mq passwd {args:?}");
    }
    let m = Mosquitto::start_with(&format!("password_file {f}\n"));
    assert_eq!(
        publish(Command::new("mosquitto_pub"), m.port, "amy", "pw1"),
        Some(0)
    );
    assert_eq!(
        publish(Command::new("mosquitto_pub"), m.port, "ben", "pw2"),
        Some(0)
    );
    assert_ne!(
        publish(Command::new("mosquitto_pub"), m.port, "ben", "pw1"),
        Some(0)
    );
}
