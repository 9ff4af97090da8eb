//! The broker's HTTP listener (`http_listener PORT ADDR`): status codes of
//! `/healthz`, `/metrics`, `/clients`, other paths and methods; `/clients` with real
//! connected and offline clients; `/metrics` counters moving with real traffic;
//! `/healthz` answering 503 while the broker shuts down. The broker runs
//! in-process on free ports; requests are plain HTTP/1.1 over TCP.
//! tests/interop/metrics.rs parses `/metrics` with Python's `prometheus_client`.

mod common;

use common::next_message;
use mq::broker::{Broker, BrokerHandle, Config};
use mq::client::{Client, ConnectOptions, Events};
use mq::protocol::{
    Properties, ProtocolVersion, Publish, QoS, SubscribeFilter, SubscriptionOptions,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STEP: Duration = Duration::from_secs(5);

async fn broker(extra: &str) -> BrokerHandle {
    let conf =
        format!("listener 0 127.0.0.1\nallow_anonymous true\nhttp_listener 0 127.0.0.1\n{extra}");
    let mut config = Config::parse(&conf, "test.conf").expect("configuration parses");
    config.log_dest = mq::broker::LogDest::None;
    Broker::builder()
        .config(config)
        .start()
        .await
        .expect("broker starts")
}

fn http(b: &BrokerHandle) -> SocketAddr {
    b.http_addr().expect("the HTTP listener is up")
}

/// One response: status, headers (lower-cased names), body.
struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// `METHOD PATH` over a fresh connection, read until the server closes it.
async fn request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<Reply> {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        let req =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(STEP, exchange)
        .await
        .map_err(|_| std::io::Error::other("no answer in time"))??;
    let text = String::from_utf8(raw).expect("UTF-8 response");
    // Closed without a complete answer (refused).
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("incomplete response {text:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    Ok(Reply {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    })
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path).await.expect("HTTP request")
}

/// The value of the sample `series` (name with its labels, as rendered).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in:\n{metrics}"))
}

fn options(b: &BrokerHandle, id: &str, version: ProtocolVersion) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", b.local_addr().port());
    o.client_id = id.into();
    o.version = version;
    o.connect_timeout = STEP;
    o
}

async fn subscribe(c: &Client, filters: &[&str]) {
    let filters = filters
        .iter()
        .map(|f| SubscribeFilter {
            filter: f.to_string(),
            options: SubscriptionOptions::qos(QoS::AtLeastOnce),
        })
        .collect();
    c.subscribe(filters, Properties::default())
        .await
        .expect("subscribe");
}

async fn publish(c: &Client, topic: &str, qos: QoS) {
    c.publish(Publish {
        topic: topic.into(),
        payload: bytes::Bytes::from_static(b"figure"),
        qos,
        ..Publish::default()
    })
    .await
    .expect("publish");
}

#[tokio::test]
async fn endpoints_answer_with_their_status_codes() {
    let b = broker("").await;
    let addr = http(&b);
    let health = get(addr, "/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, "ok\n");
    let metrics = get(addr, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .headers
            .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{}",
        metrics.headers
    );
    assert!(
        metrics
            .body
            .contains("# TYPE mq_publish_received_total counter")
    );
    let clients = get(addr, "/clients").await;
    assert_eq!(clients.status, 200);
    assert!(clients.headers.contains("content-type: application/json"));
    assert_eq!(clients.body, "[]");
    assert_eq!(get(addr, "/").await.status, 404);
    assert_eq!(get(addr, "/metrics/extra").await.status, 404);
    let post = request(addr, "POST", "/metrics").await.expect("POST");
    assert_eq!(post.status, 405);
    assert!(post.headers.contains("allow: get"), "{}", post.headers);
    assert_eq!(
        request(addr, "DELETE", "/clients")
            .await
            .expect("DELETE")
            .status,
        405
    );
    b.shutdown().await;
}

#[tokio::test]
async fn clients_lists_connected_and_offline_sessions() {
    let b = broker("").await;
    let port = b.local_addr().port();
    let (alice, _ae) = Client::connect(options(&b, "alice", ProtocolVersion::V5))
        .await
        .expect("alice connects");
    subscribe(&alice, &["b/+", "a/#"]).await;
    let (bob, _be) = Client::connect(options(&b, "bob", ProtocolVersion::V311))
        .await
        .expect("bob connects");
    // carol keeps her session while away: what is published meanwhile is queued.
    let mut carol_opts = options(&b, "carol", ProtocolVersion::V5);
    carol_opts.clean_start = false;
    carol_opts.session_expiry = Some(600);
    let (carol, _ce) = Client::connect(carol_opts).await.expect("carol connects");
    subscribe(&carol, &["q/#"]).await;
    carol.disconnect().await.expect("carol leaves");
    for _ in 0..3 {
        publish(&bob, "q/1", QoS::AtLeastOnce).await;
    }

    let reply = get(http(&b), "/clients").await;
    assert_eq!(reply.status, 200);
    let clients: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    let clients = clients.as_array().expect("an array");
    let ids: Vec<&str> = clients.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["alice", "bob", "carol"], "sorted by client id");
    let alice_json = &clients[0];
    assert_eq!(alice_json["protocol"], "5.0");
    assert_eq!(alice_json["connected"], true);
    assert_eq!(alice_json["listener"], format!("{port}/127.0.0.1/mqtt"));
    let address = alice_json["address"].as_str().expect("an address");
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    assert_eq!(
        alice_json["subscriptions"],
        serde_json::json!(["a/#", "b/+"])
    );
    assert_eq!(alice_json["queued"], 0);
    assert_eq!(alice_json["inflight"], 0);
    assert_eq!(clients[1]["protocol"], "3.1.1");
    assert_eq!(clients[1]["subscriptions"], serde_json::json!([]));
    let carol_json = &clients[2];
    assert_eq!(carol_json["connected"], false);
    assert_eq!(carol_json["address"], serde_json::Value::Null);
    assert_eq!(carol_json["subscriptions"], serde_json::json!(["q/#"]));
    assert_eq!(carol_json["queued"], 3);
    drop((alice, bob));
    b.shutdown().await;
}

/// Poll `/metrics` until `series` reaches `at_least` (bounded): the writer records
/// a delivery after its write, which the subscriber may see first.
async fn metric_reaches(addr: SocketAddr, series: &str, at_least: f64) -> String {
    let deadline = Instant::now() + STEP;
    loop {
        let body = get(addr, "/metrics").await.body;
        if sample(&body, series) >= at_least {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{series} stayed below {at_least}:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn metrics_move_with_traffic() {
    let b = broker("").await;
    let addr = http(&b);
    let port = b.local_addr().port();
    let listener = format!("{{listener=\"{port}/127.0.0.1/mqtt\"}}");
    let before = get(addr, "/metrics").await.body;
    assert_eq!(sample(&before, "mq_publish_received_total"), 0.0);
    assert_eq!(
        sample(&before, &format!("mq_listener_connections{listener}")),
        0.0
    );
    assert_eq!(sample(&before, "mq_delivery_latency_seconds_count"), 0.0);

    let (sub, mut events): (Client, Events) =
        Client::connect(options(&b, "sub", ProtocolVersion::V5))
            .await
            .expect("subscriber connects");
    subscribe(&sub, &["m/#"]).await;
    let (publisher, _pe) = Client::connect(options(&b, "pub", ProtocolVersion::V311))
        .await
        .expect("publisher connects");
    for _ in 0..4 {
        publish(&publisher, "m/x", QoS::AtLeastOnce).await;
    }
    for _ in 0..4 {
        next_message(&mut events, STEP).await;
    }
    // A session kept while away does not queue QoS 0 (offline_qos0).
    let mut away = options(&b, "away", ProtocolVersion::V5);
    away.clean_start = false;
    away.session_expiry = Some(600);
    let (a, _ae) = Client::connect(away).await.expect("away connects");
    subscribe(&a, &["m/#"]).await;
    a.disconnect().await.expect("away leaves");
    publish(&publisher, "m/y", QoS::AtMostOnce).await;
    next_message(&mut events, STEP).await;

    let after = metric_reaches(addr, "mq_delivery_latency_seconds_count", 5.0).await;
    assert_eq!(sample(&after, "mq_publish_received_total"), 5.0);
    assert!(sample(&after, "mq_publish_sent_total") >= 5.0);
    assert_eq!(
        sample(&after, &format!("mq_listener_connections{listener}")),
        2.0
    );
    assert_eq!(
        sample(
            &after,
            &format!("mq_listener_connections_accepted_total{listener}")
        ),
        3.0
    );
    assert_eq!(sample(&after, "mq_clients_connected"), 2.0);
    assert_eq!(sample(&after, "mq_sessions"), 3.0);
    assert_eq!(sample(&after, "mq_subscriptions"), 2.0);
    assert_eq!(
        sample(&after, "mq_dropped_messages_total{reason=\"offline_qos0\"}"),
        1.0
    );
    assert_eq!(sample(&after, "mq_publish_dropped_total"), 1.0);
    assert_eq!(
        sample(&after, "mq_delivery_latency_seconds_bucket{le=\"+Inf\"}"),
        sample(&after, "mq_delivery_latency_seconds_count")
    );
    assert!(sample(&after, "mq_delivery_latency_seconds_sum") > 0.0);
    assert!(
        !after.contains("mq_store_commit_seconds"),
        "no store without persistence"
    );
    drop((sub, publisher));
    b.shutdown().await;
}

#[tokio::test]
async fn failed_logins_are_counted() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let passwords = dir.path().join("passwords");
    let made = common::mq_command()
        .args(["passwd", "-c", "-b"])
        .arg(&passwords)
        .args(["ann", "right"])
        .output()
        .expect("mq passwd");
    assert!(made.status.success(), "{}", common::text(&made.stderr));
    let b = broker(&format!(
        "allow_anonymous false\npassword_file {}\n",
        passwords.display()
    ))
    .await;
    let mut wrong = options(&b, "guess", ProtocolVersion::V311);
    wrong.username = Some("ann".into());
    wrong.password = Some(bytes::Bytes::from_static(b"wrong"));
    assert!(
        Client::connect(wrong).await.is_err(),
        "a wrong password is refused"
    );
    let body = get(http(&b), "/metrics").await.body;
    assert_eq!(sample(&body, "mq_auth_failures_total"), 1.0);
    b.shutdown().await;
}

#[tokio::test]
async fn store_commits_are_timed_with_persistence() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let b = broker(&format!(
        "persistence true\npersistence_location {}\n",
        dir.path().display()
    ))
    .await;
    let (c, _e) = Client::connect(options(&b, "keeper", ProtocolVersion::V311))
        .await
        .expect("connect");
    c.publish(Publish {
        topic: "kept".into(),
        payload: bytes::Bytes::from_static(b"1"),
        qos: QoS::AtLeastOnce,
        retain: true,
        ..Publish::default()
    })
    .await
    .expect("publish, acknowledged once stored");
    let body = get(http(&b), "/metrics").await.body;
    assert!(
        sample(&body, "mq_store_commit_seconds_count") >= 1.0,
        "{body}"
    );
    assert_eq!(sample(&body, "mq_store_enabled"), 1.0);
    drop(c);
    b.shutdown().await;
}

/// Open an MQTT connection by hand and keep it open without reading: the broker's
/// shutdown then waits for it to go (it drains the connection for a while).
async fn held_connection(b: &BrokerHandle) -> TcpStream {
    let mut s = TcpStream::connect(b.local_addr()).await.expect("connect");
    // CONNECT, MQTT 3.1.1, clean session, keep alive 60, client id "held".
    let connect = [
        0x10, 16, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 4, b'h', b'e', b'l', b'd',
    ];
    s.write_all(&connect).await.expect("send CONNECT");
    let mut connack = [0u8; 4];
    tokio::time::timeout(STEP, s.read_exact(&mut connack))
        .await
        .expect("CONNACK in time")
        .expect("CONNACK");
    assert_eq!(connack, [0x20, 2, 0, 0]);
    s
}

#[tokio::test]
async fn healthz_is_503_while_shutting_down() {
    let b = Arc::new(broker("").await);
    let addr = http(&b);
    let _held = held_connection(&b).await;
    assert_eq!(get(addr, "/healthz").await.status, 200);
    let stopping = tokio::spawn({
        let b = b.clone();
        async move { b.shutdown().await }
    });
    let deadline = Instant::now() + STEP;
    let mut seen = Vec::new();
    let unavailable = loop {
        match request(addr, "GET", "/healthz").await {
            Ok(r) if r.status == 503 => break r,
            Ok(r) => seen.push(r.status),
            Err(e) => panic!("/healthz failed during shutdown ({e}) after {seen:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "no 503 within {STEP:?}: {seen:?}"
        );
    };
    assert_eq!(unavailable.body, "shutting down\n");
    assert!(
        seen.iter().all(|s| *s == 200),
        "200 until the shutdown began: {seen:?}"
    );
    tokio::time::timeout(STEP * 2, stopping)
        .await
        .expect("the shutdown ends")
        .expect("shutdown task");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the HTTP listener is closed once the broker has stopped"
    );
}

#[tokio::test]
async fn a_port_in_use_stops_the_broker() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    let mut config = Config::parse(
        &format!("listener 0 127.0.0.1\nhttp_listener {port} 127.0.0.1\n"),
        "test.conf",
    )
    .expect("configuration parses");
    config.log_dest = mq::broker::LogDest::None;
    let err = Broker::builder()
        .config(config)
        .start()
        .await
        .expect_err("the HTTP port is taken");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}

#[test]
fn http_listener_lines_are_checked() {
    let err = |conf: &str| Config::parse(conf, "m.conf").expect_err(conf).to_string();
    assert_eq!(
        err("http_listener"),
        "m.conf:1: option 'http_listener' needs a value"
    );
    assert!(
        err("http_listener port").contains("not a valid number"),
        "{}",
        err("http_listener port")
    );
    assert!(err("http_listener 8080 127.0.0.1 extra").contains("not 'extra'"));
    let c = Config::parse("http_listener 8080 ::1", "m.conf").expect("parses");
    let h = c.http_listener.expect("an HTTP listener");
    assert_eq!((h.port, h.address.as_deref()), (8080, Some("::1")));
}

#[tokio::test]
async fn the_command_line_flag_serves_on_loopback() {
    let b = common::MqBroker::start(&["-p", "0", "--http", "0"]);
    let line = b.wait_for("Opening http listen socket on port ", STEP);
    let port: u16 = line
        .rsplit("port ")
        .next()
        .and_then(|p| p.trim().trim_end_matches('.').parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let reply = get(SocketAddr::from(([127, 0, 0, 1], port)), "/healthz").await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed() {
    let b = broker("").await;
    let addr = http(&b);
    let limit = mq::broker::http::MAX_CONNECTIONS;
    let mut idle = Vec::new();
    for _ in 0..limit {
        idle.push(TcpStream::connect(addr).await.expect("connect"));
    }
    // Accepted in order: the extra one finds every place taken and is closed
    // without an answer.
    let refused = request(addr, "GET", "/healthz").await;
    assert!(refused.is_err(), "answered beyond the limit");
    idle.pop();
    // A place is free once the broker has seen the close.
    let deadline = Instant::now() + STEP;
    loop {
        if let Ok(r) = request(addr, "GET", "/healthz").await {
            assert_eq!(r.status, 200);
            break;
        }
        assert!(Instant::now() < deadline, "no place freed within {STEP:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(idle);
    b.shutdown().await;
}

#[tokio::test]
async fn messages_left_out_by_the_writer_are_counted_by_reason() {
    let b = broker("").await;
    let addr = http(&b);
    // A client that takes packets of 64 bytes at most [MQTT-3.1.2-25].
    let mut small = options(&b, "small", ProtocolVersion::V5);
    small.properties.maximum_packet_size = Some(64);
    let (small, _se) = Client::connect(small).await.expect("small connects");
    subscribe(&small, &["big"]).await;
    // A session away while its message expires [MQTT-3.3.2-5].
    let mut away = options(&b, "away", ProtocolVersion::V5);
    away.clean_start = false;
    away.session_expiry = Some(600);
    let (a, _ae) = Client::connect(away.clone()).await.expect("away connects");
    subscribe(&a, &["soon"]).await;
    a.disconnect().await.expect("away leaves");

    let (publisher, _pe) = Client::connect(options(&b, "pub", ProtocolVersion::V5))
        .await
        .expect("publisher connects");
    publisher
        .publish(Publish {
            topic: "big".into(),
            payload: bytes::Bytes::from(vec![b'x'; 200]),
            qos: QoS::AtLeastOnce,
            ..Publish::default()
        })
        .await
        .expect("publish big");
    let props = Properties {
        message_expiry_interval: Some(1),
        ..Properties::default()
    };
    publisher
        .publish(Publish {
            topic: "soon".into(),
            payload: bytes::Bytes::from_static(b"late"),
            qos: QoS::AtLeastOnce,
            properties: props,
            ..Publish::default()
        })
        .await
        .expect("publish soon");
    metric_reaches(addr, "mq_dropped_messages_total{reason=\"too_large\"}", 1.0).await;
    // The expiry interval is whole seconds: wait it out, then come back.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (back, _be) = Client::connect(away).await.expect("away comes back");
    let body = metric_reaches(addr, "mq_dropped_messages_total{reason=\"expired\"}", 1.0).await;
    assert_eq!(
        sample(&body, "mq_publish_dropped_total"),
        0.0,
        "$SYS counts the drops at a queue only"
    );
    drop((small, back, publisher));
    b.shutdown().await;
}
