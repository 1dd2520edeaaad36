#!/usr/bin/env bash
# Added latency of the gateway hop: a small POST straight to a fast native
# upstream vs. the same POST through `qmarket up` (release) and the gateway,
# at 1 and 16 concurrent connections, measured with wrk in one run.
#
# Figures are reported, not asserted. Usage:
#   bench/gateway.sh                 # 10 s per measurement
#   DURATION=30s bench/gateway.sh
# Environment: DURATION (wrk -d), QMARKET (a prebuilt qmarket binary),
# UPSTREAM_BIN (a prebuilt bench_upstream), SKIP_BUILD=1 (use what is built).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
UPSTREAM_ADDR=${UPSTREAM_ADDR:-127.0.0.1:18081}
PLATFORM_ADDR=${PLATFORM_ADDR:-127.0.0.1:18080}
BODY='{"shots":100,"circuit":"h q[0]; cx q[0],q[1]; measure q -> c;"}'

if [ -z "${SKIP_BUILD:-}" ]; then
    scripts/build-wasm.sh >&2
    cargo build --release -p qmarket >&2
    cargo build --release -p qmarket-gateway --example bench_upstream >&2
fi
QMARKET=${QMARKET:-$TARGET_DIR/release/qmarket}
UPSTREAM_BIN=${UPSTREAM_BIN:-$TARGET_DIR/release/examples/bench_upstream}

# shellcheck source=bench/lib.sh
. bench/lib.sh

"$UPSTREAM_BIN" "$UPSTREAM_ADDR" 2>"$work/upstream.log" &
pids+=($!)
start_platform

provider=$(account provider)
consumer=$(account consumer)
service=$(post /api/services "$provider" "{\"name\":\"Bench\",\"type\":\"EXTERNAL\",\"quantumBackend\":\"SIMULATOR\",\"url\":\"http://$UPSTREAM_ADDR/run\"}" | jq -r .id)
plan=$(post "/api/services/$service/pricing-plans" "$provider" '{"name":"Free","type":"FREE","products":[{"name":"API","unitPrice":"0","unit":"call"}]}' | jq -r .id)
curl -sf -X POST "$base/api/services/$service/publish" -H "authorization: Bearer $provider" >/dev/null
app=$(post /api/applications "$consumer" '{"name":"Bench"}')
app_id=$(jq -r .id <<<"$app")
post "/api/applications/$app_id/subscriptions" "$consumer" "{\"serviceId\":\"$service\",\"pricingPlanId\":\"$plan\"}" >/dev/null
token=$(oauth_token "$app")

gateway_url="$base/gateway/$service/x"
direct_url="http://$UPSTREAM_ADDR/run/x"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$gateway_url" -H "authorization: Bearer $token" -d "$BODY")
[ "$status" = 200 ] || { echo "the gateway answered $status" >&2; cat "$work/platform.log" >&2; exit 1; }

cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
EOF

measure() { # url connections -> "p50_us p99_us rps"
    local threads=$(( $2 < 2 ? 1 : 2 ))
    local out
    out=$(wrk -t"$threads" -c"$2" -d"$DURATION" --latency -s "$work/post.lua" "$1")
    if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $1:" >&2; echo "$out" >&2; fi
    local p50 p99 rps
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    rps=$(awk '$1 == "Requests/sec:" {print $2}' <<<"$out")
    echo "$(to_us "$p50") $(to_us "$p99") $rps"
}

printf '%-6s %-8s %12s %12s %12s\n' conns path "p50 (us)" "p99 (us)" "req/s"
for conns in 1 16; do
    read -r d50 d99 drps <<<"$(measure "$direct_url" "$conns")"
    read -r g50 g99 grps <<<"$(measure "$gateway_url" "$conns")"
    printf '%-6s %-8s %12s %12s %12s\n' "$conns" direct "$d50" "$d99" "$drps"
    printf '%-6s %-8s %12s %12s %12s\n' "$conns" gateway "$g50" "$g99" "$grps"
    awk -v c="$conns" -v d50="$d50" -v g50="$g50" -v d99="$d99" -v g99="$g99" -v drps="$drps" -v grps="$grps" 'BEGIN {
        printf "%-6s added: p50 %+.0f us, p99 %+.0f us; throughput gateway/direct = %.3f\n",
            c, g50 - d50, g99 - d99, grps / drps }'
done
