#!/usr/bin/env bash
# Check mqload's counts against mosquitto_sub on a running broker.
#
#   benches/loadgen/check.sh PORT [HOST]
#
# Builds mqload (gcc -O2 -pthread) into a temporary directory and runs short exact-count
# cases; mosquitto_sub subscribes beside mqload's own subscriber where it can count (its
# -C N exits after N messages). Each case prints "ok" or "FAILED"; the exit status is the
# number of failures. A broker that drops messages (mosquitto beyond its queue limit)
# fails the full-load case for mqload's count *and* mosquitto_sub's alike; what matters
# is that the two agree. Needs mosquitto_sub and python3. Takes about 15 s.
set -euo pipefail
PORT=${1:?usage: check.sh PORT [HOST]}
HOST=${2:-127.0.0.1}
ROOT=$(cd "$(dirname "$0")" && pwd)
command -v mosquitto_sub >/dev/null && command -v stdbuf >/dev/null || { echo "mosquitto_sub and stdbuf are needed" >&2; exit 100; }
WORK=$(mktemp -d)
SUB_PID=""
cleanup() {
    if [[ -n $SUB_PID ]]; then kill "$SUB_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
gcc -O2 -pthread -Wall -o "$WORK/mqload" "$ROOT/mqload.c"
FAILS=0
fig() { python3 -c "import json,sys; print(eval(sys.argv[2], {}, {'f': json.load(open(sys.argv[1]))['figures']}))" "$WORK/out.json" "$1"; }
verdict() { # description condition-result
    if [[ $2 == True ]]; then echo "ok      $1"; else echo "FAILED  $1"; FAILS=$((FAILS + 1)); fi
}
sub_start() { # topic qos count: mosquitto_sub beside mqload, at most 10 s; returns once
    # its SUBACK has arrived (-d prints it; -F '%t' prints each message as its topic)
    SUB_TOPIC=$1
    stdbuf -oL mosquitto_sub -d -h "$HOST" -p "$PORT" -t "$1" -q "$2" -C "$3" -W 10 -F '%t' >"$WORK/sub.txt" 2>/dev/null &
    SUB_PID=$!
    for _ in $(seq 1 100); do
        grep -q SUBACK "$WORK/sub.txt" && return 0
        sleep 0.05
    done
    echo "FAILED  mosquitto_sub did not subscribe within 5 s" >&2
    exit 100
}
sub_wait() { # -> N: what mosquitto_sub received. Not in a $(...) subshell: only the shell
    # that started mosquitto_sub can wait for it
    wait "$SUB_PID" || true
    SUB_PID=""
    N=$(grep -cxF "$SUB_TOPIC" "$WORK/sub.txt" || true)
}
T=mqload-check/$$
mqload() { # args: run mqload, JSON into $WORK/out.json; a failure ends the check
    if ! "$WORK/mqload" "$@" >"$WORK/out.json" 2>"$WORK/err"; then
        cat "$WORK/err" >&2
        echo "FAILED  mqload $*" >&2
        exit 100
    fi
}

# 1000 QoS 1 messages from one publisher must all arrive, at both subscribers.
sub_start "$T/a" 1 1000
mqload fanin -h "$HOST" -p "$PORT" -t "$T/a" -P 1 -q 1 -n 1000 -d 10s
sub_wait
verdict "1 x 1000 QoS 1: mqload received $(fig 'f["received"]') of $(fig 'f["sent"]'), acked $(fig 'f["acked"]'), mosquitto_sub $N" \
    "$(fig "f['sent'] == 1000 and f['acked'] == 1000 and f['received'] == 1000 and $N == 1000")"

# 5000 QoS 0 messages from one publisher.
sub_start "$T/b" 0 5000
mqload fanin -h "$HOST" -p "$PORT" -t "$T/b" -P 1 -q 0 -n 5000 -d 10s
sub_wait
verdict "1 x 5000 QoS 0: mqload received $(fig 'f["received"]') of $(fig 'f["sent"]'), mosquitto_sub $N" \
    "$(fig "f['sent'] == 5000 and f['received'] == 5000 and $N == 5000")"

# Fan-out: 2000 messages to 8 subscribers.
mqload fanout -h "$HOST" -p "$PORT" -t "$T/c" -K 8 -n 2000 -d 10s
verdict "1 -> 8 x 2000 QoS 0: $(fig 'f["received"]') deliveries" "$(fig "f['received'] == 16000")"

# Paced: 500 messages at 1000/s at QoS 1, every one a latency sample, in order.
sub_start "$T/d" 1 500
mqload latency -h "$HOST" -p "$PORT" -t "$T/d" -q 1 -r 1000 -d 500ms
sub_wait
verdict "latency 500 at 1000/s QoS 1: sent $(fig 'f["sent"]'), samples $(fig 'f["latency_us"]["samples"]'), reordered $(fig 'f["reordered"]'), mosquitto_sub $N" \
    "$(fig "f['sent'] == 500 and f['received'] == 500 and f['latency_us']['samples'] == 500 and f['reordered'] == 0 and $N == 500")"

# Full load, 4 QoS 1 publishers for 1 s: mosquitto_sub must count what mqload counts.
sub_start "$T/e" 1 100000000
mqload fanin -h "$HOST" -p "$PORT" -t "$T/e" -P 4 -q 1 -d 1s
sleep 1
kill "$SUB_PID" 2>/dev/null || true
sub_wait
verdict "4 x QoS 1 for 1 s: sent $(fig 'f["sent"]'), mqload received $(fig 'f["received"]'), mosquitto_sub $N (within 2 % of each other)" \
    "$(fig "abs(f['received'] - $N) <= 0.02 * max(1, f['sent'])")"

# Idle connections: all established, none closed during the hold.
mqload conn -h "$HOST" -p "$PORT" -c 200 -r 0 --hold 1s
verdict "200 idle connections: $(fig 'f["still_open_after_hold"]') open after the hold" \
    "$(fig "f['established'] == 200 and f['still_open_after_hold'] == 200")"

exit "$FAILS"
