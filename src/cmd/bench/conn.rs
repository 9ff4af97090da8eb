//! `mq bench conn`: a connection storm. Opens `-c` connections at `--conn-rate`,
//! measures connect (TCP and any TLS / WebSocket handshake) to CONNACK per
//! connection, counts failures by reason, holds the connections for `--hold`
//! (answering keep alive), then disconnects them all.
//!
//! Each connection needs a file descriptor, so the open-file limit is checked first
//! and raised where the OS allows (see [`ensure_open_files`]).

use super::progress::{Goal, progress};
use super::raw::{RawConn, Target};
use super::report::{Connections, Live, Messages, Rates, SCHEMA, Sample, Summary, version_name};
use super::stats::Latency;
use crate::protocol::{self, Disconnect, Packet};
use bytes::BytesMut;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// What `mq bench conn` does.
#[derive(Clone, Debug)]
pub struct ConnPlan {
    /// Broker and connection parameters.
    pub target: Target,
    /// Connections to open.
    pub clients: u32,
    /// New connections per second (None = as fast as possible).
    pub conn_rate: Option<f64>,
    /// How long to keep them open once all are attempted.
    pub hold: Duration,
    /// No progress output.
    pub quiet: bool,
}

/// Make sure `needed` file descriptors can be opened; returns a note for the summary
/// when the limit was raised or cannot be.
///
/// - Linux: the limits are read from `/proc/self/limits`. This crate has no libc
///   binding to call `setrlimit`, so the soft limit is raised up to the hard limit
///   with util-linux's `prlimit --pid <own pid>` (the same `prlimit(2)` call, made on
///   this process from outside; an unprivileged process may raise its soft limit up to
///   its hard limit). Beyond the hard limit only root can help, and the note says so.
/// - Other Unix systems: the limit can neither be read nor raised without libc; the
///   note says how to raise it by hand (`ulimit -n`).
/// - Windows: sockets are not limited by a per-process descriptor table; not needed.
pub fn ensure_open_files(needed: u64) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        linux_raise(needed)
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        Some(format!(
            "the open-file limit cannot be read or raised on this OS by mq (no libc binding); if connections fail with 'Too many open files', run `ulimit -n {}` first",
            needed + 64
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = needed;
        None
    }
}

/// Parse the "Max open files" line of `/proc/<pid>/limits`: (soft, hard); `None` for
/// "unlimited" is mapped to `u64::MAX`.
pub fn parse_nofile(limits: &str) -> Option<(u64, u64)> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut it = line["Max open files".len()..].split_whitespace();
    let num = |s: Option<&str>| -> Option<u64> {
        match s? {
            "unlimited" => Some(u64::MAX),
            v => v.parse().ok(),
        }
    };
    Some((num(it.next())?, num(it.next())?))
}

#[cfg(target_os = "linux")]
fn linux_raise(needed: u64) -> Option<String> {
    let read = || {
        std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|s| parse_nofile(&s))
    };
    let Some((soft, hard)) = read() else {
        return Some("could not read the open-file limit from /proc/self/limits".into());
    };
    let want = needed.saturating_add(64);
    if soft >= want {
        return None;
    }
    let target = want.min(hard);
    if target <= soft {
        return Some(format!(
            "the open-file limit is {soft} and its hard limit {hard} is below the {want} descriptors needed: only root can raise it (ulimit -Hn), so some connections will fail"
        ));
    }
    let hard_s = if hard == u64::MAX {
        "unlimited".to_string()
    } else {
        hard.to_string()
    };
    let ran = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={target}:{hard_s}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    let now = read().map(|(s, _)| s).unwrap_or(soft);
    let mut note = match ran {
        Ok(st) if st.success() && now > soft => {
            format!("raised the open-file limit from {soft} to {now} (prlimit)")
        }
        Ok(_) | Err(_) => format!(
            "the open-file limit is {soft} and could not be raised (needs util-linux `prlimit`); run `ulimit -n {target}` first"
        ),
    };
    if hard < want {
        note.push_str(&format!(
            "; the hard limit {hard} is below the {want} descriptors needed: only root can raise it (ulimit -Hn), so some connections will fail"
        ));
    }
    Some(note)
}

struct Attempt {
    connect_us: Option<u64>,
    error: Option<String>,
}

async fn one_connection(
    target: Arc<Target>,
    index: u32,
    live: Arc<Live>,
    attempted: mpsc::Sender<Attempt>,
    mut release: watch::Receiver<bool>,
) {
    let id = format!("{}c{index}", target.client_id_prefix);
    let mut conn = match RawConn::connect(&target, &id).await {
        Ok(c) => c,
        Err(e) => {
            Live::add(&live.errors, 1);
            let _ = attempted
                .send(Attempt {
                    connect_us: None,
                    error: Some(e.kind()),
                })
                .await;
            return;
        }
    };
    Live::add(&live.connected, 1);
    let _ = attempted
        .send(Attempt {
            connect_us: Some(conn.connect_time.as_micros() as u64),
            error: None,
        })
        .await;
    // An idle connection keeps no read buffer beyond what it needs.
    conn.rbuf = BytesMut::new();
    let keep_alive = Duration::from_secs(u64::from(target.keep_alive));
    let version = conn.version;
    let mut scratch = [0u8; 64];
    loop {
        let mut do_ping = false;
        let ping = tokio::time::sleep(if keep_alive.is_zero() {
            Duration::from_secs(86_400)
        } else {
            keep_alive
        });
        tokio::select! {
            _ = release.wait_for(|v| *v) => break,
            r = conn.stream.read(&mut scratch) => {
                // PINGRESP or anything else: ignored; a close ends the connection.
                if !matches!(r, Ok(n) if n > 0) {
                    Live::add(&live.errors, 1);
                    live.connected.fetch_sub(1, Ordering::Relaxed);
                    return;
                }
            }
            _ = ping => do_ping = true,
        }
        if do_ping && conn.send(&Packet::PingReq).await.is_err() {
            break;
        }
    }
    let mut out = BytesMut::new();
    let _ = protocol::encode(
        &Packet::Disconnect(Disconnect::default()),
        version,
        &mut out,
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), conn.stream.write_all(&out)).await;
    let _ = conn.stream.shutdown().await;
    live.connected.fetch_sub(1, Ordering::Relaxed);
}

/// Run the storm; `interrupt` (Ctrl-C) stops the ramp and the hold.
pub async fn run_conn<I: Future<Output = ()>>(
    plan: ConnPlan,
    interrupt: I,
) -> (Summary, Vec<Sample>) {
    let mut notes = Vec::new();
    if let Some(n) = ensure_open_files(u64::from(plan.clients)) {
        notes.push(n);
    }
    let live = Arc::new(Live::default());
    let t0 = Instant::now();
    let (done_tx, done_rx) = watch::channel(false);
    let reporter = tokio::spawn(progress(
        live.clone(),
        t0,
        plan.quiet,
        Goal::default(),
        done_rx,
    ));
    let (release_tx, release_rx) = watch::channel(false);
    let (att_tx, mut att_rx) = mpsc::channel::<Attempt>(1024);
    let target = Arc::new(plan.target.clone());
    tokio::pin!(interrupt);
    let mut interrupted = false;
    let mut handles = Vec::with_capacity(plan.clients as usize);
    let mut connect = Latency::new();
    let mut conns = Connections::default();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut account = |a: Attempt, conns: &mut Connections, connect: &mut Latency| {
        conns.attempted += 1;
        match (a.connect_us, a.error) {
            (Some(us), _) => {
                conns.succeeded += 1;
                connect.record_us(us);
            }
            (None, e) => {
                conns.failed += 1;
                *errors
                    .entry(e.unwrap_or_else(|| "unknown".into()))
                    .or_default() += 1;
            }
        }
    };
    for i in 0..plan.clients {
        if let Some(r) = plan.conn_rate {
            let at = tokio::time::Instant::from_std(t0 + Duration::from_secs_f64(f64::from(i) / r));
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(at) => break,
                    Some(a) = att_rx.recv() => account(a, &mut conns, &mut connect),
                    _ = &mut interrupt => { interrupted = true; break; }
                }
            }
        }
        if interrupted {
            break;
        }
        handles.push(tokio::spawn(one_connection(
            target.clone(),
            i,
            live.clone(),
            att_tx.clone(),
            release_rx.clone(),
        )));
    }
    drop(att_tx);
    let spawned = handles.len() as u64;
    while !interrupted && conns.attempted < spawned {
        tokio::select! {
            a = att_rx.recv() => match a {
                Some(a) => account(a, &mut conns, &mut connect),
                None => break,
            },
            _ = &mut interrupt => interrupted = true,
        }
    }
    let established = t0.elapsed();
    if !interrupted && !plan.hold.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(plan.hold) => {}
            _ = &mut interrupt => interrupted = true,
        }
    }
    release_tx.send_replace(true);
    for h in handles {
        let _ = h.await;
    }
    while let Ok(a) = att_rx.try_recv() {
        account(a, &mut conns, &mut connect);
    }
    done_tx.send_replace(true);
    let samples = reporter.await.unwrap_or_default();
    let secs = established.as_secs_f64().max(1e-9);
    conns.per_s = (conns.succeeded as f64 / secs * 10.0).round() / 10.0;
    conns.connect_us = connect.summary();
    let stopped_by = if interrupted {
        "interrupt"
    } else if conns.succeeded == 0 {
        "failed"
    } else {
        "completed"
    };
    if !plan.hold.is_zero() {
        notes.push(format!(
            "connections held for {:.1} s after the ramp",
            plan.hold.as_secs_f64()
        ));
    }
    let summary = Summary {
        schema: SCHEMA,
        mode: "conn",
        broker: plan.target.display(),
        protocol: version_name(plan.target.version),
        qos: None,
        payload_bytes: None,
        publishers: 0,
        subscribers: 0,
        target_rate_per_s: plan.conn_rate,
        duration_s: (secs * 1000.0).round() / 1000.0,
        stopped_by,
        connections: conns,
        messages: Messages::default(),
        rates: Rates::default(),
        delivery: None,
        latency_us: None,
        ack_latency_us: None,
        errors,
        notes,
        label: None,
        latency_histogram_us: None,
        series: samples.clone(),
    };
    (summary, samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nofile_line_is_parsed() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_nofile(limits), Some((1024, 524288)));
        let unl = "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_nofile(unl), Some((u64::MAX, u64::MAX)));
        assert_eq!(parse_nofile("nothing here"), None);
    }
}
