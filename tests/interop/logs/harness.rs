//! The machinery of the log comparisons: mosquitto and `mq broker` started with the
//! same configuration and their stderr in a file, the command-line and raw-packet
//! clients of the sequences, and the normalisation of the two logs.

use crate::common::{KillOnDrop, mq_command, unused_port, wait_until_exit};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a log line, a client or a broker to finish. mosquitto
/// notices a keep-alive timeout of 1 s only after about 5 s.
pub const WAIT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Mosquitto,
    Mq,
}

/// How a broker is started.
#[derive(Clone, Copy)]
pub enum Setup<'a> {
    /// `-c FILE` with `listener PORT 127.0.0.1` and these lines, plus `-v` if true.
    Config(&'a str, bool),
    /// No configuration: local-only mode, `-v -p PORT`.
    LocalOnly,
}

/// A broker whose stderr (its log) goes to a file, killed when dropped.
pub struct LogBroker {
    child: KillOnDrop,
    pub port: u16,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl LogBroker {
    /// Start it on a free port and wait until it listens: its `version ... running`
    /// line, or, when its log types leave that line out, until the port is taken.
    pub fn start(kind: Kind, setup: Setup<'_>) -> LogBroker {
        let says_running = match setup {
            Setup::Config(extra, verbose) => verbose || !extra.contains("log_type"),
            Setup::LocalOnly => true,
        };
        for _attempt in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = unused_port();
            let log = dir.path().join("broker.log");
            let mut args: Vec<String> = Vec::new();
            match setup {
                Setup::Config(extra, verbose) => {
                    let conf = dir.path().join("broker.conf");
                    std::fs::write(&conf, format!("listener {port} 127.0.0.1\n{extra}\n"))
                        .expect("write conf");
                    args.push("-c".into());
                    args.push(conf.display().to_string());
                    if verbose {
                        args.push("-v".into());
                    }
                }
                Setup::LocalOnly => {
                    args.extend(["-v".into(), "-p".into(), port.to_string()]);
                }
            }
            let mut cmd = match kind {
                Kind::Mosquitto => Command::new("mosquitto"),
                Kind::Mq => {
                    let mut c = mq_command();
                    c.arg("broker").env("NO_COLOR", "1");
                    c
                }
            };
            let stderr = std::fs::File::create(&log).expect("create log");
            let child = cmd
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("mosquitto must be installed (apt-get install mosquitto)");
            let mut broker = LogBroker {
                child: KillOnDrop(child),
                port,
                log,
                dir,
            };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = broker.child.try_wait() {
                    break; // the port was taken in the meantime: try another
                }
                std::thread::sleep(Duration::from_millis(50));
                let listening = if says_running {
                    broker.text().contains(" running")
                } else {
                    std::net::TcpListener::bind(("127.0.0.1", port)).is_err()
                };
                if listening {
                    return broker;
                }
            }
        }
        panic!("{kind:?} did not start");
    }

    /// The log so far.
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until `n` lines of the log contain `needle`.
    pub fn wait_for(&self, needle: &str, n: usize) {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text();
            if text.lines().filter(|l| l.contains(needle)).count() >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "fewer than {n} lines with {needle:?} in:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop it with SIGINT (Ctrl-C) or SIGTERM, and return its whole log.
    pub fn stop(mut self, signal: &str) -> String {
        #[cfg(unix)]
        {
            let status = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(self.child.id().to_string())
                .status()
                .expect("kill");
            assert!(status.success());
            let exit = wait_until_exit(&mut self.child, WAIT).expect("broker did not stop");
            assert!(exit.success(), "broker exit status {exit}");
        }
        #[cfg(not(unix))]
        {
            let _ = signal;
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let text = self.text();
        text.replace(&self.dir.path().display().to_string(), "DIR")
    }
}

/// `mosquitto_pub -V VERSION -h 127.0.0.1 -p PORT ARGS`, run to its end.
pub fn mosquitto_pub(port: u16, version: &str, args: &[&str]) {
    let mut child = KillOnDrop(
        Command::new("mosquitto_pub")
            .args(["-V", version, "-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_pub must be installed"),
    );
    wait_until_exit(&mut child, WAIT).expect("mosquitto_pub did not finish");
}

/// `mosquitto_sub -V VERSION -h 127.0.0.1 -p PORT ARGS`, killed when dropped.
pub fn mosquitto_sub(port: u16, version: &str, args: &[&str]) -> KillOnDrop {
    KillOnDrop(
        Command::new("mosquitto_sub")
            .args(["-V", version, "-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub must be installed"),
    )
}

/// A client made of raw packets, for what the command-line clients cannot do.
pub struct Raw(TcpStream);

/// A packet: first byte, then the remaining length and `body`.
pub fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    let mut len = body.len();
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        out.push(b);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// A string with its two-byte length.
pub fn string(s: &[u8]) -> Vec<u8> {
    let mut out = (s.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(s);
    out
}

/// A CONNECT: protocol level 4 or 5, connect flags, keep alive, client id.
pub fn connect_packet(v5: bool, flags: u8, keep_alive: u16, id: &str) -> Vec<u8> {
    let mut body = string(b"MQTT");
    body.push(if v5 { 5 } else { 4 });
    body.push(flags);
    body.extend_from_slice(&keep_alive.to_be_bytes());
    if v5 {
        body.push(0); // no properties
    }
    body.extend(string(id.as_bytes()));
    packet(0x10, &body)
}

impl Raw {
    /// A TCP connection and nothing else.
    pub fn open(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Raw(s)
    }

    /// Connect with a clean session and read the CONNACK.
    pub fn connect(port: u16, v5: bool, id: &str, keep_alive: u16) -> Raw {
        let mut raw = Raw::open(port);
        raw.send(&connect_packet(v5, 0x02, keep_alive, id));
        let ack = raw.read();
        assert_eq!(ack.first(), Some(&0x20), "CONNACK for {id}: {ack:?}");
        raw
    }

    pub fn send(&mut self, bytes: &[u8]) {
        // The broker may have closed the connection already.
        let _ = self.0.write_all(bytes);
    }

    /// What the broker sends next (empty at the end of the stream or on a timeout).
    pub fn read(&mut self) -> Vec<u8> {
        let mut buf = [0u8; 512];
        match self.0.read(&mut buf) {
            Ok(n) => buf[..n].to_vec(),
            Err(_) => Vec::new(),
        }
    }

    /// Read until the broker closes the connection.
    pub fn read_to_end(&mut self) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline && !self.read().is_empty() {}
    }

    /// DISCONNECT, then close.
    pub fn disconnect(mut self) {
        self.send(&[0xE0, 0x00]);
        self.read_to_end();
    }
}

/// Replace the digits after each `prefix` in `line` by `with`.
fn replace_number_after(line: &str, prefix: &str, with: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(prefix) {
        out.push_str(&rest[..i + prefix.len()]);
        rest = &rest[i + prefix.len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push_str(with);
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// A log line with what legitimately differs replaced; `None` for a line only
/// mosquitto prints about its own configuration.
pub fn normalise(line: &str) -> Option<String> {
    if line.contains("Note: It is recommended to replace `message_size_limit`") {
        return None;
    }
    // The timestamp, when there is one (checked by its own test).
    let line = match line.split_once(": ") {
        Some((stamp, rest)) if stamp.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => line,
    };
    // Each broker points to its own documentation after the local-only warnings.
    if line.starts_with("For more details see ") {
        return Some("For more details see DOCS".to_string());
    }
    let mut line = line.to_string();
    for name in ["mosquitto version ", "mq version "] {
        if let Some(rest) = line.strip_prefix(name)
            && let Some((_, what)) = rest.split_once(' ')
        {
            line = format!("BROKER version V {what}");
        }
    }
    line = replace_number_after(&line, "127.0.0.1:", "PORT");
    line = replace_number_after(&line, "port ", "PORT");
    // Generated client identifiers: mosquitto's auto-<UUID>, mq's auto-<hex>.
    let words: Vec<String> = line
        .split(' ')
        .map(|w| match w.strip_prefix("auto-") {
            Some(rest) => {
                let id_len = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .count();
                format!("auto-ID{}", &rest[id_len..])
            }
            None => w.to_string(),
        })
        .collect();
    Some(words.join(" "))
}

/// A whole log, normalised.
pub fn normalised(log: &str) -> Vec<String> {
    log.lines().filter_map(normalise).collect()
}

/// The client (or connection) a line is about, for comparing each client's lines in
/// order while the lines of different clients may interleave differently.
fn owner(line: &str, previous: &str) -> String {
    let after = |marker: &str| {
        line.split_once(marker)
            .and_then(|(_, rest)| rest.split(' ').next())
            .unwrap_or("")
            .trim_end_matches('.')
            .to_string()
    };
    if line.starts_with('\t') {
        previous.to_string()
    } else if line.starts_with("New connection from ") {
        "<new connection>".to_string()
    } else if let Some(rest) = line.strip_prefix("Client ") {
        rest.split(' ').next().unwrap_or("").to_string()
    } else if line.starts_with("Bad client ") {
        after("Bad client ")
    } else if line.contains(" as ") {
        after(" as ")
    } else if line.starts_with("Sending ") {
        after(" to ")
    } else if line.contains(" from ") {
        after(" from ")
    } else {
        line.split(' ').next().unwrap_or("").to_string()
    }
}

/// Each client's lines, in order.
pub fn by_client(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut previous = String::new();
    for line in lines {
        let who = owner(line, &previous);
        out.entry(who.clone()).or_default().push(line.clone());
        previous = who;
    }
    out
}

/// Run `scenario` against mosquitto, then against mq, each started with `setup` and
/// stopped with SIGINT; return both normalised logs.
pub fn both(setup: Setup<'_>, scenario: impl Fn(&LogBroker)) -> (Vec<String>, Vec<String>) {
    let mut logs = Vec::new();
    for kind in [Kind::Mosquitto, Kind::Mq] {
        let broker = LogBroker::start(kind, setup);
        scenario(&broker);
        logs.push(normalised(&broker.stop("INT")));
    }
    let mq = logs.pop().unwrap_or_default();
    let mosquitto = logs.pop().unwrap_or_default();
    (mosquitto, mq)
}

fn show(lines: &[String]) -> String {
    lines.join("\n")
}

/// The same lines in the same order.
pub fn assert_same(mosquitto: &[String], mq: &[String]) {
    assert_eq!(
        mosquitto,
        mq,
        "\n--- mosquitto:\n{}\n--- mq:\n{}",
        show(mosquitto),
        show(mq)
    );
}

/// The same lines for each client, each client's in the same order.
pub fn assert_same_per_client(mosquitto: &[String], mq: &[String]) {
    assert_eq!(
        by_client(mosquitto),
        by_client(mq),
        "\n--- mosquitto:\n{}\n--- mq:\n{}",
        show(mosquitto),
        show(mq)
    );
}
