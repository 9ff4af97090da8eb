#!/usr/bin/env bash
# A/B two `mq` builds as brokers: both run at once on free loopback ports and are
# loaded in turn (A B A B ...) by the same `mq bench`, so a change can be checked for
# a slowdown on the plain TCP path. Prints one line per round and broker:
#   NAME  fan-in-QoS0-msg/s  fan-in-QoS1-msg/s  fan-out-deliveries/s
#
#   benches/mq-vs-mq.sh OLD_MQ NEW_MQ            # ROUNDS=4 by default, 3 s per run
#   ROUNDS=6 DUR=5s GEN=/path/to/mq benches/mq-vs-mq.sh OLD_MQ NEW_MQ
#
# Stops the brokers it started (by PID) on exit. Needs python3 for the JSON.
set -euo pipefail
OLD=$1
NEW=$2
ROUNDS=${ROUNDS:-4}
DUR=${DUR:-3s}
GEN=${GEN:-$NEW}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

start() { # binary log -> port
    "$1" broker -p 0 >"$2" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do
        if grep -q "ipv4 listen socket on port" "$2"; then
            grep -o "ipv4 listen socket on port [0-9]*" "$2" | grep -o "[0-9]*$"
            return
        fi
        sleep 0.1
    done
    echo "broker $1 did not start" >&2
    exit 1
}
rate() { python3 -c "import json,sys; print(int(json.load(sys.stdin)['rates']['received_per_s']))"; }
old_port=$(start "$OLD" "$WORK/old.log")
new_port=$(start "$NEW" "$WORK/new.log")
for _ in $(seq "$ROUNDS"); do
    for which in old new; do
        port=$old_port
        [[ $which == new ]] && port=$new_port
        common=(-h 127.0.0.1 -p "$port" --json --quiet -s 64 --duration "$DUR")
        q0=$("$GEN" bench pubsub "${common[@]}" -c 4 --subscribers 1 -q 0 | rate)
        q1=$("$GEN" bench pubsub "${common[@]}" -c 4 --subscribers 1 -q 1 --inflight 16 | rate)
        fo=$("$GEN" bench pubsub "${common[@]}" -c 1 --subscribers 8 -q 0 | rate)
        echo "$which $q0 $q1 $fo"
    done
done
