#!/usr/bin/env bash
# Throughput and latency of the embedded host on a no-op request:
# `qmarket up` (release) serving the repository's spin.toml, measured with
# wrk on GET /api/health at 16 connections and at 1 connection.
#
# Figures are reported, not asserted. Usage:
#   bench/host_noop.sh                 # 10 s per measurement
#   DURATION=30s bench/host_noop.sh    (bench/host_noop.sh 30 also works)
# Environment: DURATION (wrk -d), PLATFORM_ADDR, and those of bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-${1:-10}s}
PLATFORM_ADDR=${PLATFORM_ADDR:-127.0.0.1:18070}
# One log line per request would measure the log: discard it.
PLATFORM_LOG=/dev/null

# shellcheck source=bench/lib.sh
. bench/lib.sh
build_release
start_platform

url="$base/api/health"
# Warm-up: instance pool, caches, CPU frequency.
wrk -t2 -c16 -d2s "$url" >/dev/null

echo "GET /api/health, $DURATION per measurement"
printf '%-6s %12s %12s %12s\n' conns "p50 (us)" "p99 (us)" "req/s"
for conns in 16 1; do
    threads=$(( conns < 2 ? 1 : 2 ))
    read -r p50 p99 rps <<<"$(wrk_figures "$(wrk -t"$threads" -c"$conns" -d"$DURATION" --latency "$url")")"
    printf '%-6s %12s %12s %12s\n' "$conns" "$p50" "$p99" "$rps"
    summary_row host "no-op GET /api/health, $conns conn" "$p50" "$p99" "$rps req/s"
done
