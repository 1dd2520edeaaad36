#!/usr/bin/env bash
# Instructions per request on the hot paths, counted by callgrind: the host
# (`qmarket up` built with the `profiling` profile: release code with
# symbols) runs under `valgrind --tool=callgrind`; after a warm-up, its
# counters are zeroed, N requests of one kind are sent one after another,
# and the counters are dumped. Instruction counts are repeatable on a noisy
# machine where times are not.
#
# For each kind of request it prints the instructions per request and the
# functions that spent most of them (self cost, with what they call, one
# line each), grouped as: the guest's code (compiled by wasmtime at run
# time, which callgrind cannot name), wasmtime (instantiation, calls into
# the guest, WASI), SQLite, the HTTP stack (hyper, tokio), and the rest.
#
# Usage: bench/profile.sh            # 200 requests of each kind
#        REQUESTS=50 bench/profile.sh
# Environment: REQUESTS, PLATFORM_ADDR, and those of bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-200}
PLATFORM_ADDR=${PLATFORM_ADDR:-127.0.0.1:18110}
UPSTREAM_ADDR=${UPSTREAM_ADDR:-127.0.0.1:18111}

command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
    scripts/install-deps.sh --profiling >&2

TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -z "${SKIP_BUILD:-}" ]; then
    scripts/build-wasm.sh >&2
    cargo build --profile profiling -p qmarket >&2
    cargo build --release -p qmarket-gateway --example bench_upstream >&2
fi
export SKIP_BUILD=1
# Under valgrind the host keeps a small instance pool (its address-space
# reservations are what valgrind finds hardest) and starts slowly.
export QMARKET_MAX_INSTANCES=16

# shellcheck source=bench/lib.sh
. bench/lib.sh
out_dir="$work/callgrind"
mkdir -p "$out_dir"

"$TARGET_DIR/release/examples/bench_upstream" "$UPSTREAM_ADDR" 2>"$work/upstream.log" &
pids+=($!)
# Compiling the components is what takes longest under valgrind: start the
# host once natively so its compilation cache holds them all.
"$TARGET_DIR/profiling/qmarket" up --listen "$PLATFORM_ADDR" -f "$MANIFEST" \
    --state-dir "$(mktemp -d -p "$work")" 2>>"$PLATFORM_LOG" &
warm=$!
for _ in $(seq 1 300); do
    curl -sf "$base/api/health" >/dev/null 2>&1 && break
    sleep 0.2
done
kill "$warm"
wait "$warm" 2>/dev/null || true
valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
    --callgrind-out-file="$out_dir/callgrind.out" \
    "$TARGET_DIR/profiling/qmarket" up --listen "$PLATFORM_ADDR" -f "$MANIFEST" \
    --state-dir "$state_dir" 2>>"$PLATFORM_LOG" &
host=$!
pids+=($host)
for _ in $(seq 1 3000); do
    curl -sf "$base/api/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -sf "$base/api/health" >/dev/null || { cat "$PLATFORM_LOG" >&2; exit 1; }

metered_service
gateway_service=$(post /api/services "$provider" "{\"name\":\"Up\",\"type\":\"EXTERNAL\",\"quantumBackend\":\"SIMULATOR\",\"url\":\"http://$UPSTREAM_ADDR/run\"}" | jq -r .id)
gateway_plan=$(post "/api/services/$gateway_service/pricing-plans" "$provider" '{"name":"Free","type":"FREE","products":[{"name":"API","unitPrice":"0","unit":"call"}]}' | jq -r .id)
curl -sf -X POST "$base/api/services/$gateway_service/publish-internal" -H "authorization: Bearer $provider" >/dev/null
post "/api/applications/$app_id/subscriptions" "$provider" "{\"serviceId\":\"$gateway_service\",\"pricingPlanId\":\"$gateway_plan\"}" >/dev/null
jq -cn --arg c "$correlation" --arg p "$product" \
    '{events: [range(100) | {correlationId: $c, productId: $p, count: 1}]}' >"$work/batch.json"

# One kind of request: `curl` arguments after the URL path, REQUESTS times.
requests() { # path curl-args...
    local path=$1 n
    shift
    for n in $(seq 1 "$REQUESTS"); do
        curl -s -o /dev/null "$base$path" "$@" -H "x-run: $n" || true
    done
}

profile() { # label path curl-args...
    local label=$1
    shift
    requests "$@" # warm-up: every path compiled and cached
    callgrind_control --zero "$host" >/dev/null
    callgrind_control --instr=on "$host" >/dev/null
    requests "$@"
    callgrind_control --dump="$label" "$host" >/dev/null
    callgrind_control --instr=off "$host" >/dev/null
}

profile noop /api/health
profile gateway "/gateway/$gateway_service/x" -X POST -H "authorization: Bearer $token" -d '{"shots":100}'
profile metering /api/metering -X POST -H "x-auth-token: $provider" -H 'content-type: application/json' \
    -d "{\"correlationId\":\"$correlation\",\"productId\":\"$product\",\"count\":1}"
profile batch /api/metering/batch -X POST -H "x-auth-token: $provider" -H 'content-type: application/json' \
    --data-binary @"$work/batch.json"

kill "$host"
wait "$host" 2>/dev/null || true

echo "instructions per request (callgrind, $REQUESTS requests each, after a warm-up of as many)"
for dump in "$out_dir"/callgrind.out*; do
    label=$(sed -n 's/^desc: Trigger: dump //p' "$dump")
    [ -n "$label" ] || continue
    total=$(sed -n 's/^summary: //p' "$dump")
    echo
    printf '== %s: %s instructions per request\n' "$label" "$(( total / REQUESTS ))"
    # Self cost by function, grouped.
    callgrind_annotate --auto=no --threshold=100 "$dump" 2>/dev/null | awk -v n="$REQUESTS" -v total="$total" '
        /^[ 0-9,]+ \([ 0-9.]+%\)  / {
            ir = $1; gsub(",", "", ir)
            line = $0; sub(/^[ 0-9,]+ \([ 0-9.]+%\)  /, "", line)
            # The totals line, and a function listed again further down.
            if (line ~ /PROGRAM TOTALS/ || (line in seen)) next
            seen[line] = 1
            group = "other"
            if (line ~ /^\?\?\?/) group = "guest code (JIT)"
            else if (line ~ /sqlite3|libsqlite/) group = "SQLite"
            else if (line ~ /wasmtime|cranelift|wasi/) group = "wasmtime"
            else if (line ~ /hyper|tokio|http|h2::|mio::/) group = "HTTP stack"
            else if (line ~ /libc|memcpy|memset|malloc|free|__/) group = "libc"
            sum[group] += ir
            if (shown < 12) { printf "  %6.2f%%  %-12s %s\n", 100 * ir / total, group, substr(line, 1, 110); shown++ }
        }
        END {
            printf "  by group:"
            for (g in sum) printf "  %s %.1f%%", g, 100 * sum[g] / total
            printf "\n"
        }'
done
