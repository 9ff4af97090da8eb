//! Bridges between two `mq` brokers over real sockets (both embedded, port 0):
//! messages out, in and both ways at QoS 0/1/2 with topic prefixes and no loop,
//! the bridge's state retained on the local broker, the remote restarted in the
//! middle of a stream at QoS 1 with nothing acknowledged lost, failover between
//! addresses, and configuration errors named with their file and line.

mod common;

use common::{message, next};

use bytes::Bytes;
use mq::broker::{Broker, BrokerHandle, Config};
use mq::client::{Client, ConnectOptions, Events};
use mq::protocol::{Properties, ProtocolVersion, QoS, SubscribeFilter, SubscriptionOptions};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

const STEP: Duration = Duration::from_secs(10);
const STATE: &str = "$SYS/broker/connection/lab1/state";

/// A broker on 127.0.0.1 (`port` 0: any), with `conf` as its configuration.
async fn broker_on(port: u16, conf: &str) -> BrokerHandle {
    let config = Config::parse(&format!("log_dest none\n{conf}"), "bridge.conf")
        .expect("configuration parses");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    Broker::builder()
        .listen(addr)
        .config(config)
        .start()
        .await
        .expect("broker starts")
}

/// A `connection` section named `lab1` to `addresses`.
fn bridge(addresses: &str, version: &str, topics: &[&str]) -> String {
    let mut s = format!(
        "connection lab1\naddress {addresses}\nremote_clientid lab1\n\
         bridge_protocol_version {version}\nrestart_timeout 0.2\ncleansession true\n"
    );
    for t in topics {
        s.push_str(&format!("topic {t}\n"));
    }
    s
}

/// A 5.0 client of `b`, subscribed to `filters` at QoS 2.
async fn client(b: &BrokerHandle, id: &str, filters: &[&str]) -> (Client, Events) {
    let mut o = ConnectOptions::new("127.0.0.1", b.local_addr().port());
    o.version = ProtocolVersion::V5;
    o.client_id = id.into();
    let (c, ev) = Client::connect(o).await.expect("connect");
    if !filters.is_empty() {
        let subs = filters
            .iter()
            .map(|f| SubscribeFilter {
                filter: f.to_string(),
                options: SubscriptionOptions::qos(QoS::ExactlyOnce),
            })
            .collect();
        c.subscribe(subs, Properties::default())
            .await
            .expect("subscribe");
    }
    (c, ev)
}

/// Wait until the bridge's state on `local` is `want` ("1" or "0").
async fn state_becomes(local: &BrokerHandle, want: &str) {
    let (_c, mut ev) = client(local, "state-watch", &[STATE]).await;
    loop {
        let m = next(&mut ev, STEP).await.expect("a bridge state message");
        if m.payload == want {
            return;
        }
    }
}

/// Messages go out, in and both ways under their prefixes, each QoS kept, and
/// a `both` message is neither sent back to its broker nor delivered twice
/// (No Local under 5.0 [MQTT-3.8.3-3]; `try_private` under 3.1.1).
async fn both_ways(version: &str) {
    let remote = broker_on(0, "").await;
    let addr = format!("127.0.0.1:{}", remote.local_addr().port());
    let topics = [
        "s/# out 2 lab/ campus/lab1/",
        "c/# in 2 lab/ campus/lab1/",
        "x/# both 2 lab/ campus/lab1/",
    ];
    let local = broker_on(0, &bridge(&addr, version, &topics)).await;
    state_becomes(&local, "1").await;
    let (lc, mut lev) = client(&local, "l-app", &["lab/#"]).await;
    let (rc, mut rev) = client(&remote, "r-app", &["campus/#"]).await;
    common::exchange_both_ways(&lc, &mut lev, &rc, &mut rev).await;
    local.shutdown().await;
    remote.shutdown().await;
}

#[tokio::test]
async fn out_in_and_both_at_qos_0_1_2_with_prefixes_and_no_loop_mqtt_5() {
    both_ways("mqttv50").await;
}

#[tokio::test]
async fn out_in_and_both_at_qos_0_1_2_with_prefixes_and_no_loop_mqtt_311_try_private() {
    both_ways("mqttv311").await;
}

/// A retained message stays retained across the bridge (Retain As Published
/// [MQTT-3.3.1-13] on the bridge's subscriptions).
#[tokio::test]
async fn a_retained_message_is_retained_on_the_other_side() {
    let remote = broker_on(0, "").await;
    let addr = format!("127.0.0.1:{}", remote.local_addr().port());
    let local = broker_on(0, &bridge(&addr, "mqttv311", &["r/# out 1"])).await;
    state_becomes(&local, "1").await;
    let (lc, _lev) = client(&local, "l-app", &[]).await;
    let mut m = message("r/kept", QoS::AtLeastOnce, "v");
    m.retain = true;
    lc.publish(m).await.unwrap();
    // A later subscriber of the remote gets it as a retained message.
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let (_c, mut ev) = client(&remote, "late", &["r/kept"]).await;
        if let Some(p) = next(&mut ev, Duration::from_millis(300)).await {
            assert!(p.retain && p.payload == "v");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never retained remotely"
        );
    }
    local.shutdown().await;
    remote.shutdown().await;
}

/// `notifications`: "1" retained on the local broker while the bridge is up,
/// "0" once the remote is gone; a late subscriber gets the retained "0".
#[tokio::test]
async fn the_bridge_state_is_retained_locally_one_while_up_zero_after_the_remote_goes() {
    let remote = broker_on(0, "").await;
    let addr = format!("127.0.0.1:{}", remote.local_addr().port());
    let local = broker_on(0, &bridge(&addr, "mqttv311", &["a/# out 0"])).await;
    state_becomes(&local, "1").await;
    // And on the remote too (mosquitto's notifications go both ways).
    let (_c, mut rev) = client(&remote, "r-state", &[STATE]).await;
    let m = next(&mut rev, STEP).await.expect("the state on the remote");
    assert_eq!(m.payload, "1");
    remote.shutdown().await;
    state_becomes(&local, "0").await;
    let (_c, mut ev) = client(&local, "late", &[STATE]).await;
    let m = next(&mut ev, STEP).await.expect("the retained state");
    assert!(m.retain);
    assert_eq!(m.payload, "0");
    local.shutdown().await;
}

/// The remote restarted in the middle of a QoS 1 stream: every message the local
/// broker acknowledged to its publisher reaches the remote's durable subscriber
/// (a message is acknowledged to the bridge's source only once the remote has
/// it; the remote keeps the subscriber's queue in its store).
#[tokio::test]
async fn the_remote_restarted_mid_stream_at_qos_1_loses_nothing_acknowledged() {
    let store = tempfile::tempdir().unwrap();
    let remote_conf = format!(
        "persistence true\npersistence_location {}\n",
        store.path().display()
    );
    let remote = broker_on(0, &remote_conf).await;
    let port = remote.local_addr().port();
    // The remote's durable subscriber.
    let durable = |b: &BrokerHandle| {
        let mut o = ConnectOptions::new("127.0.0.1", b.local_addr().port());
        o.client_id = "durable".into();
        o.clean_start = false;
        o
    };
    let subscribe = |c: Client| async move {
        let f = SubscribeFilter {
            filter: "campus/#".into(),
            options: SubscriptionOptions::qos(QoS::AtLeastOnce),
        };
        c.subscribe(vec![f], Properties::default()).await.unwrap();
        c
    };
    let (c, mut ev) = Client::connect(durable(&remote)).await.unwrap();
    let c = subscribe(c).await;
    let local = broker_on(
        0,
        &bridge(
            &format!("127.0.0.1:{port}"),
            "mqttv311",
            &["s/# out 1 \"\" campus/"],
        ),
    )
    .await;
    state_becomes(&local, "1").await;
    let (lc, _lev) = client(&local, "publisher", &[]).await;
    const N: usize = 200;
    let mut seen = BTreeSet::new();
    for i in 0..N / 2 {
        lc.publish(message(&format!("s/{i}"), QoS::AtLeastOnce, "m"))
            .await
            .unwrap();
    }
    drop(c);
    remote.shutdown().await;
    drop(remote);
    // Acknowledged by the local broker while the remote is away.
    for i in N / 2..N {
        lc.publish(message(&format!("s/{i}"), QoS::AtLeastOnce, "m"))
            .await
            .unwrap();
    }
    while let Some(p) = next(&mut ev, Duration::from_millis(100)).await {
        seen.insert(p.topic.to_string());
    }
    // The store is free once the old broker's last tasks are done.
    let remote = restart_on(port, &remote_conf).await;
    let (_c, mut ev) = Client::connect(durable(&remote)).await.unwrap();
    while seen.len() < N {
        let p = next(&mut ev, STEP)
            .await
            .unwrap_or_else(|| panic!("only {} of {N} messages reached the remote", seen.len()));
        seen.insert(p.topic.to_string());
    }
    local.shutdown().await;
    remote.shutdown().await;
}

/// Start a broker on `port` again, once its store and port are free.
async fn restart_on(port: u16, conf: &str) -> BrokerHandle {
    let config = Config::parse(&format!("log_dest none\n{conf}"), "bridge.conf").unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..100 {
        let b = Broker::builder()
            .listen(addr)
            .config(config.clone())
            .start()
            .await;
        if let Ok(b) = b {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the remote cannot start again on port {port}");
}

/// `address A B`: A does not answer, the bridge goes on to B.
#[tokio::test]
async fn failover_to_the_second_address_when_the_first_does_not_answer() {
    let remote = broker_on(0, "").await;
    let dead = common::unused_port();
    let addresses = format!("127.0.0.1:{dead} 127.0.0.1:{}", remote.local_addr().port());
    let local = broker_on(0, &bridge(&addresses, "mqttv50", &["f/# out 1"])).await;
    state_becomes(&local, "1").await;
    let (_rc, mut rev) = client(&remote, "r-app", &["f/#"]).await;
    let (lc, _lev) = client(&local, "l-app", &[]).await;
    lc.publish(message("f/1", QoS::AtLeastOnce, "x"))
        .await
        .unwrap();
    assert_eq!(next(&mut rev, STEP).await.expect("via B").topic, "f/1");
    local.shutdown().await;
    remote.shutdown().await;
}

/// The bridge's local side is a client of the local broker: with
/// `local_username`, the ACL of that user applies to what it reads (out) and
/// publishes (in); the broker's own `$SYS` state still goes out.
#[tokio::test]
async fn the_local_side_is_checked_by_the_acl_of_local_username() {
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("acl");
    let rules = "topic readwrite #\ntopic read $SYS/#\nuser lab\ntopic read s/#\n";
    std::fs::write(&acl, rules).unwrap();
    let remote = broker_on(0, "").await;
    let addr = format!("127.0.0.1:{}", remote.local_addr().port());
    let conf = format!(
        "allow_anonymous true\nacl_file {}\n{}local_username lab\n",
        acl.display(),
        bridge(&addr, "mqttv50", &["s/# out 1", "c/# in 1", "w/# out 1"])
    );
    let local = broker_on(0, &conf).await;
    state_becomes(&local, "1").await;
    let (lc, mut lev) = client(&local, "l-app", &["c/#"]).await;
    let (rc, mut rev) = client(&remote, "r-app", &["s/#", "w/#"]).await;
    // Not readable by `lab`: refused to the bridge's subscription.
    lc.publish(message("w/1", QoS::AtLeastOnce, "x"))
        .await
        .unwrap();
    lc.publish(message("s/1", QoS::AtLeastOnce, "x"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut rev, STEP).await.expect("s/1 readable").topic,
        "s/1"
    );
    // Not writable by `lab`: acknowledged, not delivered locally.
    rc.publish(message("c/1", QoS::AtLeastOnce, "x"))
        .await
        .unwrap();
    assert!(next(&mut lev, Duration::from_millis(500)).await.is_none());
    local.shutdown().await;
    remote.shutdown().await;
}

/// `bridge_max_packet_size`: a message larger than it is not sent to the
/// remote; the next, smaller one is.
#[tokio::test]
async fn bridge_max_packet_size_keeps_larger_messages_from_the_remote() {
    let remote = broker_on(0, "").await;
    let addr = format!("127.0.0.1:{}", remote.local_addr().port());
    let conf = format!(
        "{}bridge_max_packet_size 100\n",
        bridge(&addr, "mqttv311", &["m/# out 1"])
    );
    let local = broker_on(0, &conf).await;
    state_becomes(&local, "1").await;
    let (_rc, mut rev) = client(&remote, "r-app", &["m/#"]).await;
    let (lc, _lev) = client(&local, "l-app", &[]).await;
    lc.publish(message("m/big", QoS::AtLeastOnce, &"x".repeat(200)))
        .await
        .unwrap();
    lc.publish(message("m/small", QoS::AtLeastOnce, "x"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut rev, STEP).await.expect("the small one").topic,
        "m/small"
    );
    local.shutdown().await;
    remote.shutdown().await;
}

/// A bad `topic` line is refused with its file and line; options not supported
/// yet say so, naming themselves.
#[test]
fn configuration_errors_name_the_file_and_line() {
    let e = Config::parse(
        "listener 0 127.0.0.1\nconnection r\naddress h\ntopic a sideways\n",
        "b.conf",
    )
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("b.conf", 4));
    assert!(e.to_string().starts_with("b.conf:4: "), "{e}");
    assert!(e.to_string().contains("sideways"), "{e}");
    for (text, word) in [
        (
            "connection r\naddress h\ntopic #\nthreshold 0\n",
            "not a number of messages",
        ),
        (
            "connection r\naddress h\ntopic #\nidle_timeout soon\n",
            "not a number of seconds",
        ),
        (
            "connection r\naddress h\ntopic #\nbridge_psk ab\n",
            "'bridge_psk' is not supported yet",
        ),
        (
            "connection r\naddress h\ntopic #\nround_robin false\n",
            "not supported yet",
        ),
        ("topic #\n", "needs a connection line"),
        ("connection r\ntopic #\n", "has no address"),
        ("connection r\naddress h:0\n", "invalid port"),
        ("connection r\naddress h\ntopic a in 3\n", "QoS '3'"),
        (
            "connection r\naddress h\ntopic #\nconnection r\n",
            "second connection",
        ),
    ] {
        let e = Config::parse(text, "b.conf").unwrap_err().to_string();
        assert!(e.contains(word), "{text:?}: {e}");
    }
}

/// `mq broker -c` with a bad `topic` line exits non-zero naming file and line.
#[test]
fn mq_broker_refuses_a_bad_topic_line_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(
        &conf,
        "listener 0 127.0.0.1\nconnection r\naddress 127.0.0.1:1\ntopic # sideways\n",
    )
    .unwrap();
    let out = common::mq_command()
        .args(["broker", "-c", conf.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = common::text(&out.stderr);
    assert!(err.contains("bad.conf:4"), "{err}");
}

/// The README's worked example is a configuration `mq broker` reads.
#[test]
fn the_readme_example_parses() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme
        .find("### Bridges and clusters")
        .expect("the section")..];
    let start = section.find("```\n").expect("a code block") + 4;
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let c = Config::parse(block, "README.md").expect("the example parses");
    assert_eq!(c.bridges.len(), 1);
    let b = &c.bridges[0];
    assert_eq!(b.addresses.len(), 2);
    assert_eq!(b.topics.len(), 3);
    assert!(b.tls.enabled());
    assert_eq!(
        b.topics[0].to_remote("sensors/t").as_deref(),
        Some("campus/lab1/sensors/t")
    );
}

/// A remote that accepts the TCP connection and never answers does not hold up
/// the local broker: its clients publish and receive meanwhile.
#[tokio::test]
async fn a_remote_that_never_answers_does_not_stall_the_local_broker() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    let local = broker_on(0, &bridge(&format!("127.0.0.1:{port}"), "mqttv311", &["#"])).await;
    let (lc, mut lev) = client(&local, "l-app", &["t/#"]).await;
    for i in 0..50 {
        lc.publish(message(&format!("t/{i}"), QoS::AtLeastOnce, "x"))
            .await
            .unwrap();
        assert!(next(&mut lev, STEP).await.is_some());
    }
    local.shutdown().await;
    held.abort();
}

/// `start_type once`: after the remote goes, the bridge stays down, even when
/// the remote is back.
#[tokio::test]
async fn start_type_once_does_not_reconnect() {
    let remote = broker_on(0, "").await;
    let port = remote.local_addr().port();
    let conf = format!(
        "{}start_type once\n",
        bridge(&format!("127.0.0.1:{port}"), "mqttv311", &["#"])
    );
    let local = broker_on(0, &conf).await;
    state_becomes(&local, "1").await;
    remote.shutdown().await;
    drop(remote);
    state_becomes(&local, "0").await;
    let remote = restart_on(port, "").await;
    let (_c, mut ev) = client(&remote, "r-state", &[STATE]).await;
    // The remote's retained "0" (the bridge's last word), and nothing after it.
    let quiet = Duration::from_secs(1);
    while let Some(m) = next(&mut ev, quiet).await {
        assert_eq!(m.payload, "0", "the bridge connected again");
    }
    local.shutdown().await;
    remote.shutdown().await;
}

/// A 3.1.1 remote that refuses `try_private` (CONNACK return code 1,
/// unacceptable protocol version, for level 0x84) is connected to again as a
/// plain client (level 4), as mosquitto's bridges do.
#[tokio::test]
async fn a_remote_refusing_try_private_is_connected_to_as_a_plain_client() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = server.local_addr().unwrap().port();
    let local = broker_on(0, &bridge(&format!("127.0.0.1:{port}"), "mqttv311", &["#"])).await;
    let mut levels = Vec::new();
    let mut open = Vec::new();
    while levels.len() < 2 {
        let (mut s, _) = tokio::time::timeout(STEP, server.accept())
            .await
            .expect("the bridge connects")
            .unwrap();
        // Fixed header (2 bytes for a short CONNECT), then "MQTT" and the level.
        let mut head = [0u8; 9];
        s.read_exact(&mut head).await.unwrap();
        assert_eq!(&head[2..8], b"\x00\x04MQTT");
        levels.push(head[8]);
        let code = if head[8] & 0x80 != 0 { 1 } else { 0 };
        s.write_all(&[0x20, 0x02, 0x00, code]).await.unwrap();
        open.push(s);
    }
    assert_eq!(levels, [0x84, 0x04]);
    local.shutdown().await;
}

/// `start_type lazy`: the bridge connects only once `threshold` messages wait for
/// the remote, delivers them in order, and after `idle_timeout` without a
/// message disconnects again (its state "1", then "0", on the local broker).
#[tokio::test]
async fn start_type_lazy_connects_at_the_threshold_and_leaves_when_idle() {
    let remote = broker_on(0, "").await;
    let port = remote.local_addr().port();
    let conf = format!(
        "{}start_type lazy\nthreshold 3\nidle_timeout 1\n",
        bridge(
            &format!("127.0.0.1:{port}"),
            "mqttv50",
            &["s/# out 1 lab/ campus/"]
        )
    );
    let local = broker_on(0, &conf).await;
    let (_r, mut rev) = client(&remote, "r-app", &["campus/#"]).await;
    let (lc, _lev) = client(&local, "l-app", &[]).await;
    for i in 1..=2 {
        lc.publish(message("lab/s/t", QoS::AtLeastOnce, &i.to_string()))
            .await
            .unwrap();
    }
    assert!(
        next(&mut rev, Duration::from_millis(500)).await.is_none(),
        "a lazy bridge forwarded before its threshold"
    );
    lc.publish(message("lab/s/t", QoS::AtLeastOnce, "3"))
        .await
        .unwrap();
    for i in 1..=3 {
        let got = next(&mut rev, STEP)
            .await
            .expect("forwarded at the threshold");
        assert_eq!(
            (&*got.topic, &got.payload[..]),
            ("campus/s/t", i.to_string().as_bytes())
        );
    }
    // Up now; idle for a second, it goes.
    let (_w, mut wev) = client(&local, "state-watch", &[STATE]).await;
    let mut states = Vec::new();
    while states.last().map(|s: &Bytes| &s[..]) != Some(b"0".as_slice()) {
        let m = next(&mut wev, STEP)
            .await
            .expect("the bridge state changes");
        states.push(m.payload);
    }
    assert_eq!(
        states.first().map(|s| &s[..]),
        Some(b"1".as_slice()),
        "{states:?}"
    );
    local.shutdown().await;
    remote.shutdown().await;
}

/// With `persistence true` and `cleansession false`, what the local broker
/// acknowledged for an absent remote waits in the bridge's local session in the
/// store: it survives a restart of the local broker and reaches the remote once
/// both are back.
#[tokio::test]
async fn the_queue_for_an_absent_remote_survives_a_restart_of_the_local_broker() {
    let remote = broker_on(0, "").await;
    let remote_port = remote.local_addr().port();
    let store = tempfile::tempdir().unwrap();
    let conf = format!(
        "persistence true\npersistence_location {}\n{}",
        store.path().display(),
        bridge(
            &format!("127.0.0.1:{remote_port}"),
            "mqttv311",
            &["s/# out 1 \"\" campus/"],
        )
        .replace("cleansession true", "cleansession false")
    );
    let local = broker_on(0, &conf).await;
    let local_port = local.local_addr().port();
    state_becomes(&local, "1").await;
    remote.shutdown().await;
    drop(remote);
    state_becomes(&local, "0").await;
    const N: usize = 20;
    {
        let (lc, _lev) = client(&local, "publisher", &[]).await;
        for i in 0..N {
            lc.publish(message(&format!("s/{i}"), QoS::AtLeastOnce, "m"))
                .await
                .unwrap();
        }
    }
    local.shutdown().await;
    drop(local);
    let remote = restart_on(remote_port, "").await;
    let (_rc, mut rev) = client(&remote, "r-app", &["campus/#"]).await;
    let local = restart_on(local_port, &conf).await;
    let mut seen = BTreeSet::new();
    while seen.len() < N {
        let p = next(&mut rev, STEP)
            .await
            .unwrap_or_else(|| panic!("only {} of {N} messages reached the remote", seen.len()));
        seen.insert(p.topic.to_string());
    }
    local.shutdown().await;
    remote.shutdown().await;
}
