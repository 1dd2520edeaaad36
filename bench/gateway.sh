#!/usr/bin/env bash
# Added latency of the gateway hop: a small POST straight to a fast native
# upstream vs. the same POST through `qmarket up` (release) and the gateway,
# at 1 and 16 concurrent connections, measured with wrk in one run.
#
# Figures are reported, not asserted. Usage:
#   bench/gateway.sh                 # 10 s per measurement
#   DURATION=30s bench/gateway.sh
# Environment: DURATION (wrk -d), UPSTREAM_BIN (a prebuilt bench_upstream),
# UPSTREAM_ADDR, PLATFORM_ADDR, and those of bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
UPSTREAM_ADDR=${UPSTREAM_ADDR:-127.0.0.1:18081}
PLATFORM_ADDR=${PLATFORM_ADDR:-127.0.0.1:18080}
BODY='{"shots":100,"circuit":"h q[0]; cx q[0],q[1]; measure q -> c;"}'

# shellcheck source=bench/lib.sh
. bench/lib.sh
build_release bench_upstream
UPSTREAM_BIN=${UPSTREAM_BIN:-$TARGET_DIR/release/examples/bench_upstream}

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
[ "$status" = 200 ] || { echo "the gateway answered $status" >&2; cat "$PLATFORM_LOG" >&2; exit 1; }

cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
EOF

measure() { # url connections -> "p50_us p99_us rps"
    local threads=$(( $2 < 2 ? 1 : 2 ))
    wrk_figures "$(wrk -t"$threads" -c"$2" -d"$DURATION" --latency -s "$work/post.lua" "$1")"
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
    summary_row gateway "direct upstream POST, $conns conn" "$d50" "$d99" "$drps req/s"
    summary_row gateway "through the gateway, $conns conn" "$g50" "$g99" "$grps req/s" \
        "$(awk -v d50="$d50" -v g50="$g50" -v drps="$drps" -v grps="$grps" \
            'BEGIN {printf "added p50 %+.0f us, req/s ratio %.3f", g50 - d50, grps / drps}')"
done
