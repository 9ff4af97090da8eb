//! Bridges from `mq broker` to a real Debian mosquitto as the remote broker:
//! both directions at QoS 0/1/2 with prefixes, no loop with `both` (No Local
//! under 5.0, `try_private` under 3.1.1, which mosquitto knows), mosquitto
//! restarted in the middle of a stream with nothing acknowledged lost at QoS 1
//! and 2, and TLS to the remote with a client certificate.

use crate::common::{KillOnDrop, TestPki, message, next, unused_port};
use mq::broker::{Broker, BrokerHandle, Config};
use mq::client::{Client, ConnectOptions, Events};
use mq::protocol::{Properties, ProtocolVersion, QoS, SubscribeFilter, SubscriptionOptions};
use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(10);
const STATE: &str = "$SYS/broker/connection/lab1/state";

/// mosquitto on a port of its own, with persistence in its directory, that can
/// be stopped (SIGTERM: it saves its sessions) and started again on that port.
struct Remote {
    child: Option<KillOnDrop>,
    port: u16,
    dir: tempfile::TempDir,
    extra: String,
}

impl Remote {
    fn start(extra: &str) -> Remote {
        let mut r = Remote {
            child: None,
            port: 0,
            dir: tempfile::tempdir().unwrap(),
            extra: extra.to_string(),
        };
        for _ in 0..5 {
            r.port = unused_port();
            if r.spawn() {
                return r;
            }
        }
        panic!("mosquitto did not start");
    }

    /// Start mosquitto on `self.port`; false if it did not come up.
    fn spawn(&mut self) -> bool {
        let conf = self.dir.path().join("mosquitto.conf");
        let text = format!(
            "listener {} 127.0.0.1\nallow_anonymous true\nuser root\npersistence true\n\
             persistence_location {}/\n{}\n",
            self.port,
            self.dir.path().display(),
            self.extra
        );
        std::fs::write(&conf, text).unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto must be installed (apt-get install mosquitto)");
        let mut child = KillOnDrop(child);
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// SIGTERM, and wait for it to save and exit.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            crate::common::wait_until_exit(&mut child, Duration::from_secs(10))
                .expect("mosquitto stops on SIGTERM");
        }
    }

    /// Start it again on the same port.
    fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.spawn() {
            assert!(Instant::now() < deadline, "mosquitto did not start again");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn options(&self, id: &str, version: ProtocolVersion) -> ConnectOptions {
        let mut o = ConnectOptions::new("127.0.0.1", self.port);
        o.client_id = id.into();
        o.version = version;
        o.connect_timeout = STEP;
        o
    }
}

/// The local `mq` broker (embedded, port 0) with `conf`.
async fn local(conf: &str) -> BrokerHandle {
    let config = Config::parse(&format!("log_dest none\n{conf}"), "bridge.conf")
        .expect("configuration parses");
    Broker::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .config(config)
        .start()
        .await
        .expect("broker starts")
}

/// A `connection lab1` section.
fn bridge(address: &str, version: &str, extra: &str, topics: &[&str]) -> String {
    let mut s = format!(
        "connection lab1\naddress {address}\nremote_clientid lab1\n\
         bridge_protocol_version {version}\nrestart_timeout 0.2\n{extra}\n"
    );
    for t in topics {
        s.push_str(&format!("topic {t}\n"));
    }
    s
}

/// Connect with `o` and subscribe to `filters` at `qos`.
async fn subscriber(o: ConnectOptions, filters: &[&str], qos: QoS) -> (Client, Events) {
    let (c, ev) = Client::connect(o).await.expect("connect");
    if !filters.is_empty() {
        let subs = filters
            .iter()
            .map(|f| SubscribeFilter {
                filter: f.to_string(),
                options: SubscriptionOptions::qos(qos),
            })
            .collect();
        c.subscribe(subs, Properties::default())
            .await
            .expect("subscribe");
    }
    (c, ev)
}

fn local_options(b: &BrokerHandle, id: &str) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", b.local_addr().port());
    o.version = ProtocolVersion::V5;
    o.client_id = id.into();
    o
}

/// Wait until the bridge's state on `b` is `want`.
async fn state_becomes(b: &BrokerHandle, want: &str) {
    let (_c, mut ev) =
        subscriber(local_options(b, "state-watch"), &[STATE], QoS::AtLeastOnce).await;
    loop {
        let m = next(&mut ev, STEP).await.expect("a bridge state message");
        if m.payload == want {
            return;
        }
    }
}

/// Out, in and both at each QoS, under the prefixes; a `both` message is seen
/// once on each side.
async fn both_ways_with_mosquitto(version: &str) {
    let remote = Remote::start("");
    let v = if version == "mqttv50" {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    let topics = [
        "s/# out 2 lab/ campus/lab1/",
        "c/# in 2 lab/ campus/lab1/",
        "x/# both 2 lab/ campus/lab1/",
    ];
    let addr = format!("127.0.0.1:{}", remote.port);
    let b = local(&bridge(&addr, version, "cleansession true", &topics)).await;
    state_becomes(&b, "1").await;
    let (lc, mut lev) = subscriber(local_options(&b, "l-app"), &["lab/#"], QoS::ExactlyOnce).await;
    let (rc, mut rev) =
        subscriber(remote.options("r-app", v), &["campus/#"], QoS::ExactlyOnce).await;
    crate::common::exchange_both_ways(&lc, &mut lev, &rc, &mut rev).await;
    b.shutdown().await;
}

#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn bridge_to_mosquitto_both_directions_at_qos_0_1_2_no_loop_mqtt_311_try_private() {
    both_ways_with_mosquitto("mqttv311").await;
}

#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn bridge_to_mosquitto_both_directions_at_qos_0_1_2_no_loop_mqtt_5() {
    both_ways_with_mosquitto("mqttv50").await;
}

/// mosquitto stopped and started again in the middle of two streams at QoS 1
/// and 2, one each way: every message acknowledged to its publisher arrives
/// (mosquitto keeps the bridge's session and a durable subscriber's queue;
/// the bridge acknowledges each side only once the other has the message).
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn bridge_to_mosquitto_restarted_mid_stream_loses_nothing_acknowledged() {
    let mut remote = Remote::start("");
    let v = ProtocolVersion::V311;
    let addr = format!("127.0.0.1:{}", remote.port);
    let topics = ["s/# out 2 lab/ campus/", "c/# in 2 lab/ campus/"];
    // cleansession false: mosquitto keeps what it has for the bridge.
    let b = local(&bridge(&addr, "mqttv311", "", &topics)).await;
    state_becomes(&b, "1").await;
    let durable = |r: &Remote| {
        let mut o = r.options("durable", v);
        o.clean_start = false;
        o
    };
    let (c, mut rev) = subscriber(durable(&remote), &["campus/s/#"], QoS::ExactlyOnce).await;
    let (_l, mut lev) =
        subscriber(local_options(&b, "l-sub"), &["lab/c/#"], QoS::ExactlyOnce).await;
    let (lc, _) = Client::connect(local_options(&b, "l-pub")).await.unwrap();
    let (rp, _) = Client::connect(remote.options("r-pub", v)).await.unwrap();
    const N: usize = 60;
    let qos = |i: usize| {
        if i.is_multiple_of(2) {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        }
    };
    for i in 0..N / 2 {
        lc.publish(message(&format!("lab/s/{i}"), qos(i), "m"))
            .await
            .unwrap();
        rp.publish(message(&format!("campus/c/{i}"), qos(i), "m"))
            .await
            .unwrap();
    }
    drop((c, rp));
    remote.stop();
    // The bridge's state, retained on the mq side.
    state_becomes(&b, "0").await;
    // Taken by mq while mosquitto is away.
    for i in N / 2..N {
        lc.publish(message(&format!("lab/s/{i}"), qos(i), "m"))
            .await
            .unwrap();
    }
    let (mut out_seen, mut in_seen) = (BTreeSet::new(), BTreeSet::new());
    while let Some(p) = next(&mut rev, Duration::from_millis(100)).await {
        out_seen.insert(p.topic.to_string());
    }
    remote.restart();
    state_becomes(&b, "1").await;
    let (rp, _) = Client::connect(remote.options("r-pub", v)).await.unwrap();
    for i in N / 2..N {
        rp.publish(message(&format!("campus/c/{i}"), qos(i), "m"))
            .await
            .unwrap();
    }
    let (_c, mut rev) = subscriber(durable(&remote), &[], QoS::ExactlyOnce).await;
    while out_seen.len() < N {
        let p = next(&mut rev, STEP)
            .await
            .unwrap_or_else(|| panic!("{} of {N} messages reached mosquitto", out_seen.len()));
        out_seen.insert(p.topic.to_string());
    }
    while in_seen.len() < N {
        let p = next(&mut lev, STEP)
            .await
            .unwrap_or_else(|| panic!("{} of {N} messages reached mq", in_seen.len()));
        in_seen.insert(p.topic.to_string());
    }
    b.shutdown().await;
}

/// TLS to mosquitto (`bridge_cafile`, with a client certificate it requires):
/// messages go both ways.
#[tokio::test]
#[ignore = "needs mosquitto; run by .ci/run"]
async fn bridge_to_mosquitto_over_tls_with_a_client_certificate() {
    let pki = TestPki::new(&["127.0.0.1", "localhost"]);
    let remote = Remote::start(&format!(
        "{}require_certificate true\n",
        pki.mosquitto_conf()
    ));
    let path = |n: &str| -> PathBuf { pki.path(n) };
    let tls = format!(
        "bridge_cafile {}\nbridge_certfile {}\nbridge_keyfile {}\ncleansession true",
        path("ca.pem").display(),
        path("client.pem").display(),
        path("client.key").display()
    );
    let addr = format!("127.0.0.1:{}", remote.port);
    let b = local(&bridge(
        &addr,
        "mqttv311",
        &tls,
        &["t/# both 1 lab/ campus/"],
    ))
    .await;
    state_becomes(&b, "1").await;
    let (lc, mut lev) = subscriber(local_options(&b, "l-app"), &["lab/#"], QoS::AtLeastOnce).await;
    let mut o = remote.options("r-app", ProtocolVersion::V311);
    o = ConnectOptions {
        scheme: mq::client::Scheme::Mqtts,
        ..o
    };
    o.tls.ca_file = Some(path("ca.pem"));
    o.tls.cert_file = Some(path("client.pem"));
    o.tls.key_file = Some(path("client.key"));
    let (rc, mut rev) = subscriber(o, &["campus/#"], QoS::AtLeastOnce).await;
    lc.publish(message("lab/t/out", QoS::AtLeastOnce, "o"))
        .await
        .unwrap();
    rc.publish(message("campus/t/in", QoS::AtLeastOnce, "i"))
        .await
        .unwrap();
    let mut on_remote = BTreeSet::new();
    let mut on_local = BTreeSet::new();
    for _ in 0..2 {
        on_remote.insert(
            next(&mut rev, STEP)
                .await
                .expect("on mosquitto")
                .topic
                .to_string(),
        );
        on_local.insert(next(&mut lev, STEP).await.expect("on mq").topic.to_string());
    }
    assert!(on_remote.contains("campus/t/out"), "{on_remote:?}");
    assert!(on_local.contains("lab/t/in"), "{on_local:?}");
    b.shutdown().await;
}
