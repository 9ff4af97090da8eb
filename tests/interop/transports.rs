//! Interop over TLS and WebSockets: Debian's `mosquitto_pub`/`mosquitto_sub` with
//! `--cafile` (and client certificates) and Python paho-mqtt over `ws://` and
//! `wss://` against `mq broker` listeners configured in mosquitto.conf syntax.
//! Retained messages make each exchange independent of start-up timing.

use crate::common::{MqBroker, TestPki};
use std::process::{Command, Output};

/// `mq broker -c` with `conf` written next to the test certificates.
fn broker(pki: &TestPki, conf: &str) -> MqBroker {
    let path = pki.path("mq.conf");
    std::fs::write(&path, conf).expect("write conf");
    MqBroker::start(&["-c", path.to_str().expect("UTF-8 path")])
}

fn tls_listener(pki: &TestPki, extra: &str) -> String {
    format!(
        "listener 0 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\n{extra}",
        pki.path("server.pem").display(),
        pki.path("server.key").display()
    )
}

fn run(program: &str, port: u16, args: &[&str]) -> Output {
    Command::new(program)
        .args(["-h", "localhost", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("mosquitto clients must be installed")
}

#[test]
#[ignore = "needs mosquitto-clients; run by .ci/run"]
fn mosquitto_clients_over_tls() {
    let pki = TestPki::new(&["localhost"]);
    let b = broker(&pki, &tls_listener(&pki, ""));
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().expect("UTF-8 path");
    for v in ["mqttv311", "mqttv5"] {
        let out = run(
            "mosquitto_pub",
            b.port,
            &[
                "--cafile", ca, "-V", v, "-r", "-q", "1", "-t", "tls/t", "-m", v,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run(
            "mosquitto_sub",
            b.port,
            &["--cafile", ca, "-V", v, "-t", "tls/t", "-C", "1", "-W", "5"],
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{v}\n"));
    }
    // A client that trusts another CA refuses the broker's certificate.
    let other = pki.path("other.pem");
    let out = run(
        "mosquitto_pub",
        b.port,
        &[
            "--cafile",
            other.to_str().expect("UTF-8"),
            "-t",
            "t",
            "-m",
            "x",
        ],
    );
    assert!(!out.status.success(), "connected with the wrong CA");
}

#[test]
#[ignore = "needs mosquitto-clients; run by .ci/run"]
fn mosquitto_clients_with_client_certificates() {
    let pki = TestPki::new(&["localhost"]);
    let extra = format!(
        "cafile {}\nrequire_certificate true\n",
        pki.path("ca.pem").display()
    );
    let b = broker(&pki, &tls_listener(&pki, &extra));
    let path = |n: &str| pki.path(n).to_str().expect("UTF-8").to_string();
    let (ca, cert, key) = (path("ca.pem"), path("client.pem"), path("client.key"));
    let with = run(
        "mosquitto_pub",
        b.port,
        &[
            "--cafile", &ca, "--cert", &cert, "--key", &key, "-t", "t", "-m", "x",
        ],
    );
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let without = run(
        "mosquitto_pub",
        b.port,
        &["--cafile", &ca, "-t", "t", "-m", "x"],
    );
    assert!(
        !without.status.success(),
        "a client without a certificate got in"
    );
}

/// A broker with a plain listener first (its port line starts the broker), then a
/// WebSocket one and a WebSocket-over-TLS one: the broker and their ports.
fn websocket_broker(pki: &TestPki) -> (MqBroker, u16, u16) {
    let conf = format!(
        "listener 0 127.0.0.1\nallow_anonymous true\nlistener 0 127.0.0.1\nprotocol websockets\n{}protocol websockets\n",
        tls_listener(pki, "")
    );
    let b = broker(pki, &conf);
    let ws_port = || -> u16 {
        let line = b.wait_for(
            "Opening websockets listen socket on port ",
            std::time::Duration::from_secs(5),
        );
        line.rsplit("port ")
            .next()
            .and_then(|p| p.trim().trim_end_matches('.').parse().ok())
            .expect("port")
    };
    let (ws, wss) = (ws_port(), ws_port());
    (b, ws, wss)
}

/// paho-mqtt over `ws://` and `wss://`, 3.1.1 and 5.0.
#[test]
#[ignore = "needs paho-mqtt; run by .ci/run"]
fn paho_over_websockets_and_tls() {
    let pki = TestPki::new(&["localhost"]);
    let (_b, ws, wss) = websocket_broker(&pki);
    let script = r#"
import queue, ssl, sys
import paho.mqtt.client as mqtt
port, ca, tls = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "tls"
for proto in (mqtt.MQTTv311, mqtt.MQTTv5):
    got = queue.Queue()
    def make(cid):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=proto, transport="websockets")
        c.ws_set_options(path="/mqtt")
        if tls:
            c.tls_set(ca_certs=ca)
        c.on_message = lambda cl, ud, m: got.put(m.payload)
        c.connect("localhost", port, 30)
        c.loop_start()
        return c
    p = make("pub")
    p.publish("ws/t", b"over websockets " + str(proto).encode(), qos=1, retain=True).wait_for_publish(5)
    s = make("sub")
    s.subscribe("ws/t", qos=1)
    m = got.get(timeout=5)
    assert m == b"over websockets " + str(proto).encode(), m
    p.disconnect(); s.disconnect(); p.loop_stop(); s.loop_stop()
print("ok")
"#;
    let ca = pki.path("ca.pem");
    for (port, tls) in [(ws, "plain"), (wss, "tls")] {
        let out = Command::new("python3")
            .args([
                "-c",
                script,
                &port.to_string(),
                ca.to_str().expect("UTF-8"),
                tls,
            ])
            .output()
            .expect("python3 with paho-mqtt 2.x");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "ok\n",
            "{tls}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Where `.ci/run` installs MQTT.js (`npm install --prefix target/npm mqtt@5`);
/// `MQTTJS_NODE_PATH` overrides it.
fn mqttjs_node_path() -> String {
    std::env::var("MQTTJS_NODE_PATH").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/npm/node_modules").to_string()
    })
}

/// MQTT.js (npm `mqtt` 5, under node) over `ws://` and `wss://`, 3.1.1 and 5.0.
#[test]
#[ignore = "needs node and MQTT.js from npm; run by .ci/run"]
fn mqttjs_over_websockets_and_tls() {
    let pki = TestPki::new(&["localhost"]);
    let (_b, ws, wss) = websocket_broker(&pki);
    let script = r#"
const mqtt = require('mqtt');
const fs = require('fs');
const [url, ca] = process.argv.slice(1);
const base = ca ? { ca: fs.readFileSync(ca), rejectUnauthorized: true } : {};
setTimeout(() => { console.error('timed out'); process.exit(1); }, 10000);
(async () => {
  for (const v of [4, 5]) {
    const text = 'mqtt.js ' + v;
    const pub = await mqtt.connectAsync(url, { ...base, protocolVersion: v, clientId: 'js-pub-' + v });
    await pub.publishAsync('js/t', text, { qos: 1, retain: true });
    const sub = await mqtt.connectAsync(url, { ...base, protocolVersion: v, clientId: 'js-sub-' + v });
    const got = new Promise((resolve) => sub.on('message', (t, m) => resolve(m.toString())));
    await sub.subscribeAsync('js/t', { qos: 1 });
    const m = await got;
    if (m !== text) { console.error('got ' + m); process.exit(1); }
    await pub.endAsync();
    await sub.endAsync();
  }
  console.log('ok');
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
"#;
    let ca = pki.path("ca.pem");
    for (url, ca) in [
        (format!("ws://127.0.0.1:{ws}/mqtt"), None),
        (
            format!("wss://localhost:{wss}/mqtt"),
            Some(ca.to_str().expect("UTF-8")),
        ),
    ] {
        let mut cmd = Command::new("node");
        cmd.env("NODE_PATH", mqttjs_node_path())
            .args(["-e", script, &url]);
        if let Some(ca) = ca {
            cmd.arg(ca);
        }
        let out = cmd.output().expect("node must be installed");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "ok\n",
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `mosquitto_sub --unix` and `mosquitto_pub --unix` against a Unix socket listener
/// (`listener 0 /path`, as mosquitto 2 writes it), with `mq pub/sub --unix` on the
/// other side; the log names the socket as mosquitto does.
#[cfg(unix)]
#[test]
#[ignore = "needs mosquitto-clients; run by .ci/run"]
fn mosquitto_clients_over_a_unix_socket() {
    let pki = TestPki::new(&["localhost"]);
    let socket = pki.path("mq.sock");
    let socket = socket.to_str().expect("UTF-8 path");
    let b = broker(
        &pki,
        &format!("listener 0 {socket}\nallow_anonymous true\nlistener 0 127.0.0.1\n"),
    );
    let unix = |program: &str, args: &[&str]| {
        let mut c = if program == "mq" {
            let mut c = crate::common::mq_command();
            c.arg(args[0]);
            c.args(["--unix", socket]).args(&args[1..]);
            c
        } else {
            let mut c = Command::new(program);
            c.args(["--unix", socket]).args(args);
            c
        };
        c.output().expect("run the client")
    };
    let ok = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    ok(&unix(
        "mosquitto_pub",
        &["-r", "-q", "1", "-t", "unix/a", "-m", "from mosquitto_pub"],
    ));
    let out = unix("mq", &["sub", "-t", "unix/a", "-C", "1", "-W", "5"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from mosquitto_pub\n");
    ok(&unix(
        "mq",
        &["pub", "-r", "-q", "1", "-t", "unix/b", "-m", "from mq pub"],
    ));
    let out = unix("mosquitto_sub", &["-t", "unix/b", "-C", "1", "-W", "5"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from mq pub\n");
    b.wait_for(
        &format!("New client connected from {socket}:0 as "),
        std::time::Duration::from_secs(5),
    );
}

/// paho-mqtt over MQTT-over-TLS (`tls_set` with the test CA), 3.1.1 and 5.0; and
/// refused when it trusts another CA.
#[test]
#[ignore = "needs paho-mqtt; run by .ci/run"]
fn paho_over_tls() {
    let pki = TestPki::new(&["localhost"]);
    let b = broker(&pki, &tls_listener(&pki, ""));
    let script = r#"
import queue, ssl, sys
import paho.mqtt.client as mqtt
port, ca = int(sys.argv[1]), sys.argv[2]
if sys.argv[3] == "refused":
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="untrusting")
    c.tls_set(ca_certs=ca)
    try:
        c.connect("localhost", port, 30)
    except ssl.SSLCertVerificationError as e:
        print("refused:", e.verify_message)
    sys.exit(0)
for proto in (mqtt.MQTTv311, mqtt.MQTTv5):
    got = queue.Queue()
    def make(cid):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=proto)
        c.tls_set(ca_certs=ca)
        c.on_message = lambda cl, ud, m: got.put(m.payload)
        c.connect("localhost", port, 30)
        c.loop_start()
        return c
    p = make("pub")
    p.publish("tls/p", b"over TLS " + str(proto).encode(), qos=1, retain=True).wait_for_publish(5)
    s = make("sub")
    s.subscribe("tls/p", qos=1)
    m = got.get(timeout=5)
    assert m == b"over TLS " + str(proto).encode(), m
    p.disconnect(); s.disconnect(); p.loop_stop(); s.loop_stop()
print("ok")
"#;
    let run = |ca: &std::path::Path, mode: &str| {
        let out = Command::new("python3")
            .args([
                "-c",
                script,
                &b.port.to_string(),
                ca.to_str().expect("UTF-8"),
                mode,
            ])
            .output()
            .expect("python3 with paho-mqtt 2.x");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (out, err) = run(&pki.path("ca.pem"), "trusted");
    assert_eq!(out, "ok\n", "{err}");
    let (out, err) = run(&pki.path("other.pem"), "refused");
    assert!(
        out.starts_with("refused:") && out.contains("certificate"),
        "{out} {err}"
    );
}
