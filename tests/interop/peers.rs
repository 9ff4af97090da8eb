//! Starting and stopping real peers for the interop tests.

#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port: bind port 0, read it back, release it.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A mosquitto broker on a free loopback port, killed (by PID) when dropped.
pub struct Mosquitto {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Start `mosquitto -c <conf>` listening on 127.0.0.1 with anonymous access.
    /// `extra` is appended to the configuration file (e.g. TLS options).
    pub fn start_with(extra: &str) -> Mosquitto {
        let dir = tempfile::tempdir().expect("tempdir");
        for _attempt in 0..5 {
            let port = free_port();
            let conf = dir.path().join("mosquitto.conf");
            let mut f = std::fs::File::create(&conf).expect("create conf");
            writeln!(
                f,
                "listener {port} 127.0.0.1\nallow_anonymous true\n{extra}"
            )
            .expect("write conf");
            drop(f);
            let mut child = Command::new("mosquitto")
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mosquitto must be installed (apt-get install mosquitto)");
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
            let _ = child.kill();
            let _ = child.wait();
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

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
