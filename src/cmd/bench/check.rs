//! `mq bench check`: a capability report of a broker, after HiveMQ's `mqtt test`.
//! For each protocol version (all three, or the one given with `-V`): does CONNECT
//! succeed; QoS 0/1/2 round trips (messages back / sent, and the time); retained
//! messages; single- and multi-level wildcards; shared subscriptions; the largest
//! payload that makes the round trip; and under 5.0 the limits the CONNACK announces
//! (with the specification's default when a property is absent).
//!
//! It goes through [`crate::client`] (correctness, not throughput, is measured here,
//! and TLS/WebSocket come for free). `--json` prints schema `mq-bench-check/1`:
//!
//! ```text
//! { schema: "mq-bench-check/1", broker: "mqtt://host:port", ok: bool,
//!   versions: [ { protocol: "3.1"|"3.1.1"|"5.0",
//!                 connect: { ok, detail, time_us },
//!                 qos: [ { qos, sent, received, time_us, ok } ],      // empty if not connected
//!                 retained | wildcards | shared_subscriptions: { ok, detail } | null,
//!                 payload: { largest_ok, first_failed, detail } | null,
//!                 connack: { receive_maximum, maximum_qos, retain_available,
//!                            maximum_packet_size, topic_alias_maximum,
//!                            wildcard_subscription_available,
//!                            subscription_identifier_available,
//!                            shared_subscription_available, server_keep_alive,
//!                            session_expiry_interval, assigned_client_identifier } | null
//!               } ] }
//! ```
//! `connack` (5.0 only) holds the values exactly as announced: `null` = not sent (the
//! text report then names the specification's default).

use super::check_report::{
    CheckReport, ConnackLimits, ConnectOutcome, Outcome, PayloadProbe, RoundTrip, VersionReport,
};
use super::report::version_name;
use crate::client::{Client, ConnectOptions, Event, Events};
use crate::protocol::{
    Properties, ProtocolVersion, Publish, QoS, SubscribeFilter, SubscriptionOptions,
};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// What `mq bench check` does.
#[derive(Clone, Debug)]
pub struct CheckPlan {
    /// Connection options (from the shared flags); the version is overridden per test.
    pub options: ConnectOptions,
    /// `-V` was given: test only that version.
    pub versions_given: bool,
    /// Messages per QoS round trip.
    pub count: u32,
    /// Time allowed per step.
    pub timeout: Duration,
    /// Largest payload to probe.
    pub max_payload: usize,
}

/// A unique topic prefix for this check.
fn base_topic() -> String {
    format!("mq-check/{:08x}", super::template::run_id())
}

/// Wait for `n` messages whose topic starts with `prefix`; returns how many arrived
/// and the messages themselves.
async fn collect(
    events: &mut Events,
    prefix: &str,
    n: usize,
    timeout: Duration,
) -> Result<Vec<Publish>, String> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while got.len() < n {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => break,
            Ok(None) => return Err("connection closed".into()),
            Ok(Some(Event::Message(p))) => {
                if p.topic.starts_with(prefix) {
                    got.push(p);
                }
            }
            Ok(Some(Event::Disconnected(e))) => return Err(e.to_string()),
            Ok(Some(Event::ServerDisconnect(d))) => {
                return Err(format!("server sent DISCONNECT: {}", d.reason));
            }
            Ok(Some(Event::Reconnected { .. })) => {}
        }
    }
    Ok(got)
}

fn filter(f: &str, qos: QoS) -> Vec<SubscribeFilter> {
    vec![SubscribeFilter {
        filter: f.to_string(),
        options: SubscriptionOptions::qos(qos),
    }]
}

fn publish(topic: &str, qos: QoS, retain: bool, payload: Bytes) -> Publish {
    Publish {
        qos,
        retain,
        topic: topic.into(),
        payload,
        ..Publish::default()
    }
}

async fn round_trip(
    client: &Client,
    events: &mut Events,
    base: &str,
    qos: QoS,
    count: u32,
    timeout: Duration,
) -> RoundTrip {
    let topic = format!("{base}/qos{}", qos.as_u8());
    let mut rt = RoundTrip {
        qos: qos.as_u8(),
        sent: 0,
        received: 0,
        time_us: 0,
        ok: false,
    };
    match client
        .subscribe(filter(&topic, qos), Properties::default())
        .await
    {
        Ok(ack) if ack.reason_codes.first().is_some_and(|c| !c.is_error()) => {}
        _ => return rt,
    }
    let start = Instant::now();
    let mut tokens = Vec::new();
    for i in 0..count {
        match client
            .start_publish(publish(
                &topic,
                qos,
                false,
                Bytes::from(format!("check {i}")),
            ))
            .await
        {
            Ok(t) => {
                tokens.push(t);
                rt.sent += 1;
            }
            Err(_) => break,
        }
    }
    let got = collect(events, &topic, rt.sent as usize, timeout)
        .await
        .unwrap_or_default();
    rt.time_us = start.elapsed().as_micros() as u64;
    for t in tokens {
        let _ = tokio::time::timeout(timeout, t.wait()).await;
    }
    rt.received = got.len() as u32;
    rt.ok = rt.sent == count && rt.received == count;
    let _ = client.unsubscribe(vec![topic], Properties::default()).await;
    rt
}

async fn check_retained(
    client: &Client,
    events: &mut Events,
    base: &str,
    timeout: Duration,
) -> Outcome {
    let topic = format!("{base}/retain");
    let fail = |d: String| Outcome {
        ok: false,
        detail: d,
    };
    if let Err(e) = client
        .publish(publish(
            &topic,
            QoS::AtLeastOnce,
            true,
            Bytes::from_static(b"retained"),
        ))
        .await
    {
        return fail(format!("publish refused: {e}"));
    }
    if let Err(e) = client
        .subscribe(filter(&topic, QoS::AtLeastOnce), Properties::default())
        .await
    {
        return fail(format!("subscribe failed: {e}"));
    }
    let out = match collect(events, &topic, 1, timeout).await {
        Ok(v) if v.first().is_some_and(|p| p.retain) => Outcome {
            ok: true,
            detail: "delivered to a later subscriber with the retain flag".into(),
        },
        Ok(v) if !v.is_empty() => fail("delivered without the retain flag".into()),
        Ok(_) => fail("not delivered to a later subscriber".into()),
        Err(e) => fail(e),
    };
    // Clear it: an empty retained message deletes the retained message [MQTT-3.3.1-6].
    let _ = client
        .publish(publish(&topic, QoS::AtLeastOnce, true, Bytes::new()))
        .await;
    let _ = client.unsubscribe(vec![topic], Properties::default()).await;
    out
}

async fn check_wildcards(
    client: &Client,
    events: &mut Events,
    base: &str,
    timeout: Duration,
) -> Outcome {
    let plus = format!("{base}/wild/+/x");
    let hash = format!("{base}/wild2/#");
    let filters = vec![
        SubscribeFilter {
            filter: plus.clone(),
            options: SubscriptionOptions::qos(QoS::AtLeastOnce),
        },
        SubscribeFilter {
            filter: hash.clone(),
            options: SubscriptionOptions::qos(QoS::AtLeastOnce),
        },
    ];
    if let Err(failed) = subscribe_all(client, filters).await {
        return failed;
    }
    let _ = client
        .publish(publish(
            &format!("{base}/wild/a/x"),
            QoS::AtLeastOnce,
            false,
            Bytes::from_static(b"+"),
        ))
        .await;
    let _ = client
        .publish(publish(
            &format!("{base}/wild2/a/b/c"),
            QoS::AtLeastOnce,
            false,
            Bytes::from_static(b"#"),
        ))
        .await;
    let out = match collect(events, &format!("{base}/wild"), 2, timeout).await {
        Ok(v) if v.len() == 2 => Outcome {
            ok: true,
            detail: "+ and # both match".into(),
        },
        Ok(v) => Outcome {
            ok: false,
            detail: format!("{} of 2 wildcard messages delivered", v.len()),
        },
        Err(e) => Outcome {
            ok: false,
            detail: e,
        },
    };
    let _ = client
        .unsubscribe(vec![plus, hash], Properties::default())
        .await;
    out
}

/// Subscribe and check every filter was granted; a failure is the check's outcome.
async fn subscribe_all(client: &Client, filters: Vec<SubscribeFilter>) -> Result<(), Outcome> {
    let refused = |detail: String| Outcome { ok: false, detail };
    match client.subscribe(filters, Properties::default()).await {
        Ok(ack) => match ack.reason_codes.iter().find(|c| c.is_error()) {
            Some(c) => Err(refused(format!("subscription refused: {c}"))),
            None => Ok(()),
        },
        Err(e) => Err(refused(format!("subscribe failed: {e}"))),
    }
}

async fn check_shared(
    client: &Client,
    events: &mut Events,
    base: &str,
    timeout: Duration,
) -> Outcome {
    let topic = format!("{base}/shared");
    let f = format!("$share/mqcheck/{topic}");
    if let Err(failed) = subscribe_all(client, filter(&f, QoS::AtLeastOnce)).await {
        return failed;
    }
    let _ = client
        .publish(publish(
            &topic,
            QoS::AtLeastOnce,
            false,
            Bytes::from_static(b"shared"),
        ))
        .await;
    let out = match collect(events, &topic, 1, timeout).await {
        Ok(v) if v.len() == 1 => Outcome {
            ok: true,
            detail: "$share/<group>/<filter> delivers".into(),
        },
        Ok(_) => Outcome {
            ok: false,
            detail: "nothing delivered to the shared subscription".into(),
        },
        Err(e) => Outcome {
            ok: false,
            detail: e,
        },
    };
    let _ = client.unsubscribe(vec![f], Properties::default()).await;
    out
}

async fn probe_payload(
    client: &Client,
    events: &mut Events,
    base: &str,
    max: usize,
    timeout: Duration,
) -> PayloadProbe {
    let topic = format!("{base}/size");
    let mut probe = PayloadProbe {
        largest_ok: 0,
        first_failed: None,
        detail: format!("probe limit {max} bytes"),
    };
    if let Err(e) = client
        .subscribe(filter(&topic, QoS::AtLeastOnce), Properties::default())
        .await
    {
        probe.detail = format!("subscribe failed: {e}");
        return probe;
    }
    let mut size = 1024usize.min(max);
    loop {
        let payload = Bytes::from(vec![b'x'; size]);
        let sent = client
            .publish(publish(&topic, QoS::AtLeastOnce, false, payload))
            .await;
        let result = match sent {
            Ok(ack) if ack.reason.is_error() => Err(format!("publish refused: {}", ack.reason)),
            Ok(_) => match collect(events, &topic, 1, timeout).await {
                Ok(v) if v.first().is_some_and(|p| p.payload.len() == size) => Ok(()),
                Ok(_) => Err("not delivered back".to_string()),
                Err(e) => Err(e),
            },
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(()) => probe.largest_ok = size,
            Err(e) => {
                probe.first_failed = Some(size);
                probe.detail = e;
                break;
            }
        }
        if size >= max {
            break;
        }
        size = (size * 4).min(max);
    }
    let _ = client.unsubscribe(vec![topic], Properties::default()).await;
    probe
}

async fn check_version(plan: &CheckPlan, version: ProtocolVersion) -> VersionReport {
    let mut opts = plan.options.clone();
    opts.version = version;
    opts.connect_timeout = plan.timeout;
    opts.reconnect = None;
    let mut report = VersionReport {
        protocol: version_name(version),
        connect: ConnectOutcome {
            ok: false,
            detail: String::new(),
            time_us: 0,
        },
        qos: Vec::new(),
        retained: None,
        wildcards: None,
        shared_subscriptions: None,
        payload: None,
        connack: None,
    };
    let start = Instant::now();
    let (client, mut events) = match Client::connect(opts.clone()).await {
        Ok(c) => c,
        Err(e) => {
            report.connect.detail = e.to_string();
            report.connect.time_us = start.elapsed().as_micros() as u64;
            return report;
        }
    };
    report.connect = ConnectOutcome {
        ok: true,
        detail: "connected".into(),
        time_us: start.elapsed().as_micros() as u64,
    };
    if version.is_v5() {
        report.connack = Some(ConnackLimits::from_properties(&client.connack().properties));
    }
    let base = base_topic();
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        report
            .qos
            .push(round_trip(&client, &mut events, &base, qos, plan.count, plan.timeout).await);
    }
    let mut conn = (client, events);
    let retained = check_retained(&conn.0, &mut conn.1, &base, plan.timeout).await;
    fresh_after_failure(retained.ok, &opts, &mut conn).await;
    report.retained = Some(retained);
    let wildcards = check_wildcards(&conn.0, &mut conn.1, &base, plan.timeout).await;
    fresh_after_failure(wildcards.ok, &opts, &mut conn).await;
    report.wildcards = Some(wildcards);
    let shared = check_shared(&conn.0, &mut conn.1, &base, plan.timeout).await;
    fresh_after_failure(shared.ok, &opts, &mut conn).await;
    report.shared_subscriptions = Some(shared);
    report.payload =
        Some(probe_payload(&conn.0, &mut conn.1, &base, plan.max_payload, plan.timeout).await);
    let _ = tokio::time::timeout(plan.timeout, conn.0.disconnect()).await;
    report
}

/// A broker may close the connection when a check fails (mosquitto does on a
/// refused retained publish under 3.1.1): the next checks get a fresh connection,
/// so one failure is not reported as several.
async fn fresh_after_failure(ok: bool, opts: &ConnectOptions, conn: &mut (Client, Events)) {
    if !ok && let Ok(fresh) = Client::connect(opts.clone()).await {
        *conn = fresh;
    }
}

/// Run the check.
pub async fn run_check(plan: CheckPlan) -> CheckReport {
    let versions = if plan.versions_given {
        vec![plan.options.version]
    } else {
        vec![
            ProtocolVersion::V31,
            ProtocolVersion::V311,
            ProtocolVersion::V5,
        ]
    };
    let mut out = Vec::new();
    for v in versions {
        out.push(check_version(&plan, v).await);
    }
    let ok = out.iter().any(|v| v.connect.ok)
        && out.iter().filter(|v| v.connect.ok).all(|v| {
            v.qos.iter().all(|q| q.ok)
                && [&v.retained, &v.wildcards, &v.shared_subscriptions]
                    .iter()
                    .all(|o| o.as_ref().is_none_or(|o| o.ok))
        });
    CheckReport {
        schema: "mq-bench-check/1",
        broker: plan.options.server_display(),
        ok,
        versions: out,
    }
}
