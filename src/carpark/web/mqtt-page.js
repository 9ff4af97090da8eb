// The car-park display page: a small MQTT 3.1.1 client over WebSocket (subprotocol
// "mqtt", binary frames [MQTT-6.0.0-1]) written for this page alone: CONNECT,
// SUBSCRIBE, PUBLISH received at QoS 0 and 1 (PUBACK), PINGREQ. Small enough to read
// in one sitting, no licence to carry, no build step.
"use strict";
(function () {
  const settings = JSON.parse(document.getElementById("mq-settings").textContent);
  const prefix = settings.prefix;
  const url = settings.ws_url ||
    (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/mqtt";
  const KEEP_ALIVE = 30; // seconds
  const MAX_PACKET = 1 << 20; // larger packets close the connection
  const LOG_LINES = 200;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const $ = (id) => document.getElementById(id);

  // ---- Encoding -------------------------------------------------------------------

  function utf8(text) { // a UTF-8 string: two-byte length, then the bytes [MQTT-1.5.3]
    const b = encoder.encode(text);
    return [b.length >> 8, b.length & 0xff, ...b];
  }

  function packet(first, body) { // fixed header: type/flags, remaining length [MQTT-2.2.3]
    const len = [];
    let n = body.length;
    do {
      let digit = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) digit |= 0x80;
      len.push(digit);
    } while (n > 0);
    return new Uint8Array([first, ...len, ...body]);
  }

  function connectPacket(clientId) { // clean session, no will, no credentials
    return packet(0x10, [...utf8("MQTT"), 4, 0x02, KEEP_ALIVE >> 8, KEEP_ALIVE & 0xff, ...utf8(clientId)]);
  }

  function subscribePacket(id, filters) { // QoS 1 for each filter; flags 0b0010 [MQTT-3.8.1-1]
    const body = [id >> 8, id & 0xff];
    for (const f of filters) body.push(...utf8(f), 1);
    return packet(0x82, body);
  }

  const pubackPacket = (id) => packet(0x40, [id >> 8, id & 0xff]);
  const PINGREQ = new Uint8Array([0xc0, 0]);
  const DISCONNECT = new Uint8Array([0xe0, 0]);

  // ---- Decoding -------------------------------------------------------------------

  // The first complete packet of buf: {type, flags, body, size}; null if incomplete.
  // Throws on a malformed remaining length or a packet over MAX_PACKET.
  function nextPacket(buf) {
    let len = 0, mult = 1, i = 1;
    for (;;) {
      if (i >= buf.length) return null;
      const digit = buf[i++];
      len += (digit & 0x7f) * mult;
      if ((digit & 0x80) === 0) break;
      mult *= 128;
      if (i > 4) throw new Error("malformed remaining length");
    }
    if (len > MAX_PACKET) throw new Error("packet too large (" + len + " bytes)");
    if (buf.length < i + len) return null;
    return { type: buf[0] >> 4, flags: buf[0] & 0x0f, body: buf.subarray(i, i + len), size: i + len };
  }

  // ---- The connection ---------------------------------------------------------------

  let socket = null;
  let inbox = new Uint8Array(0);
  let retryMs = 1000;
  let pinger = null;
  let lastHeard = 0;

  function setConnection(text, cls) {
    const el = $("connection");
    el.textContent = text;
    el.className = cls;
  }

  function open() {
    const clientId = "mq-web-" + Math.random().toString(36).slice(2, 10);
    setConnection("connecting to " + url + "…", "pending");
    inbox = new Uint8Array(0);
    socket = new WebSocket(url, "mqtt");
    socket.binaryType = "arraybuffer";
    socket.onopen = () => socket.send(connectPacket(clientId));
    socket.onmessage = (ev) => {
      const data = new Uint8Array(ev.data);
      const joined = new Uint8Array(inbox.length + data.length);
      joined.set(inbox);
      joined.set(data, inbox.length);
      inbox = joined;
      lastHeard = Date.now();
      try {
        for (let p = nextPacket(inbox); p; p = nextPacket(inbox)) {
          inbox = inbox.subarray(p.size);
          handle(p);
        }
      } catch (e) {
        fail("protocol error: " + e.message);
      }
    };
    socket.onclose = () => {
      clearInterval(pinger);
      pinger = null;
      socket = null;
      setConnection("disconnected; trying again in " + retryMs / 1000 + " s", "down");
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  function fail(why) {
    addLog("alert", "connection closed: " + why);
    if (socket) socket.close();
  }

  const CONNACK_CODES = ["accepted", "unacceptable protocol version", "client id rejected",
    "server unavailable", "bad user name or password", "not authorized"];

  function handle(p) {
    switch (p.type) {
      case 2: { // CONNACK
        const code = p.body[1];
        if (code !== 0) {
          fail("the broker refused the connection (" + (CONNACK_CODES[code] || "code " + code) + ")");
          return;
        }
        retryMs = 1000;
        setConnection("live", "up");
        const f = (s) => prefix + "/" + s;
        socket.send(subscribePacket(1, [f("controller/status"), f("time"), f("display"),
          f("alerts"), f("entry"), f("entry/+"), f("exit"), f("exit/+")]));
        pinger = setInterval(() => {
          if (Date.now() - lastHeard > KEEP_ALIVE * 1500) fail("the broker stopped answering");
          else socket.send(PINGREQ);
        }, KEEP_ALIVE * 500);
        break;
      }
      case 3: { // PUBLISH
        const qos = (p.flags >> 1) & 3;
        if (qos > 1) throw new Error("QoS " + qos + " PUBLISH to a QoS 1 subscription");
        const topicEnd = 2 + ((p.body[0] << 8) | p.body[1]);
        const payloadAt = topicEnd + (qos === 1 ? 2 : 0);
        if (p.body.length < 2 || payloadAt > p.body.length) throw new Error("PUBLISH shorter than its header");
        const topic = decoder.decode(p.body.subarray(2, topicEnd)); // throws on bad UTF-8 [MQTT-1.5.3-1]
        if (qos === 1) socket.send(pubackPacket((p.body[topicEnd] << 8) | p.body[topicEnd + 1]));
        message(topic, p.body.subarray(payloadAt));
        break;
      }
      case 9: // SUBACK: 0x80 is a refusal
        if (p.body.subarray(2).some((c) => c === 0x80)) addLog("alert", "the broker refused a subscription");
        break;
      case 13: // PINGRESP
        break;
      default:
        throw new Error("unexpected packet type " + p.type);
    }
  }

  // ---- The car park -----------------------------------------------------------------

  let offsetMs = null; // controller clock minus this browser's clock

  function text(bytes) {
    try { return decoder.decode(bytes); } catch (e) { return null; }
  }

  function json(bytes) {
    const t = text(bytes);
    if (t === null) return null;
    try { return JSON.parse(t); } catch (e) { return null; }
  }

  function message(topic, payload) {
    if (!topic.startsWith(prefix + "/")) return;
    const rest = topic.slice(prefix.length + 1);
    const [head, gate] = rest.split("/");
    if (rest === "display") showState(json(payload));
    else if (rest === "time") syncClock(text(payload));
    else if (rest === "controller/status") showController((text(payload) || "").trim());
    else if (rest === "alerts") showAlert(json(payload));
    else if (head === "entry" || head === "exit") showCar(head, gate, payload);
  }

  function showState(s) {
    if (!s || typeof s.capacity !== "number" || typeof s.free !== "number") return;
    $("free").textContent = String(s.free);
    $("capacity").textContent = String(s.capacity);
    $("full").hidden = !s.full;
    $("spaces").classList.toggle("is-full", !!s.full);
    $("temperature").textContent = typeof s.temperature === "number" ? s.temperature.toFixed(1) : "--";
  }

  function syncClock(t) {
    const theirs = t === null ? NaN : Date.parse(t);
    if (Number.isNaN(theirs)) return;
    offsetMs = theirs - Date.now();
  }

  function showController(status) {
    const el = $("controller");
    el.textContent = status || "unknown";
    el.className = status === "online" || status === "offline" ? status : "";
  }

  function showAlert(a) {
    if (a && typeof a.message === "string") addLog("alert", a.message);
  }

  function showCar(kind, gate, payload) {
    const e = json(payload);
    const car = e && typeof e === "object" ? e : {};
    let line = kind === "entry" ? "car in" : "car out";
    const at = gate || car.gate;
    if (at) line += (kind === "entry" ? " at " : " through ") + at;
    if (typeof car.plate === "string") line += " (" + car.plate + ")";
    addLog(kind === "entry" ? "in" : "out", line);
  }

  function hms(ms) {
    return new Date(ms).toLocaleTimeString([], { hour12: false });
  }

  function addLog(cls, line) {
    const log = $("log");
    const li = document.createElement("li");
    li.className = cls;
    li.textContent = hms(Date.now() + (offsetMs || 0)) + "  " + line;
    log.prepend(li);
    while (log.children.length > LOG_LINES) log.lastElementChild.remove();
  }

  function tick() {
    if (offsetMs === null) return;
    $("clock").textContent = hms(Date.now() + offsetMs);
    const s = (offsetMs / 1000).toFixed(3);
    $("offset").textContent = "offset " + (offsetMs >= 0 ? "+" : "") + s + " s from this browser";
  }

  setInterval(tick, 250);
  window.addEventListener("beforeunload", () => { if (socket && socket.readyState === 1) socket.send(DISCONNECT); });
  open();
})();
