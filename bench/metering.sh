#!/usr/bin/env bash
# Metering ingestion on `qmarket up` (release, default SQLite store): the
# sustained rate of single PlanQK-shaped reports at 16 concurrent clients with
# p50/p99 latency, and the rate of 100-report batches; every report carries a
# distinct eventId (so the exactly-once path is measured). After each run the
# bill and the event listing are checked against what was sent: nothing lost,
# nothing doubled.
#
# Figures are reported, not asserted. Usage:
#   bench/metering.sh                 # 10 s per measurement
#   DURATION=30s bench/metering.sh
# Environment: DURATION (wrk -d), CONNECTIONS (default 16), QMARKET (a prebuilt
# qmarket binary), SKIP_BUILD=1 (use what is built), PLATFORM_ADDR.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
PLATFORM_ADDR=${PLATFORM_ADDR:-127.0.0.1:18090}

if [ -z "${SKIP_BUILD:-}" ]; then
    scripts/build-wasm.sh >&2
    cargo build --release -p qmarket >&2
fi
QMARKET=${QMARKET:-$TARGET_DIR/release/qmarket}

# shellcheck source=bench/lib.sh
. bench/lib.sh
start_platform

# The tutorial's set-up: a service with a pay-per-use plan, published
# internally, the provider's own application subscribed. One gateway call
# yields a correlation id (the upstream need not answer: the correlation is
# stored before the call leaves the gateway).
provider=$(account bench)
service=$(post /api/services "$provider" '{"name":"Bench","type":"EXTERNAL","quantumBackend":"SIMULATOR","url":"http://127.0.0.1:9"}' | jq -r .id)
plan_json=$(post "/api/services/$service/pricing-plans" "$provider" '{"name":"Pay per use","type":"COMMERCIAL","products":[{"name":"API","unitPrice":"0.00001","unit":"call"}]}')
plan=$(jq -r .id <<<"$plan_json")
product=$(jq -r '.products[0].id' <<<"$plan_json")
curl -sf -X POST "$base/api/services/$service/publish-internal" -H "authorization: Bearer $provider" >/dev/null
app=$(post /api/applications "$provider" '{"name":"Bench"}')
app_id=$(jq -r .id <<<"$app")
subscription=$(post "/api/applications/$app_id/subscriptions" "$provider" "{\"serviceId\":\"$service\",\"pricingPlanId\":\"$plan\"}" | jq -r .id)
token=$(oauth_token "$app")
correlation=$(curl -s -D - -o /dev/null -X POST "$base/gateway/$service/run" -H "authorization: Bearer $token" \
    | awk -F': ' 'tolower($1) == "x-correlation-id" {print $2}' | tr -d '\r')
[ -n "$correlation" ] || { echo "no correlation id from the gateway" >&2; cat "$work/platform.log" >&2; exit 1; }

# Each wrk thread numbers its reports; the run id keeps eventIds distinct
# across runs. `done` prints how many requests were generated.
lua() { # file path events_per_request
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Auth-Token"] = "$provider"
local threads = {}
local next_id = 0
function setup(thread)
    next_id = next_id + 1
    thread:set("tid", next_id)
    table.insert(threads, thread)
end
function init(args)
    n = 0
    sent = 0
end
local function report()
    n = n + 1
    return string.format('{"correlationId":"$correlation","productId":"$product","count":1,"eventId":"$(basename "$1")-%d-%d"}', tid, n)
end
function request()
    sent = sent + 1
    local per = $3
    if per == 1 then
        return wrk.format(nil, "$2", nil, report())
    end
    local events = {}
    for i = 1, per do events[i] = report() end
    return wrk.format(nil, "$2", nil, '{"events":[' .. table.concat(events, ",") .. ']}')
end
function done(summary, latency, requests)
    local total = 0
    for _, t in ipairs(threads) do total = total + t:get("sent") end
    io.write(string.format("GENERATED %d\n", total))
end
LUA
}

counted() { # the bill's quantity of the one product
    get "/api/subscriptions/$subscription/usage" "$provider" | jq -r '.lines[0].quantity'
}

listed() { # events in the listing (walks every page)
    local cursor="" total=0 page
    while :; do
        page=$(get "/api/services/$service/metering-events?limit=500${cursor:+&cursor=$cursor}" "$provider")
        total=$(( total + $(jq '.items | length' <<<"$page") ))
        cursor=$(jq -r '.nextCursor // empty' <<<"$page")
        [ -n "$cursor" ] || break
    done
    echo "$total"
}

run() { # name path events_per_request
    lua "$work/$1.lua" "$2" "$3"
    local before out
    before=$(counted)
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -s "$work/$1.lua" "$base$2")
    if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers:" >&2; echo "$out" >&2; fi
    local p50 p99 rps completed generated after
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    rps=$(awk '$1 == "Requests/sec:" {print $2}' <<<"$out")
    completed=$(awk '$2 == "requests" && $3 == "in" {print $1}' <<<"$out")
    generated=$(awk '$1 == "GENERATED" {print $2}' <<<"$out")
    sleep 1
    after=$(counted)
    local new=$(( after - before ))
    printf '%-8s %8s events/s  (%s req/s)  p50 %s us  p99 %s us\n' "$1" \
        "$(awk -v r="$rps" -v k="$3" 'BEGIN {printf "%.0f", r * k}')" "$rps" "$(to_us "$p50")" "$(to_us "$p99")"
    # Every answered report counted once; reports still in flight when wrk
    # stopped may have been counted too, but never more than were generated.
    local low=$(( completed * $3 )) high=$(( generated * $3 ))
    if [ "$new" -ge "$low" ] && [ "$new" -le "$high" ]; then
        printf '         counted %d new events (answered %d, generated %d): no loss, no double count\n' "$new" "$low" "$high"
    else
        printf '         MISMATCH: counted %d new events, answered %d, generated %d\n' "$new" "$low" "$high"
        status=1
    fi
}

status=0
echo "metering on $PLATFORM_ADDR, $CONNECTIONS connections, $DURATION per run, SQLite store"
run single /api/metering 1
run batch /api/metering/batch 100
# When wrk stops it closes its connections, and the host cancels the
# handlers still running: like a crash, that can leave the report that was in
# flight on each connection listed but not yet counted (see the crash window
# in qmarket-metering's documentation). A client that retries with the same
# eventId completes it; wrk does not retry.
total=$(counted)
events=$(listed)
cut=$(( 2 * CONNECTIONS ))
if [ "$total" = "$events" ]; then
    echo "listing holds $events events = bill quantity $total"
elif [ "$events" -gt "$total" ] && [ $(( events - total )) -le "$cut" ]; then
    echo "listing holds $events events, bill quantity $total: $(( events - total )) reports cut off mid-way when wrk disconnected (at most $cut possible)"
else
    echo "MISMATCH: listing holds $events events, bill quantity $total"
    status=1
fi
exit $status
