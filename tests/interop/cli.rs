//! Interop of `mq pub` / `mq sub` with mosquitto's own tools: `mq sub` and
//! `mosquitto_sub`, run side by side with the same flags against one real mosquitto,
//! must print byte for byte the same stdout and exit with the same code; `mq pub`
//! and `mosquitto_pub` input modes must put the same messages on the wire.

use crate::common::{
    KillOnDrop, MQ, TestPki, mq_pub, one_mq_line, output_with_stdin, wait_until_exit,
};
use crate::peers::{LoggedMosquitto, Mosquitto};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The mosquitto log line of each SUBSCRIBE it receives.
const SUBSCRIBED: &str = "Received SUBSCRIBE from";

fn spawn(program: &str, args: &[String]) -> KillOnDrop {
    spawn_tz(program, args, "UTC")
}

/// Spawn with the time zone `TZ` set (both tools print local times).
fn spawn_tz(program: &str, args: &[String], tz: &str) -> KillOnDrop {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("TZ", tz)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    KillOnDrop(child)
}

/// Wait (bounded) for a subscriber; returns (exit code, stdout, stderr).
fn finish(mut child: KillOnDrop) -> Run {
    let status =
        wait_until_exit(&mut child, Duration::from_secs(20)).expect("a subscriber did not exit");
    let mut out = Vec::new();
    let mut err = String::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_end(&mut out).expect("stdout");
    }
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).expect("stderr");
    }
    (status.code(), out, err)
}

/// One message to publish with `mq pub`.
type Pub<'a> = &'a [&'a str];

/// What a finished subscriber left: exit code, stdout, stderr.
type Run = (Option<i32>, Vec<u8>, String);

/// Run `mq sub` and `mosquitto_sub` with the same flags (plus host and port) against
/// one mosquitto; publish `before` (e.g. retained) first, start both, publish `after`,
/// and return both (code, stdout, stderr).
fn side_by_side(
    extra_conf: &str,
    flags: &[&str],
    before: &[Pub<'_>],
    after: &[Pub<'_>],
) -> (Run, Run) {
    side_by_side_tz("UTC", extra_conf, flags, before, after)
}

/// [`side_by_side`] with both subscribers in the time zone `tz`.
fn side_by_side_tz(
    tz: &str,
    extra_conf: &str,
    flags: &[&str],
    before: &[Pub<'_>],
    after: &[Pub<'_>],
) -> (Run, Run) {
    let m = LoggedMosquitto::start(extra_conf);
    let port = m.port();
    for p in before {
        mq_pub(m.broker.port, p, None);
    }
    let mut args: Vec<String> = vec!["-h".into(), "127.0.0.1".into(), "-p".into(), port.clone()];
    args.extend(flags.iter().map(|s| s.to_string()));
    let already = m.count(SUBSCRIBED);
    let ours = spawn_tz(MQ, &[vec!["sub".to_string()], args.clone()].concat(), tz);
    let theirs = spawn_tz("mosquitto_sub", &args, tz);
    m.wait_count(SUBSCRIBED, already + 2);
    for p in after {
        mq_pub(m.broker.port, p, None);
    }
    (finish(ours), finish(theirs))
}

/// Replace the value of every `"tst":"..."` (the receive time differs by a few µs).
fn strip_times(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b).to_string();
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("\"tst\":") {
        out.push_str(&rest[..i + 6]);
        rest = &rest[i + 6..];
        let skip_ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..skip_ws]);
        rest = &rest[skip_ws..];
        if let Some(r) = rest.strip_prefix('"')
            && let Some(end) = r.find('"')
        {
            out.push_str("\"T\"");
            rest = &r[end + 1..];
        }
    }
    out.push_str(rest);
    out
}

fn assert_same(flags: &[&str], ours: &Run, theirs: &Run) {
    assert_eq!(
        strip_times(&ours.1),
        strip_times(&theirs.1),
        "stdout differs for {flags:?}\nmq stderr: {}\nmosquitto_sub stderr: {}",
        ours.2,
        theirs.2
    );
    assert_eq!(
        ours.0, theirs.0,
        "exit code differs for {flags:?}: mq stderr {}",
        ours.2
    );
}

/// The issue's "done when": three messages at QoS 0, 1 and 2 (UTF-8 included) print
/// the same under `-v -C 3 -q 2` for both subscribers.
fn done_when(version: &str) {
    let flags = ["-t", "a/#", "-v", "-C", "3", "-q", "2", "-V", version];
    let (ours, theirs) = side_by_side(
        "",
        &flags,
        &[],
        &[
            &["-t", "a/zero", "-m", "Grüße 🚗", "-q", "0", "-V", version],
            &["-t", "a/one", "-m", "plain ascii", "-q", "1", "-V", version],
            &[
                "-t",
                "a/two/deep",
                "-m",
                "日本語 ✓ \"quoted\"",
                "-q",
                "2",
                "-V",
                version,
            ],
        ],
    );
    assert_eq!(ours.0, Some(0), "{}", ours.2);
    assert_eq!(
        String::from_utf8_lossy(&ours.1),
        "a/zero Grüße 🚗\na/one plain ascii\na/two/deep 日本語 ✓ \"quoted\"\n"
    );
    assert_same(&flags, &ours, &theirs);
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn sub_prints_like_mosquitto_sub_qos_0_1_2_v311() {
    done_when("311");
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn sub_prints_like_mosquitto_sub_qos_0_1_2_v5() {
    done_when("5");
}

/// Messages with a spread of payloads and (under v5) properties.
fn messages(version: &'static str) -> Vec<Vec<&'static str>> {
    let mut v = vec![
        vec![
            "-t",
            "g/text",
            "-m",
            "hello world",
            "-q",
            "1",
            "-V",
            version,
        ],
        vec!["-t", "g/empty", "-n", "-q", "2", "-V", version],
        vec![
            "-t",
            "g/json",
            "-m",
            "{\"t\": 21.5, \"ok\": true, \"l\": [1, 2.50]}",
            "-V",
            version,
        ],
        vec![
            "-t",
            "g/esc",
            "-m",
            "tab\there \"q\" back\\slash é",
            "-q",
            "2",
            "-V",
            version,
        ],
    ];
    if version == "5" {
        v.push(vec![
            "-t",
            "g/props",
            "-m",
            "with props",
            "-q",
            "1",
            "-V",
            "5",
            "-D",
            "publish",
            "user-property",
            "k1",
            "v1",
            "-D",
            "publish",
            "user-property",
            "k2",
            "v2",
            "-D",
            "publish",
            "content-type",
            "text/plain",
            "-D",
            "publish",
            "response-topic",
            "reply/here",
            "-D",
            "publish",
            "correlation-data",
            "corr",
            "-D",
            "publish",
            "payload-format-indicator",
            "1",
            "-D",
            "publish",
            "message-expiry-interval",
            "3600",
        ]);
    }
    v
}

fn golden(version: &'static str, flags_extra: &[&str]) {
    let msgs = messages(version);
    let count = msgs.len().to_string();
    // Subscribe at QoS 1: libmosquitto hands a QoS 2 message to mosquitto_sub only on
    // PUBREL (mq sub prints it on PUBLISH), so at QoS 2 the two may order differently.
    let mut flags = vec!["-t", "g/#", "-q", "1", "-C", &count, "-V", version];
    flags.extend_from_slice(flags_extra);
    let after: Vec<&[&str]> = msgs.iter().map(|m| m.as_slice()).collect();
    let (ours, theirs) = side_by_side("", &flags, &[], &after);
    assert_same(&flags, &ours, &theirs);
}

const FORMATS: &[&str] = &[
    "%t %p",
    "%t|%l|%q|%r|%m",
    "%x %X",
    "%10t|%-10t|%05l|%.3t|%8.3t|",
    "%-8X|%5p|%2p|%-05x|",
    "%j",
    "%J",
    "\\t%t\\0%p\\n%%@@",
    "%C|%R|%E|%F|%P|%D|%A|%S",
    "%5C|%-5R|%08E|%3F|",
];

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn golden_output_flags_v311() {
    for flags in [&["-v"][..], &["-N"], &["-v", "-N"], &[]] {
        golden("311", flags);
    }
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn golden_output_flags_v5() {
    for flags in [&["-v"][..], &["-N"], &["-v", "-N"], &[]] {
        golden("5", flags);
    }
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn golden_formats_v311() {
    for f in FORMATS {
        golden("311", &["-F", f]);
    }
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn golden_formats_v5() {
    for f in FORMATS {
        golden("5", &["-F", f]);
    }
    golden("5", &["-F", "%j", "--pretty"]);
    golden("5", &["-F", "%J", "--pretty"]);
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn golden_retained_flags() {
    let before: &[Pub<'_>] = &[
        &["-t", "r/old1", "-m", "stale one", "-r"],
        &["-t", "r/old2", "-m", "stale two", "-r", "-q", "1"],
    ];
    let after: &[Pub<'_>] = &[
        &["-t", "r/new", "-m", "fresh"],
        &["-t", "r/skip/x", "-m", "filtered"],
        &["-t", "r/new", "-m", "fresh 2"],
    ];
    for flags in [
        &["-t", "r/#", "-v", "-C", "2", "-R"][..],
        &["-t", "r/#", "-v", "-C", "3", "-T", "r/skip/#"],
        &["-t", "r/#", "-v", "--retained-only"],
        &["-t", "r/#", "-F", "%t %r %p", "-C", "3"],
    ] {
        let (ours, theirs) = side_by_side("", flags, before, after);
        assert_same(flags, &ours, &theirs);
    }
}

/// Run one subscriber (`mq sub` or `mosquitto_sub`) alone against its own broker,
/// after publishing `before`; returns its run and the broker's port.
fn alone(ours: bool, flags: &[&str], before: &[Pub<'_>]) -> (Run, String) {
    let m = LoggedMosquitto::start("");
    let port = m.port();
    for p in before {
        mq_pub(m.broker.port, p, None);
    }
    let mut args: Vec<String> = vec!["-h".into(), "127.0.0.1".into(), "-p".into(), port.clone()];
    args.extend(flags.iter().map(|s| s.to_string()));
    let already = m.count(SUBSCRIBED);
    let running = if ours {
        spawn_tz(MQ, &[vec!["sub".to_string()], args].concat(), "UTC")
    } else {
        spawn_tz("mosquitto_sub", &args, "UTC")
    };
    m.wait_count(SUBSCRIBED, already + 1);
    let run = finish(running);
    // It cleared the retained messages: a new subscriber on that broker gets nothing.
    let after = finish(spawn_tz(
        MQ,
        &[
            "sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "rr/#",
            "-W",
            "1",
        ]
        .map(String::from),
        "UTC",
    ));
    assert!(
        after.1.is_empty(),
        "retained messages left behind: {:?}",
        after.1
    );
    (run, port)
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn golden_remove_retained() {
    let before: &[Pub<'_>] = &[
        &["-t", "rr/a", "-m", "one", "-r"],
        &["-t", "rr/b", "-m", "two", "-r"],
    ];
    // mosquitto_sub never exits with -C and --remove-retained (it waits for its own
    // clearing publishes), so run for a fixed time. Each tool runs against its own
    // broker: on one shared broker the first to subscribe clears the retained
    // messages before the other sees them. Each also receives its own clearing
    // (empty) messages, in any order: compare sorted.
    let flags = ["-t", "rr/#", "-v", "--remove-retained", "-W", "2"];
    let (ours, _) = alone(true, &flags, before);
    let (theirs, _) = alone(false, &flags, before);
    let sorted = |b: &[u8]| {
        let mut v: Vec<String> = String::from_utf8_lossy(b)
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&ours.1), sorted(&theirs.1), "mq stderr: {}", ours.2);
    assert!(sorted(&ours.1).contains(&"rr/a one".to_string()));
    assert_eq!(ours.0, theirs.0);
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn golden_timeout_exit_27() {
    for v in ["311", "5"] {
        let flags = ["-t", "none/#", "-W", "1", "-V", v];
        let (ours, theirs) = side_by_side("", &flags, &[], &[]);
        assert_same(&flags, &ours, &theirs);
        assert_eq!(ours.0, Some(27));
        assert!(ours.2.contains("Timed out"), "{}", ours.2);
    }
}

#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn refused_connection_exits_with_the_connack_code() {
    // allow_anonymous false: 3.1.1 CONNACK 5 (not authorised), 5.0 reason 0x87 (135).
    let locked = Mosquitto::start_with("allow_anonymous false");
    let port = locked.port.to_string();
    for (v, code) in [("311", 5), ("5", 135)] {
        for tool in ["mq", "mosquitto_sub"] {
            let mut args: Vec<String> = Vec::new();
            if tool == "mq" {
                args.push("sub".into());
            }
            for a in [
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-t",
                "x",
                "-V",
                v,
                "-W",
                "5",
            ] {
                args.push(a.into());
            }
            let program = if tool == "mq" { MQ } else { "mosquitto_sub" };
            let (got, _, err) = finish(spawn(program, &args));
            assert_eq!(got, Some(code), "{tool} -V {v}: {err}");
        }
    }
}

/// `mq pub` and `mosquitto_pub` with the same input flags deliver the same messages.
#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn pub_input_modes_match_mosquitto_pub() {
    let m = LoggedMosquitto::start("");
    let port = m.port();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("payload.bin");
    std::fs::write(&file, b"file\x00bytes\nline2").expect("write");
    let file = file.display().to_string();
    let stdin_data: &[u8] = b"first line\n\nthird line\r\nlast without newline";
    let modes: Vec<(Vec<&str>, Option<&[u8]>)> = vec![
        (vec!["-m", "message"], None),
        (vec!["-n"], None),
        (vec!["-f", &file], None),
        (vec!["-s"], Some(stdin_data)),
        (vec!["-l"], Some(stdin_data)),
        (vec!["-m", "rep", "--repeat", "3"], None),
        (vec!["-m", "q2", "-q", "2", "-r"], None),
    ];
    for (mode, input) in modes {
        let rec_args: Vec<String> = [
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "in/#",
            "-q",
            "2",
            "-F",
            "%t %q %r %l %x",
            "-W",
            "3",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let already = m.count(SUBSCRIBED);
        let recorder = spawn("mosquitto_sub", &rec_args);
        m.wait_count(SUBSCRIBED, already + 1);
        let mut ours_args = vec!["-t", "in/mq", "-q", "1"];
        ours_args.extend_from_slice(&mode);
        mq_pub(m.broker.port, &ours_args, input);
        let mut theirs = Command::new("mosquitto_pub");
        theirs
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-t",
                "in/mosquitto",
                "-q",
                "1",
            ])
            .args(&mode);
        assert!(output_with_stdin(theirs, input).status.success());
        let (_, out, _) = finish(recorder);
        let text = String::from_utf8_lossy(&out).to_string();
        let ours: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("in/mq "))
            .collect();
        let theirs: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("in/mosquitto "))
            .collect();
        assert!(!ours.is_empty(), "{mode:?}: nothing received: {text}");
        assert_eq!(ours, theirs, "{mode:?}");
        // Clear a retained message so the next round starts clean.
        mq_pub(m.broker.port, &["-t", "in/mq", "-n", "-r"], None);
        mq_pub(m.broker.port, &["-t", "in/mosquitto", "-n", "-r"], None);
    }
}

/// A v5 PUBACK/PUBCOMP with a reason code >= 0x80 (here mosquitto's ACL refusal,
/// Not authorized 0x87) makes `mq pub` fail and say so (mosquitto_pub only warns).
#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn pub_fails_on_a_refused_v5_publish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "topic readwrite open/#\n").expect("write acl");
    let m = LoggedMosquitto::start(&format!("acl_file {}", acl.display()));
    let port = m.port();
    for qos in ["1", "2"] {
        let out = Command::new(MQ)
            .args(["pub", "-h", "127.0.0.1", "-p", &port, "-V", "5", "-q", qos])
            .args(["-t", "denied/x", "-m", "no"])
            .output()
            .expect("mq pub");
        assert_eq!(out.status.code(), Some(1), "QoS {qos}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("mq: ") && err.contains("Not authorized"),
            "{err}"
        );
    }
    mq_pub(
        m.broker.port,
        &["-V", "5", "-q", "1", "-t", "open/x", "-m", "yes"],
        None,
    );
}

/// `--cafile` switches to TLS (port 8883 style): `mq sub` and `mosquitto_sub` print the
/// same over TLS; a wrong CA and a hostname mismatch are named in one line;
/// `--insecure` skips the hostname check.
#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn tls_pub_sub_like_mosquitto() {
    // The server certificate names `localhost` only: 127.0.0.1 is a hostname mismatch.
    let pki = TestPki::new(&["localhost"]);
    let m = LoggedMosquitto::start(&pki.mosquitto_conf());
    let port = m.port();
    let ca = pki.path("ca.pem").display().to_string();
    let sub_args: Vec<String> = [
        "-h",
        "localhost",
        "-p",
        &port,
        "--cafile",
        &ca,
        "-t",
        "tls/#",
        "-v",
        "-C",
        "2",
        "-q",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let already = m.count(SUBSCRIBED);
    let ours = spawn(MQ, &[vec!["sub".to_string()], sub_args.clone()].concat());
    let theirs = spawn("mosquitto_sub", &sub_args);
    m.wait_count(SUBSCRIBED, already + 2);
    for (topic, payload) in [("tls/a", "sécurité"), ("tls/b", "second")] {
        let out = Command::new(MQ)
            .args([
                "pub",
                "-h",
                "localhost",
                "-p",
                &port,
                "--cafile",
                &ca,
                "-q",
                "1",
            ])
            .args(["-t", topic, "-m", payload])
            .output()
            .expect("mq pub");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (ours, theirs) = (finish(ours), finish(theirs));
    assert_eq!(
        String::from_utf8_lossy(&ours.1),
        "tls/a sécurité\ntls/b second\n",
        "{}",
        ours.2
    );
    assert_same(&["--cafile"], &ours, &theirs);

    let failure = |host: &str, ca: &str, extra: &[&str]| {
        let out = Command::new(MQ)
            .args([
                "pub", "-h", host, "-p", &port, "--cafile", ca, "-t", "tls/x", "-m", "x",
            ])
            .args(extra)
            .output()
            .expect("mq pub");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = failure(
        "localhost",
        &pki.path("other.pem").display().to_string(),
        &[],
    );
    assert_eq!(code, Some(1));
    one_mq_line(err.as_bytes());
    assert!(err.to_lowercase().contains("unknown ca"), "{err}");
    let (code, err) = failure("127.0.0.1", &ca, &[]);
    assert_eq!(code, Some(1));
    assert!(
        err.to_lowercase().contains("hostname") || err.to_lowercase().contains("name"),
        "{err}"
    );
    let (code, err) = failure("127.0.0.1", &ca, &["--insecure"]);
    assert_eq!(code, Some(0), "{err}");
}

/// `--cert`/`--key`: a broker that requires client certificates accepts `mq pub` with
/// one signed by its CA and refuses it without.
#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn tls_client_certificate() {
    let pki = TestPki::new(&["localhost"]);
    let conf = format!("{}require_certificate true\n", pki.mosquitto_conf());
    let m = LoggedMosquitto::start(&conf);
    let port = m.port();
    let ca = pki.path("ca.pem").display().to_string();
    let publish = |extra: &[String]| {
        let out = Command::new(MQ)
            .args(["pub", "-h", "localhost", "-p", &port, "--cafile", &ca])
            .args(["-t", "tls/cert", "-m", "x", "-q", "1"])
            .args(extra)
            .output()
            .expect("mq pub");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let with = [
        "--cert".to_string(),
        pki.path("client.pem").display().to_string(),
        "--key".to_string(),
        pki.path("client.key").display().to_string(),
    ];
    let (code, err) = publish(&with);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = publish(&[]);
    assert_ne!(code, Some(0), "accepted without a client certificate");
    assert!(err.starts_with("mq: "), "{err}");
}

/// Secrets off the command line: `-P -` (stdin), `--password-file` and `MQ_PASSWORD`
/// all authenticate against mosquitto's password file; a wrong password exits with
/// the same CONNACK code as mosquitto_pub.
#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn passwords_from_stdin_file_and_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pwfile = dir.path().join("passwords");
    let status = Command::new("mosquitto_passwd")
        .args(["-c", "-b"])
        .arg(&pwfile)
        .args(["alice", "s3cret"])
        .status()
        .expect("mosquitto_passwd");
    assert!(status.success());
    let m = LoggedMosquitto::start(&format!(
        "allow_anonymous false\npassword_file {}",
        pwfile.display()
    ));
    let port = m.port();
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, "s3cret\n").expect("write");
    let run = |extra: &[&str], stdin: Option<&[u8]>, env: Option<&str>| {
        let mut cmd = Command::new(MQ);
        cmd.args([
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "pw",
            "-m",
            "x",
            "-u",
            "alice",
        ])
        .args(extra)
        .env_remove("MQ_PASSWORD");
        if let Some(pw) = env {
            cmd.env("MQ_PASSWORD", pw);
        }
        let out = output_with_stdin(cmd, stdin);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert_eq!(run(&["-P", "-"], Some(b"s3cret\n"), None).0, Some(0));
    let secret = secret_file.display().to_string();
    assert_eq!(run(&["--password-file", &secret], None, None).0, Some(0));
    assert_eq!(run(&[], None, Some("s3cret")).0, Some(0));
    let (ours, err) = run(&["-P", "-"], Some(b"wrong\n"), None);
    let theirs = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "pw",
            "-m",
            "x",
            "-u",
            "alice",
            "-P",
            "wrong",
        ])
        .output()
        .expect("mosquitto_pub");
    assert_eq!(ours, theirs.status.code(), "{err}");
    assert_ne!(ours, Some(0));
    assert!(err.starts_with("mq: "), "{err}");
}

/// Times are local, as mosquitto_sub prints them (`@` strftime forms, `%I`, the `%j`
/// offset), here in a zone with daylight saving time. Compared to the minute.
#[test]
#[ignore = "needs mosquitto; run by .ci/run"]
fn golden_local_times() {
    if !std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
        return;
    }
    for tz in ["Europe/Berlin", "America/New_York", "UTC"] {
        let flags = [
            "-t",
            "tz",
            "-C",
            "1",
            "-F",
            "@Y-@m-@d @H:@M @z @Z @a @b @j %t",
        ];
        let (ours, theirs) = side_by_side_tz(tz, "", &flags, &[], &[&["-t", "tz", "-m", "x"]]);
        assert_same(&flags, &ours, &theirs);
    }
}
