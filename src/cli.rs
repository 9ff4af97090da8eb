//! clap definitions in one place: the `mq` command line, the flags of `mq pub` and
//! `mq sub` (spelled as mosquitto_pub/mosquitto_sub spell them), and the connection
//! flags (`ConnectArgs`) that `pub`, `sub`, `bench` and every car-park role flatten in.
//!
//! `-h` is the host, as in mosquitto, so help is `--help` only: [`command`] rewires the
//! help flag of every subcommand that uses `-h`. `-V` is the protocol version.

use crate::client::{ConnectOptions, Proxy, Scheme, TlsVersion};
use crate::protocol::{ProtocolVersion, QoS};
use anyhow::{Context, bail};
use bytes::Bytes;
use clap::{Arg, ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

/// Exit codes of `mq pub`, as mosquitto_pub uses them.
pub const PUB_EXIT_CODES_HELP: &str = "\
Exit status:
  0      success
  1      usage error, connection failure or any other error
  1-5    (MQTT 3.1.x) the broker refused the connection: the CONNACK return code
  128+   (MQTT 5.0) the broker refused the connection: the CONNACK reason code";

/// Exit codes of `mq sub` and `mq rr`: those of `mq pub`, and 27 for `-W`.
pub const EXIT_CODES_HELP: &str = "\
Exit status:
  0      success
  1      usage error, connection failure or any other error
  1-5    (MQTT 3.1.x) the broker refused the connection: the CONNACK return code
  128+   (MQTT 5.0) the broker refused the connection: the CONNACK reason code
  27     -W: timed out waiting";

/// The short usage `mq pub` prints after a usage error (mosquitto_pub prints its
/// usage there too).
pub const PUB_USAGE: &str = "\
Usage: mq pub [-h HOST] [-p PORT] -t TOPIC (-m MESSAGE | -f FILE | -s | -l | -n) [-q QOS] [-r]
For more information, try 'mq pub --help' (-h is the host, as in mosquitto_pub).";

/// The short usage `mq sub` prints after a usage error.
pub const SUB_USAGE: &str = "\
Usage: mq sub [-h HOST] [-p PORT] -t FILTER... [-q QOS] [-v] [-C COUNT]
For more information, try 'mq sub --help' (-h is the host, as in mosquitto_sub).";

/// A usage error found after parsing (e.g. no topic): printed as `mq: <message>`
/// followed by a short usage, even with `--quiet`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// The short usage printed after it.
    pub usage: &'static str,
}

/// mq: one binary for MQTT.
#[derive(Parser, Debug)]
#[command(
    name = "mq",
    version,
    about = "One binary for MQTT: a broker, mosquitto_pub/sub-compatible clients, a benchmark tool and a car-park teaching system",
    propagate_version = false,
    arg_required_else_help = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `mq`.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Publish messages (mosquitto_pub compatible)
    #[command(after_help = PUB_EXIT_CODES_HELP, args_override_self = true)]
    Pub(PubArgs),
    /// Subscribe and print messages (mosquitto_sub compatible)
    #[command(after_help = EXIT_CODES_HELP, args_override_self = true)]
    Sub(SubArgs),
    /// Publish a request and print the response (mosquitto_rr compatible)
    #[command(after_help = EXIT_CODES_HELP, args_override_self = true)]
    Rr(RrArgs),
    /// Run the MQTT broker
    Broker(crate::cmd::broker::BrokerArgs),
    /// Manage a password file (mosquitto_passwd compatible)
    Passwd(crate::cmd::passwd::PasswdArgs),
    /// Benchmark a broker: load generator and latency meter
    Bench(crate::cmd::bench_args::BenchArgs),
    /// The car-park teaching system
    Carpark(crate::cmd::carpark_args::CarparkArgs),
    /// Generate shell completions
    Completions(CompletionsArgs),
    /// Generate man pages
    Man(ManArgs),
}

/// The `mq` command with every subcommand's help flag made `--help` only where
/// `-h` means the host. Use this instead of `Cli::command()`.
pub fn command() -> clap::Command {
    let mut cmd = long_help_only(Cli::command());
    cmd.build();
    cmd
}

/// What `mq --version` prints after `mq `: the version, then the commit it was built
/// from (with its date when known) and the target triple, as the build script found
/// them: `0.1.0 (abc1234 2026-12-03, x86_64-unknown-linux-gnu)`. `mq -V` prints the
/// version alone.
pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("MQ_BUILD_INFO"), ")");

/// Parse the process arguments with [`command`] (exits with clap's message and
/// code 1 on a usage error, 0 for `--help`/`--version`).
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    // Only here, not in `command()`: the generated man pages show the version, and
    // must not change with every commit.
    let matches = match command().long_version(LONG_VERSION).try_get_matches() {
        Ok(m) => m,
        Err(e) => exit_usage(e),
    };
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => exit_usage(e),
    }
}

/// Print a clap error and exit: help and version go to stdout with 0, usage errors to
/// stderr with 1 (mosquitto_pub/sub exit 1 on bad arguments).
fn exit_usage(mut e: clap::Error) -> ! {
    let code = if e.use_stderr() { 1 } else { 0 };
    if is_host_without_value(&e) {
        // `-h` alone (or before another flag) is the usual way to ask for help.
        use clap::error::{ContextKind, ContextValue};
        e.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                "-h is the broker host here, as in mosquitto_pub/sub; help is --help".into(),
            ]),
        );
    }
    let _ = e.print();
    std::process::exit(code)
}

/// Whether clap complains that `-h`/`--host` has no value.
fn is_host_without_value(e: &clap::Error) -> bool {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    e.kind() == ErrorKind::InvalidValue
        && matches!(
            e.get(ContextKind::InvalidArg),
            Some(ContextValue::String(arg)) if arg.starts_with("--host")
        )
}

/// Recursively replace the `-h/--help` flag by `--help` alone in every command that
/// has an argument with short name `h` (unless it defines its own `--help`).
fn long_help_only(cmd: clap::Command) -> clap::Command {
    let uses_h = cmd
        .get_arguments()
        .any(|a| a.get_short() == Some('h') && a.get_id() != "help");
    // A command may already define its own `--help` (and disable clap's).
    let has_help = cmd.get_arguments().any(|a| a.get_long() == Some("help"));
    let mut cmd = if uses_h && !has_help {
        cmd.disable_help_flag(true).arg(
            Arg::new("long_help")
                .long("help")
                // The short form: one line per flag (the man page has the long one).
                .action(ArgAction::HelpShort)
                .help("Print help (-h is the host)"),
        )
    } else {
        cmd
    };
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, long_help_only);
    }
    cmd
}

/// Help headings, grouped as mosquitto_pub/mosquitto_sub's usage groups its options.
/// Every flag names its heading: a heading set once would run on over every flag
/// declared after it.
const CONNECTION: &str = "Connection";
const TLS: &str = "TLS";
const MESSAGE: &str = "Message";
const SUBSCRIPTION: &str = "Subscription";
const OUTPUT: &str = "Output";
const WILL: &str = "Will";
const MQTT5: &str = "MQTT 5";

/// Connection flags, spelled as mosquitto_pub/mosquitto_sub spell them (`-h` is the host).
/// Environment defaults: `MQ_HOST`, `MQ_PORT`, `MQ_URL`, `MQ_USERNAME`, `MQ_PASSWORD`;
/// flags win over the environment.
#[derive(Args, Clone, Debug, Default)]
pub struct ConnectArgs {
    /// Broker host to connect to (default: localhost)
    #[arg(help_heading = CONNECTION, short = 'h', long = "host", env = "MQ_HOST", hide_env_values = true)]
    pub host: Option<String>,
    /// Network port (default: 1883, 8883 for MQTT over TLS)
    #[arg(help_heading = CONNECTION, short = 'p', long = "port", env = "MQ_PORT", hide_env_values = true)]
    pub port: Option<u16>,
    /// Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]
    #[arg(help_heading = CONNECTION, short = 'L', long = "url", env = "MQ_URL", hide_env_values = true)]
    pub url: Option<String>,
    /// Client identifier
    #[arg(help_heading = CONNECTION, short = 'i', long = "id")]
    pub id: Option<String>,
    /// Keep alive in seconds (default: 60)
    #[arg(help_heading = CONNECTION, short = 'k', long = "keepalive")]
    pub keepalive: Option<u16>,
    /// User name
    #[arg(
        help_heading = CONNECTION,
        short = 'u',
        long = "username",
        env = "MQ_USERNAME",
        hide_env_values = true
    )]
    pub username: Option<String>,
    /// Password; `-` reads it from stdin (a no-echo prompt on a terminal)
    #[arg(help_heading = CONNECTION, short = 'P', long = "pw", env = "MQ_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Read the password from the first line of FILE
    #[arg(
        help_heading = CONNECTION,
        long = "password-file",
        value_name = "FILE",
        conflicts_with = "password"
    )]
    pub password_file: Option<PathBuf>,
    /// MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)
    #[arg(help_heading = CONNECTION, short = 'V', long = "protocol-version")]
    pub protocol_version: Option<String>,
    /// CA certificates (PEM) to verify the broker with; enables TLS
    #[arg(help_heading = TLS, long = "cafile")]
    pub cafile: Option<std::path::PathBuf>,
    /// Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS
    #[arg(help_heading = TLS, long = "capath", value_name = "DIR")]
    pub capath: Option<PathBuf>,
    /// Client certificate (PEM) for TLS client authentication
    #[arg(help_heading = TLS, long = "cert")]
    pub cert: Option<std::path::PathBuf>,
    /// Client private key (PEM)
    #[arg(help_heading = TLS, long = "key")]
    pub key: Option<std::path::PathBuf>,
    /// Do not check the broker's host name against its certificate
    #[arg(help_heading = TLS, long = "insecure")]
    pub insecure: bool,
    /// Use TLS and trust the operating system's CA bundle (SSL_CERT_FILE or /etc/ssl/...)
    #[arg(help_heading = TLS, long = "tls-use-os-certs")]
    pub tls_use_os_certs: bool,
    /// TLS ALPN protocol name
    #[arg(help_heading = TLS, long = "tls-alpn", value_name = "PROTOCOL")]
    pub tls_alpn: Option<String>,
    /// Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)
    #[arg(help_heading = TLS, long = "tls-version", value_name = "VERSION")]
    pub tls_version: Option<String>,
    /// OpenSSL cipher list (not supported with rustls)
    #[arg(help_heading = TLS, long = "ciphers", hide = true)]
    pub ciphers: Option<String>,
    /// TLS-PSK key (not supported with rustls)
    #[arg(help_heading = TLS, long = "psk", hide = true)]
    pub psk: Option<String>,
    /// TLS-PSK identity (not supported with rustls)
    #[arg(help_heading = TLS, long = "psk-identity", hide = true)]
    pub psk_identity: Option<String>,
    /// OpenSSL engine (not supported with rustls)
    #[arg(help_heading = TLS, long = "tls-engine", hide = true)]
    pub tls_engine: Option<String>,
    /// OpenSSL key form (not supported with rustls)
    #[arg(help_heading = TLS, long = "keyform", hide = true)]
    pub keyform: Option<String>,
    /// OpenSSL engine key password (not supported with rustls)
    #[arg(help_heading = TLS, long = "tls-engine-kpass-sha1", hide = true)]
    pub tls_engine_kpass_sha1: Option<String>,
}

impl ConnectArgs {
    /// Build client options from the flags (flags win over the URL and the environment).
    pub fn to_options(&self) -> anyhow::Result<ConnectOptions> {
        for (set, flag) in [
            (self.ciphers.is_some(), "--ciphers"),
            (self.psk.is_some(), "--psk"),
            (self.psk_identity.is_some(), "--psk-identity"),
            (self.tls_engine.is_some(), "--tls-engine"),
            (self.keyform.is_some(), "--keyform"),
            (
                self.tls_engine_kpass_sha1.is_some(),
                "--tls-engine-kpass-sha1",
            ),
        ] {
            if set {
                bail!("{flag} is not supported (mq uses rustls; use --cafile with a PEM bundle)");
            }
        }
        let tls_version = match &self.tls_version {
            Some(v) => Some(TlsVersion::parse(v).map_err(|e| match e {
                crate::client::Error::Tls(why) => anyhow::anyhow!("--tls-version: {why}"),
                other => other.into(),
            })?),
            None => None,
        };
        let mut opts = match &self.url {
            Some(url) => ConnectOptions::from_url(url)?,
            None => ConnectOptions::default(),
        };
        let tls_flags = self.cafile.is_some()
            || self.capath.is_some()
            || self.cert.is_some()
            || self.tls_use_os_certs
            || self.tls_alpn.is_some();
        if tls_flags {
            match opts.scheme {
                Scheme::Mqtt => {
                    opts.scheme = Scheme::Mqtts;
                    if self.url.is_none() || opts.port == 1883 {
                        opts.port = 8883;
                    }
                }
                Scheme::Ws => {
                    opts.scheme = Scheme::Wss;
                    if opts.port == 80 {
                        opts.port = 443;
                    }
                }
                Scheme::Mqtts | Scheme::Wss => {}
            }
        }
        if let Some(host) = &self.host {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                bail!("the host (-h) must not be empty");
            }
            opts.host = host.to_string();
        }
        if let Some(port) = self.port {
            if port == 0 {
                bail!("invalid port 0: use 1-65535");
            }
            opts.port = port;
        }
        if let Some(v) = &self.protocol_version {
            opts.version = parse_version(v)?;
        }
        if let Some(id) = &self.id {
            if id.len() > 65535 {
                bail!("the client id is longer than 65535 bytes");
            }
            opts.client_id = id.clone();
        }
        if let Some(k) = self.keepalive {
            if k > 0 && k < 5 {
                bail!("invalid keepalive {k}: use 0 (off) or 5-65535 seconds");
            }
            opts.keep_alive = k;
        }
        if let Some(u) = &self.username {
            opts.username = Some(u.clone());
        }
        if let Some(p) = self.read_password()? {
            opts.password = Some(p);
        }
        if opts.password.is_some() && opts.username.is_none() && !opts.version.is_v5() {
            // [MQTT-3.1.2-22]: under 3.1.1 a password needs a user name.
            bail!("a password (-P) needs a user name (-u) under MQTT 3.1.x");
        }
        if let Some(ca) = &self.cafile {
            opts.tls.ca_file = Some(ca.clone());
        }
        match (&self.cert, &self.key) {
            (Some(c), Some(k)) => {
                opts.tls.cert_file = Some(c.clone());
                opts.tls.key_file = Some(k.clone());
            }
            (None, None) => {}
            _ => bail!("--cert and --key must be given together"),
        }
        if self.insecure {
            opts.tls.insecure = true;
        }
        if let Some(alpn) = &self.tls_alpn {
            opts.tls.alpn = vec![alpn.clone()];
        }
        if let Some(dir) = &self.capath {
            if !dir.is_dir() {
                bail!("--capath {}: not a directory", dir.display());
            }
            opts.tls.ca_path = Some(dir.clone());
        }
        opts.tls.version = tls_version;
        opts.tls.os_certs = self.tls_use_os_certs;
        Ok(opts)
    }

    /// The password from `-P` (`-` = stdin or a prompt), `--password-file` or
    /// `MQ_PASSWORD` (clap fills `password` from the environment).
    fn read_password(&self) -> anyhow::Result<Option<Bytes>> {
        if let Some(file) = &self.password_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read password file {}", file.display()))?;
            let line = text.lines().next().unwrap_or("");
            return Ok(Some(Bytes::from(line.to_string())));
        }
        match self.password.as_deref() {
            None => Ok(None),
            Some("-") => Ok(Some(Bytes::from(read_secret_from_stdin()?))),
            Some(p) => Ok(Some(Bytes::from(p.to_string()))),
        }
    }
}

/// Read one line from stdin; on a terminal, prompt on stderr without echo where the
/// platform allows (`stty -echo` on Unix).
fn read_secret_from_stdin() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    #[cfg(unix)]
    let echo_off = tty
        && std::process::Command::new("stty")
            .arg("-echo")
            .stdin(std::process::Stdio::inherit())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    if tty {
        eprint!("Password: ");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    #[cfg(unix)]
    if echo_off {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(std::process::Stdio::inherit())
            .status();
    }
    if tty {
        eprintln!();
    }
    read.context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Parse `-V`: `5`, `mqttv5`, `311`, `mqttv311`, `31`, `mqttv31`.
pub fn parse_version(v: &str) -> anyhow::Result<ProtocolVersion> {
    ProtocolVersion::from_cli(v).with_context(|| {
        format!("invalid protocol version '{v}': use mqttv5, mqttv311 or mqttv31 (or 5, 311, 31)")
    })
}

/// Parse a QoS number for clap (`-q`): 0, 1 or 2.
fn parse_qos(s: &str) -> Result<QoS, String> {
    s.parse::<u8>()
        .ok()
        .and_then(QoS::from_u8)
        .ok_or_else(|| format!("invalid QoS '{s}': use 0, 1 or 2"))
}

/// Parse a session expiry (`-x`): seconds, or `-1`/`∞` for never.
fn parse_session_expiry(s: &str) -> Result<u32, String> {
    match s {
        "-1" | "∞" | "inf" => Ok(u32::MAX),
        _ => s
            .parse::<u32>()
            .map_err(|_| format!("invalid session expiry '{s}': use 0-4294967295, -1 or ∞")),
    }
}

/// Flags of `mq pub` and `mq sub` beyond the connection itself (mosquitto's shared
/// client options).
#[derive(Args, Clone, Debug, Default)]
pub struct ClientArgs {
    /// Disable clean session: keep the session when disconnected (needs -i)
    #[arg(help_heading = CONNECTION, short = 'c', long = "disable-clean-session")]
    pub disable_clean_session: bool,
    /// Client id prefix: the client id is PREFIX followed by the process id
    #[arg(
        help_heading = CONNECTION,
        short = 'I',
        long = "id-prefix",
        value_name = "PREFIX",
        conflicts_with = "id"
    )]
    pub id_prefix: Option<String>,
    /// Bind the outgoing socket to this local address (or host name)
    #[arg(help_heading = CONNECTION, short = 'A', value_name = "ADDRESS")]
    pub bind_address: Option<String>,
    /// Connect through this Unix domain socket instead of TCP (Unix only)
    #[arg(help_heading = CONNECTION, long = "unix", value_name = "PATH")]
    pub unix: Option<PathBuf>,
    /// Connect through a SOCKS5 proxy: socks5h://[user[:pass]@]host[:port]
    #[arg(help_heading = CONNECTION, long = "proxy", value_name = "URL")]
    pub proxy: Option<String>,
    /// Accepted for mosquitto compatibility, no effect: mq always sets TCP_NODELAY
    #[arg(help_heading = CONNECTION, long = "nodelay", hide = true)]
    pub nodelay: bool,
    /// Look the broker up with a DNS SRV record (not supported yet: fails)
    #[arg(help_heading = CONNECTION, short = 'S', hide = true)]
    pub srv: bool,
    /// Print a packet trace on stdout (mosquitto's debug lines)
    #[arg(help_heading = OUTPUT, short = 'd', long = "debug")]
    pub debug: bool,
    /// Do not print error messages (usage errors are still printed)
    #[arg(help_heading = OUTPUT, long = "quiet")]
    pub quiet: bool,
    /// Colour output: auto (on a terminal, unless NO_COLOR is set), always or never
    #[arg(help_heading = OUTPUT, long = "color", value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Topic of the will message sent if this client disconnects unexpectedly
    #[arg(help_heading = WILL, long = "will-topic", value_name = "TOPIC")]
    pub will_topic: Option<String>,
    /// Payload of the will message (default: empty)
    #[arg(help_heading = WILL, long = "will-payload", value_name = "PAYLOAD", requires = "will_topic")]
    pub will_payload: Option<String>,
    /// QoS of the will message
    #[arg(help_heading = WILL, long = "will-qos", value_name = "QOS", value_parser = parse_qos, requires = "will_topic")]
    pub will_qos: Option<QoS>,
    /// Retain the will message
    #[arg(help_heading = WILL, long = "will-retain", requires = "will_topic")]
    pub will_retain: bool,
    /// MQTT 5 session expiry interval in seconds (-1 or ∞ = never)
    #[arg(help_heading = MQTT5, short = 'x', value_name = "SECONDS", value_parser = parse_session_expiry, allow_hyphen_values = true)]
    pub session_expiry: Option<u32>,
    /// MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)
    #[arg(help_heading = MQTT5, short = 'D', long = "property", num_args = 3..=4, value_names = ["COMMAND", "NAME", "VALUE"], action = ArgAction::Append)]
    pub property: Vec<String>,
}

impl ClientArgs {
    /// The transport flags (`-A`, `--unix`, `--proxy`, `--nodelay`) applied to `opts`.
    pub fn apply_transport(&self, opts: &mut ConnectOptions) -> anyhow::Result<()> {
        if let Some(a) = &self.bind_address {
            if a.is_empty() {
                bail!("the bind address (-A) must not be empty");
            }
            opts.bind_address = Some(a.clone());
        }
        if let Some(path) = &self.unix {
            if !cfg!(unix) {
                bail!("--unix is not supported on this platform (Unix domain sockets need Unix)");
            }
            if self.proxy.is_some() {
                bail!("--unix and --proxy cannot be used together");
            }
            opts.unix_socket = Some(path.clone());
        }
        if let Some(url) = &self.proxy {
            opts.proxy = Some(Proxy::from_url(url)?);
        }
        // TCP_NODELAY is always set; --nodelay is accepted for mosquitto compatibility.
        opts.nodelay = true;
        Ok(())
    }
}

/// When to colour the output.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set
    #[default]
    Auto,
    /// Always
    Always,
    /// Never
    Never,
}

/// Flags of `mq pub`.
#[derive(Args, Clone, Debug)]
#[command(group = clap::ArgGroup::new("input").args(["message", "file", "stdin_line", "stdin_file", "null_message"]).multiple(false))]
pub struct PubArgs {
    /// Connection flags.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Topic to publish to
    #[arg(help_heading = MESSAGE, short = 't', long = "topic")]
    pub topic: Option<String>,
    /// Message payload
    #[arg(help_heading = MESSAGE, short = 'm', long = "message", allow_hyphen_values = true)]
    pub message: Option<String>,
    /// Send the contents of a file as the message
    #[arg(help_heading = MESSAGE, short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Read messages from stdin, one message per line
    #[arg(help_heading = MESSAGE, short = 'l', long = "stdin-line")]
    pub stdin_line: bool,
    /// Read the whole of stdin as one message
    #[arg(help_heading = MESSAGE, short = 's', long = "stdin-file")]
    pub stdin_file: bool,
    /// Send a null (zero length) message
    #[arg(help_heading = MESSAGE, short = 'n', long = "null-message")]
    pub null_message: bool,
    /// Quality of service: 0, 1 or 2
    #[arg(help_heading = MESSAGE, short = 'q', long = "qos", default_value = "0", value_parser = parse_qos)]
    pub qos: QoS,
    /// Retain the message
    #[arg(help_heading = MESSAGE, short = 'r', long = "retain")]
    pub retain: bool,
    /// Publish the -m/-f/-s/-n message N times
    #[arg(help_heading = MESSAGE, long = "repeat", value_name = "N", default_value_t = 1)]
    pub repeat: u32,
    /// With --repeat, wait this many seconds (fractions allowed) between publishes
    #[arg(help_heading = MESSAGE, long = "repeat-delay", value_name = "SECONDS", default_value_t = 0.0)]
    pub repeat_delay: f64,
    /// Maximum QoS 1/2 messages in flight
    #[arg(help_heading = MESSAGE, short = 'M', value_name = "N", default_value_t = 20)]
    pub max_inflight: u16,
    /// Read JSON lines from stdin: {"topic":..,"payload":..,"qos":..,"retain":..}
    #[arg(help_heading = MESSAGE, long = "json")]
    pub json: bool,
    /// Session and client flags.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Flags of `mq sub`.
#[derive(Args, Clone, Debug)]
pub struct SubArgs {
    /// Connection flags.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Topic filter to subscribe to (repeatable)
    #[arg(help_heading = SUBSCRIPTION, short = 't', long = "topic", value_name = "FILTER", action = ArgAction::Append)]
    pub topic: Vec<String>,
    /// Don't print messages whose topic matches this filter (repeatable)
    #[arg(help_heading = SUBSCRIPTION, short = 'T', long = "filter-out", value_name = "FILTER", action = ArgAction::Append)]
    pub filter_out: Vec<String>,
    /// Unsubscribe from this filter after subscribing (repeatable)
    #[arg(help_heading = SUBSCRIPTION, short = 'U', long = "unsubscribe", value_name = "FILTER", action = ArgAction::Append)]
    pub unsubscribe: Vec<String>,
    /// Quality of service to subscribe with: 0, 1 or 2
    #[arg(help_heading = SUBSCRIPTION, short = 'q', long = "qos", default_value = "0", value_parser = parse_qos)]
    pub qos: QoS,
    /// Print the topic before the payload
    #[arg(help_heading = OUTPUT, short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Exit after this many messages
    #[arg(help_heading = SUBSCRIPTION, short = 'C', value_name = "COUNT")]
    pub count: Option<u64>,
    /// Exit with code 27 ("Timed out") if still running after this many seconds
    #[arg(help_heading = SUBSCRIPTION, short = 'W', value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Exit once all subscriptions are acknowledged
    #[arg(help_heading = SUBSCRIPTION, short = 'E')]
    pub exit_after_subscribe: bool,
    /// Output format string (see the man page): %t topic, %p payload, %j JSON...
    #[arg(help_heading = OUTPUT, short = 'F', value_name = "FORMAT")]
    pub format: Option<String>,
    /// Don't print a newline after each message
    #[arg(help_heading = OUTPUT, short = 'N')]
    pub no_newline: bool,
    /// Don't print messages with the retain flag set (stale messages)
    #[arg(help_heading = SUBSCRIPTION, short = 'R')]
    pub no_retained: bool,
    /// Print only retained messages; exit on the first non-retained one
    #[arg(help_heading = SUBSCRIPTION, long = "retained-only")]
    pub retained_only: bool,
    /// Clear every retained message received (publish an empty retained message)
    #[arg(help_heading = SUBSCRIPTION, long = "remove-retained")]
    pub remove_retained: bool,
    /// MQTT 5 Retain As Published subscription option
    #[arg(help_heading = SUBSCRIPTION, long = "retain-as-published")]
    pub retain_as_published: bool,
    /// Print only about PCT percent of the messages (0.1-100)
    #[arg(help_heading = OUTPUT, long = "random-filter", value_name = "PCT")]
    pub random_filter: Option<f64>,
    /// Pretty-print JSON output (%j/%J and --json)
    #[arg(help_heading = OUTPUT, long = "pretty")]
    pub pretty: bool,
    /// One JSON object per message (payload as text, or base64 if not UTF-8)
    #[arg(help_heading = OUTPUT, long = "json", conflicts_with = "format")]
    pub json: bool,
    /// Session and client flags.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Flags of `mq rr` (request/response, MQTT 5 by default).
#[derive(Args, Clone, Debug)]
#[command(group = clap::ArgGroup::new("request").args(["message", "file", "stdin_file", "null_message"]).multiple(false))]
pub struct RrArgs {
    /// Connection flags (the protocol defaults to MQTT 5 here).
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Topic to publish the request to
    #[arg(help_heading = MESSAGE, short = 't', long = "topic")]
    pub topic: Option<String>,
    /// Topic to subscribe to for the response (sent as the Response Topic)
    #[arg(help_heading = MESSAGE, short = 'e', long = "response-topic", value_name = "TOPIC")]
    pub response_topic: String,
    /// Request payload
    #[arg(help_heading = MESSAGE, short = 'm', long = "message", allow_hyphen_values = true)]
    pub message: Option<String>,
    /// Send the contents of a file as the request
    #[arg(help_heading = MESSAGE, short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Read the whole of stdin as the request
    #[arg(help_heading = MESSAGE, short = 's', long = "stdin-file")]
    pub stdin_file: bool,
    /// Send an empty request
    #[arg(help_heading = MESSAGE, short = 'n', long = "null-message")]
    pub null_message: bool,
    /// Quality of service of the request and the response subscription
    #[arg(help_heading = MESSAGE, short = 'q', long = "qos", default_value = "0", value_parser = parse_qos)]
    pub qos: QoS,
    /// Exit with code 27 ("Timed out") if no response within this many seconds
    #[arg(help_heading = MESSAGE, short = 'W', value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Ignore retained responses
    #[arg(help_heading = MESSAGE, short = 'R')]
    pub no_retained: bool,
    /// Print the topic before the response payload
    #[arg(help_heading = OUTPUT, short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Output format string, as for mq sub -F
    #[arg(help_heading = OUTPUT, short = 'F', value_name = "FORMAT")]
    pub format: Option<String>,
    /// Don't print a newline after the response
    #[arg(help_heading = OUTPUT, short = 'N')]
    pub no_newline: bool,
    /// Pretty-print JSON output
    #[arg(help_heading = OUTPUT, long = "pretty")]
    pub pretty: bool,
    /// Print the response as one JSON object
    #[arg(help_heading = OUTPUT, long = "json", conflicts_with = "format")]
    pub json: bool,
    /// Session and client flags.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Shells `mq completions` can generate for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    /// Bash
    Bash,
    /// Zsh
    Zsh,
    /// Fish
    Fish,
    /// PowerShell
    Powershell,
    /// Elvish
    Elvish,
}

/// Flags of `mq completions`.
#[derive(Args, Clone, Debug)]
pub struct CompletionsArgs {
    /// The shell to generate completions for (all of them with --dir and no shell)
    #[arg(value_enum)]
    pub shell: Option<Shell>,
    /// Write the file(s) into DIR instead of printing to stdout
    #[arg(long = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Flags of `mq man`.
#[derive(Args, Clone, Debug)]
pub struct ManArgs {
    /// Write mq.1 and one page per subcommand (mq-pub.1, ...) into DIR; without it,
    /// print mq.1 to stdout
    #[arg(long = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definitions_are_consistent() {
        command().debug_assert();
    }

    #[test]
    fn dash_h_is_the_host_everywhere_it_is_defined() {
        use clap::FromArgMatches;
        let m = command()
            .try_get_matches_from(["mq", "pub", "-h", "example.org", "-t", "a", "-m", "x"])
            .unwrap();
        match Cli::from_arg_matches(&m).unwrap().command {
            Command::Pub(p) => assert_eq!(p.connect.host.as_deref(), Some("example.org")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn repeated_flags_last_wins_and_topics_accumulate() {
        use clap::FromArgMatches;
        let m = command()
            .try_get_matches_from(["mq", "sub", "-q", "1", "-q", "2", "-t", "a", "-t", "b"])
            .unwrap();
        let Command::Sub(s) = Cli::from_arg_matches(&m).unwrap().command else {
            panic!("not sub")
        };
        assert_eq!(s.qos, QoS::ExactlyOnce);
        assert_eq!(s.topic, ["a", "b"]);
    }

    #[test]
    fn options_from_flags() {
        let cli = command()
            .try_get_matches_from([
                "mq", "sub", "-h", "::1", "-p", "1884", "-t", "a", "-V", "mqttv5", "-u", "me",
                "-k", "30",
            ])
            .unwrap();
        use clap::FromArgMatches;
        let Command::Sub(s) = Cli::from_arg_matches(&cli).unwrap().command else {
            panic!("not sub")
        };
        let o = s.connect.to_options().unwrap();
        assert_eq!((o.host.as_str(), o.port, o.keep_alive), ("::1", 1884, 30));
        assert_eq!(o.version, ProtocolVersion::V5);
        assert_eq!(o.username.as_deref(), Some("me"));
    }

    #[test]
    fn tls_flags_switch_to_mqtts_and_8883() {
        let args = ConnectArgs {
            cafile: Some("ca.pem".into()),
            ..ConnectArgs::default()
        };
        let o = args.to_options().unwrap();
        assert_eq!((o.scheme, o.port), (Scheme::Mqtts, 8883));
    }
}
