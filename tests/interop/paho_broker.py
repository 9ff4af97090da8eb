#!/usr/bin/env python3
"""Interop: Python paho-mqtt 2.x clients (MQTT 3.1.1 and 5.0) against `mq broker`.

Usage: paho_broker.py PORT. Prints one line per check and exits non-zero on the
first failure. Covers QoS 0/1/2, retained messages, wills, persistent sessions,
shared subscriptions, topic aliases and message expiry.
"""

import queue
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PORT = int(sys.argv[1])
HOST = "127.0.0.1"
TIMEOUT = 5


def client(cid, v5, clean=True, expiry=None, will=None):
    proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
    kwargs = {}
    if not v5:
        kwargs["clean_session"] = clean
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=proto, **kwargs)
    c.inbox = queue.Queue()
    c.connack = queue.Queue()
    c.on_message = lambda cl, ud, msg: cl.inbox.put(msg)
    c.on_connect = lambda cl, ud, flags, rc, props: cl.connack.put((flags, rc))
    if will:
        c.will_set(*will)
    if v5:
        props = Properties(PacketTypes.CONNECT)
        if expiry is not None:
            props.SessionExpiryInterval = expiry
        c.connect(HOST, PORT, keepalive=30, clean_start=clean, properties=props)
    else:
        c.connect(HOST, PORT, keepalive=30)
    c.loop_start()
    flags, rc = c.connack.get(timeout=TIMEOUT)
    assert not rc.is_failure, f"{cid}: CONNACK {rc}"
    c.session_present = flags.session_present
    return c


def subscribe(c, topic, qos):
    done = queue.Queue()
    c.on_subscribe = lambda cl, ud, mid, rcs, props: done.put(rcs)
    c.subscribe(topic, qos)
    return done.get(timeout=TIMEOUT)


def expect(c, topic=None, payload=None):
    msg = c.inbox.get(timeout=TIMEOUT)
    if topic is not None:
        assert msg.topic == topic, f"topic {msg.topic!r} != {topic!r}"
    if payload is not None:
        assert msg.payload == payload, f"payload {msg.payload!r} != {payload!r}"
    return msg


def expect_none(c, wait=0.5):
    try:
        msg = c.inbox.get(timeout=wait)
    except queue.Empty:
        return
    raise AssertionError(f"unexpected message on {msg.topic}: {msg.payload!r}")


def stop(c):
    c.disconnect()
    c.loop_stop()


def check(name, fn):
    fn()
    print(f"ok   {name}", flush=True)


def qos_levels(v5):
    tag = "v5" if v5 else "v311"
    sub = client(f"sub-{tag}", v5)
    subscribe(sub, f"qos/{tag}/#", 2)
    pub = client(f"pub-{tag}", v5)
    for q in (0, 1, 2):
        pub.publish(f"qos/{tag}/{q}", f"q{q}".encode(), qos=q).wait_for_publish(TIMEOUT)
        m = expect(sub, f"qos/{tag}/{q}", f"q{q}".encode())
        assert m.qos == q, f"qos {m.qos} != {q}"
    stop(pub)
    stop(sub)


def retained(v5):
    tag = "v5" if v5 else "v311"
    pub = client(f"rpub-{tag}", v5)
    pub.publish(f"ret/{tag}", b"kept", qos=1, retain=True).wait_for_publish(TIMEOUT)
    sub = client(f"rsub-{tag}", v5)
    subscribe(sub, f"ret/{tag}", 1)
    m = expect(sub, f"ret/{tag}", b"kept")
    assert m.retain, "retained flag"
    pub.publish(f"ret/{tag}", b"", qos=1, retain=True).wait_for_publish(TIMEOUT)
    expect(sub, f"ret/{tag}", b"")
    stop(sub)
    late = client(f"rlate-{tag}", v5)
    subscribe(late, f"ret/{tag}", 1)
    expect_none(late)
    stop(late)
    stop(pub)


def will(v5):
    tag = "v5" if v5 else "v311"
    watcher = client(f"wwatch-{tag}", v5)
    subscribe(watcher, f"will/{tag}", 1)
    dying = client(f"wdie-{tag}", v5, will=(f"will/{tag}", b"gone", 1, False))
    # Abnormal end: close the socket without DISCONNECT.
    dying.loop_stop()
    dying.socket().close()
    expect(watcher, f"will/{tag}", b"gone")
    stop(watcher)


def persistent(v5):
    tag = "v5" if v5 else "v311"
    cid = f"durable-{tag}"
    c = client(cid, v5, clean=False, expiry=300 if v5 else None)
    subscribe(c, f"dur/{tag}", 1)
    stop(c)
    pub = client(f"dpub-{tag}", v5)
    pub.publish(f"dur/{tag}", b"while away", qos=1).wait_for_publish(TIMEOUT)
    stop(pub)
    c = client(cid, v5, clean=False, expiry=300 if v5 else None)
    assert c.session_present, "session present"
    expect(c, f"dur/{tag}", b"while away")
    stop(c)


def shared():
    members = [client(f"share-{i}", True) for i in range(2)]
    for m in members:
        subscribe(m, "$share/grp/sh/#", 1)
    pub = client("share-pub", True)
    for i in range(10):
        pub.publish("sh/x", str(i).encode(), qos=1).wait_for_publish(TIMEOUT)
    got = []
    deadline = time.time() + TIMEOUT
    while len(got) < 10 and time.time() < deadline:
        for m in members:
            try:
                got.append(int(m.inbox.get(timeout=0.05).payload))
            except queue.Empty:
                pass
    assert sorted(got) == list(range(10)), f"shared got {sorted(got)}"
    for m in members:
        expect_none(m, 0.2)
        stop(m)
    stop(pub)


def topic_alias():
    sub = client("alias-sub", True)
    subscribe(sub, "alias/#", 1)
    pub = client("alias-pub", True)
    props = Properties(PacketTypes.PUBLISH)
    props.TopicAlias = 3
    pub.publish("alias/long/topic", b"one", qos=1, properties=props).wait_for_publish(TIMEOUT)
    pub.publish("", b"two", qos=1, properties=props).wait_for_publish(TIMEOUT)
    expect(sub, "alias/long/topic", b"one")
    expect(sub, "alias/long/topic", b"two")
    stop(pub)
    stop(sub)


def message_expiry():
    pub = client("exp-pub", True)
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = 1
    pub.publish("exp/gone", b"old", qos=1, retain=True, properties=props).wait_for_publish(TIMEOUT)
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = 60
    pub.publish("exp/kept", b"new", qos=1, retain=True, properties=props).wait_for_publish(TIMEOUT)
    time.sleep(1.2)
    sub = client("exp-sub", True)
    subscribe(sub, "exp/#", 1)
    m = expect(sub, "exp/kept", b"new")
    left = m.properties.MessageExpiryInterval
    assert 55 <= left <= 60, f"remaining expiry {left}"
    expect_none(sub)
    stop(sub)
    stop(pub)


for v5 in (False, True):
    tag = "5.0" if v5 else "3.1.1"
    check(f"QoS 0/1/2 ({tag})", lambda: qos_levels(v5))
    check(f"retained ({tag})", lambda: retained(v5))
    check(f"will ({tag})", lambda: will(v5))
    check(f"persistent session ({tag})", lambda: persistent(v5))
check("shared subscriptions (5.0)", shared)
check("topic aliases (5.0)", topic_alias)
check("message expiry (5.0)", message_expiry)
print("all paho checks passed")
