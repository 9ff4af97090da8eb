#!/usr/bin/env bash
# Compare `mq broker` with Debian's mosquitto using mqload (benches/loadgen/mqload.c), a
# load generator written in C that shares no code with mq (unlike `mq bench`).
#
#   benches/independent.sh                      # builds target/release/mq if needed
#   ROUNDS=5 DUR=5s benches/independent.sh
#   DUR=1s ROUNDS=1 CONNS=1000 benches/independent.sh   # a quick check
#   MQ=/path/to/mq KEEP=/tmp/runs benches/independent.sh   # KEEP: keep every JSON result
#   MOSQ_EXTRA='set_tcp_nodelay true' benches/independent.sh   # extra mosquitto.conf lines
#
# Linux only: it reads /proc/<pid>/status and /proc/<pid>/stat. Needs gcc, python3 and
# mosquitto (/usr/sbin/mosquitto). mqload is built with `gcc -O2 -pthread` into a
# temporary directory. benches/loadgen/README.md says how it measures;
# benches/loadgen/check.sh PORT checks its counts against mosquitto_sub.
#
# Both brokers run on free loopback ports with their defaults. mosquitto's
# configuration is only `listener PORT 127.0.0.1` and `allow_anonymous true`, so these
# mosquitto 2.0 defaults apply (printed again with the results): max_queued_messages
# 1000 (QoS 1/2 messages queued per client beyond those in flight; more are dropped),
# max_queued_bytes 0 (no limit), max_inflight_messages 20, queue_qos0_messages false,
# set_tcp_nodelay false (Nagle on), memory_limit 0, persistence false. `mq broker` runs
# as `mq broker -p PORT`. With Nagle on, mosquitto's latency p99 at 1000 msg/s is set by
# Nagle and the subscriber's delayed ACKs (tens of ms); MOSQ_EXTRA='set_tcp_nodelay true'
# measures it without (the setting benches/broker-vs-mosquitto.sh uses). Beyond
# max_queued_messages mosquitto drops QoS 1 messages it has already acknowledged, which
# shows as "lost" in the fan-in QoS 1 row.
#
# Each scenario runs against mq then mosquitto (A B A B ...), ROUNDS times (default 3),
# DUR long (default 3s); the table shows medians and the ratio mq/mosquitto.
#   fan-in QoS 0   4 publishers -> 1 subscriber, one topic, 64 B, publishers as fast as
#                  their sockets take: deliveries/s at the subscriber, counted from its
#                  first message to the end of DUR; lost = sent - received after a drain
#                  (until nothing arrives for 1 s, at most 10 s)
#   fan-in QoS 1   the same at QoS 1, 16 unacknowledged PUBLISH per publisher; the
#                  subscriber subscribes at QoS 1 and acknowledges every delivery
#   fan-out QoS 0  1 publisher -> 8 subscribers, 64 B: deliveries/s (all subscribers)
#   latency        1 publisher at 1000 msg/s (absolute deadlines) -> 1 subscriber, QoS 0,
#                  64 B: p50 and p99 of receive time - send time (CLOCK_MONOTONIC), µs
#   idle conns     CONNS (default 5000) connections opened at 1000/s to a freshly started
#                  broker and held: the broker's VmRSS growth per connection, and the
#                  p99 of socket()-to-CONNACK
#   broker CPU     utime+stime of the broker over the fan-in runs, per million delivered
# Stops everything it started, by PID, on exit.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DUR=${DUR:-3s}
CONNS=${CONNS:-5000}
CONN_RATE=${CONN_RATE:-1000}
MOSQ_EXTRA=${MOSQ_EXTRA:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MQ=${MQ:-${CARGO_TARGET_DIR:-$ROOT/target}/release/mq}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[[ -x $MOSQUITTO ]] || { echo "mosquitto is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
command -v gcc >/dev/null || { echo "gcc is needed" >&2; exit 1; }
if [[ ! -x $MQ ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n ${KEEP:-} ]]; then
        mkdir -p "$KEEP" && cp -r "$WORK/json" "$WORK"/*.log "$WORK"/*.conf "$KEEP/" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
mkdir -p "$WORK/json"

MQLOAD="$WORK/mqload"
gcc -O2 -pthread -Wall -o "$MQLOAD" "$ROOT/benches/loadgen/mqload.c"

# The idle-connection scenario holds CONNS sockets in mqload and in the broker.
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $((CONNS + 100)) ]]; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # port
    for _ in $(seq 1 100); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "broker on port $1 did not start" >&2
    exit 1
}

# --- brokers -------------------------------------------------------------------
start_mq() { # -> sets STARTED_PID STARTED_PORT
    STARTED_PORT=$(free_port)
    "$MQ" broker -p "$STARTED_PORT" 2>>"$WORK/mq-broker.log" &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    wait_port "$STARTED_PORT"
}
start_mosquitto() { # -> sets STARTED_PID STARTED_PORT
    STARTED_PORT=$(free_port)
    local conf="$WORK/mosquitto-$STARTED_PORT.conf"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$STARTED_PORT" >"$conf"
    if [[ -n $MOSQ_EXTRA ]]; then
        printf '%s\n' "$MOSQ_EXTRA" >>"$conf"
    fi
    "$MOSQUITTO" -c "$conf" 2>>"$WORK/mosquitto.log" &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    wait_port "$STARTED_PORT"
}
forget_pid() { # pid: a process this script started has ended
    local keep=() p
    for p in "${PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}
stop_broker() { # pid: stop one broker this script started, and forget its PID
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=() p
    for p in "${PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

start_mq
MQ_PID=$STARTED_PID MQ_PORT=$STARTED_PORT
start_mosquitto
MOSQ_PID=$STARTED_PID MOSQ_PORT=$STARTED_PORT

TICKS=$(getconf CLK_TCK)
cpu_ticks() { # pid -> utime+stime in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
rss_kb() { # pid
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
json() { # file expr
    python3 -c "import json,sys; v=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"
}

RESULTS="$WORK/results.txt" # lines: broker figure value
: >"$RESULTS"
record() { echo "$1 $2 $3" >>"$RESULTS"; }

# mqload NAME ARGS...: run mqload, its JSON into $WORK/json/NAME.json (path in $OUT)
mqload() {
    local name=$1
    shift
    OUT="$WORK/json/$name.json"
    if ! "$MQLOAD" "$@" >"$OUT" 2>"$WORK/json/$name.err"; then
        echo "mqload failed: $MQLOAD $*" >&2
        cat "$WORK/json/$name.err" >&2
        exit 1
    fi
    cat "$WORK/json/$name.err" >&2
}

scenario_fanin() { # broker port pid qos tag
    local b=$1 port=$2 pid=$3 qos=$4 tag=$5 t0 t1
    t0=$(cpu_ticks "$pid")
    mqload "$ROUND-$b-$tag" fanin -p "$port" -P 4 -s 64 -q "$qos" -w 16 -d "$DUR"
    t1=$(cpu_ticks "$pid")
    record "$b" "$tag" "$(json "$OUT" 'v["figures"]["received_per_s"]')"
    record "$b" "${tag}_lost" "$(json "$OUT" 'v["figures"]["lost"]')"
    record "$b" "${tag}_drain_limit" "$(json "$OUT" 'int(v["figures"]["drain_end"] == "limit")')"
    record "$b" "${tag}_cpu" "$(python3 -c "print(($t1-$t0)/$TICKS/max(1,$(json "$OUT" 'v["figures"]["received"]'))*1e6)")"
}
scenario_fanout() { # broker port pid
    mqload "$ROUND-$1-fanout" fanout -p "$2" -K 8 -s 64 -q 0 -d "$DUR"
    record "$1" fanout "$(json "$OUT" 'v["figures"]["received_per_s"]')"
}
scenario_latency() { # broker port pid
    mqload "$ROUND-$1-latency" latency -p "$2" -r 1000 -s 64 -q 0 -d "$DUR"
    record "$1" lat_p50 "$(json "$OUT" 'v["figures"]["latency_us"]["p50"]')"
    record "$1" lat_p99 "$(json "$OUT" 'v["figures"]["latency_us"]["p99"]')"
    record "$1" lat_lost "$(json "$OUT" 'v["figures"]["lost"]')"
}
scenario_conns() { # broker: on a freshly started broker (one that ran the throughput
    # scenarios reuses its freed heap, which would hide the growth)
    local b=$1 cpid cport base rss ready="$WORK/ready" mpid
    "start_$b"
    cpid=$STARTED_PID cport=$STARTED_PORT
    sleep 0.3
    base=$(rss_kb "$cpid")
    rm -f "$ready"
    "$MQLOAD" conn -p "$cport" -c "$CONNS" -r "$CONN_RATE" --hold 2s --ready-file "$ready" \
        >"$WORK/json/$ROUND-$b-conns.json" 2>"$WORK/json/$ROUND-$b-conns.err" &
    mpid=$!
    PIDS+=("$mpid")
    local limit=$((CONNS / CONN_RATE * 20 + 200)) i=0 # in 0.05 s steps
    while [[ ! -e $ready ]] && kill -0 "$mpid" 2>/dev/null && [[ $i -lt $limit ]]; do
        sleep 0.05
        i=$((i + 1))
    done
    sleep 0.5
    rss=$(rss_kb "$cpid")
    local status=0
    wait "$mpid" || status=$?
    forget_pid "$mpid"
    stop_broker "$cpid"
    cat "$WORK/json/$ROUND-$b-conns.err" >&2
    if [[ $status -ne 0 ]]; then
        echo "mqload conn failed against $b" >&2
        exit 1
    fi
    OUT="$WORK/json/$ROUND-$b-conns.json"
    record "$b" rss_per_conn "$(python3 -c "print(($rss-$base)*1024/$CONNS)")"
    record "$b" conn_p99 "$(json "$OUT" 'v["figures"]["connect_us"]["p99"]')"
    record "$b" conn_p50 "$(json "$OUT" 'v["figures"]["connect_us"]["p50"]')"
}

for ROUND in $(seq 1 "$ROUNDS"); do
    for s in fanin_q0 fanin_q1 fanout latency conns; do
        for b in mq mosquitto; do
            echo "round $ROUND/$ROUNDS: $s against $b" >&2
            if [[ $b == mq ]]; then port=$MQ_PORT pid=$MQ_PID; else port=$MOSQ_PORT pid=$MOSQ_PID; fi
            case $s in
            fanin_q0) scenario_fanin "$b" "$port" "$pid" 0 fanin_q0 ;;
            fanin_q1) scenario_fanin "$b" "$port" "$pid" 1 fanin_q1 ;;
            fanout) scenario_fanout "$b" "$port" "$pid" ;;
            latency) scenario_latency "$b" "$port" "$pid" ;;
            conns) scenario_conns "$b" ;;
            esac
        done
    done
done

MOSQ_VERSION=$("$MOSQUITTO" -h 2>&1 | head -1 || true)
MQ_VERSION=$("$MQ" --version 2>&1 | head -1 || true)
python3 - "$RESULTS" "$ROUNDS" "$DUR" "$CONNS" "$MQ_VERSION" "$MOSQ_VERSION" "$WORK/mosquitto-$MOSQ_PORT.conf" <<'PY'
import statistics, sys
results, rounds, dur, conns, mqv, mosqv, conf = sys.argv[1:8]
rows = {}
for line in open(results):
    b, f, v = line.split()
    rows.setdefault(f, {}).setdefault(b, []).append(float(v))
figures = [
    ("fanin_q0", "fan-in QoS 0, 4 -> 1, 64 B: delivered/s", "{:.0f}", "higher"),
    ("fanin_q0_lost", "  lost (sent - received after the drain)", "{:.0f}", "lower"),
    ("fanin_q1", "fan-in QoS 1, in-flight 16: delivered/s", "{:.0f}", "higher"),
    ("fanin_q1_lost", "  lost (sent - received after the drain)", "{:.0f}", "lower"),
    ("fanout", "fan-out QoS 0, 1 -> 8: deliveries/s", "{:.0f}", "higher"),
    ("lat_p50", "latency at 1000 msg/s, p50 (µs)", "{:.0f}", "lower"),
    ("lat_p99", "latency at 1000 msg/s, p99 (µs)", "{:.0f}", "lower"),
    ("rss_per_conn", f"RSS per idle connection ({int(conns)}), bytes", "{:.0f}", "lower"),
    ("conn_p50", f"connect p50 at 1000 conn/s (µs)", "{:.0f}", "lower"),
    ("conn_p99", f"connect p99 at 1000 conn/s (µs)", "{:.0f}", "lower"),
    ("fanin_q0_cpu", "broker CPU s per million delivered, QoS 0", "{:.2f}", "lower"),
    ("fanin_q1_cpu", "broker CPU s per million delivered, QoS 1", "{:.2f}", "lower"),
]
def med(key, b):
    v = rows.get(key, {}).get(b)
    return statistics.median(v) if v else float("nan")
print(f"mqload, medians of {rounds} alternating rounds (mq, mosquitto), {dur} per run")
print(f"mq: {mqv}; mosquitto: {mosqv}; mosquitto.conf: "
      + "; ".join(l.strip() for l in open(conf) if l.strip()))
print()
print("| figure | mq broker | mosquitto | mq/mosquitto | better |")
print("|---|---:|---:|---:|---|")
for key, label, fmt, better in figures:
    a, m = med(key, "mq"), med(key, "mosquitto")
    ratio = f"{a / m:.2f}" if m and m == m and a == a else "-"
    print(f"| {label} | {fmt.format(a)} | {fmt.format(m)} | {ratio} | {better} |")
print()
print("every run (mq | mosquitto):")
for key, label, fmt, _ in figures:
    vals = [" ".join(fmt.format(x) for x in rows.get(key, {}).get(b, [])) for b in ("mq", "mosquitto")]
    print(f"  {key:<14} {vals[0]} | {vals[1]}")
for tag in ("fanin_q0", "fanin_q1"):
    for b in ("mq", "mosquitto"):
        n = int(sum(rows.get(tag + "_drain_limit", {}).get(b, [])))
        if n:
            print(f"note: {b} {tag}: in {n} run(s) the drain hit its limit, so 'lost' includes late deliveries")
PY
