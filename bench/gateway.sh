#!/usr/bin/env bash
# The gateway hop against the platform's own floor, in one run on one
# `qmarket up` (release): a no-op request to the host (GET /api/health), a
# small POST straight to a fast native upstream (`bench_upstream`), and the
# same POST through `/gateway/{svc}/…` to that upstream, each at 1 and 16
# connections. Prints each figure, the gateway's cost per request broken
# down from the host's log (instantiation, store, outbound, guest; store
# operations by kind), the connections the upstream accepted, and the
# targets: gateway req/s at 16 connections ÷ no-op req/s ≥ 0.6, added p50 at
# 1 connection ≤ 250 µs, store writes per call ≤ 1, pooled connections.
#
# Figures are reported, not asserted. Usage:
#   bench/gateway.sh                 # 10 s per measurement
#   DURATION=30s bench/gateway.sh
#   STORE=redis bench/gateway.sh     # see bench/lib.sh for the stores
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
# The same service under a plan with a rate limit and a quota, high enough
# never to refuse: what counting them costs.
limited_plan=$(post "/api/services/$service/pricing-plans" "$provider" '{"name":"Limited","type":"FREE","products":[{"name":"API","unitPrice":"0","unit":"call"}],"limits":{"rateLimit":{"requests":1000000000,"per":"SECOND"},"quota":{"requests":1000000000,"per":"DAY"}}}' | jq -r .id)
limited_app=$(post /api/applications "$consumer" '{"name":"Bench limited"}')
post "/api/applications/$(jq -r .id <<<"$limited_app")/subscriptions" "$consumer" "{\"serviceId\":\"$service\",\"pricingPlanId\":\"$limited_plan\"}" >/dev/null
limited_token=$(oauth_token "$limited_app")

noop_url="$base/api/health"
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
sed "s/Bearer $token/Bearer $limited_token/" "$work/post.lua" >"$work/limited.lua"

measure() { # url connections [script] -> "p50_us p99_us rps"
    local threads=$(( $2 < 2 ? 1 : 2 ))
    wrk_figures "$(wrk -t"$threads" -c"$2" -d"$DURATION" --latency ${3:+-s "$3"} "$1")"
}

# Warm-up: instance pool, caches, CPU frequency.
wrk -t2 -c16 -d2s "$noop_url" >/dev/null

echo "gateway on $PLATFORM_ADDR ($STORE store), $DURATION per measurement"
printf '%-6s %-8s %12s %12s %12s\n' conns what "p50 (us)" "p99 (us)" "req/s"
declare -A p50 rps limited_rps
accepted_before=$(curl -sf "http://$UPSTREAM_ADDR/connections")
for conns in 1 16; do
    read -r n50 n99 nrps <<<"$(measure "$noop_url" "$conns")"
    read -r d50 d99 drps <<<"$(measure "$direct_url" "$conns" "$work/post.lua")"
    mark=$(log_mark)
    read -r g50 g99 grps <<<"$(measure "$gateway_url" "$conns" "$work/post.lua")"
    limited_mark=$(log_mark)
    read -r l50 l99 lrps <<<"$(measure "$gateway_url" "$conns" "$work/limited.lua")"
    printf '%-6s %-8s %12s %12s %12s\n' "$conns" no-op "$n50" "$n99" "$nrps"
    printf '%-6s %-8s %12s %12s %12s\n' "$conns" direct "$d50" "$d99" "$drps"
    printf '%-6s %-8s %12s %12s %12s\n' "$conns" gateway "$g50" "$g99" "$grps"
    printf '%-6s %-8s %12s %12s %12s\n' "$conns" limited "$l50" "$l99" "$lrps"
    report_breakdown "gateway POST, $conns conn" "$mark" POST "/gateway/" "$limited_mark"
    report_breakdown "gateway POST, rate limit + quota, $conns conn" "$limited_mark" POST "/gateway/"
    limited_rps[$conns]=$lrps
    summary_row gateway "through the gateway, rate limit + quota, $conns conn ($STORE)" "$l50" "$l99" "$lrps req/s" \
        "$(awk -v g="$grps" -v l="$lrps" 'BEGIN {printf "limited/unlimited req/s %.3f", l / g}')"
    p50[$conns]="$n50 $d50 $g50"
    rps[$conns]="$nrps $drps $grps"
    summary_row gateway "no-op GET /api/health, $conns conn ($STORE)" "$n50" "$n99" "$nrps req/s"
    summary_row gateway "direct upstream POST, $conns conn ($STORE)" "$d50" "$d99" "$drps req/s"
    summary_row gateway "through the gateway, $conns conn ($STORE)" "$g50" "$g99" "$grps req/s" \
        "$(awk -v d50="$d50" -v g50="$g50" -v nrps="$nrps" -v grps="$grps" \
            'BEGIN {printf "added p50 %+.0f us, gateway/no-op req/s %.3f", g50 - d50, grps / nrps}')"
    if [ "$conns" = 16 ]; then
        gateway_writes=$(writes_per_request "$mark" POST "/gateway/" "$limited_mark")
    fi
done
accepted_after=$(curl -sf "http://$UPSTREAM_ADDR/connections")
calls=$(awk -v r="${rps[1]##* }" -v s="${rps[16]##* }" -v d="${DURATION%s}" 'BEGIN {printf "%.0f", (r + s) * d}')
echo "the upstream accepted $(( accepted_after - accepted_before )) connections for about $calls gateway calls"

read -r _ d50 g50 <<<"${p50[1]}"
read -r n16 _ g16 <<<"${rps[16]}"
target_row "gateway req/s ÷ no-op req/s, 16 conn" \
    "$(awk -v g="$g16" -v n="$n16" 'BEGIN {printf "%.3f", g / n}')" ">=" 0.6 ""
target_row "gateway added p50, 1 conn" "$(awk -v g="$g50" -v d="$d50" 'BEGIN {printf "%.0f", g - d}')" "<=" 250 us
target_row "store writes per gateway call" "$gateway_writes" "<=" 1 ""
target_row "gateway req/s with rate limit + quota ÷ without, 16 conn" \
    "$(awk -v l="${limited_rps[16]}" -v g="$g16" 'BEGIN {printf "%.3f", l / g}')" ">=" 0.85 ""
target_row "upstream connections per gateway call" \
    "$(awk -v a="$(( accepted_after - accepted_before ))" -v c="$calls" 'BEGIN {printf "%.4f", a / c}')" "<=" 0.01 ""
