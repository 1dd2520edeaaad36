# Shared by the benchmark scripts: build what they run, start `qmarket up` on
# a fresh state directory, call the platform API with curl, read wrk's
# figures and add them to bench/run.sh's summary.
# Source it after `cd` to the repository root; set PLATFORM_ADDR first.
# Environment: SKIP_BUILD=1 (use what is built), QMARKET (a prebuilt qmarket
# binary), CARGO_TARGET_DIR, PLATFORM_LOG (default: a file in the work
# directory), BENCH_SUMMARY (a file that collects summary rows).

TARGET_DIR=${CARGO_TARGET_DIR:-target}
QMARKET=${QMARKET:-$TARGET_DIR/release/qmarket}

# wrk, jq and curl where missing.
command -v wrk >/dev/null && command -v jq >/dev/null && command -v curl >/dev/null ||
    scripts/install-deps.sh >&2

state_dir=$(mktemp -d)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$state_dir" "$work"
}
trap cleanup EXIT
base="http://$PLATFORM_ADDR"
PLATFORM_LOG=${PLATFORM_LOG:-$work/platform.log}

# Builds the components and `qmarket` in release, plus the given examples of
# qmarket-gateway; nothing when SKIP_BUILD is set.
build_release() { # [example...]
    [ -z "${SKIP_BUILD:-}" ] || return 0
    scripts/build-wasm.sh >&2
    cargo build --release -p qmarket >&2
    local example
    for example in "$@"; do
        cargo build --release -p qmarket-gateway --example "$example" >&2
    done
}

# Starts the platform in the background and waits until it answers.
start_platform() {
    "$QMARKET" up --listen "$PLATFORM_ADDR" --state-dir "$state_dir" 2>"$PLATFORM_LOG" &
    pids+=($!)
    for _ in $(seq 1 100); do
        curl -sf "$base/api/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    cat "$PLATFORM_LOG" >&2
    return 1
}

post() { # path token json
    curl -sf -X POST "$base$1" -H "authorization: Bearer $2" -H 'content-type: application/json' -d "$3"
}

get() { # path token
    curl -sf "$base$1" -H "authorization: Bearer $2"
}

account() { # name -> the new account's access token
    curl -sf -X POST "$base/api/accounts" -H 'content-type: application/json' \
        -d "{\"name\":\"$1\",\"email\":\"$1-$RANDOM$RANDOM@example.org\"}" | jq -r .accessToken.value
}

oauth_token() { # application JSON (with consumerKey and consumerSecret) -> access token
    local basic
    basic=$(printf '%s:%s' "$(jq -r .consumerKey <<<"$1")" "$(jq -r .consumerSecret <<<"$1")" | base64 -w0)
    curl -sf -X POST "$base/oauth/token" -H "authorization: Basic $basic" \
        -H 'content-type: application/x-www-form-urlencoded' -d grant_type=client_credentials | jq -r .access_token
}

# The tutorial's set-up: a service with a pay-per-use plan, published
# internally, the provider's own application subscribed. One gateway call
# yields a correlation id (the upstream need not answer: the correlation is
# stored before the call leaves the gateway). Sets provider (its access
# token), service, plan, product, app_id, subscription, token (the
# application's) and correlation.
metered_service() {
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
    [ -n "$correlation" ] || { echo "no correlation id from the gateway" >&2; cat "$PLATFORM_LOG" >&2; exit 1; }
}

billed_quantity() { # the usage bill's quantity of the one product this month
    get "/api/subscriptions/$subscription/usage" "$provider" | jq -r '.lines[0].quantity'
}

to_us() { # wrk duration (12.3us, 1.2ms, 1.0s) to microseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
        else if (v ~ /m$/) print n * 60000000; else if (v ~ /s$/) print n * 1000000; else print n }'
}

# wrk's --latency output (argument) -> "p50_us p99_us requests_per_s"; reports
# non-2xx answers on stderr (a benchmark of error answers measures nothing).
wrk_figures() { # wrk output
    if grep -q "Non-2xx" <<<"$1"; then echo "non-2xx answers:" >&2; echo "$1" >&2; fi
    local p50 p99 rps
    p50=$(awk '$1 == "50%" {print $2}' <<<"$1")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$1")
    rps=$(awk '$1 == "Requests/sec:" {print $2}' <<<"$1")
    echo "$(to_us "$p50") $(to_us "$p99") $rps"
}

# Adds a row to the summary bench/run.sh prints at the end (when it runs the
# script): benchmark, measurement, p50 (us), p99 (us), rate, and a note.
summary_row() { # benchmark measurement p50_us p99_us rate note
    [ -n "${BENCH_SUMMARY:-}" ] || return 0
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" >>"$BENCH_SUMMARY"
}
