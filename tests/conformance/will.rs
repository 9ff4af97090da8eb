//! Will messages (3.1.1 section 3.1.2.5, 5.0 sections 3.1.2.5 and 3.1.3.2):
//! published on an abnormal close and on keepalive timeout, not after a normal
//! DISCONNECT; 5.0 Will Delay Interval and DISCONNECT 0x04.

use crate::broker;
use crate::raw::{self, Raw, WAIT, connect};
use mq::protocol::{Connect, Packet, Properties, ProtocolVersion, QoS, ReasonCode};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// A CONNECT with a QoS 1 will on `topic`.
fn with_will(version: ProtocolVersion, id: &str, topic: &str) -> Connect {
    let mut c = connect(version, id);
    c.will = Some(raw::will(topic, b"last words", QoS::AtLeastOnce, false));
    c
}

/// A watcher subscribed to `topic` at QoS 1.
async fn watcher(addr: SocketAddr, version: ProtocolVersion, topic: &str) -> Raw {
    let mut w = Raw::client(addr, version, "watcher").await;
    w.subscribe(topic, QoS::AtLeastOnce).await;
    w
}

async fn abnormal_close(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut w = watcher(b.addr, version, "will/t").await;
    let (c, _) = Raw::connect_ok(b.addr, with_will(version, "dying", "will/t")).await;
    c.drop_abruptly();
    let m = w.expect_publish_acked().await;
    assert_eq!(&*m.topic, "will/t");
    assert_eq!(&m.payload[..], b"last words");
    assert_eq!(m.qos, QoS::AtLeastOnce, "the will's QoS");
    assert!(!m.retain, "Will Retain 0: not retained");
}

/// 3.1.1 [MQTT-3.1.2-8] The will is published when the connection closes without
/// DISCONNECT.
#[tokio::test]
async fn v311_will_on_abnormal_close_mqtt_3_1_2_8() {
    abnormal_close(V3).await;
}

/// 5.0 [MQTT-3.1.2-8] The will is published when the connection closes without
/// DISCONNECT (no Will Delay).
#[tokio::test]
async fn v5_will_on_abnormal_close_mqtt_3_1_2_8() {
    abnormal_close(V5).await;
}

async fn no_will_on_disconnect(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut w = watcher(b.addr, version, "will/t").await;
    let (c, _) = Raw::connect_ok(b.addr, with_will(version, "polite", "will/t")).await;
    c.disconnect().await;
    w.expect_no_publish(Duration::from_millis(600)).await;
}

/// 3.1.1 [MQTT-3.1.2-10] [MQTT-3.14.4-3] After DISCONNECT the will is discarded.
#[tokio::test]
async fn v311_no_will_after_disconnect_mqtt_3_14_4_3() {
    no_will_on_disconnect(V3).await;
}

/// 5.0 [MQTT-3.1.2-10] [MQTT-3.14.4-3] After DISCONNECT 0x00 the will is discarded.
#[tokio::test]
async fn v5_no_will_after_disconnect_mqtt_3_14_4_3() {
    no_will_on_disconnect(V5).await;
}

async fn will_on_keepalive_timeout(version: ProtocolVersion) {
    let b = broker::start().await;
    let mut w = watcher(b.addr, version, "will/ka").await;
    let mut con = with_will(version, "silent", "will/ka");
    con.keep_alive = 1;
    let (_c, _) = Raw::connect_ok(b.addr, con).await;
    let start = Instant::now();
    let m = w.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"last words");
    assert!(
        start.elapsed() >= Duration::from_millis(1000),
        "will before the keep alive even passed: {:?}",
        start.elapsed()
    );
}

/// 3.1.1 [MQTT-3.1.2-24] [MQTT-3.1.2-8] A keepalive timeout (1.5 x 1 s) closes the
/// connection and publishes the will within the 2 s wait.
#[tokio::test]
async fn v311_will_on_keepalive_timeout_mqtt_3_1_2_24() {
    will_on_keepalive_timeout(V3).await;
}

/// 5.0 [MQTT-3.1.2-22] [MQTT-3.1.2-8] The same in 5.0.
#[tokio::test]
async fn v5_will_on_keepalive_timeout_mqtt_3_1_2_22() {
    will_on_keepalive_timeout(V5).await;
}

/// 3.1.1 section 3.1.2.5: a connection closed by the broker for a protocol error
/// publishes its will.
#[tokio::test]
async fn will_on_protocol_error_close_mqtt_3_1_2_8() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V3, "will/pe").await;
    let (mut c, _) = Raw::connect_ok(b.addr, with_will(V3, "broken", "will/pe")).await;
    // A second CONNECT is a protocol violation [MQTT-3.1.0-2].
    c.send(&Packet::Connect(Box::new(connect(V3, "broken"))))
        .await;
    c.expect_closed(WAIT).await;
    assert_eq!(&w.expect_publish_acked().await.payload[..], b"last words");
}

/// 3.1.1 [MQTT-3.1.2-17] / 5.0 [MQTT-3.1.2-15] A will with Will Retain 1 is
/// published as a retained message.
#[tokio::test]
async fn will_retain_published_retained_mqtt_3_1_2_15() {
    let b = broker::start().await;
    let mut con = connect(V5, "ret");
    con.will = Some(raw::will("will/ret", b"kept", QoS::AtLeastOnce, true));
    let (c, _) = Raw::connect_ok(b.addr, con).await;
    c.drop_abruptly();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut late = Raw::v5(b.addr, "late").await;
    late.subscribe("will/ret", QoS::AtLeastOnce).await;
    let m = late.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"kept");
    assert!(m.retain, "the will was stored as a retained message");
}

/// 5.0 section 3.14.2.1: DISCONNECT with reason 0x04 (Disconnect with Will Message)
/// publishes the will.
#[tokio::test]
async fn v5_disconnect_0x04_publishes_will() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/04").await;
    let (mut c, _) = Raw::connect_ok(b.addr, with_will(V5, "asks", "will/04")).await;
    c.disconnect_with(ReasonCode::DISCONNECT_WITH_WILL, Properties::default())
        .await;
    assert_eq!(&w.expect_publish_acked().await.payload[..], b"last words");
}

fn delayed(id: &str, topic: &str, delay: u32, expiry: Option<u32>) -> Connect {
    let mut c = with_will(V5, id, topic);
    if let Some(w) = c.will.as_mut() {
        w.properties.will_delay_interval = Some(delay);
    }
    c.properties.session_expiry_interval = expiry;
    c.clean_start = false;
    c
}

/// 5.0 [MQTT-3.1.2-8] [MQTT-3.1.3-9] With a Will Delay Interval of 1 s (and a longer
/// session), the will comes after the delay, not before.
#[tokio::test]
async fn v5_will_delay_interval_respected_mqtt_3_1_3_9() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/delay").await;
    let (c, _) = Raw::connect_ok(b.addr, delayed("late", "will/delay", 1, Some(60))).await;
    let start = Instant::now();
    c.drop_abruptly();
    w.expect_no_publish(Duration::from_millis(700)).await;
    let m = w.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"last words");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "will too early"
    );
}

/// 5.0 [MQTT-3.1.3-9] A new connection to the session before the Will Delay passes:
/// the will is not sent.
#[tokio::test]
async fn v5_reconnect_before_will_delay_cancels_will_mqtt_3_1_3_9() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/back").await;
    let (c, _) = Raw::connect_ok(b.addr, delayed("back", "will/back", 1, Some(60))).await;
    c.drop_abruptly();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect(V5, "back");
    again.clean_start = false;
    again.properties.session_expiry_interval = Some(60);
    let (mut c, ack) = Raw::connect_ok(b.addr, again).await;
    assert!(ack.session_present);
    w.expect_no_publish(Duration::from_millis(1500)).await;
    c.ping().await;
}

/// 5.0 [MQTT-3.1.2-8]: the will is sent when the session ends, if that comes before
/// the Will Delay: session expiry 0 with Will Delay 30 s publishes at once.
#[tokio::test]
async fn v5_will_sent_when_session_ends_before_delay_mqtt_3_1_2_8() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/end").await;
    let mut con = delayed("ends", "will/end", 30, None);
    con.clean_start = true;
    let (c, _) = Raw::connect_ok(b.addr, con).await;
    c.drop_abruptly();
    let m = w.expect_publish_acked().await;
    assert_eq!(
        &m.payload[..],
        b"last words",
        "session ended: will published now"
    );
}

/// 5.0 [MQTT-3.1.2-8]: session expiry 1 s, Will Delay 30 s: the will comes when the
/// session expires (about 1 s), not after 30 s.
#[tokio::test]
async fn v5_will_sent_at_session_expiry_before_delay_mqtt_3_1_2_8() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/exp").await;
    let (c, _) = Raw::connect_ok(b.addr, delayed("expires", "will/exp", 30, Some(1))).await;
    c.drop_abruptly();
    let m = w.expect_publish_acked().await;
    assert_eq!(
        &m.payload[..],
        b"last words",
        "published when the session expired"
    );
}

/// 5.0 [MQTT-3.1.3-9] Takeover (Clean Start 0) before the Will Delay passes: the
/// will is not sent.
#[tokio::test]
async fn v5_takeover_within_will_delay_no_will_mqtt_3_1_3_9() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/tk").await;
    let (mut old, _) = Raw::connect_ok(b.addr, delayed("tk", "will/tk", 2, Some(60))).await;
    let mut again = connect(V5, "tk");
    again.clean_start = false;
    again.properties.session_expiry_interval = Some(60);
    let (_new, ack) = Raw::connect_ok(b.addr, again).await;
    assert!(ack.session_present);
    old.expect_closed(WAIT).await;
    w.expect_no_publish(Duration::from_millis(800)).await;
}

/// 5.0 [MQTT-3.1.3-10] The will's properties are passed on: user properties in
/// order, content type, payload format.
#[tokio::test]
async fn v5_will_properties_forwarded_mqtt_3_1_3_10() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/props").await;
    let mut con = with_will(V5, "props", "will/props");
    if let Some(will) = con.will.as_mut() {
        will.properties.user_properties = vec![
            ("b".into(), "2".into()),
            ("a".into(), "1".into()),
            ("b".into(), "3".into()),
        ];
        will.properties.content_type = Some("text/plain".into());
        will.properties.payload_format_indicator = Some(1);
    }
    let (c, _) = Raw::connect_ok(b.addr, con).await;
    c.drop_abruptly();
    let m = w.expect_publish_acked().await;
    assert_eq!(
        m.properties.user_properties,
        [
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "3".to_string())
        ],
        "will user properties in order [MQTT-3.1.3-10]"
    );
    assert_eq!(m.properties.content_type.as_deref(), Some("text/plain"));
    assert_eq!(m.properties.payload_format_indicator, Some(1));
}

/// 5.0 section 3.14.2.2.2: a DISCONNECT setting a non-zero Session Expiry when
/// CONNECT had 0 is a Protocol Error: not a valid DISCONNECT, so the broker answers
/// DISCONNECT 0x82 and the will is published.
#[tokio::test]
async fn v5_disconnect_with_new_session_expiry_is_protocol_error() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/se").await;
    let (mut c, _) = Raw::connect_ok(b.addr, with_will(V5, "sneaky", "will/se")).await;
    let props = Properties {
        session_expiry_interval: Some(30),
        ..Properties::default()
    };
    c.disconnect_with(ReasonCode::SUCCESS, props).await;
    let reason = c.expect_disconnect(WAIT).await;
    assert_eq!(reason, Some(ReasonCode::PROTOCOL_ERROR), "DISCONNECT 0x82");
    assert_eq!(&w.expect_publish_acked().await.payload[..], b"last words");
}

/// 3.1.1 [MQTT-3.3.1-9]: a retained will forwarded to an existing subscription has
/// RETAIN 0 like any other forwarded message (and is stored for later ones).
#[tokio::test]
async fn v311_retained_will_to_existing_subscriber_retain_0_mqtt_3_3_1_9() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V3, "will/rw").await;
    let mut con = connect(V3, "rw");
    con.will = Some(raw::will("will/rw", b"bye", QoS::AtLeastOnce, true));
    let (c, _) = Raw::connect_ok(b.addr, con).await;
    c.drop_abruptly();
    let m = w.expect_publish_acked().await;
    assert_eq!(&m.payload[..], b"bye");
    assert!(
        !m.retain,
        "forwarded to an established subscription: RETAIN 0"
    );
}

/// 5.0 [MQTT-3.1.2-10] A normal DISCONNECT removes the will even when it had a Will
/// Delay: nothing is published after the delay either.
#[tokio::test]
async fn v5_normal_disconnect_cancels_delayed_will_mqtt_3_1_2_10() {
    let b = broker::start().await;
    let mut w = watcher(b.addr, V5, "will/nd").await;
    let (c, _) = Raw::connect_ok(b.addr, delayed("nd", "will/nd", 1, Some(60))).await;
    c.disconnect().await;
    w.expect_no_publish(Duration::from_millis(1500)).await;
}
