#!/usr/bin/env bash
# Loopback HTTP load test, every scenario in one run so that the ratios compare like with like:
#
#   bare          GET /bare, the trivial handler alone (same Authorization header as below)
#   layer         GET /protected behind CognitoAuthLayer, one valid token repeated (cache hits)
#   layer+claims  GET /claims: the layer and a CognitoClaims<Access> handler argument
#   unique        GET /protected, every request a token the server has not seen (no cache hit)
#   uncached      GET /uncached: one repeated token behind a layer with the token cache off, so
#                 every request is verified in full
#   jwt-authorizer, repeated / unique: the same route behind jwt-authorizer 0.15 (crates.io),
#                 configured for the same JWKS URL and issuer
#
# The load generator is wrk (Debian's package; installed if missing). Servers are release builds
# on 127.0.0.1, stopped on exit. The scenarios run in ROUNDS rounds, one after the other within
# each round, so that other work on the machine weighs on all of them alike; the table gives each
# scenario's median requests/s and the median of its per-round ratio to the bare route. Writes
# the table to stdout and to target/bench-http.md.
#
# On a machine with two cores or more, the servers run on core SERVER_CPU (0) and wrk on core
# WRK_CPU (1), pinned with taskset, so that the load generator never takes the server's core.
#
# Settings (environment): ROUNDS (3), DURATION seconds per scenario and round (5),
# UNIQUE_DURATION for the unique scenarios (3), CONNECTIONS (32), WORKERS server threads (1),
# WRK_THREADS (1), TOKENS distinct tokens minted for the unique scenarios (default: enough for
# every unique round at 25,000 requests/s).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
UNIQUE_DURATION=${UNIQUE_DURATION:-3}
CONNECTIONS=${CONNECTIONS:-32}
WORKERS=${WORKERS:-1}
WRK_THREADS=${WRK_THREADS:-1}
TOKENS=${TOKENS:-$((ROUNDS * UNIQUE_DURATION * 25000))}
WORK=target/bench-http
REPORT=target/bench-http.md
TARGET_DIR=${CARGO_TARGET_DIR:-target}
PEER_TARGET=target/peer-jwt-authorizer
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    on_wrk_cpu=(taskset -c "$WRK_CPU")
else
    on_wrk_cpu=()
fi
# Moves every thread of process $1 onto the server core (after minting, which uses all cores).
pin_server() {
    if [ ${#on_wrk_cpu[@]} -gt 0 ]; then
        taskset -a -p -c "$SERVER_CPU" "$1" >/dev/null
    fi
}

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

echo "building the servers (release)" >&2
cargo build --release --quiet --example bench_server
CARGO_TARGET_DIR=$PEER_TARGET cargo build --release --quiet \
    --manifest-path bench/peer-jwt-authorizer/Cargo.toml

rm -rf "$WORK"
mkdir -p "$WORK/data"

pids=()
stop_servers() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_servers EXIT

# Waits until LOG says `listening on ADDR` and prints ADDR; gives up after SECONDS.
wait_listening() {
    local log=$1 seconds=$2 pid=$3
    for _ in $(seq $((seconds * 10))); do
        if grep -q '^listening on ' "$log"; then
            sed -n 's/^listening on //p' "$log" | head -1
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "server exited early; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "server not listening after ${seconds}s" >&2
    return 1
}

echo "starting bench_server, minting $TOKENS tokens" >&2
minting_started=$(date +%s)
"$TARGET_DIR/release/examples/bench_server" "$WORK/data" 127.0.0.1:0 "$WORKERS" "$TOKENS" \
    >"$WORK/server.log" 2>&1 &
pids+=($!)
addr=$(wait_listening "$WORK/server.log" 1800 "${pids[-1]}")
echo "minted in $(($(date +%s) - minting_started)) s; bench_server on $addr" >&2
pin_server "${pids[-1]}"

"$PEER_TARGET/release/peer-jwt-authorizer" \
    "$(cat "$WORK/data/jwks_url")" "$(cat "$WORK/data/issuer")" 127.0.0.1:0 "$WORKERS" \
    >"$WORK/peer.log" 2>&1 &
pids+=($!)
peer_addr=$(wait_listening "$WORK/peer.log" 30 "${pids[-1]}")
pin_server "${pids[-1]}"
echo "jwt-authorizer on $peer_addr" >&2

token=$(cat "$WORK/data/token")
auth="Authorization: Bearer $token"

# Every scenario must answer 200 before it is timed: a 401 is fast and would flatter a figure.
for url in "http://$addr/bare" "http://$addr/protected" "http://$addr/claims" "http://$addr/uncached" \
    "http://$peer_addr/protected"; do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$url")
    if [ "$status" != 200 ]; then
        echo "$url answered $status to a valid token" >&2
        exit 1
    fi
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# Per scenario: requests/s, p50 latency and ratio to the round's bare figure, one word per round.
declare -A rps p50 vs_bare errors reuse

# run NAME ROUND SECONDS URL [wrk options...] [-- script arguments...]
run() {
    local name=$1 round=$2 seconds=$3 url=$4
    shift 4
    local options=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        options+=("$1")
        shift
    done
    local out="$WORK/$name.$round.txt"
    echo "  round $round: $name, ${seconds}s" >&2
    "${on_wrk_cpu[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${seconds}s" --latency "${options[@]}" "$url" \
        "$@" >"$out"
    local r
    r=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    if [ "$name" = bare ]; then bare_rps=$r; fi
    rps[$name]+="$r "
    # In microseconds: wrk prints 950.00us, 1.02ms, 1.10s.
    p50[$name]+="$(awk '$1 == "50%" { v = $2; f = 1
        if (v ~ /ms$/) f = 1000; else if (v ~ /[0-9]s$/) f = 1000000
        sub(/[a-z]+$/, "", v); printf "%.0f", v * f }' "$out") "
    vs_bare[$name]+="$(ratio "$r" "$bare_rps") "
    errors[$name]+=$(awk '/Non-2xx or 3xx responses:/ {print $5 " non-2xx "}
        /Socket errors:/ {print "socket errors "}' "$out" | paste -sd' ')
    reuse[$name]+=$(awk '/^token reuse:/ && $3 != 0 {print $3 " "}' "$out")
}

unique=(-s scripts/bench-http-unique.lua)

echo "load (wrk -t$WRK_THREADS -c$CONNECTIONS), $ROUNDS rounds" >&2
for round in $(seq 0 $((ROUNDS - 1))); do
    unique_args=(-- "$WORK/data/tokens" "$WRK_THREADS" "$round" "$ROUNDS")
    run bare "$round" "$DURATION" "http://$addr/bare" -H "$auth"
    run layer "$round" "$DURATION" "http://$addr/protected" -H "$auth"
    run layer_claims "$round" "$DURATION" "http://$addr/claims" -H "$auth"
    run unique "$round" "$UNIQUE_DURATION" "http://$addr/protected" "${unique[@]}" "${unique_args[@]}"
    run uncached "$round" "$DURATION" "http://$addr/uncached" -H "$auth"
    run peer "$round" "$DURATION" "http://$peer_addr/protected" -H "$auth"
    run peer_unique "$round" "$UNIQUE_DURATION" "http://$peer_addr/protected" "${unique[@]}" \
        "${unique_args[@]}"
done

# The median of the numbers in $1.
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }

{
    echo "# HTTP load on 127.0.0.1 ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "- machine: $(nproc) cores, $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)," \
        "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ ${#on_wrk_cpu[@]} -gt 0 ]; then
        echo "- pinned: servers on core $SERVER_CPU, wrk on core $WRK_CPU (taskset)"
    fi
    echo "- wrk -t$WRK_THREADS -c$CONNECTIONS; $ROUNDS rounds of ${DURATION}s per scenario" \
        "(${UNIQUE_DURATION}s for unique tokens, $TOKENS minted); servers: $WORKERS worker thread(s)"
    echo "- token: $(printf %s "$token" | wc -c) bytes; every request carries it (or a token like it)"
    echo "- requests/s and p50: median of the rounds; vs bare: median of the per-round ratios"
    echo
    echo "| scenario | requests/s | vs bare | per round | p50 latency (µs) | errors | token reuse |"
    echo "|---|---:|---:|---|---:|---|---|"
    row() {
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(median "${rps[$2]}")" \
            "$(median "${vs_bare[$2]}")" "${vs_bare[$2]% }" "$(median "${p50[$2]}")" \
            "${errors[$2]:-none}" "${reuse[$2]:-none}"
    }
    row "bare route" bare
    row "layer, one repeated token" layer
    row "layer + CognitoClaims<Access>, one repeated token" layer_claims
    row "layer, unique tokens" unique
    row "layer, cache off (every request verified in full), one repeated token" uncached
    row "jwt-authorizer, one repeated token" peer
    row "jwt-authorizer, unique tokens" peer_unique
    echo
    echo "- layer, repeated token / bare: $(median "${vs_bare[layer]}") (target >= 0.9)"
    echo "- layer, repeated token / jwt-authorizer, repeated token:" \
        "$(ratio "$(median "${rps[layer]}")" "$(median "${rps[peer]}")")"
    echo "- layer, cache off / jwt-authorizer, repeated token (both verify every request):" \
        "$(ratio "$(median "${rps[uncached]}")" "$(median "${rps[peer]}")") (target >= 1.35)"
    echo "- layer, unique tokens / jwt-authorizer, unique tokens:" \
        "$(ratio "$(median "${rps[unique]}")" "$(median "${rps[peer_unique]}")")"
} | tee "$REPORT"

for name in "${!errors[@]}"; do
    if [ -n "${errors[$name]}" ]; then
        echo "scenario $name had errors (${errors[$name]}): see $WORK/$name.*.txt" >&2
        exit 1
    fi
done
