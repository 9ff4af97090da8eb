//! `mq bench` load modes over TLS and WebSocket: the `mq` binary against in-process
//! relays on loopback port 0 that terminate TLS (a CA and a server certificate made
//! with rcgen) or WebSocket (answering the `mqtt` subprotocol [MQTT-6.0.0-3], MQTT in
//! binary frames [MQTT-6.0.0-1]) and pass the bytes on to the embedded broker.

// tungstenite's handshake callback returns its large `Result` type.
#![allow(clippy::result_large_err)]

mod common;

use bytes::Bytes;
use common::{TestCa, bench_json, embedded_broker, run_bench, text};
use futures_util::{SinkExt, StreamExt};
use mq::broker::BrokerHandle;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Most connections a relay accepts before it stops listening.
const MAX_ACCEPTS: usize = 32;

/// A CA and a certificate for `localhost` signed by it; the CA's PEM is written into
/// `dir`. Returns (CA path, server chain, server key).
fn make_certs(
    dir: &tempfile::TempDir,
) -> (
    PathBuf,
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
) {
    let ca = TestCa::new("bench test CA");
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).expect("write CA");
    let server = ca.issue("localhost", &["localhost"]);
    (ca_path, server.chain(), server.private_key())
}

/// A TLS terminator on 127.0.0.1:0 that relays every connection to `broker`.
async fn tls_relay(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    broker: SocketAddr,
) -> u16 {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        for _ in 0..MAX_ACCEPTS {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut up) = TcpStream::connect(broker).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    port
}

/// A WebSocket terminator on 127.0.0.1:0 (path `/mqtt`, subprotocol `mqtt`) that
/// relays binary frames to `broker` and the broker's bytes back as binary frames.
async fn ws_relay(broker: SocketAddr) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        for _ in 0..MAX_ACCEPTS {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let check = |req: &Request, mut resp: Response| {
                    let offered = req
                        .headers()
                        .get("Sec-WebSocket-Protocol")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    // [MQTT-6.0.0-3]: the client offers "mqtt"; a relay that did not
                    // see it would fail the bench's handshake.
                    if offered.split(',').any(|p| p.trim() == "mqtt") {
                        resp.headers_mut()
                            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
                    }
                    Ok(resp)
                };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
                    return;
                };
                let Ok(up) = TcpStream::connect(broker).await else {
                    return;
                };
                let (mut ws_tx, mut ws_rx) = ws.split();
                let (mut up_rx, mut up_tx) = up.into_split();
                let to_broker = async move {
                    while let Some(Ok(msg)) = ws_rx.next().await {
                        let ok = match msg {
                            Message::Binary(b) => up_tx.write_all(&b).await.is_ok(),
                            Message::Close(_) => false,
                            _ => true,
                        };
                        if !ok {
                            break;
                        }
                    }
                    let _ = up_tx.shutdown().await;
                };
                let to_client = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        match up_rx.read(&mut buf).await {
                            Ok(n) if n > 0 => {
                                let frame = Message::Binary(Bytes::copy_from_slice(&buf[..n]));
                                if ws_tx.send(frame).await.is_err() {
                                    break;
                                }
                            }
                            _ => break,
                        }
                    }
                    let _ = ws_tx.close().await;
                };
                tokio::join!(to_broker, to_client);
            });
        }
    });
    port
}

/// The embedded broker behind [`tls_relay`]: (broker, CA file, `mqtts://localhost:PORT`).
fn broker_behind_tls(
    rt: &tokio::runtime::Runtime,
    dir: &tempfile::TempDir,
) -> (BrokerHandle, PathBuf, String) {
    let (ca_path, chain, key) = make_certs(dir);
    let handle = rt.block_on(embedded_broker());
    let port = rt.block_on(tls_relay(chain, key, handle.local_addr()));
    (handle, ca_path, format!("mqtts://localhost:{port}"))
}

/// The embedded broker behind [`ws_relay`]: (broker, `ws://127.0.0.1:PORT/mqtt`).
fn broker_behind_websocket(rt: &tokio::runtime::Runtime) -> (BrokerHandle, String) {
    let handle = rt.block_on(embedded_broker());
    let port = rt.block_on(ws_relay(handle.local_addr()));
    (handle, format!("ws://127.0.0.1:{port}/mqtt"))
}

/// Run `mq bench pubsub --limit 200 --json` with these connection flags and check
/// that every message made it through exactly once.
fn pubsub_200(conn_args: &[&str], broker_url: &str) {
    let mut args = vec!["pubsub"];
    args.extend_from_slice(conn_args);
    args.extend_from_slice(&["-c", "2", "-q", "1", "--limit", "200", "--json", "--quiet"]);
    let v = bench_json(&args, Duration::from_secs(30));
    assert_eq!(v["broker"], broker_url);
    assert_eq!(v["stopped_by"], "limit");
    assert_eq!(v["connections"]["failed"], 0);
    assert_eq!(v["messages"]["sent"], 200);
    assert_eq!(v["messages"]["acked"], 200);
    assert_eq!(v["messages"]["received"], 200);
    assert_eq!(v["delivery"]["unique"], 200);
    assert_eq!(v["delivery"]["lost"], 0);
    assert_eq!(v["delivery"]["duplicates"], 0);
    assert_eq!(v["errors"], serde_json::json!({}));
}

/// QoS 1 load over TLS, verified against a CA given with --cafile; the certificate
/// names `localhost`, so the host name check is exercised too.
#[test]
fn pubsub_over_tls_loses_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (_broker, ca_path, url) = broker_behind_tls(&rt, &dir);
    let ca = ca_path.to_str().expect("UTF-8 path");
    pubsub_200(&["-L", &url, "--cafile", ca], &url);
}

/// QoS 1 load over WebSocket: MQTT in binary frames with the `mqtt` subprotocol
/// [MQTT-6.0.0-1] [MQTT-6.0.0-3].
#[test]
fn pubsub_over_websocket_loses_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_broker, url) = broker_behind_websocket(&rt);
    pubsub_200(&["-L", &url], &url);
}

/// A TLS server whose certificate the bench does not trust: the connections fail with
/// the TLS reason counted, not a hang or a panic.
#[test]
fn tls_untrusted_certificate_is_reported() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (_broker, _ca_path, url) = broker_behind_tls(&rt, &dir);
    let out = run_bench(
        &[
            "pub", "-L", &url, "-c", "1", "--limit", "10", "--json", "--quiet",
        ],
        Duration::from_secs(30),
    );
    let output = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{output}");
    assert!(output.contains("TLS"), "{output}");
}

/// A connection storm over WebSocket: every CONNECT gets its CONNACK through the
/// client layer's transport and the counts add up.
#[test]
fn conn_over_websocket_connects_all() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_broker, url) = broker_behind_websocket(&rt);
    let v = bench_json(
        &["conn", "-L", &url, "-c", "8", "--json", "--quiet"],
        Duration::from_secs(30),
    );
    assert_eq!(v["mode"], "conn");
    assert_eq!(v["broker"], url);
    assert_eq!(v["connections"]["attempted"], 8);
    assert_eq!(v["connections"]["succeeded"], 8);
    assert_eq!(v["connections"]["failed"], 0);
}
