//! `mq broker`: run the MQTT broker from the command line, like `mosquitto`.

use crate::broker::{Broker, Config, Listener, ListenerProtocol, ListenerTls, LogFormat, LogTypes};
use std::path::PathBuf;

/// Flags of `mq broker`.
#[derive(clap::Args, Debug, Clone)]
#[command(
    about = "Run the MQTT broker (3.1, 3.1.1 and 5.0), a drop-in for mosquitto",
    after_help = "Without -c, the broker runs in local-only mode like mosquitto 2: it listens on \
127.0.0.1 and ::1 (port 1883 or -p) and allows anonymous clients. --tls-cert/--tls-key make that \
listener speak TLS (port 8883 unless -p) and --ws PORT adds a WebSocket listener (over TLS too \
when --tls-cert is given), on the loopback addresses as well; when the -c file defines \
listeners, they are added to them and, like a `listener` line, listen on every address. There is no daemon mode \
(-d): run it in the background with your shell or service manager. Ctrl-C or SIGTERM stops it \
cleanly; SIGHUP reloads the configuration (Unix).

Examples:
  mq broker -v                                    # local-only, port 1883, every packet logged
  mq broker --tls-cert server.pem --tls-key server.key  # MQTT over TLS, port 8883
  mq broker --ws 9001                             # MQTT on 1883 and over WebSocket on 9001
  mq broker --http 8080                           # and /healthz, /metrics, /clients on 8080
  mq broker -c /etc/mosquitto/mosquitto.conf      # a mosquitto configuration, unchanged"
)]
pub struct BrokerArgs {
    /// Port of the local-only listener, or of the --tls-cert one (0 = a free port,
    /// printed at start); otherwise ignored when the configuration file defines
    /// listeners
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,
    /// Verbose: log every packet in mosquitto's words (log_type all)
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Configuration file in mosquitto.conf syntax
    #[arg(short = 'c', long = "config-file", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Not supported: there is no daemon mode (use your shell or service manager)
    #[arg(short = 'd', long = "daemon")]
    pub daemon: bool,
    /// Speak TLS with this server certificate chain (PEM; needs --tls-key): on
    /// port 8883 unless -p
    #[arg(long = "tls-cert", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also serve MQTT over WebSocket on this port (0 = a free port), for browsers
    #[arg(long = "ws", value_name = "PORT")]
    pub ws: Option<u16>,
    /// Serve /healthz, /metrics (Prometheus) and /clients (JSON) over HTTP on this
    /// port (0 = a free port): on 127.0.0.1 in local-only mode, else on every
    /// IPv4 address (like `http_listener PORT`)
    #[arg(long = "http", value_name = "PORT")]
    pub http: Option<u16>,
    /// Log lines as mosquitto's text, or one JSON object a line for log collectors
    /// (overrides log_format)
    #[arg(long = "log-format", value_name = "FORMAT", value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// Worker threads serving the clients (default: one per core). One thread hands
    /// no work from core to core: on a small machine that its clients share, it can
    /// deliver as much for less CPU time (see BENCHMARKS.md)
    #[arg(long = "threads", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

/// `--log-format`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormatArg {
    /// mosquitto's text lines
    Text,
    /// One JSON object a line: ts, unix, level, msg
    Json,
}

/// The listeners the command-line shortcuts ask for: in local-only mode (no
/// configuration file, or one without listeners), the local-only listener (TLS
/// with --tls-cert) and a WebSocket one, on the loopback addresses with anonymous
/// access unless the file says otherwise; with configured listeners, the same
/// added to them, on every address.
fn apply_shortcuts(args: &BrokerArgs, config: &mut Config) {
    let tls = ListenerTls {
        certfile: args.tls_cert.clone(),
        keyfile: args.tls_key.clone(),
        ..ListenerTls::default()
    };
    if args.tls_cert.is_none() && args.ws.is_none() {
        return;
    }
    // Local-only mode (no configuration file, or one without listeners).
    let local = config.listeners.is_empty();
    let listener = |port: u16| {
        let mut l = Listener::new(port, None);
        l.loopback = local;
        l.tls = tls.clone();
        l
    };
    if local {
        // The default listener, now an explicit one.
        let port = args.port.unwrap_or(if tls.enabled() { 8883 } else { 1883 });
        config.listeners.push(listener(port));
        config.security.allow_anonymous.get_or_insert(true);
    } else if tls.enabled() {
        config.listeners.push(listener(args.port.unwrap_or(8883)));
    }
    if let Some(port) = args.ws {
        let mut l = listener(port);
        l.protocol = ListenerProtocol::WebSockets;
        config.listeners.push(l);
    }
}

/// The configuration: the file's (or the defaults), then the command line's
/// overrides. Read again, the same way, on every reload.
fn load_config(args: &BrokerArgs) -> Result<Config, crate::broker::ConfigError> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if args.verbose {
        config.log_types = LogTypes::ALL;
    }
    match args.log_format {
        Some(LogFormatArg::Json) => config.log_format = LogFormat::Json,
        Some(LogFormatArg::Text) => config.log_format = LogFormat::Text,
        None => {}
    }
    config.port = args.port;
    if let Some(port) = args.http {
        config.http_listener = Some(crate::broker::HttpListener {
            port,
            address: None,
            loopback: config.listeners.is_empty(),
        });
    }
    apply_shortcuts(args, &mut config);
    Ok(config)
}

/// Run the broker until Ctrl-C / SIGTERM; returns the process exit code.
pub async fn run(args: BrokerArgs) -> anyhow::Result<i32> {
    if args.daemon {
        anyhow::bail!(
            "daemon mode is not supported: run `mq broker` in the background with your shell or service manager"
        );
    }
    let config = load_config(&args)?;
    // Watch for the signals before the listeners open, so a SIGTERM sent as soon as
    // the port is announced is a clean shutdown, not the default abrupt exit.
    let mut stop = crate::shutdown::Signals::watch();
    let hup = watch_hangups();
    let handle = Broker::builder().config(config).start().await?;
    tokio::select! {
        () = stop.recv() => {}
        () = hangups(&handle, &args, hup) => {}
    }
    handle.shutdown().await;
    Ok(0)
}

/// SIGHUP, watched from before the listeners open like the stop signals.
#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn watch_hangups() -> Hangups {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn watch_hangups() -> Hangups {}

/// SIGHUP (`kill -HUP`, or a closed terminal): like mosquitto, read the whole
/// configuration again (the file, then the command line's overrides) and put it in
/// force, keeping the one in force when the new one is broken; never stops the
/// broker. (Windows has no SIGHUP: restart the broker there.) Never resolves.
#[cfg_attr(not(unix), allow(unused_variables, unused_mut))]
async fn hangups(handle: &crate::broker::BrokerHandle, args: &BrokerArgs, mut hup: Hangups) {
    #[cfg(unix)]
    if let Some(hup) = hup.as_mut() {
        while hup.recv().await.is_some() {
            // The outcome is in the log.
            let _ = handle.reload_with(|| load_config(args)).await;
        }
    }
    std::future::pending::<()>().await;
}
