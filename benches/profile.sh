#!/usr/bin/env bash
# Profile `mq broker` under one of mqload's loads (benches/loadgen/mqload.c) and draw a
# flame graph of where its CPU time goes: docs/perf/<scenario>.svg.
#
#   benches/profile.sh                     # all scenarios: fanin fanout latency
#   benches/profile.sh latency             # one
#   DUR=5s OUT=/tmp/perf benches/profile.sh fanout
#
# Linux only. Needs perf (Debian's linux-perf), gcc, python3, and inferno's
# `inferno-collapse-perf` and `inferno-flamegraph` (`cargo install inferno`). Stacks are
# unwound with DWARF (`perf record --call-graph dwarf`), so the release build needs no
# frame pointers; functions inlined into their callers show as the caller.
#
#   fanin    4 publishers -> 1 subscriber, QoS 0, 64 B, as fast as the sockets take
#   fanout   1 publisher -> 8 subscribers, QoS 0, 64 B
#   latency  1 publisher at 1000 msg/s -> 1 subscriber: at this load most of the time
#            is the kernel's (wake-ups, context switches), which the graph shows
# Stops everything it started, by PID, on exit.
set -euo pipefail

DUR=${DUR:-3s}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MQ=${MQ:-${CARGO_TARGET_DIR:-$ROOT/target}/release/mq}
OUT=${OUT:-$ROOT/docs/perf}
for tool in perf gcc python3 inferno-collapse-perf inferno-flamegraph; do
    command -v "$tool" >/dev/null || { echo "$tool is needed (see the top of $0)" >&2; exit 1; }
done
if [[ ! -x $MQ ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
fi
SCENARIOS=("$@")
[[ ${#SCENARIOS[@]} -gt 0 ]] || SCENARIOS=(fanin fanout latency)

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
gcc -O2 -pthread -o "$WORK/mqload" "$ROOT/benches/loadgen/mqload.c"
mkdir -p "$OUT"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

for scenario in "${SCENARIOS[@]}"; do
    case $scenario in
        fanin) load=(fanin -q 0) ;;
        fanout) load=(fanout) ;;
        latency) load=(latency -r 1000) ;;
        *) echo "unknown scenario '$scenario' (fanin, fanout or latency)" >&2; exit 2 ;;
    esac
    port=$(free_port)
    "$MQ" broker -p "$port" >"$WORK/broker.log" 2>&1 &
    broker=$!
    PIDS+=("$broker")
    for _ in $(seq 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
        sleep 0.1
    done
    # Recording starts with the load and lasts as long; the load generator's own
    # process is not recorded.
    secs=${DUR%s}
    perf record -q -F 999 --call-graph dwarf,16384 -p "$broker" -o "$WORK/perf.data" \
        -- sleep "$secs" >/dev/null 2>&1 &
    recorder=$!
    PIDS+=("$recorder")
    "$WORK/mqload" "${load[@]}" -p "$port" -d "$DUR" >"$WORK/$scenario.json" 2>/dev/null
    wait "$recorder"
    kill "$broker"
    wait "$broker" 2>/dev/null || true
    perf script -i "$WORK/perf.data" 2>/dev/null | inferno-collapse-perf >"$WORK/folded"
    inferno-flamegraph --title "mq broker: mqload ${load[*]} -d $DUR ($(date -u +%Y-%m-%d))" \
        --width 1600 <"$WORK/folded" >"$OUT/$scenario.svg"
    figures=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["figures"])' "$WORK/$scenario.json")
    echo "$scenario: $OUT/$scenario.svg  ($figures)"
done
