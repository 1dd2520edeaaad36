#!/usr/bin/env bash
# Listing latency against the size of the store: a service's metering-event
# listing and a subscription's usage bill on `qmarket up` (release, SQLite),
# measured with wrk with 1k events stored, then again, in the same run, after
# metering has brought the store to 100k events. Listings walk the service's
# event index newest first and stop after a page; bills read one counter per
# product and day: neither should slow down as events accumulate, so the
# ratio of the two measurements should stay near 1.
#
# Measured per size: the first page (default limit, 50 events), the first
# page filtered by date (from/to = today: every event passes), a page whose
# filter passes nothing (testMode opposite to the events'), and the usage
# bill of the current month. The page that finds nothing walks the index until
# its scan bound (MAX_SCANNED_PER_PAGE, 2,000 entries) and answers with a
# cursor: 1,000 entries with 1k events, 2,000 with 100k or any larger store,
# so its ratio is about 2 by design, bounded whatever the store holds.
#
# Events are recorded through the API: 100-report batches on
# POST /api/metering/batch, several at once; the bill is checked against
# what was sent before each measurement.
#
# Figures are reported, not asserted. Usage:
#   bench/listing.sh                 # 10 s per measurement
#   DURATION=30s bench/listing.sh
# Environment: DURATION (wrk -d), CONNECTIONS (default 4), EVENTS_SMALL
# (default 1000), EVENTS_LARGE (default 100000; both multiples of 100),
# PLATFORM_ADDR, and those of bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-4}
EVENTS_SMALL=${EVENTS_SMALL:-1000}
EVENTS_LARGE=${EVENTS_LARGE:-100000}
PLATFORM_ADDR=${PLATFORM_ADDR:-127.0.0.1:18100}
# One log line per request: 100k events are 1,000 batches plus every wrk request.
PLATFORM_LOG=/dev/null

# shellcheck source=bench/lib.sh
. bench/lib.sh
build_release
start_platform
metered_service

# One batch of 100 reports without eventIds (each recorded as a new event).
jq -cn --arg c "$correlation" --arg p "$product" \
    '{events: [range(100) | {correlationId: $c, productId: $p, count: 1}]}' >"$work/batch.json"

stored=0
populate() { # total events wanted
    local batches=$(( ($1 - stored) / 100 )) started=$SECONDS
    [ "$batches" -gt 0 ] || return 0
    for _ in $(seq "$batches"); do
        printf 'url = "%s"\noutput = "/dev/null"\n' "$base/api/metering/batch"
    done >"$work/batches.curl"
    local answers
    answers=$(curl -s --no-progress-meter --parallel --parallel-max 4 -X POST -H "x-auth-token: $provider" \
        -H 'content-type: application/json' --data-binary @"$work/batch.json" \
        -w '%{http_code}\n' -K "$work/batches.curl" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
    stored=$1
    local billed
    billed=$(billed_quantity)
    echo "stored $billed events in the bill ($batches batches in $(( SECONDS - started )) s; answers:$answers)"
    [ "$billed" = "$stored" ] || { echo "MISMATCH: expected $stored events" >&2; exit 1; }
    # Let the system write the new pages out now rather than during the
    # measurements.
    sync
}

today=$(date -u +%F)
# The provider's own subscription records test usage: the other mode matches nothing.
other_mode=$(get "/api/subscriptions/$subscription/usage" "$provider" | jq -r '.testMode | not')
events="$base/api/services/$service/metering-events"
declare -A urls=(
    [first]="$events"
    [by_date]="$events?from=$today&to=$today"
    [none_pass]="$events?testMode=$other_mode"
    [usage]="$base/api/subscriptions/$subscription/usage"
)
names=(first by_date none_pass usage)
declare -A labels=(
    [first]="events, first page"
    [by_date]="events, first page, from/to = today"
    [none_pass]="events, filter passing none (scan bound)"
    [usage]="usage bill, current month"
)

cat >"$work/get.lua" <<LUA
wrk.headers["X-Auth-Token"] = "$provider"
LUA

declare -A figures
measure() { # size
    local name threads=$(( CONNECTIONS < 2 ? 1 : 2 ))
    for name in "${names[@]}"; do
        curl -sf -o /dev/null -H "x-auth-token: $provider" "${urls[$name]}" ||
            { echo "GET ${urls[$name]} failed" >&2; exit 1; }
        figures[$name@$1]=$(wrk_figures "$(wrk -t"$threads" -c"$CONNECTIONS" -d"$DURATION" --latency \
            -s "$work/get.lua" "${urls[$name]}")")
    done
}

echo "listing on $PLATFORM_ADDR, $CONNECTIONS connections, $DURATION per measurement, SQLite store"
populate "$EVENTS_SMALL"
measure small
populate "$EVENTS_LARGE"
measure large

small=$(( EVENTS_SMALL / 1000 ))k large=$(( EVENTS_LARGE / 1000 ))k
printf '%-36s %8s %10s %10s %10s %10s\n' measurement events "p50 (us)" "p99 (us)" "req/s" "ratio"
for name in "${names[@]}"; do
    read -r s50 s99 srps <<<"${figures[$name@small]}"
    read -r l50 l99 lrps <<<"${figures[$name@large]}"
    ratio=$(awk -v a="$l50" -v b="$s50" 'BEGIN {printf "%.2f", a / b}')
    printf '%-36s %8s %10s %10s %10s\n' "${labels[$name]}" "$small" "$s50" "$s99" "$srps"
    printf '%-36s %8s %10s %10s %10s %10s\n' "" "$large" "$l50" "$l99" "$lrps" "$ratio"
    summary_row listing "${labels[$name]}, $small events" "$s50" "$s99" "$srps req/s"
    summary_row listing "${labels[$name]}, $large events" "$l50" "$l99" "$lrps req/s" \
        "p50 ratio $large/$small $ratio"
done
echo "ratio: p50 with $large events / p50 with $small events"
