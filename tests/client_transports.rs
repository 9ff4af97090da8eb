//! The client's transports against in-process servers on loopback port 0: TLS (a CA
//! and certificates generated with rcgen; unknown CA, hostname mismatch, expired
//! certificate, `--insecure`, client certificates) and MQTT over WebSocket (the `mqtt`
//! subprotocol, packets split across frames and several packets in one frame
//! [MQTT-6.0.0-2]).

// tungstenite's handshake callback returns its large `Result` type.
#![allow(clippy::result_large_err)]

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use mq::client::{Client, ConnectOptions, Error, Event, Scheme, TlsOptions};
use mq::protocol::{Packet, ProtocolVersion, Publish, QoS, decode};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

const STEP: Duration = Duration::from_secs(5);

/// A CA, written as PEM into a temporary directory.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pem_path: PathBuf,
}

fn make_ca(dir: &tempfile::TempDir, name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let issuer =
        CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
    let pem_path = dir.path().join(format!("{name}.pem"));
    std::fs::write(&pem_path, issuer.pem()).expect("write CA");
    Ca { issuer, pem_path }
}

/// A certificate for `names` signed by `ca`: (DER chain, key).
fn make_cert(
    ca: &Ca,
    names: &[&str],
    expired: bool,
) -> (
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
    KeyPair,
    String,
) {
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    params.distinguished_name.push(DnType::CommonName, names[0]);
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca.issuer).expect("sign");
    let der_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (vec![cert.der().clone()], der_key, key, cert.pem())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Answer CONNECT with a successful CONNACK on any byte stream, then hold the
/// connection until the client goes.
async fn mqtt_accept<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
    let mut buf = BytesMut::new();
    loop {
        if let Ok(Some(Packet::Connect(_))) = decode(&mut buf, ProtocolVersion::V311, 0) {
            break;
        }
        match s.read_buf(&mut buf).await {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
    let _ = s.write_all(&[0x20, 0x02, 0x00, 0x00]).await;
    let _ = s.flush().await;
    let mut sink = [0u8; 256];
    while let Ok(n) = s.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

/// A TLS MQTT server on 127.0.0.1:0 with this certificate; `client_ca` = require a
/// client certificate signed by it.
async fn tls_server(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<&Ca>,
) -> u16 {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca.issuer.der().clone()).expect("root");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider(),
            )
            .build()
            .expect("verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder.with_single_cert(chain, key).expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        for _ in 0..8 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    mqtt_accept(tls).await;
                }
            });
        }
    });
    port
}

fn tls_opts(host: &str, port: u16, ca: &Ca) -> ConnectOptions {
    let mut o = ConnectOptions::from_url(&format!("mqtts://{host}:{port}")).expect("url");
    o.tls.ca_file = Some(ca.pem_path.clone());
    o.connect_timeout = STEP;
    o
}

async fn tls_error(opts: ConnectOptions) -> String {
    match Client::connect(opts).await {
        Err(e @ Error::Tls(_)) => e.to_string(),
        Err(other) => panic!("expected a TLS error, got {other:?}"),
        Ok(_) => panic!("expected a TLS error, got a connection"),
    }
}

#[tokio::test]
async fn tls_with_trusted_ca_connects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(&dir, "ca");
    let (chain, key, _, _) = make_cert(&ca, &["127.0.0.1", "localhost"], false);
    let port = tls_server(chain, key, None).await;
    let (client, _events) = Client::connect(tls_opts("127.0.0.1", port, &ca))
        .await
        .expect("TLS connect");
    client.disconnect().await.expect("disconnect");
}

#[tokio::test]
async fn tls_unknown_ca_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(&dir, "ca");
    let other = make_ca(&dir, "other");
    let (chain, key, _, _) = make_cert(&ca, &["127.0.0.1"], false);
    let port = tls_server(chain, key, None).await;
    let msg = tls_error(tls_opts("127.0.0.1", port, &other)).await;
    assert!(msg.contains("unknown CA"), "{msg}");
}

#[tokio::test]
async fn tls_insecure_skips_the_hostname_check_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(&dir, "ca");
    let other = make_ca(&dir, "other");
    let (chain, key, _, _) = make_cert(&ca, &["10.9.9.9"], false);
    let port = tls_server(chain, key, None).await;
    // The right CA, the wrong name: accepted with --insecure (as mosquitto).
    let mut opts = tls_opts("127.0.0.1", port, &ca);
    opts.tls.insecure = true;
    let (client, _events) = Client::connect(opts).await.expect("insecure connect");
    client.disconnect().await.expect("disconnect");
    // An unknown CA is still refused.
    let mut opts = tls_opts("127.0.0.1", port, &other);
    opts.tls.insecure = true;
    let msg = tls_error(opts).await;
    assert!(msg.contains("unknown CA"), "{msg}");
}

#[tokio::test]
async fn tls_hostname_mismatch_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(&dir, "ca");
    let (chain, key, _, _) = make_cert(&ca, &["broker.invalid"], false);
    let port = tls_server(chain, key, None).await;
    let msg = tls_error(tls_opts("127.0.0.1", port, &ca)).await;
    assert!(msg.contains("hostname mismatch"), "{msg}");
}

#[tokio::test]
async fn tls_expired_certificate_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(&dir, "ca");
    let (chain, key, _, _) = make_cert(&ca, &["127.0.0.1"], true);
    let port = tls_server(chain, key, None).await;
    let msg = tls_error(tls_opts("127.0.0.1", port, &ca)).await;
    assert!(msg.contains("certificate expired"), "{msg}");
}

#[tokio::test]
async fn tls_client_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = make_ca(&dir, "ca");
    let (chain, key, _, _) = make_cert(&ca, &["127.0.0.1"], false);
    let port = tls_server(chain, key, Some(&ca)).await;

    // Without a client certificate the server refuses.
    let msg = tls_error(tls_opts("127.0.0.1", port, &ca)).await;
    assert!(msg.contains("refused by the server"), "{msg}");

    // With one it accepts.
    let (_, _, client_key, client_pem) = make_cert(&ca, &["client"], false);
    let cert_path = dir.path().join("client.pem");
    let key_path = dir.path().join("client.key");
    std::fs::write(&cert_path, client_pem).expect("write cert");
    std::fs::write(&key_path, client_key.serialize_pem()).expect("write key");
    let mut opts = tls_opts("127.0.0.1", port, &ca);
    opts.tls = TlsOptions {
        ca_file: Some(ca.pem_path.clone()),
        cert_file: Some(cert_path),
        key_file: Some(key_path),
        ..TlsOptions::default()
    };
    let (client, _events) = Client::connect(opts).await.expect("mutual TLS connect");
    client.disconnect().await.expect("disconnect");
}

#[tokio::test]
async fn tls_missing_ca_file_is_clear() {
    let mut opts = ConnectOptions::from_url("mqtts://127.0.0.1:1").expect("url");
    opts.tls.ca_file = Some(PathBuf::from("/nonexistent/ca.pem"));
    // The TLS configuration fails before anything is sent, or the port is closed:
    // either way a clear error, never a panic.
    let err = Client::connect(opts).await.expect_err("fails");
    assert!(matches!(err, Error::Tls(_) | Error::Io(_)), "{err:?}");
}

/// MQTT over WebSocket: the `mqtt` subprotocol is offered and accepted, the CONNACK
/// arrives split over two frames, and two PUBLISH packets share one frame.
#[tokio::test]
async fn websocket_frames_and_subprotocol() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let check = |req: &Request, mut resp: Response| {
            assert_eq!(req.uri().path(), "/mqtt");
            let proto = req
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(
                proto.split(',').any(|p| p.trim() == "mqtt"),
                "subprotocol offered: {proto}"
            );
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
            Ok(resp)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(tcp, check)
            .await
            .expect("ws handshake");
        let mut buf = BytesMut::new();
        assert!(matches!(
            next_packet(&mut ws, &mut buf).await,
            Packet::Connect(_)
        ));
        ws.send(Message::Binary(Bytes::from_static(&[0x20, 0x02])))
            .await
            .expect("send");
        ws.send(Message::Binary(Bytes::from_static(&[0x00, 0x00])))
            .await
            .expect("send");
        let two = [
            0x30, 0x04, 0x00, 0x01, b'a', b'1', // PUBLISH a "1"
            0x30, 0x04, 0x00, 0x01, b'b', b'2', // PUBLISH b "2"
        ];
        ws.send(Message::Binary(Bytes::copy_from_slice(&two)))
            .await
            .expect("send");
        let Packet::Publish(p) = next_packet(&mut ws, &mut buf).await else {
            panic!("expected PUBLISH")
        };
        assert_eq!(p.qos, QoS::AtLeastOnce);
        ws.send(Message::Binary(Bytes::copy_from_slice(&[
            0x40,
            0x02,
            0x00,
            p.packet_id as u8,
        ])))
        .await
        .expect("send");
        assert!(matches!(
            next_packet(&mut ws, &mut buf).await,
            Packet::Disconnect(_)
        ));
    });
    let mut opts = ConnectOptions::from_url(&format!("ws://127.0.0.1:{port}")).expect("url");
    assert_eq!(opts.scheme, Scheme::Ws);
    opts.connect_timeout = STEP;
    let (client, mut events) = Client::connect(opts).await.expect("ws connect");
    for (topic, payload) in [("a", "1"), ("b", "2")] {
        match timeout(STEP, events.recv()).await.expect("in time") {
            Some(Event::Message(p)) => {
                assert_eq!(&*p.topic, topic);
                assert_eq!(&p.payload[..], payload.as_bytes());
            }
            other => panic!("{other:?}"),
        }
    }
    let ack = client
        .publish(Publish {
            topic: "up".into(),
            qos: QoS::AtLeastOnce,
            payload: Bytes::from_static(b"x"),
            ..Publish::default()
        })
        .await
        .expect("acked over ws");
    assert_eq!(ack.packet_id, 1);
    client.disconnect().await.expect("disconnect");
    timeout(STEP, server)
        .await
        .expect("in time")
        .expect("server");
}

/// The next MQTT packet from binary WebSocket frames.
async fn next_packet(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    buf: &mut BytesMut,
) -> Packet {
    loop {
        if let Some(p) = decode(buf, ProtocolVersion::V311, 0).expect("valid packet") {
            return p;
        }
        let frame = timeout(STEP, ws.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("frame");
        match frame {
            Message::Binary(b) => buf.extend_from_slice(&b),
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// A WebSocket endpoint that is not there: a clear WebSocket error.
#[tokio::test]
async fn websocket_refused_handshake_is_clear() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            .await;
    });
    let mut opts = ConnectOptions::from_url(&format!("ws://127.0.0.1:{port}/nope")).expect("url");
    opts.connect_timeout = STEP;
    let err = Client::connect(opts).await.expect_err("fails");
    assert!(matches!(err, Error::WebSocket(_)), "{err:?}");
    assert!(err.to_string().contains("404"), "{err}");
}
