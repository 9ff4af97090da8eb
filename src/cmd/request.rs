//! `mq rr`: request/response, as mosquitto_rr does. Subscribe to the response topic
//! (`-e`), publish the request to `-t` with the MQTT 5 Response Topic and a fresh
//! Correlation Data [MQTT-4.10], print the first response as `mq sub` would print it,
//! and exit (27 with `-W` when none comes). A response that carries different
//! correlation data (a stale or foreign reply) is ignored.

use crate::cli::RrArgs;
use crate::cmd::output::Printer;
use crate::cmd::session::{self, Role};
use crate::cmd::subscribe::EXIT_TIMED_OUT;
use crate::protocol::{ByteStr, Publish, SubscribeFilter, SubscriptionOptions, topic};
use anyhow::{Context, bail};
use bytes::Bytes;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::AsyncReadExt;

/// Run `mq rr`; returns the exit code.
pub async fn run(args: RrArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let printer = Printer::from_flags(
        args.format.as_deref(),
        args.json,
        args.verbose,
        !args.no_newline,
        args.pretty,
        args.client.color,
    )?;
    let mut connect = args.connect.clone();
    if connect.protocol_version.is_none() {
        connect.protocol_version = Some("5".into());
    }
    if args.stdin_file && connect.password.as_deref() == Some("-") {
        bail!("-P - reads the password from stdin: it cannot be combined with -s");
    }
    let mut base = connect.to_options()?;
    let request_topic = args
        .topic
        .clone()
        .or_else(|| base.url_topic.take().filter(|t| !t.is_empty()))
        .context("you must give the request topic (-t)")?;
    topic::validate_name(&request_topic)
        .map_err(|e| anyhow::anyhow!("invalid request topic '{request_topic}': {e}"))?;
    topic::validate_name(&args.response_topic)
        .map_err(|e| anyhow::anyhow!("invalid response topic '{}': {e}", args.response_topic))?;
    let payload = if let Some(m) = &args.message {
        Bytes::from(m.clone())
    } else if let Some(f) = &args.file {
        Bytes::from(
            std::fs::read(f)
                .with_context(|| format!("cannot load input file \"{}\"", f.display()))?,
        )
    } else if args.stdin_file {
        let mut data = Vec::new();
        tokio::io::stdin()
            .read_to_end(&mut data)
            .await
            .context("cannot read stdin")?;
        Bytes::from(data)
    } else if args.null_message {
        Bytes::new()
    } else {
        bail!("you must give a request payload (-m, -f, -s or -n)");
    };
    let version = base.version;
    let props = session::parse_properties(&args.client.property, Role::Publish, version)?;
    let opts = session::options(base, &connect, &args.client, Role::Publish, &props)?;

    // A -W too large to represent is no deadline at all.
    let deadline = args
        .timeout
        .and_then(|w| started.checked_add(Duration::from_secs(w)));
    let work = exchange(&args, opts, &props, request_topic, payload, &printer);
    match deadline {
        Some(d) => match tokio::time::timeout_at(d.into(), work).await {
            Ok(r) => r,
            Err(_) => {
                if !args.client.quiet {
                    eprintln!("Timed out");
                }
                Ok(EXIT_TIMED_OUT)
            }
        },
        None => work.await,
    }
}

/// Connect, subscribe, publish the request and print the response.
async fn exchange(
    args: &RrArgs,
    opts: crate::client::ConnectOptions,
    props: &session::CommandProperties,
    request_topic: String,
    payload: Bytes,
    printer: &Printer,
) -> anyhow::Result<i32> {
    let version = opts.version;
    let (client, mut events) = crate::client::Client::connect(opts).await?;
    let suback = client
        .subscribe(
            vec![SubscribeFilter {
                filter: args.response_topic.clone(),
                options: SubscriptionOptions::qos(args.qos),
            }],
            props.subscribe.clone(),
        )
        .await?;
    if suback.reason_codes.iter().any(|c| c.is_error()) {
        let _ = client.disconnect().await;
        bail!(
            "the subscription to the response topic '{}' was refused",
            args.response_topic
        );
    }
    let correlation = Bytes::from(session::random_suffix(16));
    let mut request = Publish {
        topic: ByteStr::from(request_topic),
        qos: args.qos,
        payload,
        properties: props.publish.clone(),
        ..Publish::default()
    };
    if version.is_v5() {
        request.properties.response_topic = Some(ByteStr::from(args.response_topic.as_str()));
        if request.properties.correlation_data.is_none() {
            request.properties.correlation_data = Some(correlation.clone());
        }
    }
    let expected = request.properties.correlation_data.clone();
    let ack = client.publish(request).await?;
    if ack.reason.is_error() {
        let _ = client.disconnect().await;
        bail!("the broker refused the request: {}", ack.reason);
    }
    let shutdown = crate::shutdown::signal();
    tokio::pin!(shutdown);
    let response = loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = &mut shutdown => {
                let _ = client.disconnect().await;
                return Ok(0);
            }
        };
        match event {
            Some(crate::client::Event::Message(m)) => {
                if !topic::matches(&args.response_topic, &m.topic) {
                    continue;
                }
                if args.no_retained && m.retain {
                    continue;
                }
                if let (Some(want), Some(got)) = (&expected, &m.properties.correlation_data)
                    && want != got
                {
                    continue;
                }
                break m;
            }
            Some(crate::client::Event::Disconnected(e)) => return Err(e.into()),
            Some(crate::client::Event::ServerDisconnect(d)) => {
                return Err(crate::client::Error::ServerDisconnected(Some(d)).into());
            }
            Some(crate::client::Event::Reconnected { .. }) => continue,
            None => bail!("the connection was closed"),
        }
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    printer.render(&response, SystemTime::now(), &mut out, &mut errors);
    for e in errors {
        if !args.client.quiet {
            eprintln!("{e}");
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|_| stdout.flush())
        .context("cannot write to stdout")?;
    let _ = client.disconnect().await;
    Ok(0)
}
