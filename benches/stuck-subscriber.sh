#!/usr/bin/env bash
# How long one publisher takes to send N messages at QoS 1 while a QoS 1 subscriber
# of the same topic never reads, on `mq broker` and on Debian's mosquitto, alternating
# A B A B for $ROUNDS rounds (default 3). The load generator is mosquitto_pub (`-l`:
# one message per line of stdin, QoS 1), not `mq bench`; the stuck subscriber is a
# raw socket (python3) that sends CONNECT and SUBSCRIBE and then reads nothing.
# A healthy subscriber (mosquitto_sub) of the same topic counts what it receives.
#
#   benches/stuck-subscriber.sh                 # builds target/release/mq if needed
#   MQ=/path/to/mq N=50000 SIZE=1000 ROUNDS=5 benches/stuck-subscriber.sh
#
# Prints, per round and broker: seconds to publish all N, and what the healthy
# subscriber received. Stops everything it started (by PID) on exit. Linux/macOS.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
N=${N:-50000}
SIZE=${SIZE:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MQ=${MQ:-${CARGO_TARGET_DIR:-$ROOT/target}/release/mq}
if [[ ! -x $MQ ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
fi
export PATH="$PATH:/usr/sbin"
for tool in mosquitto mosquitto_pub mosquitto_sub python3; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 1 100); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "broker on port $1 did not start" >&2
    return 1
}

# The stuck subscriber: CONNECT (3.1.1, clean session, keep alive 0), SUBSCRIBE
# bench/stuck at QoS 1, then hold the socket open without reading, with a small
# receive buffer so the broker sees a full socket soon.
cat > "$WORK/stuck.py" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
cid = b"stuck"
var = b"\x00\x04MQTT\x04\x02\x00\x00"
payload = len(cid).to_bytes(2, "big") + cid
s.sendall(bytes([0x10, len(var) + len(payload)]) + var + payload)
topic = b"bench/stuck"
body = b"\x00\x01" + len(topic).to_bytes(2, "big") + topic + b"\x01"
s.sendall(bytes([0x82, len(body)]) + body)
time.sleep(3600)
EOF

seq_lines() {
    python3 -c "import sys; line=('x'*($SIZE-1))+'\n'; sys.stdout.write(line*$N)" > "$WORK/lines"
}
seq_lines

MQ_PORT=$(free_port)
MOSQ_PORT=$(free_port)
"$MQ" broker -p "$MQ_PORT" >"$WORK/mq.log" 2>&1 &
PIDS+=($!)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$MOSQ_PORT" > "$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
PIDS+=($!)
wait_port "$MQ_PORT"
wait_port "$MOSQ_PORT"

run() { # name port round
    local name=$1 port=$2
    python3 "$WORK/stuck.py" "$port" &
    local stuck=$!
    mosquitto_sub -p "$port" -t bench/stuck -q 1 -C "$N" -W 60 > "$WORK/healthy" 2>/dev/null &
    local healthy=$!
    sleep 0.3
    local t0 t1
    t0=$(python3 -c 'import time; print(time.monotonic())')
    mosquitto_pub -p "$port" -t bench/stuck -q 1 -l < "$WORK/lines"
    t1=$(python3 -c 'import time; print(time.monotonic())')
    wait "$healthy" 2>/dev/null || true
    kill "$stuck" 2>/dev/null || true
    wait "$stuck" 2>/dev/null || true
    local got
    got=$(wc -l < "$WORK/healthy")
    python3 -c "print(f'$name round $3: {$t1-$t0:.3f} s to publish $N, healthy subscriber got $got')"
}

for round in $(seq 1 "$ROUNDS"); do
    run mq "$MQ_PORT" "$round"
    run mosquitto "$MOSQ_PORT" "$round"
done
