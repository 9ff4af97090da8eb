//! The `mq` binary: parse the command line, dispatch, map errors to exit codes.
//!
//! Errors are printed as one line, `mq: <reason>`, on stderr; the exit code is the
//! command's own, or for a client error the mosquitto-compatible code of
//! [`mq::client::Error::exit_code`] (a refused CONNECT exits with its CONNACK code).

use mq::cli::{self, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::parse();
    let quiet = match &cli.command {
        Command::Pub(a) => a.client.quiet,
        Command::Sub(a) => a.client.quiet,
        Command::Rr(a) => a.client.quiet,
        _ => false,
    };
    // One-shot clients run on one thread: starting worker threads costs more than a
    // single connection's work (about a third of `mq pub`'s run, start to exit). The
    // broker (unless `--threads`), the bench and the car park use every core.
    let one_thread = matches!(
        cli.command,
        Command::Pub(_)
            | Command::Sub(_)
            | Command::Rr(_)
            | Command::Passwd(_)
            | Command::Completions(_)
            | Command::Man(_)
    );
    let mut builder = if one_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    if let Command::Broker(args) = &cli.command
        && let Some(n) = args.threads
    {
        builder.worker_threads(usize::from(n));
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mq: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(dispatch(cli.command));
    // Do not wait for blocking tasks (a stdin reader may still be parked on a read).
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    // Log lines still queued (a broker that stopped at start-up), unless the output
    // is stuck.
    mq::broker::log::flush_all(std::time::Duration::from_millis(500));
    match result {
        Ok(code) => exit_code(code),
        Err(e) => {
            if let Some(usage) = e.downcast_ref::<cli::UsageError>() {
                // Usage errors are printed even with --quiet, as mosquitto does.
                eprintln!("mq: {}\n{}", usage.message, usage.usage);
            } else if !quiet {
                eprintln!("mq: {}", one_line(&e));
            }
            let code = e
                .downcast_ref::<mq::client::Error>()
                .map(|c| c.exit_code())
                .unwrap_or(1);
            exit_code(code)
        }
    }
}

/// Run one subcommand to completion.
async fn dispatch(command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Pub(args) => mq::cmd::publish::run(args).await,
        Command::Sub(args) => mq::cmd::subscribe::run(args).await,
        Command::Rr(args) => mq::cmd::request::run(args).await,
        Command::Broker(args) => mq::cmd::broker::run(args).await,
        Command::Passwd(args) => mq::cmd::passwd::run(args),
        Command::Bench(args) => Ok(mq::cmd::bench::run(args.into_options()?).await?),
        Command::Carpark(args) => {
            // Watched before the flags are lowered: a stop during a password prompt
            // (`-P -`) is kept, and the role ends as soon as it starts.
            let shutdown = mq::carpark::Shutdown::on_signals();
            mq::carpark::run(args.into_options()?, shutdown).await
        }
        Command::Completions(args) => mq::cmd::generate::completions(args),
        Command::Man(args) => mq::cmd::generate::man(args),
    }
}

/// The error and its causes on one line: `reason: cause: cause`.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string().replace(['\n', '\r'], " ");
        // Skip a cause whose text the previous part already contains.
        if parts.last().is_some_and(|p| p.contains(text.as_str())) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// A process exit code from an `i32` (values outside 0..=255 become 1).
fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
