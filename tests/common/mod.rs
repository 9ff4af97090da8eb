//! What the integration tests share: the `mq` binary with a clean environment, child
//! processes that cannot outlive a failing test, `mq broker -p 0` run as a process
//! with its port read back from its log, the embedded broker on port 0 with a client
//! that watches it, `mq bench --json` runs, and rcgen certificates for TLS tests.
//!
//! Each file in `tests/` is a crate of its own and says `mod common;`; the multi-file
//! interop target says `#[path = "../common/mod.rs"] mod common;`.

// Every test target compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use mq::broker::{Broker, BrokerHandle};
use mq::client::{Client, ConnectOptions, Event, Events};
use mq::cmd::bench::Target;
use mq::protocol::{
    Properties, ProtocolVersion, Publish, QoS, SubscribeFilter, SubscriptionOptions,
};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `mq` binary under test.
pub const MQ: &str = env!("CARGO_BIN_EXE_mq");

/// The environment variables `mq` takes its connection defaults from.
const MQ_ENV: [&str; 5] = ["MQ_HOST", "MQ_PORT", "MQ_URL", "MQ_USERNAME", "MQ_PASSWORD"];

/// How long `mq broker` may take to print its port line.
const BROKER_START: Duration = Duration::from_secs(5);

/// `mq` with the `MQ_*` defaults removed, so the caller's environment cannot change a
/// test. `tokio::process::Command::from` and `assert_cmd::Command::from_std` take it
/// as it is.
pub fn mq_command() -> Command {
    let mut c = Command::new(MQ);
    for var in MQ_ENV {
        c.env_remove(var);
    }
    c
}

/// Output bytes as text, invalid UTF-8 replaced.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A loopback port where nothing listens: bind port 0, read the port back, release it.
pub fn unused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// The stderr of a failed run, asserted to be exactly one line starting with `mq: `.
pub fn one_mq_line(stderr: &[u8]) -> String {
    let text = text(stderr);
    assert!(text.starts_with("mq: "), "stderr: {text:?}");
    assert_eq!(text.trim_end().lines().count(), 1, "stderr: {text:?}");
    text
}

/// A child process killed (by PID) and reaped when dropped, so a failing test leaves
/// none behind. Derefs to the [`Child`].
pub struct KillOnDrop(pub Child);

impl Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Wait for `child` to exit, checking every 20 ms: `None` if it still runs after
/// `limit` (it is left running; a [`KillOnDrop`] ends it).
pub fn wait_until_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The lines of `pipe` (a child's stdout or stderr), read on a thread of their own
/// until the pipe closes, so the child never blocks on a full pipe.
pub fn lines_of(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            // Keep reading after the receiver is gone: the pipe must not fill up.
            let _ = tx.send(line);
        }
    });
    rx
}

/// Take lines until one contains `needle` and return it; panic, showing the lines
/// seen, if none does within `limit`.
pub fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?} in {seen:#?}");
}

/// Run `cmd` to its end with `stdin` as its input (none: no input) and its stdout
/// and stderr captured.
pub fn output_with_stdin(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(data) = stdin {
        // Dropped at the end of the statement: the child sees the end of its input.
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(data)
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait for the child")
}

/// Run `mq pub -h 127.0.0.1 -p PORT ARGS`, with `stdin` as its input if given, and
/// assert that it succeeds.
pub fn mq_pub(port: u16, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = mq_command();
    cmd.args(["pub", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args);
    let out = output_with_stdin(cmd, stdin);
    assert!(
        out.status.success(),
        "mq pub {args:?} failed: {}",
        text(&out.stderr)
    );
    out
}

/// `mq broker ARGS` as a child process, killed when dropped. Its stderr is read line
/// by line: [`MqBroker::start`] takes the lines up to `Opening ipv4 listen socket on
/// port <PORT>.` (so `-p 0` works), [`MqBroker::wait_for`] the ones after.
pub struct MqBroker {
    pub child: KillOnDrop,
    pub port: u16,
    lines: mpsc::Receiver<String>,
}

impl MqBroker {
    /// Start `mq broker ARGS` (without colours) and wait for its port line.
    pub fn start(args: &[&str]) -> MqBroker {
        let mut child = mq_command()
            .arg("broker")
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mq broker");
        let lines = lines_of(child.stderr.take().expect("stderr"));
        let child = KillOnDrop(child);
        let line = wait_for_line(&lines, "Opening ipv4 listen socket on port ", BROKER_START);
        let port = line
            .rsplit("port ")
            .next()
            .and_then(|p| p.trim().trim_end_matches('.').parse().ok())
            .unwrap_or_else(|| panic!("no port number in {line:?}"));
        MqBroker { child, port, lines }
    }

    /// Wait (at most `limit`) for a log line containing `needle` and return it; the
    /// lines before it are passed over.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> String {
        wait_for_line(&self.lines, needle, limit)
    }

    /// `mq SUBCOMMAND -h 127.0.0.1 -p PORT`, pointed at this broker.
    pub fn command(&self, subcommand: &str) -> Command {
        let mut c = mq_command();
        c.args([subcommand, "-h", "127.0.0.1", "-p", &self.port.to_string()]);
        c
    }
}

/// The embedded broker (`mq::broker`) on 127.0.0.1, port 0.
pub async fn embedded_broker() -> BrokerHandle {
    Broker::builder()
        .listen("127.0.0.1:0".parse().expect("address"))
        .start()
        .await
        .expect("start the embedded broker")
}

/// Client options for the embedded broker `b`.
pub fn client_options(b: &BrokerHandle) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", b.local_addr().port())
}

/// A client of `b` subscribed to `filters` at QoS 1 (none: only connected), to see
/// what the code under test publishes.
pub async fn watcher(b: &BrokerHandle, filters: &[&str]) -> (Client, Events) {
    let (client, events) = Client::connect(client_options(b))
        .await
        .expect("connect the watcher");
    if filters.is_empty() {
        return (client, events);
    }
    let subs = filters
        .iter()
        .map(|f| SubscribeFilter {
            filter: f.to_string(),
            options: SubscriptionOptions::qos(QoS::AtLeastOnce),
        })
        .collect();
    client
        .subscribe(subs, Properties::default())
        .await
        .expect("subscribe");
    (client, events)
}

/// The next message on `events`, passing over other events; panics if none comes
/// within `limit` or the connection closes.
pub async fn next_message(events: &mut Events, limit: Duration) -> Publish {
    loop {
        match tokio::time::timeout(limit, events.recv()).await {
            Ok(Some(Event::Message(p))) => return p,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("connection closed"),
            Err(_) => panic!("no message within {limit:?}"),
        }
    }
}

/// An `mq bench` target over plain TCP: no credentials, keep alive 30 s, 5 s to
/// connect.
pub fn bench_target(addr: SocketAddr, version: ProtocolVersion, client_id_prefix: &str) -> Target {
    Target {
        host: addr.ip().to_string(),
        port: addr.port(),
        version,
        username: None,
        password: None,
        keep_alive: 30,
        client_id_prefix: client_id_prefix.into(),
        connect_timeout: Duration::from_secs(5),
        transport: None,
    }
}

/// Run `mq bench ARGS` to completion, killed after `limit`.
pub fn run_bench(args: &[&str], limit: Duration) -> Output {
    assert_cmd::Command::from_std(mq_command())
        .arg("bench")
        .args(args)
        .timeout(limit)
        .output()
        .expect("run mq bench")
}

/// Assert that the run of `what` succeeded, showing its status and output if not.
pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The one JSON object a run printed on stdout.
pub fn stdout_json(out: &Output) -> serde_json::Value {
    let stdout = text(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {stdout}\nstderr: {}",
            text(&out.stderr)
        )
    })
}

/// Run `mq bench ARGS` (at most `limit`), assert that it succeeds and return its
/// JSON summary.
pub fn bench_json(args: &[&str], limit: Duration) -> serde_json::Value {
    let out = run_bench(args, limit);
    assert_success(&out, &format!("mq bench {args:?}"));
    stdout_json(&out)
}

/// A certificate authority for TLS tests, made with rcgen.
pub struct TestCa(CertifiedIssuer<'static, KeyPair>);

/// A certificate signed by a [`TestCa`], with its key.
pub struct Issued {
    pub cert: rcgen::Certificate,
    pub key: KeyPair,
}

impl TestCa {
    /// A new self-signed CA called `name`.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("key");
        TestCa(CertifiedIssuer::self_signed(params, key).expect("CA"))
    }

    /// The CA certificate as PEM, for `--cafile` and broker configurations.
    pub fn pem(&self) -> String {
        self.0.pem()
    }

    /// A certificate for `common_name` valid for the host names and IP addresses in
    /// `names` (none for a client certificate), signed by this CA.
    pub fn issue(&self, common_name: &str, names: &[&str]) -> Issued {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.0).expect("sign");
        Issued { cert, key }
    }
}

impl Issued {
    /// The certificate chain for a rustls server.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        vec![self.cert.der().clone()]
    }

    /// The private key for a rustls server.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }
}

/// PEM files for a TLS broker and its clients in a temporary directory: `ca.pem`,
/// `other.pem` (an unrelated CA), `server.pem` and `server.key` (valid for the names
/// given), `client.pem` and `client.key` (a client certificate signed by the CA).
pub struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new(server_names: &[&str]) -> TestPki {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = TestCa::new("mq test CA");
        let other = TestCa::new("other CA");
        let server = ca.issue(server_names.first().copied().unwrap_or(""), server_names);
        let client = ca.issue("mq test client", &[]);
        for (name, pem) in [
            ("ca.pem", ca.pem()),
            ("other.pem", other.pem()),
            ("server.pem", server.cert.pem()),
            ("server.key", server.key.serialize_pem()),
            ("client.pem", client.cert.pem()),
            ("client.key", client.key.serialize_pem()),
        ] {
            std::fs::write(dir.path().join(name), pem).expect("write PEM");
        }
        TestPki { dir }
    }

    /// The path of one of the files.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// mosquitto configuration lines for a TLS listener with these files.
    pub fn mosquitto_conf(&self) -> String {
        format!(
            "cafile {}\ncertfile {}\nkeyfile {}\n",
            self.path("ca.pem").display(),
            self.path("server.pem").display(),
            self.path("server.key").display()
        )
    }
}

/// `connect` encoded in its own protocol version, for tests that speak raw MQTT.
pub fn encoded_connect(connect: mq::protocol::Connect) -> bytes::BytesMut {
    let version = connect.protocol;
    let mut out = bytes::BytesMut::new();
    mq::protocol::encode(
        &mq::protocol::Packet::Connect(Box::new(connect)),
        version,
        &mut out,
    )
    .expect("encode CONNECT");
    out
}

/// A message to publish.
pub fn message(topic: &str, qos: QoS, payload: &str) -> Publish {
    Publish {
        topic: topic.into(),
        qos,
        payload: bytes::Bytes::from(payload.to_string()),
        ..Publish::default()
    }
}

/// The next message, or `None` after `limit`.
pub async fn next(events: &mut Events, limit: Duration) -> Option<Publish> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(Event::Message(p))) => return Some(p),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

/// Over a bridge with `s/# out`, `c/# in` and `x/# both`, local prefix `lab/`,
/// remote prefix `campus/lab1/`: at each QoS a message goes out, one comes in,
/// and one each way on `both`, under the prefixes and at its QoS; a `both`
/// message is seen once on each side and nothing comes back around (no loop).
/// `lc`/`lev` is a local client subscribed to `lab/#`, `rc`/`rev` a remote one
/// subscribed to `campus/#`, both at QoS 2.
pub async fn exchange_both_ways(lc: &Client, lev: &mut Events, rc: &Client, rev: &mut Events) {
    const STEP: Duration = Duration::from_secs(10);
    for q in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let n = q.as_u8();
        lc.publish(message(&format!("lab/s/{n}"), q, "out"))
            .await
            .unwrap();
        let got = next(rev, STEP)
            .await
            .expect("out message on the remote broker");
        assert_eq!((&*got.topic, got.qos), (&*format!("campus/lab1/s/{n}"), q));
        assert_eq!(
            next(lev, STEP).await.unwrap().topic.to_string(),
            format!("lab/s/{n}")
        );

        rc.publish(message(&format!("campus/lab1/c/{n}"), q, "in"))
            .await
            .unwrap();
        let got = next(lev, STEP)
            .await
            .expect("in message on the local broker");
        assert_eq!((&*got.topic, got.qos), (&*format!("lab/c/{n}"), q));
        assert_eq!(
            next(rev, STEP).await.unwrap().topic.to_string(),
            format!("campus/lab1/c/{n}")
        );

        lc.publish(message(&format!("lab/x/{n}"), q, "both-out"))
            .await
            .unwrap();
        rc.publish(message(&format!("campus/lab1/x/r{n}"), q, "both-in"))
            .await
            .unwrap();
        let mut on_local = Vec::new();
        let mut on_remote = Vec::new();
        for _ in 0..2 {
            on_local.push(
                next(lev, STEP)
                    .await
                    .expect("both: local")
                    .topic
                    .to_string(),
            );
            on_remote.push(
                next(rev, STEP)
                    .await
                    .expect("both: remote")
                    .topic
                    .to_string(),
            );
        }
        on_local.sort();
        on_remote.sort();
        assert_eq!(on_local, [format!("lab/x/{n}"), format!("lab/x/r{n}")]);
        assert_eq!(
            on_remote,
            [format!("campus/lab1/x/{n}"), format!("campus/lab1/x/r{n}")]
        );
    }
    // Nothing came back around.
    let quiet = Duration::from_millis(500);
    assert!(next(lev, quiet).await.is_none(), "a loop on the local side");
    assert!(
        next(rev, quiet).await.is_none(),
        "a loop on the remote side"
    );
}
