//! `mq carpark display --web` and the demo's web page, over real sockets: the page and
//! the HTTP answers, the `/mqtt` relay carrying a real MQTT client to the broker (and
//! refusing what it must), the demo's URL line; and, in a real headless Chromium
//! (ignored: run by .ci/run), the page showing the count and FULL after gates
//! publish, both through the relay and straight to `mq broker --ws`.

mod common;

use common::{KillOnDrop, MqBroker, lines_of, mq_command, text, wait_for_line};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(10);

/// `mq carpark ROLE -h 127.0.0.1 -p PORT` for `broker`; more flags may follow.
fn role(broker: &MqBroker, role: &str) -> Command {
    let mut c = mq_command();
    c.args([
        "carpark",
        role,
        "-h",
        "127.0.0.1",
        "-p",
        &broker.port.to_string(),
    ]);
    c
}

/// A running `mq carpark display --web 0 ...` and the URL it printed.
struct WebDisplay {
    _child: KillOnDrop,
    url: String,
    _lines: mpsc::Receiver<String>,
}

impl WebDisplay {
    fn start(broker: &MqBroker, extra: &[&str]) -> WebDisplay {
        let mut child = role(broker, "display")
            .args(["--web", "0", "--plain"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mq carpark display");
        let lines = lines_of(child.stdout.take().expect("stdout"));
        let child = KillOnDrop(child);
        let line = wait_for_line(&lines, "Web display: http://127.0.0.1:", STEP);
        let url = line["Web display: ".len()..].trim().to_string();
        WebDisplay {
            _child: child,
            url,
            _lines: lines,
        }
    }

    /// `host:port` of the page.
    fn authority(&self) -> &str {
        self.url.trim_start_matches("http://").trim_end_matches('/')
    }
}

/// Start a controller of `capacity` spaces on `broker`, from an empty car park, and
/// wait until it is online.
fn controller(broker: &MqBroker, capacity: u32) -> KillOnDrop {
    let mut child = role(broker, "controller")
        .args(["--reset", "--capacity", &capacity.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mq carpark controller");
    let lines = lines_of(child.stdout.take().expect("stdout"));
    let child = KillOnDrop(child);
    wait_for_line(&lines, "controller online", STEP);
    child
}

/// `mq carpark entry --count N` on `broker`, asserted to succeed.
fn cars_in(broker: &MqBroker, n: u32) {
    let out = role(broker, "entry")
        .args(["--count", &n.to_string(), "--quiet"])
        .stdin(Stdio::null())
        .output()
        .expect("run mq carpark entry");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// One HTTP/1.1 request (`Connection: close`) and the whole response as text.
fn http(authority: &str, head: &str) -> String {
    let mut s = TcpStream::connect(authority).expect("connect to the web display");
    s.set_read_timeout(Some(STEP)).expect("timeout");
    write!(
        s,
        "{head}\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = Vec::new();
    s.read_to_end(&mut response).expect("read the response");
    text(&response)
}

/// A WebSocket upgrade request for `/mqtt` with `extra` header lines.
fn upgrade(authority: &str, extra: &str) -> String {
    http(
        authority,
        &format!(
            "GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=={extra}"
        ),
    )
}

#[test]
fn serves_one_self_contained_page() {
    let broker = MqBroker::start(&["-p", "0"]);
    let web = WebDisplay::start(&broker, &["--name", "Level <2>"]);
    let page = http(web.authority(), "GET / HTTP/1.1");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(
        page.to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{page}"
    );
    for part in [
        "<title>Level &lt;2&gt;</title>",
        "<style>",
        "id=\"free\"",
        "id=\"full\"",
        "new WebSocket(url, \"mqtt\")",
        r#""prefix":"carpark""#,
        r#""ws_url":null"#,
    ] {
        assert!(page.contains(part), "no {part:?} in the page:\n{page}");
    }
    assert!(!page.contains("src=\"http"), "{page}");
    let missing = http(web.authority(), "GET /app.js HTTP/1.1");
    assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
    let post = http(web.authority(), "POST / HTTP/1.1\r\nContent-Length: 0");
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    let plain = http(web.authority(), "GET /mqtt HTTP/1.1");
    assert!(plain.starts_with("HTTP/1.1 400 "), "{plain}");
}

#[test]
fn the_relay_carries_mqtt_to_the_broker() {
    let broker = MqBroker::start(&["-p", "0"]);
    let _controller = controller(&broker, 4);
    let web = WebDisplay::start(&broker, &[]);
    cars_in(&broker, 1);
    // A real MQTT client over WebSocket to /mqtt: the retained display state comes
    // back from the broker through the relay, under MQTT 3.1.1 and 5 alike (asked
    // again until the controller has counted the car: at most 5 times).
    for version in ["311", "5"] {
        let mut state = serde_json::Value::Null;
        for _ in 0..5 {
            let out: Output = mq_command()
                .args(["sub", "-L", &format!("ws://{}/mqtt", web.authority())])
                .args([
                    "-t",
                    "carpark/display",
                    "-C",
                    "1",
                    "-W",
                    "10",
                    "-V",
                    version,
                ])
                .stdin(Stdio::null())
                .output()
                .expect("run mq sub");
            assert!(out.status.success(), "{}", text(&out.stderr));
            state = serde_json::from_slice(&out.stdout).expect("a display state");
            if state["free"] == 3 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(state["free"], 3, "{state}");
        assert_eq!(state["capacity"], 4, "{state}");
    }
}

#[tokio::test]
async fn the_relay_ends_when_the_broker_goes() {
    use tokio::io::AsyncReadExt;
    let broker = MqBroker::start(&["-p", "0"]);
    let web = WebDisplay::start(&broker, &[]);
    let url = format!("ws://{}/mqtt", web.authority());
    let opts = mq::client::ConnectOptions::from_url(&url).expect("a ws:// URL");
    let deadline = tokio::time::Instant::now() + STEP;
    let mut page = mq::client::transport::connect(&opts, deadline)
        .await
        .expect("a WebSocket to /mqtt");
    // The broker stops: the relay closes the page's side too.
    drop(broker);
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(STEP, page.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the relay stayed open: {read:?}"
    );
}

#[test]
fn the_relay_refuses_what_it_must() {
    let broker = MqBroker::start(&["-p", "0"]);
    let web = WebDisplay::start(&broker, &[]);
    let a = web.authority();
    // Without the mqtt subprotocol [MQTT-6.0.0-3].
    let no_mqtt = upgrade(a, "");
    assert!(no_mqtt.starts_with("HTTP/1.1 400 "), "{no_mqtt}");
    assert!(no_mqtt.contains("subprotocol must be mqtt"), "{no_mqtt}");
    // From a page of another site.
    let other = upgrade(
        a,
        "\r\nSec-WebSocket-Protocol: mqtt\r\nOrigin: http://elsewhere.example",
    );
    assert!(other.starts_with("HTTP/1.1 403 "), "{other}");
    // An old WebSocket version.
    let old = http(
        a,
        "GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: mqtt",
    );
    assert!(old.starts_with("HTTP/1.1 426 "), "{old}");
    // The accepted one: 101, the key's answer (RFC 6455's example), mqtt chosen.
    let ok = upgrade(
        a,
        &format!("\r\nSec-WebSocket-Protocol: mqtt\r\nOrigin: http://{a}"),
    );
    assert!(ok.starts_with("HTTP/1.1 101 "), "{ok}");
    let lower = ok.to_ascii_lowercase();
    assert!(
        lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{ok}"
    );
    assert!(lower.contains("sec-websocket-protocol: mqtt"), "{ok}");
}

#[test]
fn connections_beyond_the_limit_wait_their_turn() {
    let broker = MqBroker::start(&["-p", "0"]);
    let web = WebDisplay::start(&broker, &[]);
    let a = web.authority().to_string();
    // Idle connections that send nothing: each holds one of the places.
    let idle: Vec<TcpStream> = (0..mq::carpark::web::MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(&a).expect("connect"))
        .collect();
    let mut waiting = TcpStream::connect(&a).expect("connect");
    write!(
        waiting,
        "GET / HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    waiting
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    let early = waiting.read(&mut byte);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "answered beyond the limit: {early:?}"
    );
    // A place frees up: the waiting request is served.
    drop(idle);
    waiting.set_read_timeout(Some(STEP)).expect("timeout");
    let mut response = Vec::new();
    waiting.read_to_end(&mut response).expect("read");
    assert!(
        text(&response).starts_with("HTTP/1.1 200 OK"),
        "{}",
        text(&response)
    );
}

#[test]
fn web_flags_are_checked() {
    for (args, expected) in [
        (&["--web", "nope"][..], "invalid address \"nope\""),
        (&["--ws-url", "ws://h/mqtt"], "--web"),
        (
            &["--web", "0", "--ws-url", "http://h/mqtt"],
            "ws:// or wss://",
        ),
        (&["--web", "0", "--once"], "--once"),
    ] {
        let out = mq_command()
            .args(["carpark", "display"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run mq carpark display");
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let broker = MqBroker::start(&["-p", "0"]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let mut child = role(&broker, "display")
        .args(["--plain", "--web", &port])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    let mut child = KillOnDrop(child);
    let status = common::wait_until_exit(&mut child, STEP).expect("display exits");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.starts_with("mq: cannot listen on 127.0.0.1:"), "{err}");
    assert!(err.contains("for the web display"), "{err}");
}

#[test]
fn the_demo_prints_its_page_unless_no_web() {
    for (flags, shown) in [(&[][..], true), (&["--no-web"][..], false)] {
        let out = mq_command()
            .args(["carpark", "demo", "--duration", "1s", "--seed", "3"])
            .args(flags)
            .stdin(Stdio::null())
            .output()
            .expect("run mq carpark demo");
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
        assert_eq!(
            stdout.contains("Watch it in a browser:  http://127.0.0.1:"),
            shown,
            "{flags:?}: {stdout}"
        );
        assert!(stdout.contains("cars in:"), "{stdout}");
    }
}

// ---- In a real browser -------------------------------------------------------------

/// The page's DOM after Chromium has run it for a few (virtual) seconds.
fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().expect("a profile directory");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run chromium (apt-get install chromium)");
    assert!(out.status.success(), "chromium failed on {url}");
    text(&out.stdout)
}

/// Dump the page until `check` holds for its DOM (at most 5 tries, 30 s).
fn dom_until(url: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut dom = String::new();
    for _ in 0..5 {
        dom = dump_dom(url);
        if check(&dom) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(check(&dom), "the page never showed {what}:\n{dom}");
    dom
}

/// Gates fill a car park of 3 while the browser watches: `1 of 3`, then FULL.
fn browser_sees_the_car_park(broker: &MqBroker, web: &WebDisplay) {
    cars_in(broker, 2);
    let dom = dom_until(&web.url, "1 free of 3", |d| {
        d.contains(r#"<span id="free">1</span>"#) && d.contains(r#"<span id="capacity">3</span>"#)
    });
    assert!(dom.contains(r#"id="connection" class="up""#), "{dom}");
    assert!(
        dom.contains(r#"<p id="full" class="full" hidden="">"#),
        "{dom}"
    );
    assert!(dom.contains(r#"id="controller">online<"#), "{dom}");
    cars_in(broker, 1);
    let dom = dom_until(&web.url, "FULL", |d| {
        d.contains(r#"<span id="free">0</span>"#)
            && d.contains(r#"<p id="full" class="full">FULL</p>"#)
    });
    assert!(
        dom.contains(r#"<section id="spaces" class="panel is-full">"#),
        "{dom}"
    );
}

#[test]
#[ignore = "needs chromium; run by .ci/run"]
fn browser_through_the_relay_to_a_broker_without_websocket() {
    let broker = MqBroker::start(&["-p", "0", "-v"]);
    let _controller = controller(&broker, 3);
    let web = WebDisplay::start(&broker, &[]);
    browser_sees_the_car_park(&broker, &web);
    // The page acknowledged the QoS 1 messages it received.
    broker.wait_for("Received PUBACK from mq-web-", STEP);
}

#[test]
#[ignore = "needs chromium; run by .ci/run"]
fn browser_straight_to_the_brokers_websocket_listener() {
    let broker = MqBroker::start(&["-p", "0", "--ws", "0"]);
    let line = broker.wait_for("Opening websockets listen socket on port ", STEP);
    let ws_port = line
        .rsplit("port ")
        .next()
        .map(|p| p.trim().trim_end_matches('.').to_string())
        .expect("the WebSocket port");
    let _controller = controller(&broker, 3);
    let ws_url = format!("ws://127.0.0.1:{ws_port}/mqtt");
    let web = WebDisplay::start(&broker, &["--ws-url", &ws_url]);
    browser_sees_the_car_park(&broker, &web);
    // The page's connection arrived on the WebSocket listener, not through /mqtt.
    let on_ws = format!("on port {ws_port}.");
    let mut seen = Vec::new();
    for _ in 0..20 {
        let line = broker.wait_for("New connection from ", STEP);
        if line.ends_with(&on_ws) {
            return;
        }
        seen.push(line);
    }
    panic!("no connection on the WebSocket listener: {seen:#?}");
}
