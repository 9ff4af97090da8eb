//! Interop: real clients against `mq broker` — Debian's `mosquitto_pub` /
//! `mosquitto_sub` (QoS 0/1/2, retained, 3.1.1 and 5.0) and Python paho-mqtt 2.x
//! (`tests/interop/paho_broker.py`: QoS, retained, wills, persistent sessions,
//! shared subscriptions, topic aliases, message expiry, under 3.1.1 and 5.0).

use crate::common::MqBroker;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `mq broker -p 0`, killed when dropped.
fn start_mq_broker() -> MqBroker {
    MqBroker::start(&["-p", "0"])
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
    let b = start_mq_broker();
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
    let b = start_mq_broker();
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
    let b = start_mq_broker();
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
