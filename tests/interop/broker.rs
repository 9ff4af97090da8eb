//! Interop: real clients against `mq broker` — Debian's `mosquitto_pub` /
//! `mosquitto_sub` (QoS 0/1/2, retained, 3.1.1 and 5.0) and Python paho-mqtt 2.x
//! (`tests/interop/paho_broker.py`: QoS, retained, wills, persistent sessions,
//! shared subscriptions, topic aliases, message expiry, under 3.1.1 and 5.0).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `mq broker -p 0`, killed (by PID) when dropped.
struct MqBroker {
    child: Child,
    port: u16,
}

impl MqBroker {
    fn start() -> MqBroker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mq"))
            .args(["broker", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mq broker");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = rx.recv_timeout(left) else {
                break;
            };
            if let Some(rest) = line.split("Opening ipv4 listen socket on port ").nth(1) {
                let port = rest.trim_end_matches('.').parse().expect("port");
                return MqBroker { child, port };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("mq broker did not print its port");
    }
}

impl Drop for MqBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mosquitto_sub(port: u16, args: &[&str]) -> Child {
    Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-W", "5"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mosquitto_sub must be installed")
}

fn mosquitto_pub(port: u16, args: &[&str]) {
    let status = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .status()
        .expect("mosquitto_pub must be installed");
    assert!(status.success(), "mosquitto_pub {args:?}");
}

fn output(child: Child) -> String {
    let out = child.wait_with_output().expect("mosquitto_sub output");
    assert!(
        out.status.success(),
        "mosquitto_sub: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn mosquitto_clients_qos_0_1_2_both_versions() {
    let b = MqBroker::start();
    for v in ["mqttv311", "mqttv5"] {
        let sub = mosquitto_sub(b.port, &["-V", v, "-t", "i/#", "-q", "2", "-C", "3", "-v"]);
        std::thread::sleep(Duration::from_millis(300));
        for q in ["0", "1", "2"] {
            mosquitto_pub(
                b.port,
                &[
                    "-V",
                    v,
                    "-t",
                    &format!("i/{q}"),
                    "-m",
                    &format!("m{q}"),
                    "-q",
                    q,
                ],
            );
        }
        assert_eq!(output(sub), "i/0 m0\ni/1 m1\ni/2 m2\n");
    }
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn mosquitto_clients_retained_both_versions() {
    let b = MqBroker::start();
    for v in ["mqttv311", "mqttv5"] {
        let topic = format!("ret/{v}");
        mosquitto_pub(
            b.port,
            &["-V", v, "-t", &topic, "-m", "kept", "-r", "-q", "1"],
        );
        let sub = mosquitto_sub(
            b.port,
            &["-V", v, "-t", &topic, "-C", "1", "-F", "%r %t %p"],
        );
        assert_eq!(output(sub), format!("1 {topic} kept\n"));
        // -R: do not print stale (retained) messages; delete it and nothing is left.
        mosquitto_pub(b.port, &["-V", v, "-t", &topic, "-n", "-r"]);
        let sub = mosquitto_sub(b.port, &["-V", v, "-t", &topic, "-C", "1", "-W", "1"]);
        let out = sub.wait_with_output().unwrap();
        assert!(out.stdout.is_empty());
    }
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn paho_clients_311_and_5() {
    let b = MqBroker::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/paho_broker.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(b.port.to_string())
        .output()
        .expect("python3 with paho-mqtt 2.x");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("all paho checks passed"), "{text}");
}
