//! The car-park roles against a real mosquitto broker ("works against any MQTT broker,
//! not only `mq broker`"), over MQTT 3.1.1 and 5.0: controller, gates, sensor and
//! display from the command line, the controller's will, and its kept session (a car
//! sent while it is away is counted when it comes back).

mod common;
#[path = "interop/peers.rs"]
mod peers;

use common::{KillOnDrop, mq_command};
use peers::Mosquitto;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `mq carpark <role> <args> -h 127.0.0.1 -p PORT -V <version>`.
fn mq(broker: &Mosquitto, role: &str, version: &str, args: &[&str]) -> Command {
    let mut c = mq_command();
    c.arg("carpark")
        .arg(role)
        .args(args)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port.to_string(),
            "-V",
            version,
        ])
        .stdin(Stdio::null());
    c
}

/// Run `cmd` to its end and assert that it succeeds.
fn run_ok(mut cmd: Command) {
    let status = cmd.status().unwrap();
    assert!(status.success());
}

/// Run `mq carpark display --once` until its line satisfies `ok` (bounded).
fn wait_for_display(broker: &Mosquitto, version: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = mq(broker, "display", version, &["--once", "-W", "2"])
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        if ok(&line) {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "display never matched; last: {line:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn roles_against_mosquitto(version: &str) {
    let broker = Mosquitto::start();
    let mut controller = KillOnDrop(
        mq(
            &broker,
            "controller",
            version,
            &["--reset", "--quiet", "--capacity", "3"],
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap(),
    );
    wait_for_display(&broker, version, |l| {
        l.starts_with("Car park | 3 free of 3 | -- °C")
    });
    run_ok(mq(
        &broker,
        "entry",
        version,
        &["--gate", "north", "--count", "2", "--quiet"],
    ));
    run_ok(mq(
        &broker,
        "sensor",
        version,
        &["--value", "12.5", "--count", "1", "--quiet"],
    ));
    wait_for_display(&broker, version, |l| {
        l.starts_with("Car park | 1 free of 3 | 12.5 °C")
    });

    // Killed without DISCONNECT: mosquitto publishes the retained will [MQTT-3.1.2-8].
    controller.kill().unwrap();
    controller.wait().unwrap();
    wait_for_display(&broker, version, |l| {
        l.ends_with(" UTC | controller offline\n")
    });

    // mosquitto keeps the controller's session: a car sent while it is away is
    // counted when it comes back, on top of the count it restores.
    run_ok(mq(
        &broker,
        "entry",
        version,
        &["--gate", "north", "--count", "1", "--quiet"],
    ));
    let _controller = KillOnDrop(
        mq(
            &broker,
            "controller",
            version,
            &["--quiet", "--capacity", "3"],
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap(),
    );
    wait_for_display(&broker, version, |l| {
        l.starts_with("Car park | FULL (0 free of 3) | 12.5 °C")
    });
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn carpark_roles_against_mosquitto_v311() {
    roles_against_mosquitto("311");
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn carpark_roles_against_mosquitto_v5() {
    roles_against_mosquitto("5");
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn carpark_demo_against_mosquitto() {
    let broker = Mosquitto::start();
    let out = mq_command()
        .args([
            "carpark",
            "demo",
            "--duration",
            "2s",
            "--seed",
            "7",
            "--rate",
            "3/s",
        ])
        .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("using the broker at"), "{text}");
    assert!(text.contains("cars in:"), "{text}");
}
