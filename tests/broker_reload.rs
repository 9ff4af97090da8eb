//! Reloading the whole configuration without a restart ([`BrokerHandle::reload`],
//! and SIGHUP for `mq broker` on Unix): a limit changed takes effect, a listener
//! added accepts connections and a removed one closes, log destinations move
//! (and a rotated log file is opened again), a broken file is refused with its
//! file and line while the configuration in force stays, and connected clients
//! are untouched throughout.

mod common;

use bytes::Bytes;
use common::{next_message, watcher};
use mq::broker::{Broker, BrokerHandle, Config, ReloadError};
use mq::client::{Client, ConnectOptions, Events};
use mq::protocol::{ProtocolVersion, Publish, QoS, ReasonCode};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(5);

/// A broker started from the configuration file `conf` (written with `text`).
async fn broker(conf: &Path, text: &str) -> BrokerHandle {
    std::fs::write(conf, text).unwrap();
    let config = Config::from_file(conf).expect("configuration parses");
    Broker::builder()
        .config(config)
        .start()
        .await
        .expect("broker starts")
}

fn conf_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("mq.conf")
}

/// A 5.0 client of `port`, so that acknowledgements carry reason codes.
async fn v5_client(port: u16, id: &str) -> (Client, Events) {
    let mut opts = ConnectOptions::new("127.0.0.1", port);
    opts.version = ProtocolVersion::V5;
    opts.client_id = id.into();
    Client::connect(opts).await.expect("connect")
}

async fn publish(client: &Client, topic: &str, len: usize) -> ReasonCode {
    let p = Publish {
        qos: QoS::AtLeastOnce,
        topic: topic.into(),
        payload: Bytes::from(vec![b'x'; len]),
        ..Publish::default()
    };
    client.publish(p).await.expect("publish").reason
}

/// `message_size_limit` lowered and reloaded: a bigger message is refused (0x95,
/// not forwarded) on a connection made before the reload, a smaller one still
/// goes through to a subscriber that was connected before it too.
#[tokio::test]
async fn a_lowered_message_size_limit_refuses_a_bigger_publish_after_reload() {
    let dir = tempfile::tempdir().unwrap();
    let conf = conf_in(&dir);
    let base = "listener 0 127.0.0.1\nallow_anonymous true\nlog_dest none\n";
    let b = broker(&conf, base).await;
    let (_w, mut seen) = watcher(&b, &["r/#"]).await;
    let (publisher, _events) = v5_client(b.local_addr().port(), "publisher").await;
    assert_eq!(publish(&publisher, "r/big", 100).await, ReasonCode::SUCCESS);
    assert_eq!(next_message(&mut seen, STEP).await.payload.len(), 100);

    std::fs::write(&conf, format!("{base}message_size_limit 10\n")).unwrap();
    b.reload().await.expect("reload");
    assert_eq!(
        publish(&publisher, "r/big", 100).await,
        ReasonCode::PACKET_TOO_LARGE
    );
    assert_eq!(publish(&publisher, "r/small", 5).await, ReasonCode::SUCCESS);
    let next = next_message(&mut seen, STEP).await;
    assert_eq!((&*next.topic, next.payload.len()), ("r/small", 5));
    b.shutdown().await;
}

/// Whether a TCP connection to 127.0.0.1:`port` is accepted.
fn accepts(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), STEP).is_ok()
}

/// A listener added to the file accepts connections after the reload; one removed
/// from it stops accepting, while the client connected through it stays
/// connected and served.
#[tokio::test]
async fn a_listener_added_accepts_and_a_removed_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let conf = conf_in(&dir);
    let b = broker(
        &conf,
        "listener 0 127.0.0.1\nallow_anonymous true\nlog_dest none\n",
    )
    .await;
    let first = b.local_addr().port();
    let (early, _early_events) = v5_client(first, "early").await;
    let (_w, mut seen) = watcher(&b, &["l/#"]).await;

    let added = common::unused_port();
    std::fs::write(
        &conf,
        format!("listener 0 127.0.0.1\nlistener {added} 127.0.0.1\nallow_anonymous true\nlog_dest none\n"),
    )
    .unwrap();
    b.reload().await.expect("reload adding a listener");
    assert!(b.local_addrs().iter().any(|a| a.port() == added));
    assert!(b.local_addrs().iter().any(|a| a.port() == first), "kept");
    let (late, _late_events) = v5_client(added, "late").await;
    assert_eq!(publish(&late, "l/x", 1).await, ReasonCode::SUCCESS);
    assert_eq!(&*next_message(&mut seen, STEP).await.topic, "l/x");

    std::fs::write(
        &conf,
        format!("listener {added} 127.0.0.1\nallow_anonymous true\nlog_dest none\n"),
    )
    .unwrap();
    b.reload().await.expect("reload removing a listener");
    // The accept loop ends as soon as it sees the stop; bounded wait for it.
    let deadline = Instant::now() + STEP;
    while accepts(first) {
        assert!(Instant::now() < deadline, "port {first} still accepts");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!b.local_addrs().iter().any(|a| a.port() == first));
    assert_eq!(publish(&early, "l/y", 1).await, ReasonCode::SUCCESS);
    assert_eq!(&*next_message(&mut seen, STEP).await.topic, "l/y");
    assert!(accepts(added));
    b.shutdown().await;
}

/// A listener whose settings changed on the same port keeps running (a new
/// socket cannot be bound beside it; the log says it needs a restart) and the
/// rest of the reload applies.
#[tokio::test]
async fn a_changed_listener_on_the_same_port_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let conf = conf_in(&dir);
    let port = common::unused_port();
    let base = format!("listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n");
    let b = broker(&conf, &base).await;
    let (publisher, _events) = v5_client(port, "p").await;
    std::fs::write(
        &conf,
        format!("{base}max_connections 5\nmessage_size_limit 10\n"),
    )
    .unwrap();
    b.reload().await.expect("reload");
    assert!(accepts(port));
    assert_eq!(
        publish(&publisher, "c/x", 100).await,
        ReasonCode::PACKET_TOO_LARGE
    );
    b.shutdown().await;
}

/// A broken file (an unknown option on line 2) is refused, naming the file and
/// the line; the limit in force stays.
#[tokio::test]
async fn a_broken_file_is_refused_and_the_old_configuration_kept() {
    let dir = tempfile::tempdir().unwrap();
    let conf = conf_in(&dir);
    let base = "listener 0 127.0.0.1\nallow_anonymous true\nlog_dest none\nmessage_size_limit 10\n";
    let b = broker(&conf, base).await;
    let (publisher, _events) = v5_client(b.local_addr().port(), "p").await;
    std::fs::write(&conf, "message_size_limit 1000\nmax_conections 3\n").unwrap();
    match b.reload().await {
        Err(ReloadError::Config(e)) => {
            assert_eq!(e.line, 2, "{e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("{}:2: unknown option", conf.display())),
                "{e}"
            );
        }
        other => panic!("a broken file was not refused: {other:?}"),
    }
    assert_eq!(
        publish(&publisher, "k/x", 100).await,
        ReasonCode::PACKET_TOO_LARGE,
        "the limit in force stayed"
    );
    // A listener that cannot be opened refuses the reload as well.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    std::fs::write(
        &conf,
        format!("{base}listener {port} 127.0.0.1\nmessage_size_limit 1000\n"),
    )
    .unwrap();
    assert!(matches!(b.reload().await, Err(ReloadError::Listener(_))));
    assert_eq!(
        publish(&publisher, "k/x", 100).await,
        ReasonCode::PACKET_TOO_LARGE
    );
    b.shutdown().await;
}

/// Wait (bounded) until `path` holds `needle`.
fn wait_for_text(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + STEP;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in {path:?}: {text:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Log settings are reloaded: a rotated log file is opened again (created anew),
/// and a new format applies to the lines that follow.
#[tokio::test]
async fn a_reload_reopens_the_log_file_and_applies_the_new_format() {
    let dir = tempfile::tempdir().unwrap();
    let conf = conf_in(&dir);
    let log = dir.path().join("mq.log");
    let text = format!(
        "listener 0 127.0.0.1\nallow_anonymous true\nlog_dest file {}\n",
        log.display()
    );
    let b = broker(&conf, &text).await;
    wait_for_text(&log, "running");
    // What logrotate does: move the file away, then signal the broker.
    let rotated = dir.path().join("mq.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    std::fs::write(&conf, format!("{text}log_format json\n")).unwrap();
    b.reload().await.expect("reload");
    let fresh = wait_for_text(&log, "Config reloaded from");
    for line in fresh.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert!(v["msg"].is_string(), "{line}");
    }
    let old = std::fs::read_to_string(&rotated).unwrap();
    assert!(old.contains("Reloading config."), "{old}");
    assert!(!old.contains("Config reloaded from"), "{old}");
    b.shutdown().await;
}

/// `mq broker` on SIGHUP: a listener added to the file opens; a broken file is
/// reported with file and line and the configuration in force stays (the added
/// listener still serves).
#[cfg(unix)]
#[test]
fn sighup_reloads_the_file_of_the_mq_binary() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let conf = conf_in(&dir);
    std::fs::write(&conf, "listener 0 127.0.0.1\nallow_anonymous true\n").unwrap();
    let b = common::MqBroker::start(&["-c", conf.to_str().unwrap()]);
    let pid = b.child.id().to_string();
    let hup = || {
        let status = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(status.success());
    };
    let added = common::unused_port();
    std::fs::write(
        &conf,
        format!("listener 0 127.0.0.1\nlistener {added} 127.0.0.1\nallow_anonymous true\n"),
    )
    .unwrap();
    hup();
    b.wait_for(
        &format!("Opening ipv4 listen socket on port {added}."),
        STEP,
    );
    b.wait_for("Config reloaded from", STEP);
    let out = common::mq_pub(added, &["-t", "h/x", "-m", "x"], None);
    assert!(out.status.success(), "{out:?}");

    std::fs::write(&conf, "listener 0 127.0.0.1\nbogus_option 1\n").unwrap();
    hup();
    let line = b.wait_for("keeping the configuration in force", STEP);
    assert!(
        line.contains(&format!(
            "{}:2: unknown option 'bogus_option'",
            conf.display()
        )),
        "{line}"
    );
    let out = common::mq_pub(added, &["-t", "h/x", "-m", "x"], None);
    assert!(out.status.success(), "{out:?}");
}

/// A `connection` added by a reload starts a working bridge; a reload that
/// changes something else leaves it running (not reconnected); one that removes
/// it stops it.
#[tokio::test]
async fn a_bridge_added_by_reload_works_and_a_removed_one_stops() {
    let remote = common::embedded_broker().await;
    let (_w, mut on_remote) = watcher(&remote, &["campus/#"]).await;
    let (_s, mut states) = watcher(&remote, &["$SYS/broker/connection/#"]).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = conf_in(&dir);
    let base = "listener 0 127.0.0.1\nallow_anonymous true\nlog_dest none\n";
    let b = broker(&conf, base).await;
    let bridge = format!(
        "connection campus\naddress 127.0.0.1:{}\nremote_clientid lab1\n\
         topic # out 1 \"\" campus/\nrestart_timeout 0.2\n",
        remote.local_addr().port()
    );
    std::fs::write(&conf, format!("{base}{bridge}")).unwrap();
    b.reload().await.expect("reload adding a bridge");
    // Up on the remote: "1".
    let up = next_message(&mut states, STEP).await;
    assert_eq!(up.payload, "1");
    let (publisher, _events) = v5_client(b.local_addr().port(), "publisher").await;
    assert_eq!(publish(&publisher, "a/b", 3).await, ReasonCode::SUCCESS);
    let got = next_message(&mut on_remote, STEP).await;
    assert_eq!(&*got.topic, "campus/a/b");

    // Something else changes: the bridge is not restarted (no second "1").
    std::fs::write(&conf, format!("{base}max_queued_messages 500\n{bridge}")).unwrap();
    b.reload().await.expect("reload keeping the bridge");
    let quiet = tokio::time::timeout(Duration::from_millis(500), next_message(&mut states, STEP));
    assert!(quiet.await.is_err(), "the bridge was restarted");

    std::fs::write(&conf, base).unwrap();
    b.reload().await.expect("reload removing the bridge");
    let down = next_message(&mut states, STEP).await;
    assert_eq!(down.payload, "0");
    assert_eq!(publish(&publisher, "a/c", 3).await, ReasonCode::SUCCESS);
    let none = tokio::time::timeout(
        Duration::from_millis(300),
        next_message(&mut on_remote, STEP),
    );
    assert!(none.await.is_err(), "a removed bridge still forwards");
    b.shutdown().await;
    remote.shutdown().await;
}
