//! Black-box tests of the `mq` command line that need no broker: help, usage errors
//! (exit 1, as mosquitto_pub/sub), `-h` as the host, and connection failures printed
//! as one `mq: <reason>` line.

mod common;

use assert_cmd::Command;
use common::{mq_command, one_mq_line, unused_port};
use predicates::prelude::*;

/// `mq`, with the `MQ_*` environment defaults cleared.
fn mq() -> Command {
    Command::from_std(mq_command())
}

/// Run `cmd`, assert that it exits with 1, and return its stderr, which must be one
/// `mq: ` line.
fn exit_1_with_one_line(cmd: &mut Command) -> String {
    let out = cmd.assert().code(1).get_output().clone();
    one_mq_line(&out.stderr)
}

#[test]
fn help_is_long_only_and_lists_the_flags() {
    for sub in ["pub", "sub"] {
        mq().args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: mq"))
            .stdout(predicate::str::contains("--host"))
            .stdout(predicate::str::contains("Exit status"));
    }
    mq().arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("pub"));
    mq().arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("mq "));
}

#[test]
fn dash_h_is_the_host_not_help() {
    let port = unused_port().to_string();
    let out = mq()
        .args(["pub", "-h", "127.0.0.1", "-p", &port, "-t", "a", "-m", "x"])
        .assert()
        .failure()
        .get_output()
        .clone();
    assert!(out.stdout.is_empty());
    let err = one_mq_line(&out.stderr);
    assert!(
        err.contains("127.0.0.1") || err.contains("refused"),
        "{err}"
    );
}

#[test]
fn pub_to_a_closed_port_fails_with_one_line() {
    let port = unused_port().to_string();
    for v in ["311", "5"] {
        exit_1_with_one_line(mq().args([
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "a",
            "-m",
            "x",
            "-V",
            v,
        ]));
    }
}

#[test]
fn sub_to_a_closed_port_fails_with_one_line() {
    let port = unused_port().to_string();
    exit_1_with_one_line(mq().args(["sub", "-h", "127.0.0.1", "-p", &port, "-t", "a"]));
}

#[test]
fn quiet_hides_runtime_errors() {
    let port = unused_port().to_string();
    mq().args([
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "a",
        "-m",
        "x",
        "--quiet",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::is_empty());
}

#[test]
fn unknown_flag_is_a_usage_error_with_a_suggestion() {
    mq().args(["pub", "--retian", "-t", "a", "-m", "x"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--retian"))
        .stderr(predicate::str::contains("--retain"));
}

#[test]
fn bad_arguments_exit_1() {
    let cases: &[(&[&str], &str)] = &[
        (&["pub", "-t", "a", "-m", "x", "-q", "3"], "QoS"),
        (&["pub", "-t", "a"], "message"),
        (&["pub", "-m", "x"], "topic"),
        (&["pub", "-t", "a/#", "-m", "x"], "invalid publish topic"),
        (&["pub", "-t", "a/+/b", "-m", "x"], "invalid publish topic"),
        (&["pub", "-t", "a", "-m", "x", "-n"], "cannot be used"),
        (
            &["pub", "-t", "a", "-m", "x", "-V", "6"],
            "protocol version",
        ),
        (&["pub", "-t", "a", "-m", "x", "-k", "2"], "keepalive"),
        (&["pub", "-t", "a", "-m", "x", "-P", "secret"], "user name"),
        (&["pub", "-t", "a", "-m", "x", "-c"], "client id"),
        (&["pub", "-t", "a", "-m", "x", "-x", "10"], "MQTT 5"),
        (
            &[
                "pub",
                "-t",
                "a",
                "-m",
                "x",
                "-V",
                "5",
                "-D",
                "connect",
                "content-type",
                "x",
            ],
            "not allowed",
        ),
        (&["pub", "-t", "a", "-f", "/nonexistent/file"], "input file"),
        (
            &["pub", "-t", "a", "-m", "x", "--psk", "00"],
            "not supported",
        ),
        (&["sub"], "topic"),
        (&["sub", "-t", "a/#/b"], "invalid subscription topic"),
        (&["sub", "-t", "a+"], "invalid subscription topic"),
        (
            &["sub", "-t", "a", "-T", "x/#/y"],
            "invalid subscription topic",
        ),
        (
            &["sub", "-t", "a", "-F", "%Z"],
            "Invalid format specifier 'Z'",
        ),
        (
            &["sub", "-t", "a", "-F", "abc%"],
            "Incomplete format specifier",
        ),
        (
            &["sub", "-t", "a", "-F", "\\q"],
            "Invalid escape specifier 'q'",
        ),
        (
            &["sub", "-t", "a", "-F", "%99999999999t"],
            "Field width too large",
        ),
        (
            &["pub", "-t", "a", "-m", "x", "--repeat-delay", "1e30"],
            "--repeat-delay",
        ),
        (&["sub", "-t", "a", "-C", "0"], "-C"),
        (&["sub", "-t", "a", "-C", "x"], "invalid value"),
        (
            &["sub", "-t", "a", "--random-filter", "200"],
            "random-filter",
        ),
        (&["sub", "-t", "a", "--json", "-F", "%t"], "cannot be used"),
    ];
    for (args, needle) in cases {
        let out = mq().args(*args).assert().code(1).get_output().clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(needle),
            "{args:?}: stderr {err:?} lacks {needle:?}"
        );
    }
}

#[test]
fn environment_supplies_the_defaults() {
    // MQ_HOST/MQ_PORT point at a closed port: the error names that address.
    let port = unused_port();
    let err = exit_1_with_one_line(
        mq().args(["pub", "-t", "a", "-m", "x"])
            .env("MQ_HOST", "127.0.0.1")
            .env("MQ_PORT", port.to_string()),
    );
    assert!(err.contains(&port.to_string()), "{err}");
}

#[test]
fn unsupported_flags_are_refused_not_ignored() {
    // Only what rustls cannot do (and DNS SRV) is refused; --unix, --proxy, -A,
    // --capath and --tls-version are honoured (tests/cli_flags.rs).
    for flag in [
        &["--psk", "00"][..],
        &["--psk-identity", "x"],
        &["--tls-engine", "e"],
        &["--keyform", "engine"],
        &["--ciphers", "x"],
        &["--tls-engine-kpass-sha1", "x"],
        &["--tls-version", "tlsv1.1"],
        &["-S"],
    ] {
        let mut args = vec!["pub", "-t", "a", "-m", "x"];
        args.extend_from_slice(flag);
        mq().args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("not supported"));
    }
}
