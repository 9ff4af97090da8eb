//! What a newcomer reads first: `mq pub/sub/rr --help` groups every flag under the
//! heading mosquitto_pub/mosquitto_sub's usage puts it (no heading runs on over the
//! flags after it), says each default once, lists no no-op flag, and a usage error
//! (no topic, `-h` without a host) says what to do next.

mod common;

use assert_cmd::Command;
use common::mq_command;
use std::collections::HashMap;

/// `mq`, with the `MQ_*` environment defaults cleared.
fn mq() -> Command {
    Command::from_std(mq_command())
}

/// The help text of `mq <sub> --help`.
fn help(sub: &str) -> String {
    let out = mq().args([sub, "--help"]).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).expect("UTF-8 help")
}

/// Every flag of a help text (`-t` or `--topic` forms) and the heading it sits under.
fn flags_by_heading(text: &str) -> HashMap<String, String> {
    let mut heading = String::new();
    let mut out = HashMap::new();
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            heading = line.trim_end_matches(':').to_string();
            continue;
        }
        let t = line.trim_start();
        // A flag line starts with `-x, --long`, `-x ` or `--long` after 2 to 6 spaces.
        let indent = line.len() - t.len();
        if !(2..=6).contains(&indent) || !t.starts_with('-') {
            continue;
        }
        // `-t, --topic <TOPIC>` is named by its long form, `-M <N>` by its short one.
        let mut words = t.split_whitespace();
        let first = words.next().unwrap_or_default();
        let name = match first.strip_suffix(',') {
            Some(_) => words.next().unwrap_or_default(),
            None => first,
        };
        if out.insert(name.to_string(), heading.clone()).is_some() {
            panic!("{name} listed twice:\n{text}");
        }
    }
    out
}

fn assert_headings(sub: &str, expected: &[(&str, &[&str])]) {
    let text = help(sub);
    let found = flags_by_heading(&text);
    let mut listed = 0;
    for (heading, flags) in expected {
        for flag in *flags {
            assert_eq!(
                found.get(*flag).map(String::as_str),
                Some(*heading),
                "mq {sub} --help: {flag} should be under {heading}:\n{text}"
            );
            listed += 1;
        }
    }
    // Nothing else is listed: each flag is under the heading named above.
    let extra: Vec<_> = found
        .keys()
        .filter(|f| !expected.iter().any(|(_, fs)| fs.contains(&f.as_str())))
        .collect();
    assert!(extra.is_empty(), "mq {sub} --help: unexpected {extra:?}");
    assert_eq!(found.len(), listed, "mq {sub} --help:\n{text}");
}

const CONNECTION: &[&str] = &[
    "--host",
    "--port",
    "--url",
    "--id",
    "--keepalive",
    "--username",
    "--pw",
    "--password-file",
    "--protocol-version",
    "--disable-clean-session",
    "--id-prefix",
    "-A",
    "--unix",
    "--proxy",
];
const TLS: &[&str] = &[
    "--cafile",
    "--capath",
    "--cert",
    "--key",
    "--insecure",
    "--tls-use-os-certs",
    "--tls-alpn",
    "--tls-version",
];
const WILL: &[&str] = &[
    "--will-topic",
    "--will-payload",
    "--will-qos",
    "--will-retain",
];
const MQTT5: &[&str] = &["-x", "--property"];
const HELP: &[&str] = &["--help"];

#[test]
fn pub_help_groups_every_flag_under_its_heading() {
    assert_headings(
        "pub",
        &[
            ("Options", HELP),
            ("Connection", CONNECTION),
            ("TLS", TLS),
            (
                "Message",
                &[
                    "--topic",
                    "--message",
                    "--file",
                    "--stdin-line",
                    "--stdin-file",
                    "--null-message",
                    "--qos",
                    "--retain",
                    "--repeat",
                    "--repeat-delay",
                    "-M",
                    "--json",
                ],
            ),
            ("Output", &["--debug", "--quiet", "--color"]),
            ("Will", WILL),
            ("MQTT 5", MQTT5),
        ],
    );
}

#[test]
fn sub_help_groups_every_flag_under_its_heading() {
    assert_headings(
        "sub",
        &[
            ("Options", HELP),
            ("Connection", CONNECTION),
            ("TLS", TLS),
            (
                "Subscription",
                &[
                    "--topic",
                    "--filter-out",
                    "--unsubscribe",
                    "--qos",
                    "-C",
                    "-W",
                    "-E",
                    "-R",
                    "--retained-only",
                    "--remove-retained",
                    "--retain-as-published",
                ],
            ),
            (
                "Output",
                &[
                    "--verbose",
                    "-F",
                    "-N",
                    "--random-filter",
                    "--pretty",
                    "--json",
                    "--debug",
                    "--quiet",
                    "--color",
                ],
            ),
            ("Will", WILL),
            ("MQTT 5", MQTT5),
        ],
    );
}

#[test]
fn rr_help_groups_every_flag_under_its_heading() {
    assert_headings(
        "rr",
        &[
            ("Options", HELP),
            ("Connection", CONNECTION),
            ("TLS", TLS),
            (
                "Message",
                &[
                    "--topic",
                    "--response-topic",
                    "--message",
                    "--file",
                    "--stdin-file",
                    "--null-message",
                    "--qos",
                    "-W",
                    "-R",
                ],
            ),
            (
                "Output",
                &[
                    "--verbose",
                    "-F",
                    "-N",
                    "--pretty",
                    "--json",
                    "--debug",
                    "--quiet",
                    "--color",
                ],
            ),
            ("Will", WILL),
            ("MQTT 5", MQTT5),
        ],
    );
}

#[test]
fn help_says_defaults_once_and_exit_codes_per_command() {
    let text = help("pub");
    let m = text
        .lines()
        .find(|l| l.trim_start().starts_with("-M "))
        .expect("-M listed");
    assert_eq!(m.matches("20").count(), 1, "{m}");
    assert!(m.contains("[default: 20]"), "{m}");
    assert!(text.contains("Exit status"), "{text}");
    assert!(!text.contains("27"), "pub has no -W:\n{text}");
    for sub in ["sub", "rr"] {
        let text = help(sub);
        assert!(text.contains("  27 "), "mq {sub} --help:\n{text}");
    }
    // Short enough to read on one or two screens.
    assert!(text.lines().count() < 100, "{} lines", text.lines().count());
}

#[test]
fn no_op_flags_are_accepted_but_not_listed() {
    for sub in ["pub", "sub", "rr"] {
        let text = help(sub);
        assert!(
            !text.contains("--nodelay"),
            "mq {sub} --help lists --nodelay"
        );
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("-S")),
            "mq {sub} --help lists -S"
        );
    }
    // --nodelay is still accepted (mosquitto_pub scripts pass it): the error is the
    // missing message, not an unknown flag.
    let out = mq().args(["pub", "--nodelay", "-t", "a"]).assert().code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("both topic and message"), "{err}");
}

#[test]
fn pub_and_sub_without_arguments_print_the_error_and_a_usage() {
    for (sub, error) in [
        ("pub", "mq: both topic and message must be supplied"),
        ("sub", "mq: you must specify a topic to subscribe to"),
    ] {
        // --quiet hides errors, not usage errors.
        for quiet in [false, true] {
            let mut cmd = mq();
            cmd.arg(sub);
            if quiet {
                cmd.arg("--quiet");
            }
            let out = cmd.assert().code(1);
            let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
            let lines: Vec<&str> = err.lines().collect();
            assert_eq!(lines.len(), 3, "{err}");
            assert!(lines[0].starts_with(error), "{err}");
            assert!(lines[1].starts_with(&format!("Usage: mq {sub} ")), "{err}");
            assert!(lines[2].contains(&format!("mq {sub} --help")), "{err}");
        }
    }
}

#[test]
fn dash_h_without_a_host_says_help_is_long_only() {
    for args in [
        &["carpark", "display", "-h"][..],
        &["sub", "-h"],
        &["pub", "-h"],
        &["carpark", "controller", "-h"],
    ] {
        let out = mq().args(args).assert().code(1);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains("'--host"), "{args:?}: {err}");
        assert!(
            err.contains("-h is the broker host here") && err.contains("help is --help"),
            "{args:?}: {err}"
        );
    }
    // Any other missing value keeps clap's plain message.
    let out = mq().args(["sub", "-t"]).assert().code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(!err.contains("-h is the broker host"), "{err}");
}
