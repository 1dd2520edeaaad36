#!/usr/bin/env bash
# Every benchmark in one run: builds once, then runs bench/host_noop.sh,
# bench/gateway.sh, bench/metering.sh, bench/listing.sh and bench/managed.sh one after the
# other on the host's SQLite store (each starts its own `qmarket up` on a
# loopback port and drives it with wrk from a separate process), then
# bench/gateway.sh and bench/metering.sh again on SQLite set up as Spin's
# default store and on Redis, and prints a summary table of their figures
# and every target with its figure beside it at the end. Figures are
# reported, not asserted.
#
# Usage:
#   bench/run.sh            # 10 s per measurement, listing at 1k and 100k events (about 12 minutes)
#   bench/run.sh --quick    # smoke run: 2 s per measurement, listing at 1k and 10k events
# Environment: DURATION overrides the time per measurement; EVENTS_LARGE the
# listing's larger size; SKIP_BUILD=1 uses what is built.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--quick" ]; then
    export DURATION=${DURATION:-2s} EVENTS_LARGE=${EVENTS_LARGE:-10000}
elif [ -n "${1:-}" ]; then
    echo "usage: bench/run.sh [--quick]" >&2
    exit 2
fi
export DURATION=${DURATION:-10s}

command -v wrk >/dev/null && command -v jq >/dev/null && command -v curl >/dev/null &&
    command -v redis-server >/dev/null || scripts/install-deps.sh >&2
if [ -z "${SKIP_BUILD:-}" ]; then
    scripts/build-wasm.sh >&2
    cargo build --release -p qmarket >&2
    cargo build --release -p qmarket-gateway --example bench_upstream >&2
fi
export SKIP_BUILD=1

BENCH_SUMMARY=$(mktemp)
BENCH_TARGETS=$(mktemp)
export BENCH_SUMMARY BENCH_TARGETS
trap 'rm -f "$BENCH_SUMMARY" "$BENCH_TARGETS"' EXIT

started=$(date -u +%FT%TZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
status=0
for bench in host_noop gateway metering listing managed; do
    echo "== bench/$bench.sh"
    bench/"$bench".sh || { echo "bench/$bench.sh failed" >&2; status=1; }
    echo
done
for store in spin redis; do
    for bench in gateway metering; do
        echo "== STORE=$store bench/$bench.sh"
        STORE=$store bench/"$bench".sh || { echo "STORE=$store bench/$bench.sh failed" >&2; status=1; }
        echo
    done
done

echo "== summary ($DURATION per measurement; started $started, load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)"
{
    printf 'benchmark\tmeasurement\tp50 (us)\tp99 (us)\trate\tnote\n'
    cat "$BENCH_SUMMARY"
} | column -t -s $'\t'
echo
echo "== targets (figure ÷ target; every figure measured in this run)"
{
    printf 'store\ttarget\tfigure\twanted\tratio\t\n'
    cat "$BENCH_TARGETS"
} | column -t -s $'\t'
exit $status
