#!/usr/bin/env bash
# Compare `mq broker` with Debian's mosquitto (and rumqttd when it is installed), using
# `mq bench` as the load generator.
#
# Starts the brokers on free loopback ports, runs the same scenarios against each,
# alternating A B (C) A B (C) for $ROUNDS rounds (default 3), and prints the median of
# each figure with the ratios mq/mosquitto (and mq/rumqttd). Stops everything it
# started (by PID) on exit.
#
#   benches/broker-vs-mosquitto.sh            # builds target/release/mq if needed
#   MQ=/path/to/mq ROUNDS=5 DUR=5s benches/broker-vs-mosquitto.sh
#   RUMQTTD=/path/to/rumqttd benches/broker-vs-mosquitto.sh   # `cargo install rumqttd`
#
# Scenarios (each run with `mq bench ... --json --quiet`):
#   fan-in QoS 0    4 publishers -> 1 subscriber, 64 B, as fast as possible: received msg/s
#   fan-in QoS 1    the same at QoS 1 with --inflight 16: received msg/s
#   fan-out QoS 0   1 publisher -> 8 subscribers, 64 B: deliveries/s
#   latency         1 publisher at 1000 msg/s -> 1 subscriber: p50 and p99 (µs)
#   idle conns      5000 idle connections held by a freshly started broker: its RSS
#                   growth per connection (bytes, VmRSS from /proc/<pid>/status)
#   CPU             broker CPU seconds (utime+stime from /proc/<pid>/stat) per million
#                   messages delivered, measured over the fan-in QoS 0 and QoS 1 runs
#   self-check      fan-in QoS 0 again with the publishers and the subscriber in two
#                   `mq bench` processes run at once: one process must deliver at
#                   least 90 % of what the two deliver (exit status 3 if not), or
#                   `mq bench` is what limits the figures
# Linux only (/proc). Needs python3 for JSON and medians.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DUR=${DUR:-3s}
CONNS=${CONNS:-5000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MQ=${MQ:-${CARGO_TARGET_DIR:-$ROOT/target}/release/mq}
if [[ ! -x $MQ ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
fi
command -v mosquitto >/dev/null || { echo "mosquitto is not installed" >&2; exit 1; }
RUMQTTD=${RUMQTTD:-$(command -v rumqttd || true)}
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
BENCH_PID=""
cleanup() {
    if [[ -n $BENCH_PID ]]; then
        kill "$BENCH_PID" 2>/dev/null || true
    fi
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

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

# --- start the brokers --------------------------------------------------------
start_mq() { # -> sets STARTED_PID STARTED_PORT
    STARTED_PORT=$(free_port)
    "$MQ" broker -p "$STARTED_PORT" 2>>"$WORK/mq-broker.log" &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    wait_port "$STARTED_PORT"
}
start_mosquitto() { # -> sets STARTED_PID STARTED_PORT
    STARTED_PORT=$(free_port)
    # set_tcp_nodelay: mq broker always disables Nagle; without this mosquitto's
    # small writes can wait ~40 ms for delayed ACKs, which would skew the latency rows.
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n' "$STARTED_PORT" >"$WORK/mosquitto-$STARTED_PORT.conf"
    mosquitto -c "$WORK/mosquitto-$STARTED_PORT.conf" 2>>"$WORK/mosquitto.log" &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    wait_port "$STARTED_PORT"
}
start_rumqttd() { # -> sets STARTED_PID STARTED_PORT
    STARTED_PORT=$(free_port)
    # rumqttd's sample configuration (MQTT 3.1.1 listener), on loopback, without its
    # connection-rate delay and without the metrics endpoint.
    cat >"$WORK/rumqttd-$STARTED_PORT.toml" <<EOF
id = 0
[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10
[v4.1]
name = "v4-1"
listen = "127.0.0.1:$STARTED_PORT"
next_connection_delay_ms = 0
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 20480
    max_inflight_count = 100
    dynamic_filters = true
EOF
    "$RUMQTTD" -q -c "$WORK/rumqttd-$STARTED_PORT.toml" >>"$WORK/rumqttd.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    wait_port "$STARTED_PORT"
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
BROKERS="mq mosquitto"
if [[ -n $RUMQTTD ]]; then
    start_rumqttd
    RUMQTTD_PID=$STARTED_PID RUMQTTD_PORT=$STARTED_PORT
    BROKERS="mq mosquitto rumqttd"
fi

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

run_round() { # name port pid
    local name=$1 port=$2 pid=$3 out="$WORK/out.json"
    local common=(-h 127.0.0.1 -p "$port" --json --quiet)

    local t0 t1
    t0=$(cpu_ticks "$pid")
    "$MQ" bench pubsub "${common[@]}" -c 4 --subscribers 1 -q 0 -s 64 --duration "$DUR" >"$out"
    t1=$(cpu_ticks "$pid")
    record "$name" fanin_q0 "$(json "$out" 'v["rates"]["received_per_s"]')"
    record "$name" fanin_q0_lost "$(json "$out" 'v["delivery"]["lost"]')"
    record "$name" cpu_per_m "$(python3 -c "print(($t1-$t0)/$TICKS/max(1,$(json "$out" 'v["messages"]["received"]'))*1e6)")"

    # Self-check: the same fan-in with the clients split over two `mq bench`
    # processes (the 4 publishers in one, the subscriber in the other), run at once.
    # If one process delivers clearly less than two, `mq bench` is the bottleneck and
    # the ratios above understate the faster broker.
    local sub_out="$WORK/selfcheck-sub.json"
    "$MQ" bench sub "${common[@]}" -c 1 -t 'selfcheck/#' -q 0 --duration "$DUR" >"$sub_out" &
    local sub_pid=$!
    sleep 0.3
    "$MQ" bench pub "${common[@]}" -c 4 -t 'selfcheck/%i' -q 0 -s 64 --duration "$DUR" >/dev/null
    wait "$sub_pid"
    record "$name" selfcheck_split "$(json "$sub_out" 'v["rates"]["received_per_s"]')"

    t0=$(cpu_ticks "$pid")
    "$MQ" bench pubsub "${common[@]}" -c 4 --subscribers 1 -q 1 --inflight 16 -s 64 --duration "$DUR" >"$out"
    t1=$(cpu_ticks "$pid")
    record "$name" fanin_q1 "$(json "$out" 'v["rates"]["received_per_s"]')"
    record "$name" cpu_per_m_q1 "$(python3 -c "print(($t1-$t0)/$TICKS/max(1,$(json "$out" 'v["messages"]["received"]'))*1e6)")"

    "$MQ" bench pubsub "${common[@]}" -c 1 --subscribers 8 -q 0 -s 64 --duration "$DUR" >"$out"
    record "$name" fanout_q0 "$(json "$out" 'v["rates"]["received_per_s"]')"

    "$MQ" bench pubsub "${common[@]}" -c 1 --subscribers 1 -q 0 -s 64 --rate 1000/s --duration "$DUR" >"$out"
    record "$name" lat_p50 "$(json "$out" 'v["latency_us"]["p50"]')"
    record "$name" lat_p99 "$(json "$out" 'v["latency_us"]["p99"]')"

    # Idle connections: RSS growth of a freshly started broker (a broker that already
    # ran the throughput scenarios reuses its freed heap, which would hide the growth)
    # while $CONNS connections are held.
    "start_$name"
    local cpid=$STARTED_PID cport=$STARTED_PORT base fds rss
    sleep 0.3
    base=$(rss_kb "$cpid")
    "$MQ" bench conn -h 127.0.0.1 -p "$cport" --json --quiet -c "$CONNS" --hold 3s >"$out" &
    BENCH_PID=$!
    for _ in $(seq 1 200); do
        fds=$(find "/proc/$cpid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
        [[ $fds -ge $CONNS ]] && break
        sleep 0.05
    done
    sleep 0.5
    rss=$(rss_kb "$cpid")
    wait "$BENCH_PID"
    BENCH_PID=""
    stop_broker "$cpid"
    record "$name" conn_ok "$(json "$out" 'v["connections"]["succeeded"]')"
    record "$name" rss_per_conn "$(python3 -c "print(($rss-$base)*1024/$CONNS)")"
}

for round in $(seq 1 "$ROUNDS"); do
    echo "round $round/$ROUNDS: mq broker" >&2
    run_round mq "$MQ_PORT" "$MQ_PID"
    echo "round $round/$ROUNDS: mosquitto" >&2
    run_round mosquitto "$MOSQ_PORT" "$MOSQ_PID"
    if [[ -n $RUMQTTD ]]; then
        echo "round $round/$ROUNDS: rumqttd" >&2
        run_round rumqttd "$RUMQTTD_PORT" "$RUMQTTD_PID"
    fi
done

python3 - "$RESULTS" "$ROUNDS" "$BROKERS" <<'PY'
import statistics, sys
brokers = sys.argv[3].split()
rows = {}
for line in open(sys.argv[1]):
    b, f, v = line.split()
    rows.setdefault(f, {}).setdefault(b, []).append(float(v))
figures = [
    ("fanin_q0", "fan-in QoS 0, 4->1, 64 B (msg/s)", "{:.0f}"),
    ("fanin_q0_lost", "  messages lost in that run (QoS 0 drops)", "{:.0f}"),
    ("selfcheck_split", "  self-check: the same over 2 bench processes", "{:.0f}"),
    ("fanin_q1", "fan-in QoS 1, 4->1, inflight 16 (msg/s)", "{:.0f}"),
    ("fanout_q0", "fan-out QoS 0, 1->8 (deliveries/s)", "{:.0f}"),
    ("lat_p50", "latency at 1000 msg/s, p50 (us)", "{:.0f}"),
    ("lat_p99", "latency at 1000 msg/s, p99 (us)", "{:.0f}"),
    ("conn_ok", "idle connections established", "{:.0f}"),
    ("rss_per_conn", "broker RSS per idle connection (bytes)", "{:.0f}"),
    ("cpu_per_m", "broker CPU s per million delivered (fan-in QoS 0)", "{:.2f}"),
    ("cpu_per_m_q1", "broker CPU s per million delivered (fan-in QoS 1)", "{:.2f}"),
]
others = brokers[1:]
print(f"medians of {sys.argv[2]} rounds, alternating {' / '.join(brokers)}")
head = f"| {'figure':<52} | {'mq broker':>10} |" + "".join(f" {b:>10} |" for b in others)
head += "".join(f" {'mq/' + b:>12} |" for b in others)
print(head)
print(f"|{'-'*54}|{'-'*12}|" + f"{'-'*12}|" * len(others) + f"{'-'*14}|" * len(others))
def median(key, b):
    v = rows.get(key, {}).get(b)
    return statistics.median(v) if v else float("nan")
for key, label, fmt in figures:
    a = median(key, "mq")
    line = f"| {label:<52} | {fmt.format(a):>10} |"
    line += "".join(f" {fmt.format(median(key, b)):>10} |" for b in others)
    for b in others:
        m = median(key, b)
        ratio = f"{a / m:.2f}" if m else "-"
        line += f" {ratio:>12} |"
    print(line)
# mq bench must not be the bottleneck: one process delivers at least 90 % of what
# two processes with the clients split between them deliver together.
ok = True
for b in brokers:
    one, two = median("fanin_q0", b), median("selfcheck_split", b)
    share = one / two if two else float("nan")
    verdict = "ok" if share >= 0.9 else "FAILED: mq bench under-drives this broker"
    ok = ok and share >= 0.9
    print(f"self-check {b}: one bench process {one:.0f} msg/s, two processes {two:.0f} msg/s, one/two = {share:.2f} ({verdict})")
sys.exit(0 if ok else 3)
PY
