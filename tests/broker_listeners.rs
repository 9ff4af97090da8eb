//! What a listener decides for its clients, configured in mosquitto.conf syntax:
//! Unix domain socket listeners (`listener 0 /path`), `mount_point` (each listener's
//! clients see only their own part of the topic tree), `per_listener_settings true`
//! (each listener's own `allow_anonymous`, `acl_file`, `auto_id_prefix`), and the
//! user name taken from a client certificate (`use_identity_as_username`,
//! `use_subject_as_username`). The broker runs in-process on free ports; clients
//! are the project's own client layer. tests/interop runs mosquitto's clients.

mod common;

use common::{TestPki, next_message};
use mq::broker::{Broker, BrokerHandle, Config};
use mq::client::{Client, ConnectOptions, Error, Event, Events, TlsOptions};
use mq::protocol::{
    Properties, ProtocolVersion, Publish, QoS, ReasonCode, SubscribeFilter, SubscriptionOptions,
};
use std::time::Duration;

const STEP: Duration = Duration::from_secs(5);

async fn broker(conf: &str) -> BrokerHandle {
    let mut config = Config::parse(conf, "test.conf").expect("configuration parses");
    config.log_dest = mq::broker::LogDest::None;
    Broker::builder()
        .config(config)
        .start()
        .await
        .expect("broker starts")
}

fn tcp(port: u16) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", port);
    o.connect_timeout = STEP;
    o
}

async fn subscribe(o: ConnectOptions, filter: &str) -> (Client, Events) {
    let (c, events) = Client::connect(o).await.expect("subscriber connects");
    let acks = c
        .subscribe(
            vec![SubscribeFilter {
                filter: filter.into(),
                options: SubscriptionOptions::qos(QoS::AtLeastOnce),
            }],
            Properties::default(),
        )
        .await
        .expect("subscribe");
    assert_eq!(acks.reason_codes, vec![ReasonCode(1)], "granted QoS 1");
    (c, events)
}

async fn publish(o: ConnectOptions, topic: &str, payload: &'static [u8]) {
    let (c, _e) = Client::connect(o).await.expect("publisher connects");
    c.publish(Publish {
        topic: topic.into(),
        payload: bytes::Bytes::from_static(payload),
        qos: QoS::AtLeastOnce,
        ..Publish::default()
    })
    .await
    .expect("publish");
    c.disconnect().await.ok();
}

/// No message arrives on `events` within a short wait.
async fn nothing_more(events: &mut Events) {
    let quiet = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            match events.recv().await {
                Some(Event::Message(p)) => return Some(p),
                Some(_) => continue,
                None => return None,
            }
        }
    })
    .await;
    if let Ok(Some(p)) = quiet {
        panic!("unexpected message on '{}'", p.topic);
    }
}

fn refused(r: Result<(Client, Events), Error>) -> ReasonCode {
    match r {
        Err(Error::ConnectionRefused { reason, .. }) => reason,
        Err(e) => panic!("refused with another error: {e}"),
        Ok(_) => panic!("accepted"),
    }
}

#[cfg(unix)]
#[tokio::test]
async fn unix_socket_listener_serves_mqtt_and_removes_its_file_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mq.sock");
    // A socket file left by a broker that was killed is replaced.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let b = broker(&format!(
        "listener 0 {}\nallow_anonymous true\nlistener 0 127.0.0.1\nallow_anonymous true\n",
        path.display()
    ))
    .await;
    let mut over_unix = ConnectOptions::new("localhost", 0);
    over_unix.unix_socket = Some(path.clone());
    over_unix.connect_timeout = STEP;
    // A subscriber on the Unix socket gets what a TCP client publishes, and back.
    let (_s, mut events) = subscribe(over_unix.clone(), "u/#").await;
    publish(tcp(b.local_addr().port()), "u/1", b"from tcp").await;
    assert_eq!(
        &next_message(&mut events, STEP).await.payload[..],
        b"from tcp"
    );
    let (_t, mut tcp_events) = subscribe(tcp(b.local_addr().port()), "v/#").await;
    publish(over_unix, "v/1", b"from unix").await;
    assert_eq!(
        &next_message(&mut tcp_events, STEP).await.payload[..],
        b"from unix"
    );
    b.shutdown().await;
    assert!(!path.exists(), "the socket file goes with the broker");
}

#[cfg(unix)]
#[tokio::test]
async fn unix_socket_listener_leaves_a_file_that_is_not_a_socket_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-socket");
    std::fs::write(&path, "data").unwrap();
    let mut config = Config::parse(&format!("listener 0 {}\n", path.display()), "t.conf").unwrap();
    config.log_dest = mq::broker::LogDest::None;
    let e = Broker::builder().config(config).start().await.unwrap_err();
    assert!(e.to_string().contains("not a socket"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "data");
}

#[tokio::test]
async fn mount_point_keeps_each_listeners_clients_in_their_own_tree() {
    let b = broker(
        "listener 0 127.0.0.1\nmount_point lab1/\nallow_anonymous true\n\
         listener 0 127.0.0.1\nmount_point lab2/\nallow_anonymous true\n\
         listener 0 127.0.0.1\nallow_anonymous true\n",
    )
    .await;
    let ports: Vec<u16> = b.local_addrs().iter().map(|a| a.port()).collect();
    let (lab1, lab2, plain) = (ports[0], ports[1], ports[2]);
    let (_a, mut lab1_events) = subscribe(tcp(lab1), "#").await;
    let (_b, mut lab2_events) = subscribe(tcp(lab2), "#").await;
    let (_c, mut all_events) = subscribe(tcp(plain), "#").await;
    publish(tcp(lab1), "sensor/t", b"21").await;
    // lab1's client sees its topic as it published it; the unmounted listener sees
    // the whole tree; lab2 sees nothing of lab1.
    let m = next_message(&mut lab1_events, STEP).await;
    assert_eq!((m.topic.as_str(), &m.payload[..]), ("sensor/t", &b"21"[..]));
    let m = next_message(&mut all_events, STEP).await;
    assert_eq!(m.topic.as_str(), "lab1/sensor/t");
    nothing_more(&mut lab2_events).await;
    // A message published outside the mount point reaches lab1 only under it.
    publish(tcp(plain), "lab1/door", b"open").await;
    let m = next_message(&mut lab1_events, STEP).await;
    assert_eq!(m.topic.as_str(), "door");
    nothing_more(&mut lab2_events).await;
}

#[tokio::test]
async fn mount_point_applies_to_wills_shared_subscriptions_and_unsubscribe() {
    let b = broker(
        "listener 0 127.0.0.1\nmount_point m/\nallow_anonymous true\n\
         listener 0 127.0.0.1\nallow_anonymous true\n",
    )
    .await;
    let ports: Vec<u16> = b.local_addrs().iter().map(|a| a.port()).collect();
    let (_all, mut all_events) = subscribe(tcp(ports[1]), "#").await;
    // A will set on the mounted listener is published under the mount point.
    let mut o = tcp(ports[0]);
    o.version = ProtocolVersion::V5;
    o.will = Some(mq::protocol::Will {
        topic: "status".into(),
        payload: bytes::Bytes::from_static(b"gone"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Properties::default(),
    });
    let (doomed, _e) = Client::connect(o).await.expect("connect with a will");
    // DISCONNECT 0x04: Disconnect with Will Message.
    doomed
        .disconnect_with(mq::protocol::Disconnect::with_reason(ReasonCode(0x04)))
        .await
        .expect("disconnect");
    let m = next_message(&mut all_events, STEP).await;
    assert_eq!(
        (m.topic.as_str(), &m.payload[..]),
        ("m/status", &b"gone"[..])
    );
    // A shared subscription on the mounted listener shares the mounted filter.
    let (shared, mut shared_events) = subscribe(tcp(ports[0]), "$share/g/x/#").await;
    publish(tcp(ports[1]), "m/x/1", b"shared").await;
    let m = next_message(&mut shared_events, STEP).await;
    assert_eq!(m.topic.as_str(), "x/1");
    // Unsubscribing uses the client's filter, mounted the same way: nothing more
    // arrives.
    shared
        .unsubscribe(vec!["$share/g/x/#".into()], Properties::default())
        .await
        .expect("unsubscribe");
    publish(tcp(ports[1]), "m/x/2", b"after").await;
    let m = next_message(&mut all_events, STEP).await;
    assert_eq!(m.topic.as_str(), "m/x/1");
    let m = next_message(&mut all_events, STEP).await;
    assert_eq!(m.topic.as_str(), "m/x/2");
    nothing_more(&mut shared_events).await;
}

#[tokio::test]
async fn per_listener_settings_give_each_listener_its_own_security() {
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "topic readwrite open/#\n").unwrap();
    let b = broker(&format!(
        "per_listener_settings true\n\
         listener 0 127.0.0.1\nallow_anonymous true\nacl_file {}\nauto_id_prefix first-\n\
         listener 0 127.0.0.1\n\
         listener 0 127.0.0.1\nallow_anonymous true\n",
        acl.display()
    ))
    .await;
    let ports: Vec<u16> = b.local_addrs().iter().map(|a| a.port()).collect();
    // The second listener allows no anonymous clients (mosquitto's default once
    // listeners are defined): CONNACK 0x87 under 5.0.
    let mut o = tcp(ports[1]);
    o.version = ProtocolVersion::V5;
    assert_eq!(
        refused(Client::connect(o).await),
        ReasonCode::NOT_AUTHORIZED
    );
    // The first listener's ACL applies to its clients only.
    let (_watch, mut all_events) = subscribe(tcp(ports[2]), "#").await;
    publish(tcp(ports[0]), "closed/x", b"denied").await;
    publish(tcp(ports[0]), "open/x", b"allowed").await;
    let m = next_message(&mut all_events, STEP).await;
    assert_eq!(m.topic.as_str(), "open/x", "closed/x is denied by the ACL");
    publish(tcp(ports[2]), "closed/y", b"no ACL here").await;
    let m = next_message(&mut all_events, STEP).await;
    assert_eq!(m.topic.as_str(), "closed/y");
    // Its own auto_id_prefix for clients without an identifier.
    let mut o = tcp(ports[0]);
    o.version = ProtocolVersion::V5;
    o.client_id = String::new();
    let (c, _events) = Client::connect(o).await.expect("connect without an id");
    let assigned = c.connack().properties.assigned_client_identifier.clone();
    assert!(
        assigned
            .as_deref()
            .is_some_and(|id| id.starts_with("first-")),
        "{assigned:?}"
    );
    c.disconnect().await.ok();
}

#[test]
fn per_listener_settings_must_come_first() {
    let e = Config::parse("listener 1883\nper_listener_settings true\n", "m.conf").unwrap_err();
    assert!(e.to_string().contains("must come before"), "{e}");
    let e = Config::parse("per_listener_settings true\nacl_file /x\n", "m.conf").unwrap_err();
    assert!(e.to_string().contains("after a 'listener' line"), "{e}");
}

/// A broker whose TLS listener requires a client certificate and takes the user
/// name from it, with an ACL that lets each user write only its own topic.
async fn identity_broker(
    pki: &TestPki,
    option: &str,
    acl_user: &str,
) -> (BrokerHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("acl");
    // Anonymous clients (the watcher) may read; the certificate's user may write
    // its own topic only.
    std::fs::write(
        &acl,
        format!("topic read users/#\nuser {acl_user}\ntopic write users/{acl_user}\n"),
    )
    .unwrap();
    let b = broker(&format!(
        "listener 0 127.0.0.1\ncertfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true\n\
         {option} true\nacl_file {}\n\
         listener 0 127.0.0.1\nallow_anonymous true\n",
        pki.path("server.pem").display(),
        pki.path("server.key").display(),
        pki.path("ca.pem").display(),
        acl.display()
    ))
    .await;
    (b, dir)
}

fn with_client_cert(port: u16, pki: &TestPki) -> ConnectOptions {
    let mut o = ConnectOptions::from_url(&format!("mqtts://localhost:{port}")).unwrap();
    o.connect_timeout = STEP;
    o.tls = TlsOptions {
        ca_file: Some(pki.path("ca.pem")),
        cert_file: Some(pki.path("client.pem")),
        key_file: Some(pki.path("client.key")),
        ..TlsOptions::default()
    };
    // Not used: the certificate names the user.
    o.username = Some("someone-else".into());
    o.password = Some(b"wrong".to_vec().into());
    o
}

#[tokio::test]
async fn use_identity_as_username_takes_the_certificates_common_name() {
    let pki = TestPki::new(&["localhost"]);
    let (b, _dir) = identity_broker(&pki, "use_identity_as_username", "mq test client").await;
    let ports: Vec<u16> = b.local_addrs().iter().map(|a| a.port()).collect();
    let (_w, mut all_events) = subscribe(tcp(ports[1]), "users/#").await;
    let o = with_client_cert(ports[0], &pki);
    publish(o.clone(), "users/someone-else", b"denied").await;
    publish(o, "users/mq test client", b"mine").await;
    let m = next_message(&mut all_events, STEP).await;
    assert_eq!(m.topic.as_str(), "users/mq test client");
}

#[tokio::test]
async fn use_subject_as_username_takes_the_whole_subject() {
    let pki = TestPki::new(&["localhost"]);
    let (b, _dir) = identity_broker(&pki, "use_subject_as_username", "CN=mq test client").await;
    let ports: Vec<u16> = b.local_addrs().iter().map(|a| a.port()).collect();
    let (_w, mut all_events) = subscribe(tcp(ports[1]), "users/#").await;
    publish(
        with_client_cert(ports[0], &pki),
        "users/CN=mq test client",
        b"mine",
    )
    .await;
    let m = next_message(&mut all_events, STEP).await;
    assert_eq!(m.topic.as_str(), "users/CN=mq test client");
}

#[test]
fn certificate_identity_needs_a_tls_listener() {
    let mut config = Config::parse(
        "listener 0 127.0.0.1\nuse_identity_as_username true\n",
        "m.conf",
    )
    .unwrap();
    config.log_dest = mq::broker::LogDest::None;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let e = rt
        .block_on(Broker::builder().config(config).start())
        .unwrap_err();
    assert!(e.to_string().contains("need certfile and keyfile"), "{e}");
}
