//! ACLs (`acl_file`, mosquitto's syntax) enforced on PUBLISH, wills and retained
//! messages, SUBSCRIBE and every delivery, under 3.1.1 and 5.0: a denied PUBLISH is
//! acknowledged and dropped (5.0: 0x87), a filter that can match nothing readable
//! gets SUBACK 0x80 (3.1.1) / 0x87 (5.0), and a wide subscription carries only what
//! the subscriber may read (section 4.7.2, 5.0 section 5.4.2).

use crate::raw::{self, Raw, connect};
use crate::security::PASSWORDS;
use bytes::Bytes;
use mq::broker::{Broker, BrokerHandle, Config};
use mq::protocol::{Connect, Properties, ProtocolVersion, QoS, ReasonCode, SubscriptionOptions};
use std::time::Duration;

const ACL: &str = "# anonymous clients\n\
topic read public/#\n\
user alice\n\
topic readwrite a/#\n\
topic deny a/secret\n\
topic write w/only\n\
user bob\n\
topic read a/#\n\
topic read public/#\n\
pattern readwrite clients/%c/#\n";

const QUIET: Duration = Duration::from_millis(300);

async fn broker() -> (tempfile::TempDir, BrokerHandle) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pw, acl) = (dir.path().join("passwords"), dir.path().join("acl"));
    std::fs::write(&pw, PASSWORDS).expect("write");
    std::fs::write(&acl, ACL).expect("write");
    let text = format!(
        "listener 0 127.0.0.1\nallow_anonymous true\npassword_file {}\nacl_file {}\n",
        pw.display(),
        acl.display()
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

fn as_user(v: ProtocolVersion, id: &str, user: Option<(&str, &[u8])>) -> Connect {
    let mut c = connect(v, id);
    if let Some((u, p)) = user {
        c.username = Some(u.to_string());
        c.password = Some(Bytes::copy_from_slice(p));
    }
    c
}

async fn client(
    b: &BrokerHandle,
    v: ProtocolVersion,
    id: &str,
    user: Option<(&str, &[u8])>,
) -> Raw {
    Raw::connect_ok(b.local_addr(), as_user(v, id, user))
        .await
        .0
}

const ALICE: Option<(&str, &[u8])> = Some(("alice", b"secret"));
const BOB: Option<(&str, &[u8])> = Some(("bob", b"hunter2"));

fn denied(v: ProtocolVersion) -> ReasonCode {
    if v.is_v5() {
        ReasonCode::NOT_AUTHORIZED
    } else {
        ReasonCode(0x80)
    }
}

async fn subscribe_codes(v: ProtocolVersion) {
    let (_d, b) = broker().await;
    let mut alice = client(&b, v, "alice-1", ALICE).await;
    let q1 = SubscriptionOptions::qos(QoS::AtLeastOnce);
    let filters = [
        ("a/#", q1),
        ("w/only", q1),
        ("a/secret", q1),
        ("#", q1),
        ("clients/alice-1/x", q1),
        ("clients/other/x", q1),
    ];
    let ack = alice.subscribe_with(&filters, Properties::default()).await;
    let d = denied(v);
    let ok = ReasonCode(1);
    assert_eq!(ack.reason_codes, vec![ok, d, d, ok, ok, d]);
}

#[tokio::test]
async fn v311_subscribe_denied_where_nothing_is_readable() {
    subscribe_codes(ProtocolVersion::V311).await;
}

#[tokio::test]
async fn v5_subscribe_denied_where_nothing_is_readable() {
    subscribe_codes(ProtocolVersion::V5).await;
}

/// Publish and delivery checks, retained messages and wills included.
async fn publish_and_delivery(v: ProtocolVersion) {
    let (_d, b) = broker().await;
    let mut bob = client(&b, v, "bob-1", BOB).await;
    bob.subscribe("#", QoS::AtLeastOnce).await;
    let mut alice = client(&b, v, "alice-1", ALICE).await;
    // Write-only for alice, not readable by bob: never delivered to him.
    alice.publish("w/only", b"hidden", QoS::AtLeastOnce).await;
    alice.publish("a/x", b"shown", QoS::AtLeastOnce).await;
    let m = bob.expect_publish_acked().await;
    assert_eq!((&*m.topic, &m.payload[..]), ("a/x", &b"shown"[..]));
    // bob may only read a/#: his PUBLISH is acknowledged (0x87 under 5.0) and dropped.
    alice.subscribe("a/#", QoS::AtLeastOnce).await;
    let rc = bob
        .publish_msg(raw::publish("a/y", b"nope", QoS::AtLeastOnce))
        .await;
    if v.is_v5() {
        assert_eq!(rc, ReasonCode::NOT_AUTHORIZED);
    }
    alice.expect_no_publish(QUIET).await;
    bob.expect_no_publish(QUIET).await;
    // Retained: the one bob may read is sent on subscribe, the other not.
    let mut r = raw::publish("a/r", b"kept", QoS::AtLeastOnce);
    r.retain = true;
    alice.publish_msg(r).await;
    let mut r = raw::publish("w/only", b"kept too", QoS::AtLeastOnce);
    r.retain = true;
    alice.publish_msg(r).await;
    let _ = alice.expect_publish_acked().await; // a/r, to alice's own a/#
    let _ = bob.expect_publish_acked().await; // a/r, live
    let mut late = client(&b, v, "bob-2", BOB).await;
    late.subscribe("#", QoS::AtLeastOnce).await;
    let m = late.expect_publish_acked().await;
    assert_eq!(&*m.topic, "a/r");
    late.expect_no_publish(QUIET).await;
    // Wills: bob's on a/will (no write access) is dropped, alice's is delivered.
    let mut c = as_user(v, "bob-will", BOB);
    c.will = Some(raw::will("a/will", b"bob", QoS::AtLeastOnce, false));
    Raw::connect_ok(b.local_addr(), c).await.0.drop_abruptly();
    alice.expect_no_publish(QUIET).await;
    let mut c = as_user(v, "alice-will", ALICE);
    c.will = Some(raw::will("a/will", b"alice", QoS::AtLeastOnce, false));
    Raw::connect_ok(b.local_addr(), c).await.0.drop_abruptly();
    let m = bob.expect_publish_acked().await;
    assert_eq!((&*m.topic, &m.payload[..]), ("a/will", &b"alice"[..]));
}

#[tokio::test]
async fn v311_acl_on_publish_delivery_retained_and_wills() {
    publish_and_delivery(ProtocolVersion::V311).await;
}

#[tokio::test]
async fn v5_acl_on_publish_delivery_retained_and_wills() {
    publish_and_delivery(ProtocolVersion::V5).await;
}

/// Anonymous clients get the lines before the first `user`, and the patterns.
#[tokio::test]
async fn anonymous_section_and_patterns() {
    let (_d, b) = broker().await;
    let v = ProtocolVersion::V5;
    let mut anon = client(&b, v, "anon-1", None).await;
    let q1 = SubscriptionOptions::qos(QoS::AtLeastOnce);
    let ack = anon
        .subscribe_with(
            &[("public/#", q1), ("a/#", q1), ("clients/anon-1/#", q1)],
            Properties::default(),
        )
        .await;
    assert_eq!(
        ack.reason_codes,
        vec![ReasonCode(1), ReasonCode::NOT_AUTHORIZED, ReasonCode(1)]
    );
    // Its own pattern topic it may write and read back.
    anon.publish("clients/anon-1/t", b"mine", QoS::AtLeastOnce)
        .await;
    let m = anon.expect_publish_acked().await;
    assert_eq!(&*m.topic, "clients/anon-1/t");
    // public/# is read-only for it.
    let rc = anon
        .publish_msg(raw::publish("public/x", b"no", QoS::AtLeastOnce))
        .await;
    assert_eq!(rc, ReasonCode::NOT_AUTHORIZED);
}

/// A bad ACL file stops the broker at start, naming the file and line.
#[tokio::test]
async fn bad_acl_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "user alice\ntopic read a/#/b\n").expect("write");
    let mut config = Config::parse(
        &format!("listener 0 127.0.0.1\nacl_file {}\n", acl.display()),
        "test.conf",
    )
    .expect("parses");
    config.log_dest = mq::broker::LogDest::None;
    let e = Broker::builder()
        .config(config)
        .start()
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("acl:2:"), "{e}");
}
