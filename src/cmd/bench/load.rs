//! The load modes `pub`, `sub` and `pubsub`: the orchestrator. It ramps connections
//! (subscribers first, each with its SUBACK before any publisher starts), stops the run
//! at `--limit`, `--duration` or Ctrl-C, drains what is in flight, and merges the
//! workers' results into the summary. The per-connection loops are in `workers.rs`.

use super::payload::HEADER_LEN;
use super::progress::{Counted, Goal, progress};
use super::raw::Target;
use super::report::{
    Connections, Live, Messages, Rates, SCHEMA, Sample, Summary, qos0_loss_note, version_name,
};
use super::stats::{Delivery, Latency};
use super::template::{Clock, TopicTemplate, run_id};
use super::workers::{Ctx, WorkerResult, run_publisher, run_subscriber, sleep_until};
use crate::protocol::{QoS, topic};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Everything a load run needs, already validated.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// `pub`, `sub` or `pubsub`.
    pub mode: &'static str,
    /// Broker and connection parameters.
    pub target: Target,
    /// Publishing connections.
    pub publishers: u32,
    /// Subscribing connections.
    pub subscribers: u32,
    /// Publish topic template (`%i`, `%c`, `%s`).
    pub topic: String,
    /// Subscription filter.
    pub sub_filter: String,
    /// QoS of publishes and subscriptions.
    pub qos: QoS,
    /// Publish with the retain flag.
    pub retain: bool,
    /// Payload size (at least [`HEADER_LEN`]).
    pub size: usize,
    /// Interval between two messages of one publisher (None = as fast as possible).
    pub interval: Option<Duration>,
    /// The total rate that interval was derived from, for the summary.
    pub target_rate: Option<f64>,
    /// Maximum unacknowledged QoS 1/2 messages per publisher.
    pub inflight: u16,
    /// Stop after this many messages (published for pub/pubsub, received for sub).
    pub limit: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// New connections per second (None = all at once).
    pub conn_rate: Option<f64>,
    /// Longest wait for acknowledgements and deliveries after the stop.
    pub drain: Duration,
    /// No progress output.
    pub quiet: bool,
    /// Notified once every subscriber has its SUBACK (or failed), before any publisher
    /// starts: lets a caller (a test) act between the two phases.
    pub ready: Option<Arc<tokio::sync::Notify>>,
}

/// Start `n` workers on `runtime` at `rate` per second (all at once without a rate),
/// stopping the ramp early when `stop` turns true.
async fn ramp<F, Fut>(
    runtime: &tokio::runtime::Handle,
    n: u32,
    rate: Option<f64>,
    mut stop: watch::Receiver<bool>,
    mut spawn: F,
) -> Vec<tokio::task::JoinHandle<WorkerResult>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = WorkerResult> + Send + 'static,
{
    let begin = Instant::now();
    let mut handles = Vec::with_capacity(n as usize);
    for i in 0..n {
        if let Some(r) = rate {
            let at = begin + Duration::from_secs_f64(f64::from(i) / r);
            tokio::select! {
                _ = sleep_until(at) => {}
                _ = stop.changed() => break,
            }
        }
        if *stop.borrow() {
            break;
        }
        handles.push(runtime.spawn(spawn(i)));
    }
    handles
}

/// The runtime the subscribers of a `pubsub` run live on: threads of their own, as if
/// they ran in a second process. On one runtime, tokio shares its threads among tasks
/// in turn, so one subscriber next to four unpaced publishers got a fifth of the
/// bench's time; the broker then paced the publishers to what that fifth could read,
/// and `mq bench` measured itself (about half of what the same clients in two
/// processes got from `mq broker`). `None` (the caller's runtime) when there is only
/// one side, or when the threads cannot be started.
fn subscriber_runtime(plan: &LoadPlan) -> Option<tokio::runtime::Runtime> {
    if plan.publishers == 0 || plan.subscribers == 0 {
        return None;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (plan.subscribers as usize).clamp(1, cores);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("mq-bench-sub")
        .enable_all()
        .build()
        .ok()
}

/// Resolves once every task has ended (every subscriber failed or was disconnected).
async fn all_finished(handles: &[tokio::task::JoinHandle<WorkerResult>]) {
    while !handles.iter().all(|h| h.is_finished()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn join_all(handles: Vec<tokio::task::JoinHandle<WorkerResult>>) -> Vec<WorkerResult> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        match h.await {
            Ok(r) => out.push(r),
            Err(e) => {
                let mut r = WorkerResult::default();
                r.errors.insert(format!("worker failed: {e}"), 1);
                out.push(r);
            }
        }
    }
    out
}

/// Run a load and return its summary and per-second samples. `interrupt` resolving
/// (Ctrl-C) stops the run as `--duration` would.
pub async fn run_load<I>(plan: LoadPlan, interrupt: I) -> Result<(Summary, Vec<Sample>), String>
where
    I: Future<Output = ()>,
{
    if plan.publishers > 0 && plan.size < HEADER_LEN {
        return Err(format!(
            "--size must be at least {HEADER_LEN} bytes (the sequence and timestamp header)"
        ));
    }
    let topic = TopicTemplate::parse(&plan.topic)?;
    if plan.subscribers > 0 {
        topic::validate_filter(&plan.sub_filter)
            .map_err(|e| format!("invalid filter '{}': {e}", plan.sub_filter))?;
    }
    let (limit_tx, mut limit_rx) = watch::channel(false);
    let t0 = Instant::now();
    let ctx = Arc::new(Ctx {
        topic,
        run_id: run_id(),
        clock: Clock::new(),
        live: Arc::new(Live::default()),
        claimed: AtomicU64::new(0),
        received_total: AtomicU64::new(0),
        limit_reached: limit_tx,
        first_recv_us: AtomicU64::new(u64::MAX),
        last_recv_us: AtomicU64::new(0),
        t0,
        own_run_only: plan.mode == "pubsub",
        plan,
    });
    let plan = &ctx.plan;
    let (done_tx, done_rx) = watch::channel(false);
    let goal = Goal {
        limit: plan.limit.map(|n| {
            let counted = if plan.mode == "sub" {
                Counted::Received
            } else {
                Counted::Sent
            };
            (n, counted)
        }),
        duration: plan.duration,
        show_acked: plan.qos != QoS::AtMostOnce,
    };
    let reporter = tokio::spawn(progress(ctx.live.clone(), t0, plan.quiet, goal, done_rx));
    let (sub_stop_tx, sub_stop_rx) = watch::channel(false);
    let (pub_stop_tx, pub_stop_rx) = watch::channel(false);
    tokio::pin!(interrupt);
    let mut interrupted = false;

    // 1. Subscribers first, and wait until each has its SUBACK (or failed).
    let sub_runtime = subscriber_runtime(plan);
    let here = tokio::runtime::Handle::current();
    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(plan.subscribers.max(1) as usize);
    let sub_handles = {
        let c = ctx.clone();
        let stop = sub_stop_rx.clone();
        let ready = ready_tx.clone();
        ramp(
            sub_runtime.as_ref().map_or(&here, |r| r.handle()),
            plan.subscribers,
            plan.conn_rate,
            pub_stop_rx.clone(),
            move |i| run_subscriber(c.clone(), i, stop.clone(), ready.clone()),
        )
        .await
    };
    drop(ready_tx);
    let mut ready_count = 0usize;
    while ready_count < sub_handles.len() {
        tokio::select! {
            r = ready_rx.recv() => match r { Some(()) => ready_count += 1, None => break },
            _ = &mut interrupt => { interrupted = true; break; }
        }
    }

    if let Some(n) = &plan.ready {
        n.notify_one();
    }

    // 2. Publishers, ramped, in their own task so the stop conditions are watched
    // meanwhile.
    let load_start = Instant::now();
    let publishers = {
        let c = ctx.clone();
        let n = if interrupted { 0 } else { plan.publishers };
        let rate = plan.conn_rate;
        let ramp_stop = pub_stop_rx.clone();
        let worker_stop = pub_stop_rx.clone();
        let here = here.clone();
        tokio::spawn(async move {
            let h = ramp(&here, n, rate, ramp_stop, move |i| {
                run_publisher(c.clone(), i, worker_stop.clone())
            })
            .await;
            join_all(h).await
        })
    };
    tokio::pin!(publishers);
    let far = Duration::from_secs(100 * 365 * 24 * 3600);
    let end_at = load_start + plan.duration.unwrap_or(far);
    let mut stopped_by;
    let mut pub_results = None;
    if interrupted {
        stopped_by = "interrupt";
    } else {
        tokio::select! {
            r = &mut publishers, if plan.publishers > 0 => {
                pub_results = Some(r.unwrap_or_default());
                stopped_by = if plan.limit.is_some() { "limit" } else { "completed" };
            }
            _ = sleep_until(end_at) => stopped_by = "duration",
            _ = &mut interrupt => stopped_by = "interrupt",
            _ = limit_rx.wait_for(|v| *v) => stopped_by = "limit",
            _ = all_finished(&sub_handles), if plan.publishers == 0 => stopped_by = "completed",
        }
    }
    pub_stop_tx.send_replace(true);
    let pub_results = match pub_results {
        Some(r) => r,
        None => publishers.await.unwrap_or_default(),
    };
    let pub_end = Instant::now();

    // 3. pubsub: wait until every subscriber has everything, or nothing arrives for a
    // second, or the drain time is up.
    let sent: u64 = pub_results.iter().map(|r| r.sent).sum();
    if plan.subscribers > 0 && plan.publishers > 0 {
        let expected = sent.saturating_mul(ready_count as u64);
        let deadline = Instant::now() + plan.drain;
        let mut last = (ctx.received_total.load(Ordering::Relaxed), Instant::now());
        while Instant::now() < deadline {
            let got = ctx.received_total.load(Ordering::Relaxed);
            if got >= expected {
                break;
            }
            if got != last.0 {
                last = (got, Instant::now());
            } else if last.1.elapsed() > Duration::from_secs(1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    sub_stop_tx.send_replace(true);
    let sub_results = join_all(sub_handles).await;
    if let Some(r) = sub_runtime {
        // Its tasks have all ended; a runtime may not be dropped from async code.
        r.shutdown_background();
    }
    let end = if plan.publishers > 0 {
        pub_end
    } else {
        Instant::now()
    };
    done_tx.send_replace(true);
    let samples = reporter.await.unwrap_or_default();

    // 4. Merge.
    let mut connections = Connections::default();
    let mut connect = Latency::new();
    let mut messages = Messages::default();
    let mut ack_latency = Latency::new();
    let mut latency = Latency::new();
    let mut errors = BTreeMap::new();
    let mut published: HashMap<u64, u64> = HashMap::new();
    for r in pub_results.iter().chain(sub_results.iter()) {
        connections.attempted += 1;
        if r.connected {
            connections.succeeded += 1;
        } else {
            connections.failed += 1;
        }
        if let Some(us) = r.connect_us {
            connect.record_us(us);
        }
        messages.sent += r.sent;
        messages.acked += r.acked;
        messages.received += r.received;
        messages.foreign += r.foreign;
        ack_latency.merge(&r.ack_latency);
        latency.merge(&r.latency);
        for (k, v) in &r.errors {
            *errors.entry(k.clone()).or_default() += v;
        }
        if let Some((k, n)) = r.published {
            published.insert(k, n);
        }
    }
    let delivery = (plan.subscribers > 0).then(|| {
        let mut d = Delivery::default();
        for r in sub_results.iter().filter(|r| r.connected) {
            for (k, t) in &r.trackers {
                d.add(t, published.get(k).copied());
            }
            if plan.mode == "pubsub" {
                // Publishers this subscriber never heard from at all.
                for (k, n) in &published {
                    if !r.trackers.contains_key(k) {
                        d.lost += n;
                    }
                }
            }
        }
        d
    });
    let duration = end.duration_since(load_start).as_secs_f64().max(1e-9);
    let recv_span = if plan.mode == "sub" {
        let (f, l) = (
            ctx.first_recv_us.load(Ordering::Relaxed),
            ctx.last_recv_us.load(Ordering::Relaxed),
        );
        if f < l {
            (l - f) as f64 / 1e6
        } else {
            duration
        }
    } else {
        let l = ctx.last_recv_us.load(Ordering::Relaxed) as f64 / 1e6
            - load_start.duration_since(t0).as_secs_f64();
        l.max(duration)
    };
    let rates = Rates {
        sent_per_s: messages.sent as f64 / duration,
        acked_per_s: messages.acked as f64 / duration,
        received_per_s: messages.received as f64 / recv_span.max(1e-9),
    };
    if connections.succeeded == 0 && connections.attempted > 0 {
        stopped_by = "failed";
    }
    let mut notes = Vec::new();
    if plan.mode == "sub" {
        notes.push(
            "lost counts gaps in each publisher's sequence, including messages sent before this subscriber joined; messages after the last one received cannot be known here".to_string(),
        );
    }
    if let Some(d) = delivery.filter(|d| d.lost > 0 && plan.qos == QoS::AtMostOnce) {
        notes.push(qos0_loss_note(d.lost, &plan.target.host, plan.target.port));
    }
    let summary = Summary {
        schema: SCHEMA,
        mode: plan.mode,
        broker: plan.target.display(),
        protocol: version_name(plan.target.version),
        qos: Some(plan.qos.as_u8()),
        payload_bytes: (plan.publishers > 0).then_some(plan.size),
        publishers: u64::from(plan.publishers),
        subscribers: u64::from(plan.subscribers),
        target_rate_per_s: plan.target_rate,
        duration_s: (duration * 1000.0).round() / 1000.0,
        stopped_by,
        connections: Connections {
            connect_us: connect.summary(),
            ..connections
        },
        messages,
        rates,
        delivery,
        latency_us: latency.summary(),
        ack_latency_us: ack_latency.summary(),
        errors,
        notes,
        label: None,
        latency_histogram_us: latency.log_buckets(),
        series: samples.clone(),
    };
    Ok((summary, samples))
}
