#!/usr/bin/env bash
# Metering ingestion on `qmarket up` (release): the sustained rate of
# PlanQK-shaped reports at 16 concurrent clients, with p50/p99 latency, in
# three shapes:
#   single     one report per request, each with its own eventId (the
#              exactly-once path of PlanQK's clients);
#   batch      100 reports per request under one Idempotency-Key per batch
#              (the whole batch counts once);
#   batch-ids  100 reports per request, each with its own eventId.
# After each run the bill and the event listing are checked against what was
# sent: nothing lost, nothing doubled. Each shape's requests are broken down
# from the host's log (store writes by kind), and the targets printed:
# ≥ 4,000 events/s single, ≥ 10,000 events/s in batches, ≤ 5 store writes
# per report, ≤ 10 per batch of 100.
#
# Figures are reported, not asserted. Usage:
#   bench/metering.sh                 # 10 s per measurement
#   DURATION=30s bench/metering.sh
#   STORE=spin bench/metering.sh      # see bench/lib.sh for the stores
# Environment: DURATION (wrk -d), CONNECTIONS (default 16), SHAPES (default
# "single batch batch-ids"), PLATFORM_ADDR, and those of bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
SHAPES=${SHAPES:-single batch batch-ids}
PLATFORM_ADDR=${PLATFORM_ADDR:-127.0.0.1:18090}

# shellcheck source=bench/lib.sh
. bench/lib.sh
build_release
start_platform

metered_service

# Each wrk thread numbers its requests; the run id keeps eventIds and
# batch keys distinct across runs. `done` prints how many requests were
# generated.
lua() { # file path shape
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Auth-Token"] = "$provider"
local threads = {}
local next_id = 0
local run = "$(basename "$1" .lua)-$RANDOM$RANDOM"
function setup(thread)
    next_id = next_id + 1
    thread:set("tid", next_id)
    table.insert(threads, thread)
end
function init(args)
    n = 0
    sent = 0
end
local function report(with_id)
    n = n + 1
    local id = ""
    if with_id then id = string.format(',"eventId":"%s-%d-%d"', run, tid, n) end
    return string.format('{"correlationId":"$correlation","productId":"$product","count":1%s}', id)
end
function request()
    sent = sent + 1
    local shape = "$3"
    if shape == "single" then
        return wrk.format(nil, "$2", nil, report(true))
    end
    local events = {}
    for i = 1, 100 do events[i] = report(shape == "batch-ids") end
    local headers = nil
    if shape == "batch" then
        -- A table given to wrk.format replaces wrk.headers: all of them.
        headers = {}
        for name, value in pairs(wrk.headers) do headers[name] = value end
        headers["Idempotency-Key"] = string.format("%s-%d-%d", run, tid, sent)
    end
    return wrk.format(nil, "$2", headers, '{"events":[' .. table.concat(events, ",") .. ']}')
end
function done(summary, latency, requests)
    local total = 0
    for _, t in ipairs(threads) do total = total + t:get("sent") end
    io.write(string.format("GENERATED %d\n", total))
end
LUA
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

declare -A rate
run() { # shape
    local shape=$1 path=/api/metering per=1
    if [ "$shape" != single ]; then path=/api/metering/batch per=100; fi
    lua "$work/$shape.lua" "$path" "$shape"
    local before out mark
    before=$(billed_quantity)
    mark=$(log_mark)
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -s "$work/$shape.lua" "$base$path")
    local p50 p99 rps completed generated after
    read -r p50 p99 rps <<<"$(wrk_figures "$out")"
    completed=$(awk '$2 == "requests" && $3 == "in" {print $1}' <<<"$out")
    generated=$(awk '$1 == "GENERATED" {print $2}' <<<"$out")
    sleep 1
    after=$(billed_quantity)
    local new=$(( after - before ))
    local events_per_s
    events_per_s=$(awk -v r="$rps" -v k="$per" 'BEGIN {printf "%.0f", r * k}')
    rate[$shape]=$events_per_s
    printf '%-9s %8s events/s  (%s req/s)  p50 %s us  p99 %s us\n' "$shape" "$events_per_s" "$rps" "$p50" "$p99"
    summary_row metering "$shape ($per per request), $CONNECTIONS conn ($STORE)" "$p50" "$p99" "$events_per_s events/s" "$rps req/s"
    report_breakdown "metering $shape" "$mark" POST "$path"
    writes[$shape]=$(writes_per_request "$mark" POST "$path")
    # Every answered report counted once; reports still in flight when wrk
    # stopped may have been counted too, but never more than were generated.
    local low=$(( completed * per )) high=$(( generated * per ))
    if [ "$new" -ge "$low" ] && [ "$new" -le "$high" ]; then
        printf '          counted %d new events (answered %d, generated %d): no loss, no double count\n' "$new" "$low" "$high"
    else
        printf '          MISMATCH: counted %d new events, answered %d, generated %d\n' "$new" "$low" "$high"
        status=1
    fi
}

status=0
declare -A writes
echo "metering on $PLATFORM_ADDR, $CONNECTIONS connections, $DURATION per run, $STORE store"
for shape in $SHAPES; do
    run "$shape"
done
# When wrk stops it closes its connections, and the host cancels the
# handlers still running: like a crash, that can leave the report that was in
# flight on each connection listed but not yet counted (see the crash window
# in qmarket-metering's documentation). A client that retries with the same
# eventId completes it; wrk does not retry.
total=$(billed_quantity)
events=$(listed)
cut=$(( 100 * CONNECTIONS ))
if [ "$total" = "$events" ]; then
    echo "listing holds $events events = bill quantity $total"
elif [ "$events" -gt "$total" ] && [ $(( events - total )) -le "$cut" ]; then
    echo "listing holds $events events, bill quantity $total: $(( events - total )) reports cut off mid-way when wrk disconnected (at most $cut possible)"
else
    echo "MISMATCH: listing holds $events events, bill quantity $total"
    status=1
fi
[ -z "${rate[single]:-}" ] || target_row "metering, single reports, $CONNECTIONS conn" "${rate[single]}" ">=" 4000 events/s
[ -z "${rate[batch]:-}" ] || target_row "metering, 100-report batches, $CONNECTIONS conn" "${rate[batch]}" ">=" 10000 events/s
[ -z "${writes[single]:-}" ] || target_row "store writes per report" "${writes[single]}" "<=" 5 ""
[ -z "${writes[batch]:-}" ] || target_row "store writes per batch of 100" "${writes[batch]}" "<=" 10 ""
[ -z "${writes[batch-ids]:-}" ] || printf 'store writes per batch of 100 with an eventId each: %s (one claim per eventId)\n' "${writes[batch-ids]}"
exit $status
