//! `mq broker` listeners over every transport, configured in mosquitto.conf syntax:
//! TLS (`certfile`, `keyfile`, `cafile`, `require_certificate`, `tls_version`),
//! WebSocket (`protocol websockets`) and WebSocket over TLS, all handled by the same
//! connection code; bad TLS files refused at start naming the file; a client that
//! never finishes a TLS or WebSocket handshake closed within the CONNECT timeout.
//! Clients are the project's own client layer (`mqtts://`, `ws://`, `wss://`);
//! tests/interop runs real peers.

mod common;

use common::{TestPki, next_message};
use mq::broker::{Broker, BrokerHandle, Config};
use mq::client::{Client, ConnectOptions, TlsOptions};
use mq::protocol::{Properties, Publish, QoS, SubscribeFilter, SubscriptionOptions};
use std::time::Duration;
use tokio::io::AsyncReadExt;

const STEP: Duration = Duration::from_secs(5);

/// A broker from configuration text (a `listener 0 127.0.0.1` line in it picks a free
/// port).
async fn broker(conf: &str) -> BrokerHandle {
    let mut config = Config::parse(conf, "test.conf").expect("configuration parses");
    config.log_dest = mq::broker::LogDest::None;
    config.security.allow_anonymous = Some(true);
    Broker::builder()
        .config(config)
        .start()
        .await
        .expect("broker starts")
}

fn tls_conf(pki: &TestPki, extra: &str) -> String {
    format!(
        "listener 0 127.0.0.1\ncertfile {}\nkeyfile {}\n{extra}",
        pki.path("server.pem").display(),
        pki.path("server.key").display()
    )
}

fn opts(url: &str, pki: Option<&TestPki>) -> ConnectOptions {
    let mut o = ConnectOptions::from_url(url).expect("url");
    if let Some(pki) = pki {
        o.tls.ca_file = Some(pki.path("ca.pem"));
    }
    o.connect_timeout = STEP;
    o
}

/// Subscribe with one client and publish with another, both with `o`; the message
/// arrives.
async fn round_trip(o: ConnectOptions) {
    let (sub, mut events) = Client::connect(o.clone())
        .await
        .expect("subscriber connects");
    sub.subscribe(
        vec![SubscribeFilter {
            filter: "t/#".into(),
            options: SubscriptionOptions::qos(QoS::AtLeastOnce),
        }],
        Properties::default(),
    )
    .await
    .expect("subscribe");
    let (publ, _e) = Client::connect(o).await.expect("publisher connects");
    publ.publish(Publish {
        topic: "t/1".into(),
        payload: bytes::Bytes::from_static(b"over the transport"),
        qos: QoS::AtLeastOnce,
        ..Publish::default()
    })
    .await
    .expect("publish");
    let m = next_message(&mut events, STEP).await;
    assert_eq!(&m.payload[..], b"over the transport");
}

#[tokio::test]
async fn tls_listener_serves_mqtts() {
    let pki = TestPki::new(&["localhost", "127.0.0.1"]);
    let b = broker(&tls_conf(&pki, "")).await;
    let port = b.local_addr().port();
    round_trip(opts(&format!("mqtts://localhost:{port}"), Some(&pki))).await;
}

#[tokio::test]
async fn tls_listener_refuses_a_client_that_does_not_trust_it() {
    let pki = TestPki::new(&["localhost"]);
    let b = broker(&tls_conf(&pki, "")).await;
    let port = b.local_addr().port();
    let mut o = opts(&format!("mqtts://localhost:{port}"), None);
    o.tls.ca_file = Some(pki.path("other.pem"));
    let Err(e) = Client::connect(o).await else {
        panic!("a client that does not trust the broker's certificate connected");
    };
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}

#[tokio::test]
async fn require_certificate_accepts_only_clients_with_one() {
    let pki = TestPki::new(&["localhost"]);
    let extra = format!(
        "cafile {}\nrequire_certificate true\n",
        pki.path("ca.pem").display()
    );
    let b = broker(&tls_conf(&pki, &extra)).await;
    let url = format!("mqtts://localhost:{}", b.local_addr().port());
    assert!(
        Client::connect(opts(&url, Some(&pki))).await.is_err(),
        "a client without a certificate is refused"
    );
    let mut o = opts(&url, Some(&pki));
    o.tls = TlsOptions {
        ca_file: Some(pki.path("ca.pem")),
        cert_file: Some(pki.path("client.pem")),
        key_file: Some(pki.path("client.key")),
        ..TlsOptions::default()
    };
    round_trip(o).await;
}

#[tokio::test]
async fn tls_version_limits_the_versions() {
    let pki = TestPki::new(&["localhost"]);
    let b = broker(&tls_conf(&pki, "tls_version tlsv1.3\n")).await;
    round_trip(opts(
        &format!("mqtts://localhost:{}", b.local_addr().port()),
        Some(&pki),
    ))
    .await;
}

#[tokio::test]
async fn websocket_listener_serves_ws() {
    let b = broker("listener 0 127.0.0.1\nprotocol websockets\n").await;
    round_trip(opts(
        &format!("ws://127.0.0.1:{}/mqtt", b.local_addr().port()),
        None,
    ))
    .await;
}

#[tokio::test]
async fn websocket_over_tls_listener_serves_wss() {
    let pki = TestPki::new(&["localhost"]);
    let b = broker(&tls_conf(&pki, "protocol websockets\n")).await;
    let port = b.local_addr().port();
    round_trip(opts(&format!("wss://localhost:{port}/mqtt"), Some(&pki))).await;
}

/// Several listeners at once, each with its own transport.
#[tokio::test]
async fn plain_tls_and_websocket_listeners_side_by_side() {
    let pki = TestPki::new(&["localhost"]);
    let conf = format!(
        "listener 0 127.0.0.1\n{}listener 0 127.0.0.1\nprotocol websockets\n",
        tls_conf(&pki, "")
    );
    let b = broker(&conf).await;
    let addrs = b.local_addrs();
    assert_eq!(addrs.len(), 3, "{addrs:?}");
    round_trip(opts(&format!("mqtt://127.0.0.1:{}", addrs[0].port()), None)).await;
    round_trip(opts(
        &format!("mqtts://localhost:{}", addrs[1].port()),
        Some(&pki),
    ))
    .await;
    round_trip(opts(
        &format!("ws://127.0.0.1:{}/mqtt", addrs[2].port()),
        None,
    ))
    .await;
}

/// A missing key file or a file without a certificate stops the broker at start,
/// naming the file.
#[tokio::test]
async fn bad_tls_files_are_named_at_start() {
    let pki = TestPki::new(&["localhost"]);
    let missing = pki.path("missing.key");
    let conf = format!(
        "listener 0 127.0.0.1\ncertfile {}\nkeyfile {}\n",
        pki.path("server.pem").display(),
        missing.display()
    );
    let config = Config::parse(&conf, "test.conf").expect("parses");
    let e = Broker::builder()
        .config(config)
        .start()
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("missing.key"), "{e}");
    let conf = format!(
        "listener 0 127.0.0.1\ncertfile {}\nkeyfile {}\n",
        pki.path("server.key").display(),
        pki.path("server.key").display()
    );
    let config = Config::parse(&conf, "test.conf").expect("parses");
    let e = Broker::builder()
        .config(config)
        .start()
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("server.key"), "{e}");
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
}

/// A TLS or WebSocket client that connects and never finishes its handshake is
/// closed within the CONNECT timeout, like one that never sends CONNECT.
#[tokio::test]
async fn unfinished_handshakes_are_closed_within_the_connect_timeout() {
    let pki = TestPki::new(&["localhost"]);
    for conf in [
        tls_conf(&pki, ""),
        "listener 0 127.0.0.1\nprotocol websockets\n".to_string(),
    ] {
        let mut config = Config::parse(&conf, "test.conf").expect("parses");
        config.log_dest = mq::broker::LogDest::None;
        config.connect_timeout = Duration::from_millis(500);
        let b = Broker::builder()
            .config(config)
            .start()
            .await
            .expect("starts");
        let mut s = tokio::net::TcpStream::connect(b.local_addr())
            .await
            .expect("connect");
        // Half a handshake, then nothing.
        use tokio::io::AsyncWriteExt;
        s.write_all(b"\x16\x03\x01\x00").await.expect("write");
        let mut buf = [0u8; 256];
        let closed = tokio::time::timeout(STEP, async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "still open after the timeout: {conf}");
    }
}

/// [MQTT-6.0.0-2] Over WebSocket, one MQTT packet may span several frames and one
/// frame may hold several packets; [MQTT-6.0.0-4] the broker selects the `mqtt`
/// subprotocol.
#[tokio::test]
async fn websocket_packets_split_across_frames_and_joined_in_one() {
    use bytes::BytesMut;
    use futures_util::{SinkExt, StreamExt};
    use mq::protocol::{Connect, Packet, ProtocolVersion, Subscribe, decode, encode};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let b = broker("listener 0 127.0.0.1\nprotocol websockets\n").await;
    let tcp = tokio::net::TcpStream::connect(b.local_addr())
        .await
        .expect("connect");
    let mut req = format!("ws://127.0.0.1:{}/mqtt", b.local_addr().port())
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "mqtt".parse().expect("header"));
    let (mut ws, resp) = tokio_tungstenite::client_async(req, tcp)
        .await
        .expect("WebSocket handshake");
    assert_eq!(
        resp.headers()
            .get("Sec-WebSocket-Protocol")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("mqtt")
    );
    let v = ProtocolVersion::V311;
    let bytes = |p: &Packet| {
        let mut out = BytesMut::new();
        encode(p, v, &mut out).expect("encodes");
        out.to_vec()
    };
    let connect = bytes(&Packet::Connect(Box::new(Connect {
        protocol: v,
        clean_start: true,
        keep_alive: 30,
        client_id: "frames".into(),
        ..Connect::default()
    })));
    // CONNECT in three frames.
    for part in [&connect[..3], &connect[3..7], &connect[7..]] {
        ws.send(Message::Binary(part.to_vec().into()))
            .await
            .expect("send");
    }
    // SUBSCRIBE and a PUBLISH to it in one frame.
    let mut both = bytes(&Packet::Subscribe(Subscribe {
        packet_id: 1,
        filters: vec![SubscribeFilter {
            filter: "f/t".into(),
            options: SubscriptionOptions::qos(QoS::AtMostOnce),
        }],
        properties: Properties::default(),
    }));
    both.extend(bytes(&Packet::Publish(Publish {
        topic: "f/t".into(),
        payload: bytes::Bytes::from_static(b"joined"),
        ..Publish::default()
    })));
    ws.send(Message::Binary(both.into())).await.expect("send");
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    while got.len() < 3 {
        let frame = tokio::time::timeout(STEP, ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("frame");
        if let Message::Binary(data) = frame {
            buf.extend_from_slice(&data);
        }
        while let Some(p) = decode(&mut buf, v, 0).expect("valid packets") {
            got.push(p);
        }
    }
    assert!(matches!(got[0], Packet::ConnAck(_)), "{got:?}");
    assert!(matches!(got[1], Packet::SubAck(_)), "{got:?}");
    match &got[2] {
        Packet::Publish(p) => assert_eq!(&p.payload[..], b"joined"),
        other => panic!("expected the PUBLISH, got {other:?}"),
    }
}

/// `socket_domain ipv4` / `ipv6` limits a listener without an address to one family.
#[tokio::test]
async fn socket_domain_picks_the_address_family() {
    let b = broker("listener 0\nsocket_domain ipv4\n").await;
    let addrs = b.local_addrs();
    assert!(
        !addrs.is_empty() && addrs.iter().all(|a| a.is_ipv4()),
        "{addrs:?}"
    );
    round_trip(opts(&format!("mqtt://127.0.0.1:{}", addrs[0].port()), None)).await;
    let mut config =
        Config::parse("listener 0\nsocket_domain ipv6\n", "test.conf").expect("parses");
    config.log_dest = mq::broker::LogDest::None;
    if let Ok(b) = Broker::builder().config(config).start().await {
        // (A machine without IPv6 cannot bind it: then there is nothing to check.)
        assert!(
            b.local_addrs().iter().all(|a| a.is_ipv6()),
            "{:?}",
            b.local_addrs()
        );
    }
}
