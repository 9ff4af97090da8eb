//! Starting and stopping real peers for the interop tests: a mosquitto broker on a
//! free loopback port, plain or logging every packet to a file.
//!
//! Included by several test targets (`tests/interop/main.rs`, and with `#[path]` by
//! others); each must also have the `common` module at its root.

// Each target that includes this file uses only some of it.
#![allow(dead_code)]

use crate::common::{KillOnDrop, unused_port};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// mosquitto started as root drops to the `mosquitto` user and could not write its
/// log into our private temporary directory; `user root` keeps it (a no-op when the
/// tests do not run as root).
const USER_LINE: &str = "user root\n";

/// A mosquitto broker on a free loopback port, killed (by PID) when dropped.
pub struct Mosquitto {
    child: KillOnDrop,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Start `mosquitto -c <conf>` listening on 127.0.0.1 with anonymous access.
    /// `extra` is appended to the configuration file (e.g. TLS options).
    pub fn start_with(extra: &str) -> Mosquitto {
        let dir = tempfile::tempdir().expect("tempdir");
        for _attempt in 0..5 {
            let port = unused_port();
            let conf = dir.path().join("mosquitto.conf");
            let mut f = std::fs::File::create(&conf).expect("create conf");
            writeln!(
                f,
                "listener {port} 127.0.0.1\nallow_anonymous true\n{extra}"
            )
            .expect("write conf");
            drop(f);
            let mut child = KillOnDrop(
                Command::new("mosquitto")
                    .arg("-c")
                    .arg(&conf)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("mosquitto must be installed (apt-get install mosquitto)"),
            );
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken in the meantime: try another
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                    // Another test's broker may hold the same port (the free port was
                    // released before ours bound it): ours then exits at once, so
                    // check it is still alive before trusting the connection.
                    std::thread::sleep(Duration::from_millis(100));
                    if let Ok(None) = child.try_wait() {
                        return Mosquitto { child, port, dir };
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Dropping `child` kills it; try another port.
        }
        panic!("mosquitto did not start");
    }

    /// Start a plain mosquitto on a free port.
    pub fn start() -> Mosquitto {
        Mosquitto::start_with("")
    }

    /// A path inside the broker's temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A [`Mosquitto`] that logs every packet to a file, so a test can wait until
/// separate subscriber processes have their subscriptions in place without adding
/// anything to their output.
pub struct LoggedMosquitto {
    pub broker: Mosquitto,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl LoggedMosquitto {
    /// Start it; `extra` is appended to the configuration file.
    pub fn start(extra: &str) -> LoggedMosquitto {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("mosquitto.log");
        let broker = Mosquitto::start_with(&format!(
            "log_dest file {}\nlog_type all\n{USER_LINE}{extra}",
            log.display()
        ));
        LoggedMosquitto {
            broker,
            log,
            _dir: dir,
        }
    }

    /// The port as a command-line argument.
    pub fn port(&self) -> String {
        self.broker.port.to_string()
    }

    /// How many log lines so far contain `needle` (e.g. `Received SUBSCRIBE from`).
    pub fn count(&self, needle: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches(needle)
            .count()
    }

    /// Wait (at most 10 s) until `n` log lines in total contain `needle`.
    pub fn wait_count(&self, needle: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if text.matches(needle).count() >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "fewer than {n} lines with {needle:?}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
