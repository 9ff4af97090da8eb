//! The flags of `mq carpark` and their lowering: clap parses them into [`CarparkArgs`],
//! and [`CarparkArgs::into_options`] turns them once into the [`RoleOptions`] the
//! car-park library (`crate::carpark`) runs. Flag checks that clap cannot express
//! (names without wildcards, intervals above zero, a valid prefix) happen here.

use crate::carpark::RoleOptions;
use crate::carpark::controller::{ControllerOptions, RESTORE_WAIT};
use crate::carpark::demo::DemoOptions;
use crate::carpark::display::{DisplayOptions, Style};
use crate::carpark::gate::{GateOptions, Kind, Mode};
use crate::carpark::keep_connected;
use crate::carpark::messages::{Topics, parse_temperature};
use crate::carpark::rate::Rate;
use crate::carpark::sensor::{SensorOptions, Source};
use crate::carpark::web::WebSettings;
use crate::cli::ConnectArgs;
use crate::units::parse_duration;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `mq carpark`.
#[derive(clap::Args, Debug, Clone)]
pub struct CarparkArgs {
    /// The role to run.
    #[command(subcommand)]
    pub role: Role,
}

/// The car-park roles.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Role {
    /// Count cars, publish the display state and the clock
    Controller(ControllerArgs),
    /// An entry gate: report cars coming in (Enter = one car, q = quit)
    Entry(GateArgs),
    /// An exit gate: report cars leaving (Enter = one car, q = quit)
    Exit(GateArgs),
    /// A display panel: free spaces, temperature, clock
    Display(DisplayArgs),
    /// A temperature sensor
    Sensor(SensorArgs),
    /// The whole car park in one process, around an embedded broker
    Demo(DemoArgs),
}

/// Parse a rate (see [`crate::units::parse_rate`]) into a [`Rate`].
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    crate::units::parse_rate(text)
        .and_then(|r| Rate::per_second(r).ok_or_else(|| format!("invalid rate {text:?}")))
}

/// Parse `--web [ADDR:]PORT`: a port alone listens on 127.0.0.1 (this machine only).
pub fn parse_web_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = text.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        format!("invalid address {text:?}: expected PORT, ADDR:PORT or [IPv6]:PORT with a numeric address")
    })
}

/// Check `--ws-url`: a `ws://` or `wss://` URL, as a browser's WebSocket takes.
pub fn parse_ws_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("ws://")
        .or_else(|| text.strip_prefix("wss://"))
        .ok_or_else(|| {
            format!("invalid WebSocket URL {text:?}: it must start with ws:// or wss://")
        })?;
    if rest.is_empty() || rest.starts_with('/') || text.contains(char::is_whitespace) {
        return Err(format!("invalid WebSocket URL {text:?}: no host"));
    }
    Ok(text.to_string())
}

/// The `--prefix` flag every role shares.
#[derive(clap::Args, Debug, Clone)]
pub struct PrefixArgs {
    /// Topic prefix of this car park (e.g. carpark/level2 for a second one)
    #[arg(long = "prefix", default_value = "carpark", value_name = "TOPIC")]
    pub prefix: String,
}

impl PrefixArgs {
    /// The car park's topics under this prefix.
    fn topics(&self) -> anyhow::Result<Topics> {
        Topics::new(&self.prefix).map_err(anyhow::Error::msg)
    }
}

/// Flags of `mq carpark controller`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct ControllerArgs {
    /// Number of spaces
    #[arg(long = "capacity", default_value_t = 120)]
    pub capacity: u32,
    /// How often to publish the time on PREFIX/time
    #[arg(long = "clock-interval", value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub clock_interval: Duration,
    /// Start from an empty car park instead of the retained display / state file
    #[arg(long = "reset")]
    pub reset: bool,
    /// Also keep the count in this file (JSON, written atomically)
    #[arg(long = "state", value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Only print alerts, not every car
    #[arg(long = "quiet")]
    pub quiet: bool,
    /// How long the broker keeps the controller's session (and the cars sent meanwhile)
    /// while it is away; 0 = a clean session. Under MQTT 3.1.1 the broker decides how long
    #[arg(long = "session-expiry", value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub session_expiry: Duration,
    /// Start even if another controller is live on this prefix (it is refused
    /// otherwise); with the same client id the other one then stops
    #[arg(long = "take-over")]
    pub take_over: bool,
    #[command(flatten)]
    pub prefix: PrefixArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Flags of `mq carpark entry` and `mq carpark exit`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct GateArgs {
    /// Name of this gate (the last level of its topic)
    #[arg(long = "gate", default_value = "main")]
    pub gate: String,
    /// Send this many cars and exit
    #[arg(long = "count", value_name = "N")]
    pub count: Option<u64>,
    /// Random arrivals at this average rate (e.g. 0.5/s, 30/min)
    #[arg(long = "rate", value_parser = parse_rate)]
    pub rate: Option<Rate>,
    /// Seed for the random arrivals and number plates (repeatable runs)
    #[arg(long = "seed")]
    pub seed: Option<u64>,
    /// Print nothing per car
    #[arg(long = "quiet")]
    pub quiet: bool,
    #[command(flatten)]
    pub prefix: PrefixArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Flags of `mq carpark display`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct DisplayArgs {
    /// Name shown on the panel
    #[arg(long = "name", default_value = "Car park")]
    pub name: String,
    /// Print the current state once and exit (exit 1 if none arrives within -W seconds)
    #[arg(long = "once")]
    pub once: bool,
    /// With --once: how long to wait for the controller's state
    #[arg(short = 'W', long = "timeout", value_name = "SECONDS", default_value = "5", value_parser = parse_duration)]
    pub timeout: Duration,
    /// One plain line per update even on a terminal
    #[arg(long = "plain")]
    pub plain: bool,
    /// Also serve the display as a web page on [ADDR:]PORT (ADDR defaults to 127.0.0.1;
    /// 0.0.0.0:PORT for other machines; PORT 0 = a free one); the page's MQTT goes
    /// through /mqtt on the same port to the broker named by -h/-p/-L
    #[arg(long = "web", value_name = "[ADDR:]PORT", value_parser = parse_web_addr, conflicts_with = "once")]
    pub web: Option<SocketAddr>,
    /// With --web: the page connects straight to this broker WebSocket URL instead of
    /// /mqtt (e.g. ws://127.0.0.1:9001/mqtt for `mq broker --ws 9001`)
    #[arg(long = "ws-url", value_name = "URL", requires = "web", value_parser = parse_ws_url)]
    pub ws_url: Option<String>,
    #[command(flatten)]
    pub prefix: PrefixArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Flags of `mq carpark sensor`.
#[derive(clap::Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct SensorArgs {
    /// Time between readings
    #[arg(long = "interval", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Always report this temperature (°C)
    #[arg(
        long = "value",
        allow_negative_numbers = true,
        conflicts_with = "stdin"
    )]
    pub value: Option<f64>,
    /// Read one temperature per line from stdin
    #[arg(long = "stdin")]
    pub stdin: bool,
    /// Name of this sensor (publishes on PREFIX/temperature/NAME)
    #[arg(long = "sensor", value_name = "NAME")]
    pub sensor: Option<String>,
    /// Stop after this many readings
    #[arg(long = "count", value_name = "N")]
    pub count: Option<u64>,
    /// Seed of the random walk (repeatable runs)
    #[arg(long = "seed")]
    pub seed: Option<u64>,
    /// Print nothing per reading
    #[arg(long = "quiet")]
    pub quiet: bool,
    #[command(flatten)]
    pub prefix: PrefixArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Flags of `mq carpark demo`.
#[derive(clap::Args, Debug, Clone)]
#[command(
    disable_help_flag = true,
    after_help = "Without -h, -p or -L the demo starts its own broker on a free 127.0.0.1 port."
)]
pub struct DemoArgs {
    /// Number of spaces
    #[arg(long = "capacity", default_value_t = 20)]
    pub capacity: u32,
    /// Average arrivals per entry gate (exits run at 3/4 of it)
    #[arg(long = "rate", default_value = "1/s", value_parser = parse_rate)]
    pub rate: Rate,
    /// Seed of the simulated traffic (repeatable runs)
    #[arg(long = "seed")]
    pub seed: Option<u64>,
    /// Stop after this long (default: run until Ctrl-C)
    #[arg(long = "duration", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Time between temperature readings
    #[arg(long = "sensor-interval", value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub sensor_interval: Duration,
    /// Serve the display as a web page on [ADDR:]PORT (default: a free 127.0.0.1 port)
    #[arg(long = "web", value_name = "[ADDR:]PORT", value_parser = parse_web_addr)]
    pub web: Option<SocketAddr>,
    /// Do not serve the web page
    #[arg(long = "no-web", conflicts_with = "web")]
    pub no_web: bool,
    #[command(flatten)]
    pub prefix: PrefixArgs,
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

impl CarparkArgs {
    /// The role these flags describe (reads the password from stdin for `-P -`).
    pub fn into_options(self) -> anyhow::Result<RoleOptions> {
        Ok(match self.role {
            Role::Controller(a) => RoleOptions::Controller(a.into_options()?),
            Role::Entry(a) => RoleOptions::Gate(a.into_options(Kind::Entry)?),
            Role::Exit(a) => RoleOptions::Gate(a.into_options(Kind::Exit)?),
            Role::Display(a) => RoleOptions::Display(a.into_options()?),
            Role::Sensor(a) => RoleOptions::Sensor(a.into_options()?),
            Role::Demo(a) => RoleOptions::Demo(a.into_options()?),
        })
    }
}

impl ControllerArgs {
    /// The controller these flags describe.
    pub fn into_options(self) -> anyhow::Result<ControllerOptions> {
        if self.clock_interval.is_zero() {
            anyhow::bail!("--clock-interval must be above 0");
        }
        Ok(ControllerOptions {
            connect: keep_connected(self.conn.to_options()?),
            topics: self.prefix.topics()?,
            capacity: self.capacity,
            clock_interval: self.clock_interval,
            reset: self.reset,
            state_file: self.state,
            restore_wait: RESTORE_WAIT,
            quiet: self.quiet,
            session_expiry: Some(self.session_expiry).filter(|d| !d.is_zero()),
            take_over: self.take_over,
        })
    }
}

impl GateArgs {
    /// The gate these flags describe, letting cars through the `kind` way.
    pub fn into_options(self, kind: Kind) -> anyhow::Result<GateOptions> {
        if self.gate.is_empty() || self.gate.contains(['/', '+', '#']) {
            anyhow::bail!("invalid gate name {:?}: no '/', '+' or '#'", self.gate);
        }
        let mode = match (self.rate, self.count) {
            (Some(rate), count) => Mode::Random { rate, count },
            (None, Some(n)) => Mode::Count(n),
            (None, None) => Mode::Interactive,
        };
        let connect = self.conn.to_options()?;
        Ok(GateOptions {
            // A scripted run ends at the first lost car; the others reconnect.
            connect: match mode {
                Mode::Count(_) => connect,
                _ => keep_connected(connect),
            },
            topics: self.prefix.topics()?,
            kind,
            gate: self.gate,
            mode,
            seed: self.seed,
            quiet: self.quiet,
        })
    }
}

impl DisplayArgs {
    /// The display these flags describe: a panel on a terminal, lines otherwise.
    pub fn into_options(self) -> anyhow::Result<DisplayOptions> {
        let style = if self.plain || self.once || !std::io::stdout().is_terminal() {
            Style::Lines
        } else {
            Style::Panel
        };
        let connect = self.conn.to_options()?;
        let web = self.web.map(|listen| WebSettings {
            listen,
            ws_url: self.ws_url,
        });
        Ok(DisplayOptions {
            connect: if self.once {
                connect
            } else {
                keep_connected(connect)
            },
            topics: self.prefix.topics()?,
            name: self.name,
            once: self.once,
            timeout: self.timeout,
            style,
            web,
        })
    }
}

impl SensorArgs {
    /// The sensor these flags describe.
    pub fn into_options(self) -> anyhow::Result<SensorOptions> {
        if let Some(s) = &self.sensor
            && (s.is_empty() || s.contains(['/', '+', '#']))
        {
            anyhow::bail!("invalid sensor name {s:?}: no '/', '+' or '#'");
        }
        if self.interval.is_zero() {
            anyhow::bail!("--interval must be above 0");
        }
        let source = match (self.value, self.stdin) {
            (Some(v), _) => {
                parse_temperature(v.to_string().as_bytes()).map_err(anyhow::Error::msg)?;
                Source::Fixed(v)
            }
            (None, true) => Source::Stdin,
            (None, false) => Source::RandomWalk { seed: self.seed },
        };
        Ok(SensorOptions {
            connect: keep_connected(self.conn.to_options()?),
            topics: self.prefix.topics()?,
            sensor: self.sensor,
            interval: self.interval,
            source,
            count: self.count,
            quiet: self.quiet,
        })
    }
}

impl DemoArgs {
    /// The demo these flags describe: its own broker unless `-h`, `-p` or `-L` names one.
    pub fn into_options(self) -> anyhow::Result<DemoOptions> {
        if self.sensor_interval.is_zero() {
            anyhow::bail!("--sensor-interval must be above 0");
        }
        let topics = self.prefix.topics()?;
        let external =
            self.conn.host.is_some() || self.conn.port.is_some() || self.conn.url.is_some();
        Ok(DemoOptions {
            connect: self.conn.to_options()?,
            embedded_broker: !external,
            topics,
            capacity: self.capacity,
            rate: self.rate,
            seed: self.seed,
            duration: self.duration,
            sensor_interval: self.sensor_interval,
            web: if self.no_web {
                None
            } else {
                Some(self.web.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))))
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("0.5/s").map(Rate::get), Ok(0.5));
        assert_eq!(parse_rate("2").map(Rate::get), Ok(2.0));
        assert_eq!(parse_rate("30/min").map(Rate::get), Ok(0.5));
        assert_eq!(parse_rate("30/m").map(Rate::get), Ok(0.5));
        assert_eq!(parse_rate("36/h").map(Rate::get), Ok(0.01));
        assert_eq!(parse_rate("1/5s").map(Rate::get), Ok(0.2));
        assert_eq!(parse_rate("3/500ms").map(Rate::get), Ok(6.0));
        for bad in ["", "0/s", "-1/s", "1/0s", "x/s", "1/week", "inf", "NaN"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn web_addresses() {
        let addr = |s: &str| parse_web_addr(s).map(|a| a.to_string());
        assert_eq!(addr("8080").as_deref(), Ok("127.0.0.1:8080"));
        assert_eq!(addr("localhost:0").as_deref(), Ok("127.0.0.1:0"));
        assert_eq!(addr("0.0.0.0:80").as_deref(), Ok("0.0.0.0:80"));
        assert_eq!(addr("[::1]:8080").as_deref(), Ok("[::1]:8080"));
        for bad in ["", "x", "70000", "host:80", "127.0.0.1", ":80"] {
            assert!(parse_web_addr(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ws_urls() {
        assert!(parse_ws_url("ws://127.0.0.1:9001/mqtt").is_ok());
        assert!(parse_ws_url("wss://broker.example/mqtt").is_ok());
        for bad in [
            "http://h/mqtt",
            "127.0.0.1:9001",
            "ws://",
            "ws:///mqtt",
            "ws://a b",
        ] {
            assert!(parse_ws_url(bad).is_err(), "{bad:?}");
        }
    }
}
