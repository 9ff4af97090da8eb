//! The mosquitto_pub/mosquitto_sub transport and debug flags of `mq pub`/`mq sub`, over
//! real sockets against the embedded broker: `--unix` (through an in-process Unix
//! socket relay), `-A`, `--proxy socks5h://` (an in-process SOCKS5 server, RFC 1928 and
//! RFC 1929), `--capath`, `--tls-version`, `--tls-alpn` (an in-process TLS relay with
//! rcgen certificates) and the `-d` packet trace on stdout.

mod common;

use common::{TestCa, client_options, embedded_broker, mq_command, text, watcher};
use mq::client::{Client, Events};
use mq::protocol::QoS;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

const STEP: Duration = Duration::from_secs(10);

/// `mq` (environment defaults cleared) as a tokio command, killed if dropped.
fn mq_tokio() -> tokio::process::Command {
    let mut c = tokio::process::Command::from(mq_command());
    c.kill_on_drop(true);
    c
}

/// Run `mq` with `args`, at most 20 s.
async fn mq(args: &[&str]) -> Output {
    timeout(Duration::from_secs(20), mq_tokio().args(args).output())
        .await
        .expect("mq finished in time")
        .expect("run mq")
}

/// Assert that a run exited with 1 and said `needle` on stderr.
fn assert_fails_saying(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(needle), "{err}");
}

/// The next message's (topic, payload).
async fn next_message(events: &mut Events) -> (String, Vec<u8>) {
    let m = common::next_message(events, STEP).await;
    (m.topic.to_string(), m.payload.to_vec())
}

/// Pipe `a` and `b` together until either side closes.
async fn pipe<A, B>(mut a: A, mut b: B)
where
    A: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    B: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_publishes_through_a_relay_to_the_broker() {
    let b = embedded_broker().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("mq.sock");
    let listener = tokio::net::UnixListener::bind(&sock).expect("bind unix socket");
    let port = b.local_addr().port();
    let (seen_tx, mut seen_rx) = mpsc::channel(4);
    tokio::spawn(async move {
        for _ in 0..4 {
            let Ok((s, _)) = listener.accept().await else {
                return;
            };
            let _ = seen_tx.send(()).await;
            let Ok(tcp) = TcpStream::connect(("127.0.0.1", port)).await else {
                return;
            };
            tokio::spawn(pipe(s, tcp));
        }
    });
    let (_w, mut events) = watcher(&b, &["unix/#"]).await;
    let sock_s = sock.to_string_lossy().into_owned();
    // -h/-p point nowhere useful: --unix wins.
    let out = mq(&[
        "pub",
        "--unix",
        &sock_s,
        "-p",
        "1",
        "-t",
        "unix/t",
        "-m",
        "over unix",
        "-q",
        "1",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(seen_rx.try_recv().is_ok(), "the Unix socket was used");
    assert_eq!(
        next_message(&mut events).await,
        ("unix/t".to_string(), b"over unix".to_vec())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_address_local_connects_and_foreign_fails_clearly() {
    let b = embedded_broker().await;
    let port = b.local_addr().port().to_string();
    let (_w, mut events) = watcher(&b, &["bind/#"]).await;
    let out = mq(&[
        "pub",
        "-A",
        "127.0.0.1",
        "--nodelay",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "bind/t",
        "-m",
        "bound",
        "-q",
        "1",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        next_message(&mut events).await,
        ("bind/t".to_string(), b"bound".to_vec())
    );
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is not an address of this machine.
    let out = mq(&[
        "pub",
        "-A",
        "192.0.2.1",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "bind/t",
        "-m",
        "x",
    ])
    .await;
    assert_fails_saying(&out, "cannot bind to local address 192.0.2.1");
}

/// What the in-process SOCKS5 server saw: the destination address form and value.
#[derive(Debug, PartialEq, Eq)]
struct SocksSeen {
    atyp: u8,
    host: String,
    port: u16,
    user: Option<(String, String)>,
}

/// A minimal SOCKS5 server (RFC 1928; RFC 1929 when `creds` is set) on 127.0.0.1:0
/// relaying every CONNECT to `target`, reporting what each client asked for.
async fn socks5_server(
    target: u16,
    creds: Option<(&'static str, &'static str)>,
) -> (u16, mpsc::Receiver<SocksSeen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        for _ in 0..4 {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut head = [0u8; 2];
                s.read_exact(&mut head).await.expect("greeting");
                assert_eq!(head[0], 5, "SOCKS version 5");
                let mut methods = vec![0u8; head[1] as usize];
                s.read_exact(&mut methods).await.expect("methods");
                let mut user = None;
                if let Some((u, p)) = creds {
                    assert!(methods.contains(&2), "username/password offered");
                    s.write_all(&[5, 2]).await.expect("choose");
                    let mut v = [0u8; 2];
                    s.read_exact(&mut v).await.expect("auth head");
                    assert_eq!(v[0], 1, "RFC 1929 version 1");
                    let mut name = vec![0u8; v[1] as usize];
                    s.read_exact(&mut name).await.expect("name");
                    let mut plen = [0u8; 1];
                    s.read_exact(&mut plen).await.expect("plen");
                    let mut pass = vec![0u8; plen[0] as usize];
                    s.read_exact(&mut pass).await.expect("pass");
                    let (name, pass) = (text(&name), text(&pass));
                    let ok = name == u && pass == p;
                    s.write_all(&[1, if ok { 0 } else { 1 }])
                        .await
                        .expect("status");
                    if !ok {
                        let _ = tx
                            .send(SocksSeen {
                                atyp: 0,
                                host: String::new(),
                                port: 0,
                                user: Some((name, pass)),
                            })
                            .await;
                        return;
                    }
                    user = Some((name, pass));
                } else {
                    assert!(methods.contains(&0), "no-auth offered");
                    s.write_all(&[5, 0]).await.expect("choose");
                }
                let mut req = [0u8; 4];
                s.read_exact(&mut req).await.expect("request");
                assert_eq!(&req[..3], &[5, 1, 0], "CONNECT");
                let host = match req[3] {
                    3 => {
                        let mut len = [0u8; 1];
                        s.read_exact(&mut len).await.expect("len");
                        let mut name = vec![0u8; len[0] as usize];
                        s.read_exact(&mut name).await.expect("name");
                        text(&name)
                    }
                    1 => {
                        let mut a = [0u8; 4];
                        s.read_exact(&mut a).await.expect("v4");
                        std::net::Ipv4Addr::from(a).to_string()
                    }
                    other => panic!("unexpected ATYP {other}"),
                };
                let mut p = [0u8; 2];
                s.read_exact(&mut p).await.expect("port");
                let _ = tx
                    .send(SocksSeen {
                        atyp: req[3],
                        host,
                        port: u16::from_be_bytes(p),
                        user,
                    })
                    .await;
                let tcp = TcpStream::connect(("127.0.0.1", target))
                    .await
                    .expect("reach the broker");
                s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])
                    .await
                    .expect("reply");
                pipe(s, tcp).await;
            });
        }
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5h_proxy_sends_the_host_name_and_authenticates() {
    let b = embedded_broker().await;
    let (proxy_port, mut seen) =
        socks5_server(b.local_addr().port(), Some(("alice", "s3cret"))).await;
    let (_w, mut events) = watcher(&b, &["proxy/#"]).await;
    let proxy = format!("socks5h://alice:s3cret@127.0.0.1:{proxy_port}");
    let out = mq(&[
        "pub",
        "--proxy",
        &proxy,
        "-h",
        "broker.invalid",
        "-p",
        "1884",
        "-t",
        "proxy/t",
        "-m",
        "via socks",
        "-q",
        "1",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    // socks5h: the proxy, not mq, resolves the name (ATYP 3 = domain name).
    assert_eq!(
        seen.recv().await.expect("proxy saw a request"),
        SocksSeen {
            atyp: 3,
            host: "broker.invalid".into(),
            port: 1884,
            user: Some(("alice".into(), "s3cret".into())),
        }
    );
    assert_eq!(
        next_message(&mut events).await,
        ("proxy/t".to_string(), b"via socks".to_vec())
    );

    // A wrong password is refused with a clear message.
    let proxy = format!("socks5h://alice:wrong@127.0.0.1:{proxy_port}");
    let out = mq(&[
        "pub", "--proxy", &proxy, "-h", "x", "-t", "proxy/t", "-m", "no",
    ])
    .await;
    assert_fails_saying(&out, "authentication failed");

    // Only socks5h:// is understood.
    let out = mq(&[
        "pub",
        "--proxy",
        "http://127.0.0.1:1",
        "-t",
        "t",
        "-m",
        "no",
    ])
    .await;
    assert_fails_saying(&out, "socks5h");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5h_proxy_without_authentication() {
    let b = embedded_broker().await;
    let (proxy_port, mut seen) = socks5_server(b.local_addr().port(), None).await;
    let proxy = format!("socks5h://127.0.0.1:{proxy_port}");
    let out = mq(&[
        "pub",
        "--proxy",
        &proxy,
        "-h",
        "127.0.0.1",
        "-p",
        "1883",
        "-t",
        "p",
        "-m",
        "x",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = seen.recv().await.expect("proxy saw a request");
    // An IP literal goes as an IPv4 address (ATYP 1).
    assert_eq!(
        (s.atyp, s.host.as_str(), s.port, s.user),
        (1, "127.0.0.1", 1883, None)
    );
}

/// A CA in `dir` (file `name`.pem) and a server certificate for localhost/127.0.0.1.
fn make_pki(
    dir: &std::path::Path,
    name: &str,
) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let ca = TestCa::new(name);
    std::fs::write(dir.join(format!("{name}.pem")), ca.pem()).expect("write CA");
    let server = ca.issue("localhost", &["localhost", "127.0.0.1"]);
    (server.chain(), server.private_key())
}

/// A TLS relay on 127.0.0.1:0 in front of the broker: only `versions`, offering
/// `alpn`; reports the negotiated (TLS version, ALPN) of each connection.
async fn tls_relay(
    target: u16,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&str],
) -> (u16, mpsc::Receiver<(String, Option<String>)>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
    config.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        for _ in 0..8 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let conn = tls.get_ref().1;
                let version = format!("{:?}", conn.protocol_version());
                let alpn = conn.alpn_protocol().map(text);
                let _ = tx.send((version, alpn)).await;
                let Ok(up) = TcpStream::connect(("127.0.0.1", target)).await else {
                    return;
                };
                pipe(tls, up).await;
            });
        }
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capath_trusts_every_pem_in_the_directory() {
    let b = embedded_broker().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cas = dir.path().join("cas");
    std::fs::create_dir(&cas).expect("mkdir");
    // An unrelated CA, the right one, and a file that is not PEM at all.
    let _ = make_pki(&cas, "other");
    let (chain, key) = make_pki(&cas, "right");
    std::fs::write(cas.join("README.txt"), "not a certificate\n").expect("write");
    let (port, mut seen) = tls_relay(
        b.local_addr().port(),
        chain,
        key,
        rustls::DEFAULT_VERSIONS,
        &[],
    )
    .await;
    let (_w, mut events) = watcher(&b, &["tls/#"]).await;
    let cas_s = cas.to_string_lossy().into_owned();
    let port_s = port.to_string();
    let out = mq(&[
        "pub",
        "--capath",
        &cas_s,
        "-h",
        "localhost",
        "-p",
        &port_s,
        "-t",
        "tls/capath",
        "-m",
        "trusted",
        "-q",
        "1",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("Warning") && err.contains("README.txt"),
        "{err}"
    );
    assert!(seen.recv().await.is_some());
    assert_eq!(
        next_message(&mut events).await,
        ("tls/capath".to_string(), b"trusted".to_vec())
    );

    // A directory holding only the unrelated CA: unknown CA.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    let _ = make_pki(&other, "stranger");
    let other_s = other.to_string_lossy().into_owned();
    let out = mq(&[
        "pub",
        "--capath",
        &other_s,
        "-h",
        "localhost",
        "-p",
        &port_s,
        "-t",
        "t",
        "-m",
        "x",
    ])
    .await;
    assert_fails_saying(&out, "unknown CA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_version_restricts_and_alpn_is_offered() {
    let b = embedded_broker().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, key) = make_pki(dir.path(), "ca");
    let ca = dir.path().join("ca.pem").to_string_lossy().into_owned();
    // A server that speaks TLS 1.2 only and knows ALPN "mqtt".
    let (port, mut seen) = tls_relay(
        b.local_addr().port(),
        chain,
        key,
        &[&rustls::version::TLS12],
        &["mqtt"],
    )
    .await;
    let port_s = port.to_string();
    let base = [
        "pub",
        "--cafile",
        &ca,
        "-h",
        "localhost",
        "-p",
        &port_s,
        "-t",
        "tls/v",
        "-m",
        "x",
    ];

    let mut args = base.to_vec();
    args.extend(["--tls-version", "tlsv1.3"]);
    let out = mq(&args).await;
    // TLS 1.3 only against a 1.2 server.
    assert_fails_saying(&out, "TLS");

    let mut args = base.to_vec();
    args.extend(["--tls-version", "tlsv1.2", "--tls-alpn", "mqtt"]);
    let out = mq(&args).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (version, alpn) = timeout(STEP, seen.recv())
        .await
        .expect("in time")
        .expect("seen");
    assert_eq!(version, "Some(TLSv1_2)");
    assert_eq!(alpn.as_deref(), Some("mqtt"));

    let mut args = base.to_vec();
    args.extend(["--tls-version", "tlsv1.1"]);
    let out = mq(&args).await;
    assert_fails_saying(&out, "not supported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_trace_of_a_qos2_publish_on_stdout() {
    // [MQTT-4.3.3]: PUBLISH, PUBREC, PUBREL, PUBCOMP, traced in mosquitto_pub's words.
    let b = embedded_broker().await;
    let port = b.local_addr().port().to_string();
    let out = mq(&[
        "pub",
        "-d",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-i",
        "dbg",
        "-t",
        "dbg/t",
        "-m",
        "hello",
        "-q",
        "2",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Client dbg sending CONNECT\n\
         Client dbg received CONNACK (0)\n\
         Client dbg sending PUBLISH (d0, q2, r0, m1, 'dbg/t', ... (5 bytes))\n\
         Client dbg received PUBREC (Mid: 1)\n\
         Client dbg sending PUBREL (m1)\n\
         Client dbg received PUBCOMP (Mid: 1, RC:0)\n\
         Client dbg sending DISCONNECT\n"
    );
    assert_eq!(text(&out.stderr), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_trace_of_a_qos2_subscriber() {
    let b = embedded_broker().await;
    let port = b.local_addr().port().to_string();
    let mut sub = mq_tokio();
    sub.args([
        "sub",
        "-d",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-i",
        "dsub",
        "-t",
        "dbg/s",
        "-q",
        "2",
        "-C",
        "1",
        "-W",
        "15",
    ])
    .stdout(std::process::Stdio::piped());
    let child = sub.spawn().expect("spawn mq sub");
    // Wait until the subscription exists, then publish at QoS 2.
    let (publisher, _e) = Client::connect(client_options(&b)).await.expect("connect");
    let mut out = None;
    let started = std::time::Instant::now();
    let mut child = Some(child);
    while started.elapsed() < Duration::from_secs(10) {
        publisher
            .publish(mq::protocol::Publish {
                topic: "dbg/s".into(),
                qos: QoS::ExactlyOnce,
                payload: bytes::Bytes::from_static(b"hello"),
                ..Default::default()
            })
            .await
            .expect("publish");
        let c = child.as_mut().expect("child");
        if let Ok(Some(_)) = c.try_wait() {
            out = Some(
                child
                    .take()
                    .expect("child")
                    .wait_with_output()
                    .await
                    .expect("output"),
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = out.expect("mq sub exited after one message");
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    for want in [
        "Client dsub sending CONNECT",
        "Client dsub received CONNACK (0)",
        "Client dsub sending SUBSCRIBE (Mid: 1, Topic: dbg/s, QoS: 2, Options: 0x00)",
        "Client dsub received SUBACK",
        "Subscribed (mid: 1): 2",
        "Client dsub sending PUBREC (m1, rc0)",
        "Client dsub received PUBREL (Mid: 1)",
        "Client dsub sending PUBCOMP (m1)",
        "hello",
        "Client dsub sending DISCONNECT",
    ] {
        assert!(lines.contains(&want), "missing {want:?} in\n{stdout}");
    }
    assert!(
        lines.iter().any(
            |l| l.starts_with("Client dsub received PUBLISH (d0, q2, r0, m")
                && l.ends_with("'dbg/s', ... (5 bytes))")
        ),
        "{stdout}"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_use_os_certs_reads_the_system_bundle() {
    let b = embedded_broker().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, key) = make_pki(dir.path(), "ca");
    let (port, mut seen) = tls_relay(
        b.local_addr().port(),
        chain,
        key,
        rustls::DEFAULT_VERSIONS,
        &[],
    )
    .await;
    let (_w, mut events) = watcher(&b, &["os/#"]).await;
    // SSL_CERT_FILE names the system bundle (as OpenSSL reads it): here, our CA.
    let mut c = mq_tokio();
    c.env("SSL_CERT_FILE", dir.path().join("ca.pem")).args([
        "pub",
        "--tls-use-os-certs",
        "-h",
        "localhost",
        "-p",
        &port.to_string(),
        "-t",
        "os/t",
        "-m",
        "system CAs",
        "-q",
        "1",
    ]);
    let out = timeout(Duration::from_secs(20), c.output())
        .await
        .expect("in time")
        .expect("run mq");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(seen.recv().await.is_some());
    assert_eq!(
        next_message(&mut events).await,
        ("os/t".to_string(), b"system CAs".to_vec())
    );
}
