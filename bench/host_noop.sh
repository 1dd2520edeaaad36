#!/usr/bin/env bash
# Throughput and latency of the embedded host on a no-op request:
# `qmarket up` (release) serving the repository's spin.toml, measured with
# wrk on GET /api/health at 16 connections and at 1 connection.
#
# Usage: bench/host_noop.sh [seconds]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${1:-10}"
PORT="${PORT:-3917}"

if ! command -v wrk >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get install -y -qq wrk >/dev/null
fi

# The components spin.toml names must exist.
missing=0
while read -r source; do
    [ -f "$source" ] || missing=1
done < <(sed -n 's/^source *= *"\(.*\)"/\1/p' spin.toml)
if [ "$missing" -eq 1 ]; then
    scripts/build-wasm.sh >/dev/null
fi

cargo build --release -p qmarket --bin qmarket >/dev/null 2>&1 || cargo build --release -p qmarket --bin qmarket

STATE_DIR="$(mktemp -d)"
# One log line per request would measure the terminal: discard it.
target/release/qmarket up --listen "127.0.0.1:$PORT" -f spin.toml --state-dir "$STATE_DIR" 2>/dev/null &
HOST_PID=$!
cleanup() {
    kill -TERM "$HOST_PID" 2>/dev/null || true
    wait "$HOST_PID" 2>/dev/null || true
    rm -rf "$STATE_DIR"
}
trap cleanup EXIT

URL="http://127.0.0.1:$PORT/api/health"
for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$URL" 2>/dev/null && break
    sleep 0.1
done
curl -fsS "$URL" >/dev/null

# Warm-up: instance pool, caches, CPU frequency.
wrk -t2 -c16 -d2s "$URL" >/dev/null

summary() {
    # Requests/sec and the latency percentiles of wrk's --latency output.
    awk '/Requests\/sec/ {print "  requests/s: " $2}
         /^ +50%/ {print "  p50: " $2} /^ +75%/ {print "  p75: " $2}
         /^ +90%/ {print "  p90: " $2} /^ +99%/ {print "  p99: " $2}'
}

echo "GET /api/health, 16 connections, ${DURATION}s:"
wrk -t2 -c16 -d"${DURATION}s" --latency "$URL" | summary
echo "GET /api/health, 1 connection, ${DURATION}s:"
wrk -t1 -c1 -d"${DURATION}s" --latency "$URL" | summary
