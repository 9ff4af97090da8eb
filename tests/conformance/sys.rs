//! The `$SYS/broker/...` tree (issue 4, mosquitto's topics), and its place in topic
//! matching: `$SYS` topics are not matched by filters starting with a wildcard
//! [MQTT-4.7.2-1].

use crate::broker;
use crate::raw::{Event, Raw};
use mq::broker::Config;
use mq::protocol::{Packet, QoS};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// Collect `$SYS/broker/...` values for `wait`, the last value of each topic.
async fn collect(c: &mut Raw, wait: Duration) -> HashMap<String, String> {
    let deadline = Instant::now() + wait;
    let mut got = HashMap::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.recv(left).await {
            Event::Packet(Packet::Publish(m)) => {
                c.ack(&m).await;
                got.insert(
                    m.topic.to_string(),
                    String::from_utf8_lossy(&m.payload).to_string(),
                );
            }
            Event::Timeout => return got,
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn number(values: &HashMap<String, String>, topic: &str) -> u64 {
    let v = values
        .get(topic)
        .unwrap_or_else(|| panic!("{topic} not published; got {:?}", values.keys()));
    v.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{topic} is not a number: {v:?}"))
}

async fn sys_broker() -> broker::TestBroker {
    broker::start_with(Config {
        sys_interval: Duration::from_secs(1),
        ..Config::default()
    })
    .await
}

/// `$SYS/broker/version`, `uptime` and `clients/connected` are published every
/// `sys_interval`, with the counts of the moment.
#[tokio::test]
async fn sys_tree_published_every_interval() {
    let b = sys_broker().await;
    let mut other = Raw::v311(b.addr, "other").await;
    other
        .publish_retained("sys/r1", b"1", QoS::AtLeastOnce)
        .await;
    other
        .publish_retained("sys/r2", b"2", QoS::AtLeastOnce)
        .await;
    let mut c = Raw::v5(b.addr, "sys").await;
    c.subscribe("$SYS/broker/#", QoS::AtMostOnce).await;
    let values = collect(&mut c, Duration::from_millis(2300)).await;
    assert!(
        values.contains_key("$SYS/broker/version"),
        "version published: {:?}",
        values.keys()
    );
    // mosquitto's wording: "<n> seconds".
    let uptime = values.get("$SYS/broker/uptime").expect("uptime published");
    assert!(
        uptime.ends_with(" seconds")
            && uptime
                .split(' ')
                .next()
                .is_some_and(|n| n.parse::<u64>().is_ok()),
        "uptime as mosquitto words it: {uptime:?}"
    );
    assert!(
        number(&values, "$SYS/broker/clients/connected") >= 2,
        "two clients connected"
    );
    assert!(
        number(&values, "$SYS/broker/retained messages/count") >= 2,
        "two retained messages"
    );
    assert!(number(&values, "$SYS/broker/subscriptions/count") >= 1);
    assert!(number(&values, "$SYS/broker/publish/messages/received") >= 2);
    assert!(number(&values, "$SYS/broker/bytes/received") > 0);
    assert!(number(&values, "$SYS/broker/clients/total") >= 2);
}

/// [MQTT-4.7.2-1] A `#` subscriber gets no `$SYS` updates, a `$SYS/#` one does.
#[tokio::test]
async fn hash_does_not_match_real_sys_topics_mqtt_4_7_2_1() {
    let b = sys_broker().await;
    let mut all = Raw::v311(b.addr, "all").await;
    all.subscribe("#", QoS::AtMostOnce).await;
    all.subscribe("+/broker/#", QoS::AtMostOnce).await;
    let mut sys = Raw::v311(b.addr, "sys").await;
    sys.subscribe("$SYS/#", QoS::AtMostOnce).await;
    let got = collect(&mut all, Duration::from_millis(1500)).await;
    assert!(
        got.is_empty(),
        "wildcard subscriber got $SYS topics: {:?}",
        got.keys()
    );
    let got = collect(&mut sys, Duration::from_millis(500)).await;
    assert!(!got.is_empty(), "$SYS/# subscriber got nothing");
}
