//! Authentication with a password file (`password_file`, mosquitto_passwd's format)
//! and `allow_anonymous`, refused as mosquitto 2.0.11 refuses (checked against it):
//! CONNACK return code 5 under 3.1.1 and 0x87 Not authorized under 5.0 for a wrong
//! password, an unknown user, a user name without password, and an anonymous client
//! when a listener is configured [MQTT-3.1.4-2].

use crate::raw::{Raw, connect};
use bytes::Bytes;
use mq::broker::{Broker, BrokerHandle, Config};
use mq::protocol::{ProtocolVersion, ReasonCode};
use std::time::Duration;

/// Written by Debian's mosquitto_passwd 2.0.11: alice/secret ($7$, PBKDF2) and
/// bob/hunter2 ($6$, `-H sha512`).
pub const PASSWORDS: &str = "alice:$7$101$i33LMAT9zB47QYqp$5QWV/FWLC+Xqqj61qPHH916CO2BfMgt5+i/XXlRnY/lSpaoxwptXl4sY/sSFY6kG5KmdFw6ngUoMptv876Tezg==\n\
bob:$6$ksEKJnYGKiRE2uvK$koemXpwe+uwYs3QHoJTzq+3ckmXyyjylrR0TKo4nL11DQ2r3Ta25tuCrY7BjvsxJD71970yvFtVilMZFSheAzQ==\n";

async fn broker(extra: &str) -> (tempfile::TempDir, BrokerHandle) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pw = dir.path().join("passwords");
    std::fs::write(&pw, PASSWORDS).expect("write");
    let text = format!(
        "listener 0 127.0.0.1\npassword_file {}\n{extra}",
        pw.display()
    );
    let mut config = Config::parse(&text, "test.conf").expect("parses");
    config.log_dest = mq::broker::LogDest::None;
    let b = Broker::builder()
        .config(config)
        .start()
        .await
        .expect("starts");
    (dir, b)
}

/// The CONNACK reason for these credentials (3.1.1 return codes mapped onto 5.0
/// reason codes by the codec).
async fn login(
    b: &BrokerHandle,
    v: ProtocolVersion,
    user: Option<&str>,
    password: Option<&[u8]>,
) -> ReasonCode {
    let mut c = connect(v, "login");
    c.username = user.map(str::to_string);
    c.password = password.map(Bytes::copy_from_slice);
    Raw::connect_with(b.local_addr(), c).await.1.reason
}

async fn passwords_as_mosquitto(v: ProtocolVersion) {
    let (_dir, b) = broker("").await;
    assert_eq!(
        login(&b, v, Some("alice"), Some(b"secret")).await,
        ReasonCode::SUCCESS
    );
    assert_eq!(
        login(&b, v, Some("bob"), Some(b"hunter2")).await,
        ReasonCode::SUCCESS
    );
    for (user, pw) in [
        (Some("alice"), Some(&b"Secret"[..])),
        (Some("zed"), Some(&b"secret"[..])),
        (Some("alice"), None),
        (None, None),
    ] {
        let rc = login(&b, v, user, pw).await;
        assert_eq!(rc, ReasonCode::NOT_AUTHORIZED, "{user:?} {pw:?}");
        if !v.is_v5() {
            assert_eq!(rc.to_v3_connack(), 5, "mosquitto's 3.1.1 code");
        }
    }
}

#[tokio::test]
async fn v311_password_file_as_mosquitto_mqtt_3_1_4_2() {
    passwords_as_mosquitto(ProtocolVersion::V311).await;
}

#[tokio::test]
async fn v5_password_file_as_mosquitto_mqtt_3_1_4_2() {
    passwords_as_mosquitto(ProtocolVersion::V5).await;
}

/// `allow_anonymous true` lets clients without a user name in, while named users
/// still need their password.
#[tokio::test]
async fn allow_anonymous_with_a_password_file() {
    let (_dir, b) = broker("allow_anonymous true\n").await;
    let v = ProtocolVersion::V5;
    assert_eq!(login(&b, v, None, None).await, ReasonCode::SUCCESS);
    assert_eq!(
        login(&b, v, Some("alice"), Some(b"wrong")).await,
        ReasonCode::NOT_AUTHORIZED
    );
}

/// A password file that cannot be read stops the broker at start, naming it.
#[tokio::test]
async fn missing_password_file_is_named_at_start() {
    let mut config = Config::parse(
        "listener 0 127.0.0.1\npassword_file /nonexistent/mq-passwords\n",
        "test.conf",
    )
    .expect("parses");
    config.log_dest = mq::broker::LogDest::None;
    let e = Broker::builder()
        .config(config)
        .start()
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("/nonexistent/mq-passwords"), "{e}");
}

/// An address that keeps failing to log in waits longer for each refusal (100 ms,
/// doubling); a successful login clears it.
#[tokio::test]
async fn failed_logins_are_slowed_down() {
    let (_dir, b) = broker("").await;
    let v = ProtocolVersion::V311;
    let timed = |pw: &'static [u8]| {
        let b = &b;
        async move {
            let started = std::time::Instant::now();
            let rc = login(b, v, Some("alice"), Some(pw)).await;
            (rc, started.elapsed())
        }
    };
    let (_, first) = timed(b"wrong").await;
    let (_, _) = timed(b"wrong").await;
    let (rc, third) = timed(b"wrong").await;
    assert_eq!(rc, ReasonCode::NOT_AUTHORIZED);
    assert!(first >= Duration::from_millis(100), "{first:?}");
    assert!(third >= Duration::from_millis(400), "{third:?}");
    assert_eq!(timed(b"secret").await.0, ReasonCode::SUCCESS);
    let (_, after) = timed(b"wrong").await;
    assert!(
        after < Duration::from_millis(400),
        "cleared by the success: {after:?}"
    );
}
