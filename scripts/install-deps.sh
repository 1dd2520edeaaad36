#!/usr/bin/env bash
# Installs the system packages the platform's tests and benchmarks use, when
# they are missing: redis-server (the Redis key-value backend), wrk, jq
# and curl for the benchmarks, bubblewrap (the sandbox of the Python
# runtime's executions) and python3-venv (its environments); with
# --profiling also valgrind (bench/profile.sh).
set -euo pipefail

missing=()
if [ "${1:-}" = "--profiling" ]; then
    command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
fi
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
/usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
