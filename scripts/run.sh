#!/usr/bin/env bash
# Builds and starts the platform on http://127.0.0.1:3000, with workers that
# build and run its managed services.
#
#   scripts/run.sh                 the embedded Spin-compatible host (default)
#   scripts/run.sh --spin          `spin up` instead, where Spin is installed
#   scripts/run.sh [-- ARGS...]    extra arguments for `qmarket up`
#                                  (e.g. -- --runtime-config-file redis.toml)
#
# QMARKET_WORKERS (default 1) is how many `qmarket worker` processes start
# beside it (0: none). They and the platform share the worker token: the
# SPIN_VARIABLE_WORKER_TOKEN given, or a random one made for this run.
# Ctrl-C stops the platform and its workers.
set -euo pipefail
cd "$(dirname "$0")/.."

use_spin=false
if [ "${1:-}" = "--spin" ]; then
    shift
    command -v spin >/dev/null 2>&1 || { echo "run: spin is not installed" >&2; exit 1; }
    use_spin=true
fi
[ "${1:-}" = "--" ] && shift

scripts/build-wasm.sh
echo "run: building the host and the worker (first build takes a few minutes)" >&2
cargo build --release --locked -p qmarket

if [ -z "${SPIN_VARIABLE_WORKER_TOKEN:-}" ]; then
    SPIN_VARIABLE_WORKER_TOKEN="qmw-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
fi
export SPIN_VARIABLE_WORKER_TOKEN

pids=()
stop() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT INT TERM

if $use_spin; then
    spin up --listen 127.0.0.1:3000 "$@" &
else
    target/release/qmarket up --listen 127.0.0.1:3000 "$@" &
fi
pids+=("$!")

for n in $(seq 1 "${QMARKET_WORKERS:-1}"); do
    QMARKET_WORKER_TOKEN="$SPIN_VARIABLE_WORKER_TOKEN" target/release/qmarket worker \
        --platform http://127.0.0.1:3000 --name "worker-$n" --work-dir ".qmarket-worker/$n" &
    pids+=("$!")
done
# Ends when the platform or any worker ends (the trap stops the rest).
wait -n
