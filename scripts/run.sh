#!/usr/bin/env bash
# Builds and starts the platform on http://127.0.0.1:3000.
#
#   scripts/run.sh                 the embedded Spin-compatible host (default)
#   scripts/run.sh --spin          `spin up` instead, where Spin is installed
#   scripts/run.sh [-- ARGS...]    extra arguments for `qmarket up`
#                                  (e.g. -- --runtime-config-file redis.toml)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--spin" ]; then
    shift
    command -v spin >/dev/null 2>&1 || { echo "run: spin is not installed" >&2; exit 1; }
    scripts/build-wasm.sh
    exec spin up --listen 127.0.0.1:3000 "$@"
fi
[ "${1:-}" = "--" ] && shift

scripts/build-wasm.sh
echo "run: building the host (first build takes a few minutes)" >&2
cargo build --release --locked -p qmarket
exec target/release/qmarket up --listen 127.0.0.1:3000 "$@"
