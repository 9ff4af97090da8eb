//! `mq sub`: subscribe and print messages, as mosquitto_sub does (same flags, same
//! output bytes, same exit codes: 0, 27 for `-W`, the CONNACK code when refused; a
//! connection lost after the first CONNACK is re-established, as mosquitto_sub does).

use crate::cli::SubArgs;
use crate::client::{Backoff, Client};
use crate::cmd::output::Printer;
use crate::cmd::session::{self, Role};
use crate::protocol::{
    ByteStr, Properties, Publish, QoS, SubscribeFilter, SubscriptionOptions, topic,
};
use anyhow::{Context, bail};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

/// The first delay before reconnecting (doubling up to 5 s while attempts fail).
const RECONNECT_FIRST: Duration = Duration::from_secs(1);

/// Exit code when `-W` expires (mosquitto's MOSQ_ERR_TIMEOUT).
pub const EXIT_TIMED_OUT: i32 = 27;

/// Why the receive loop stopped.
enum Stop {
    /// `-C` reached, `--retained-only` saw a fresh message, Ctrl-C, or stdout closed.
    Done,
    /// `-W` expired.
    TimedOut,
}

/// Run `mq sub`; returns the exit code.
pub async fn run(args: SubArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let printer = printer(&args)?;
    let mut filters = args.topic.clone();
    let mut base = args.connect.to_options()?;
    if filters.is_empty() {
        if let Some(t) = base.url_topic.take().filter(|t| !t.is_empty()) {
            filters.push(t);
        } else {
            return Err(crate::cli::UsageError {
                message: "you must specify a topic to subscribe to (-t)".into(),
                usage: crate::cli::SUB_USAGE,
            }
            .into());
        }
    }
    for f in filters
        .iter()
        .chain(&args.filter_out)
        .chain(&args.unsubscribe)
    {
        topic::validate_filter(f).map_err(|e| {
            anyhow::anyhow!(
                "invalid subscription topic '{f}', are all '+' and '#' wildcards correct? ({e})"
            )
        })?;
    }
    if args.count == Some(0) {
        bail!("-C must be greater than 0");
    }
    if let Some(pct) = args.random_filter
        && !(0.1..=100.0).contains(&pct)
    {
        bail!("--random-filter must be between 0.1 and 100");
    }
    if args.retained_only && args.no_retained {
        bail!("--retained-only and -R cannot be used together");
    }
    let version = base.version;
    let props = session::parse_properties(&args.client.property, Role::Subscribe, version)?;
    let mut opts = session::options(base, &args.connect, &args.client, Role::Subscribe, &props)?;
    // Like mosquitto_sub: once connected, a lost connection is re-established (and the
    // subscriptions restored) until -C, -W or Ctrl-C ends the command.
    opts.reconnect = Some(Backoff {
        initial: RECONNECT_FIRST,
        max: Duration::from_secs(5),
    });
    if args.retain_as_published && !version.is_v5() {
        bail!("--retain-as-published needs MQTT 5 (-V 5)");
    }

    // A -W too large to represent is no deadline at all.
    let deadline = args
        .timeout
        .and_then(|w| started.checked_add(Duration::from_secs(w)));
    let connected = match deadline {
        Some(d) => match tokio::time::timeout_at(d.into(), Client::connect(opts)).await {
            Ok(r) => r?,
            Err(_) => {
                eprintln!("Timed out");
                return Ok(EXIT_TIMED_OUT);
            }
        },
        None => Client::connect(opts).await?,
    };
    let (client, mut events) = connected;

    let subscribe_filters: Vec<SubscribeFilter> = filters
        .iter()
        .map(|f| SubscribeFilter {
            filter: f.clone(),
            options: SubscriptionOptions {
                qos: args.qos,
                retain_as_published: args.retain_as_published,
                ..SubscriptionOptions::default()
            },
        })
        .collect();
    // Until the SUBACK, a lost connection is retried too, within -W; what arrives
    // meanwhile (a resumed session's messages) is printed after it.
    let mut early = Vec::new();
    let quiet = args.client.quiet;
    let subscribing = client.subscribe(subscribe_filters, props.subscribe.clone());
    let Some(suback) = meanwhile(subscribing, &mut events, quiet, deadline, &mut early).await?
    else {
        return timed_out(&client, &props.disconnect, quiet).await;
    };
    if args.client.debug {
        let codes: Vec<String> = suback
            .reason_codes
            .iter()
            .map(|c| c.0.to_string())
            .collect();
        println!(
            "Subscribed (mid: {}): {}",
            suback.packet_id,
            codes.join(", ")
        );
    }
    let mut granted = 0;
    for (f, code) in filters.iter().zip(&suback.reason_codes) {
        if code.is_error() {
            if !args.client.quiet {
                eprintln!("mq: subscription to '{f}' refused: {code}");
            }
        } else {
            granted += 1;
        }
    }
    if granted == 0 {
        let _ = client.disconnect().await;
        bail!("all subscription requests were denied");
    }
    if !args.unsubscribe.is_empty() {
        let unsubscribing = client.unsubscribe(args.unsubscribe.clone(), props.unsubscribe.clone());
        if meanwhile(unsubscribing, &mut events, quiet, deadline, &mut early)
            .await?
            .is_none()
        {
            return timed_out(&client, &props.disconnect, quiet).await;
        }
    }
    if args.exit_after_subscribe {
        disconnect(&client, &props.disconnect).await;
        return Ok(0);
    }

    let stop = receive(&args, &printer, &client, &mut events, deadline, early).await?;
    match stop {
        Stop::Done => {
            disconnect(&client, &props.disconnect).await;
            Ok(0)
        }
        Stop::TimedOut => timed_out(&client, &props.disconnect, quiet).await,
    }
}

/// `-W` expired: disconnect and say so, as mosquitto_sub does.
async fn timed_out(client: &Client, props: &Properties, quiet: bool) -> anyhow::Result<i32> {
    disconnect(client, props).await;
    if !quiet {
        eprintln!("Timed out");
    }
    Ok(EXIT_TIMED_OUT)
}

/// Drive a request (SUBSCRIBE, UNSUBSCRIBE) to its end while keeping an eye on the
/// connection: a lost connection is said and retried by the client, a protocol
/// violation by the server ends the command, messages are kept in `early`. `None`
/// when the `-W` deadline passes first.
async fn meanwhile<T>(
    work: impl Future<Output = Result<T, crate::client::Error>>,
    events: &mut crate::client::Events,
    quiet: bool,
    deadline: Option<Instant>,
    early: &mut Vec<Publish>,
) -> anyhow::Result<Option<T>> {
    tokio::pin!(work);
    let timeout = until(deadline);
    tokio::pin!(timeout);
    loop {
        tokio::select! {
            r = &mut work => return Ok(Some(r?)),
            _ = &mut timeout => return Ok(None),
            e = events.recv() => match e {
                Some(crate::client::Event::Message(m)) => early.push(m),
                Some(crate::client::Event::Disconnected(err)) => lost(err, quiet)?,
                Some(_) => {}
                // The client has ended: the request fails at once.
                None => return Ok(Some(work.await?)),
            },
        }
    }
}

/// Resolves at `deadline`, never without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// A lost connection: the server breaking the protocol ends the command with the
/// violation named (mosquitto_sub exits with a protocol error too); anything else is
/// said once (unless `--quiet`) and the client reconnects.
fn lost(err: crate::client::Error, quiet: bool) -> anyhow::Result<()> {
    if matches!(err, crate::client::Error::Protocol(_)) {
        return Err(err.into());
    }
    if !quiet {
        eprintln!(
            "mq: connection lost ({err}); reconnecting in {}s",
            RECONNECT_FIRST.as_secs()
        );
    }
    Ok(())
}

/// The printer for the output flags.
fn printer(args: &SubArgs) -> anyhow::Result<Printer> {
    Printer::from_flags(
        args.format.as_deref(),
        args.json,
        args.verbose,
        !args.no_newline,
        args.pretty,
        args.client.color,
    )
}

/// Receive and print until `-C`, `-W`, `--retained-only`, Ctrl-C or a lost connection.
async fn receive(
    args: &SubArgs,
    printer: &Printer,
    client: &Client,
    events: &mut crate::client::Events,
    deadline: Option<Instant>,
    early: Vec<Publish>,
) -> anyhow::Result<Stop> {
    let mut early = early.into_iter();
    let mut count: u64 = 0;
    let mut out = Vec::with_capacity(4096);
    let mut errors = Vec::new();
    let mut rng = RandomFilter::new(args.random_filter);
    let timeout = until(deadline);
    tokio::pin!(timeout);
    let shutdown = crate::shutdown::signal();
    tokio::pin!(shutdown);
    loop {
        let event = match early.next() {
            Some(m) => Some(crate::client::Event::Message(m)),
            None => tokio::select! {
                e = events.recv() => e,
                _ = &mut timeout => return Ok(Stop::TimedOut),
                _ = &mut shutdown => return Ok(Stop::Done),
            },
        };
        let msg = match event {
            Some(crate::client::Event::Message(m)) => m,
            // The client re-establishes a lost connection (opts.reconnect) and the
            // -d hook prints the packets.
            Some(crate::client::Event::Disconnected(err)) => {
                lost(err, args.client.quiet)?;
                continue;
            }
            Some(
                crate::client::Event::ServerDisconnect(_)
                | crate::client::Event::Reconnected { .. },
            ) => continue,
            None => bail!("the connection was closed"),
        };
        let now = SystemTime::now();
        if args
            .filter_out
            .iter()
            .any(|f| topic::matches(f, &msg.topic))
        {
            continue;
        }
        if args.remove_retained && msg.retain {
            let clear = Publish {
                topic: ByteStr::from(&*msg.topic),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: Properties::default(),
                ..Publish::default()
            };
            client
                .publish(clear)
                .await
                .with_context(|| format!("cannot clear the retained message on '{}'", msg.topic))?;
        }
        if args.retained_only && !msg.retain {
            return Ok(Stop::Done);
        }
        if args.no_retained && msg.retain {
            continue;
        }
        if rng.keep() {
            out.clear();
            printer.render(&msg, now, &mut out, &mut errors);
            for e in errors.drain(..) {
                if !args.client.quiet {
                    eprintln!("{e}");
                }
            }
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout.write_all(&out).and_then(|_| stdout.flush()) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(Stop::Done);
                }
                return Err(anyhow::Error::new(e).context("cannot write to stdout"));
            }
        }
        if let Some(max) = args.count {
            count += 1;
            if count >= max {
                return Ok(Stop::Done);
            }
        }
    }
}

/// Graceful DISCONNECT (with `-D disconnect` properties). Like mosquitto_sub,
/// first let the server finish releasing the QoS 2 messages already received (PUBREL /
/// PUBCOMP, [MQTT-4.3.3-11]), for at most a second.
async fn disconnect(client: &Client, props: &Properties) {
    client.settle_incoming(Duration::from_secs(1)).await;
    let d = crate::protocol::Disconnect {
        properties: props.clone(),
        ..Default::default()
    };
    let _ = client.disconnect_with(d).await;
}

/// `--random-filter`: keep about PCT percent of the messages (statistical, not
/// cryptographic).
struct RandomFilter {
    threshold: Option<u64>,
    rng: crate::random::Rng,
}

impl RandomFilter {
    fn new(pct: Option<f64>) -> RandomFilter {
        RandomFilter {
            threshold: pct.map(|p| (p * 100.0) as u64),
            rng: crate::random::Rng::from_entropy(),
        }
    }

    fn keep(&mut self) -> bool {
        let Some(t) = self.threshold else {
            return true;
        };
        self.rng.below(10_000) < t
    }
}
