# Shared by the benchmark scripts: build what they run, start `qmarket up` on
# a fresh state directory (on the store STORE names), call the platform API
# with curl, read wrk's figures, break requests down from the host's log, and
# add rows to bench/run.sh's summary and targets.
# Source it after `cd` to the repository root; set PLATFORM_ADDR first.
# Environment: SKIP_BUILD=1 (use what is built), QMARKET (a prebuilt qmarket
# binary), MANIFEST (default spin.toml), CARGO_TARGET_DIR, PLATFORM_LOG
# (default: a file in the work directory), BENCH_SUMMARY and BENCH_TARGETS
# (files that collect summary and target rows), STORE:
#   sqlite  the host's SQLite store: WAL, durable commits (synchronous=FULL),
#           group commit (the default)
#   spin    SQLite set up as Spin's default store: rollback journal,
#           synchronous=FULL, every write committed alone (what `spin up`
#           users get)
#   redis   Redis (the scale-out deployment): a redis-server started here on
#           a free loopback port, appendonly with fsync every second

TARGET_DIR=${CARGO_TARGET_DIR:-target}
QMARKET=${QMARKET:-$TARGET_DIR/release/qmarket}
MANIFEST=${MANIFEST:-spin.toml}
STORE=${STORE:-sqlite}
# A deployment's key, as production sets one.
export SPIN_VARIABLE_ENCRYPTION_KEY=${SPIN_VARIABLE_ENCRYPTION_KEY:-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}

# wrk, jq and curl where missing.
command -v wrk >/dev/null && command -v jq >/dev/null && command -v curl >/dev/null &&
    command -v redis-server >/dev/null || scripts/install-deps.sh >&2

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

# A redis-server on a free loopback port for STORE=redis; prints the
# runtime configuration file that points the platform at it.
start_redis() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$work/redis"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$work/redis" --save '' \
        --appendonly yes --appendfsync everysec >"$work/redis.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    printf '[key_value_store.default]\ntype = "redis"\nurl = "redis://127.0.0.1:%s"\n' "$port" >"$work/redis.toml"
    echo "$work/redis.toml"
}

# Starts the platform (on STORE) in the background and waits until it answers.
start_platform() {
    local config=()
    case "$STORE" in
        sqlite) ;;
        spin) export QMARKET_SQLITE_JOURNAL=delete ;;
        redis) config=(--runtime-config-file "$(start_redis)") ;;
        *) echo "unknown STORE=$STORE (sqlite, spin or redis)" >&2; return 1 ;;
    esac
    "$QMARKET" up --listen "$PLATFORM_ADDR" -f "$MANIFEST" --state-dir "$state_dir" \
        "${config[@]}" 2>>"$PLATFORM_LOG" &
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

# Prints a target's figure beside it, with figure ÷ target and whether it is
# met, and adds it to the targets bench/run.sh prints at the end.
target_row() { # what figure comparison(>= or <=) target unit
    local line
    line=$(awk -v what="$1" -v f="$2" -v cmp="$3" -v t="$4" -v unit="$5" 'BEGIN {
        met = (cmp == ">=") ? (f + 0 >= t + 0) : (f + 0 <= t + 0)
        ratio = (t + 0 == 0) ? "-" : sprintf("%.2f", f / t)
        printf "%s\t%s %s\t%s %s %s\t%s\t%s", what, f, unit, cmp, t, unit, ratio, met ? "met" : "NOT met" }')
    printf 'target: %s\n' "$(tr '\t' ' ' <<<"$line")"
    [ -n "${BENCH_TARGETS:-}" ] || return 0
    printf '%s\t%s\n' "$STORE" "$line" >>"$BENCH_TARGETS"
}

# How many lines the platform log holds: mark it before a measurement, and
# break down the requests logged after the mark.
log_mark() {
    wc -l <"$PLATFORM_LOG"
}

# The mean cost of the requests `METHOD PATH…` logged after line MARK, from
# the fields the host writes on each request line (see qmarket-host's
# request_stats): "n mean_done_ms mean_inst_ms mean_store_ms mean_out_ms
# mean_guest_ms mean_reads mean_writes mean_outbound kind=mean…".
breakdown() { # mark method path_prefix [end_mark]
    sed -n "$(( $1 + 1 )),${4:-\$}p" "$PLATFORM_LOG" | awk -v m="$2" -v p="$3" '
        $1 == m && index($2, p) == 1 && $6 ~ /^done=/ {
            n++
            for (i = 6; i <= NF; i++) {
                eq = index($i, "=")
                if (eq == 0) continue
                k = substr($i, 1, eq - 1); v = substr($i, eq + 1); sub(/ms$/, "", v)
                if (!(k in sum)) keys[++nk] = k
                sum[k] += v
            }
        }
        END {
            if (n == 0) { print "0"; exit }
            printf "%d %.3f %.3f %.3f %.3f %.3f %.2f %.2f %.2f", n, sum["done"] / n, sum["inst"] / n,
                sum["store"] / n, sum["out"] / n, sum["guest"] / n, sum["reads"] / n, sum["writes"] / n,
                sum["outbound"] / n
            for (i = 1; i <= nk; i++) {
                k = keys[i]
                if (k ~ /^(done|inst|store|out|guest|reads|writes|outbound)$/) continue
                printf " %s=%.2f", k, sum[k] / n
            }
            printf "\n"
        }'
}

# Prints a breakdown line for humans and adds it to the summary.
report_breakdown() { # label mark method path_prefix [end_mark]
    local b
    b=$(breakdown "$2" "$3" "$4" "${5:-}")
    read -r n done inst store out guest reads writes outbound kinds <<<"$b"
    if [ "${n:-0}" = 0 ]; then
        echo "  $1: no requests logged"
        return 0
    fi
    printf '  %s, mean of %s requests: %s ms in the host = %s instantiation + %s store + %s outbound + %s guest; store: %s reads, %s writes (%s); outbound requests %s\n' \
        "$1" "$n" "$done" "$inst" "$store" "$out" "$guest" "$reads" "$writes" "${kinds:-none}" "$outbound"
    summary_row breakdown "$1 ($STORE)" "" "" "$writes writes, $reads reads" \
        "host ${done} ms = inst $inst + store $store + out $out + guest $guest; ${kinds:-}"
}

# The mean number of store writes of the requests `METHOD PATH…` after MARK.
writes_per_request() { # mark method path_prefix [end_mark]
    breakdown "$1" "$2" "$3" "${4:-}" | awk '{print ($1 == 0) ? "nan" : $8}'
}
