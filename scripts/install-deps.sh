#!/usr/bin/env bash
# Installs the system packages the platform's tests and benchmarks use, when
# they are missing: redis-server (the Redis key-value backend), wrk, jq
# and curl for the benchmarks, bubblewrap (the sandbox of the Python
# runtime's executions), python3-venv (its environments), Node.js and npm
# (the web console's build and browser tests) and Chromium (the browser the
# console's tests drive); with --profiling also valgrind (bench/profile.sh).
# apt may be busy with another install for a while: every apt-get call
# waits for its lock.
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
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
lock_wait=(-o DPkg::Lock::Timeout=600)
$sudo apt-get "${lock_wait[@]}" update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
