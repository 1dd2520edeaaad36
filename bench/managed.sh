#!/usr/bin/env bash
# Managed executions on `qmarket up` (release, default SQLite store) with one
# idle `qmarket worker` (its default poll interval): the time from an
# execution's POST to its program starting (RUNNING), as the platform records
# them (startedAt − createdAt), and the client-side time from the POST to the
# finished result, over RUNS executions started one after another, each
# after the previous one ended, so the worker is idle each time: of the WASM
# test guest, and of a trivial PlanQK template program (PYTHON_TEMPLATE, no
# dependencies). Prints the median, p90 and maximum.
#
# Figures are reported, not asserted. Usage:
#   bench/managed.sh                 # 50 executions
#   RUNS=200 bench/managed.sh
#   RUNTIMES=PYTHON_TEMPLATE bench/managed.sh
# Environment: RUNS, RUNTIMES, PLATFORM_ADDR, and those of bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-50}
PLATFORM_ADDR=${PLATFORM_ADDR:-127.0.0.1:18094}
export SPIN_VARIABLE_WORKER_TOKEN="qmw-bench-$RANDOM$RANDOM$RANDOM"

# shellcheck source=bench/lib.sh
. bench/lib.sh
build_release
start_platform
QMARKET_WORKER_TOKEN=$SPIN_VARIABLE_WORKER_TOKEN "$QMARKET" worker --platform "$base" \
    --name bench --work-dir "$work/worker" 2>"$work/worker.log" &
pids+=($!)

# A trivial PlanQK template project (no dependencies) and the WASM test guest.
python3 - "$TARGET_DIR/wasm32-wasip2/release/wasm-command.wasm" "$work" <<'PY'
import sys, zipfile
wasm, work = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(f"{work}/WASM.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write(wasm, "program.wasm")
with zipfile.ZipFile(f"{work}/PYTHON_TEMPLATE.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("src/__init__.py", "")
    z.writestr("src/program.py", "def run(data=None, params=None):\n    return {'sum': sum(data['numbers'])}\n")
    z.writestr("requirements.txt", "")
PY

provider=$(account bench)
application=$(post /api/applications "$provider" '{"name":"bench"}')
app_id=$(jq -r .id <<<"$application")
token=$(oauth_token "$application")

ms() { date +%s%3N; }
to_ms() { date -d "$1" +%s%3N; }
stats() { # file -> "median p90 max"
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        p = v[int(NR * 0.9 + 0.999)]
        printf "%s %s %s", m, p, v[NR] }'
}

# Creates a service of runtime $1 from $work/$1.zip, waits for its build,
# subscribes the application, and times RUNS executions.
bench_runtime() {
    local runtime=$1 service status plan posted id execution
    service=$(post /api/services "$provider" \
        "{\"name\":\"Bench $runtime\",\"type\":\"MANAGED\",\"runtime\":\"$runtime\",\"quantumBackend\":\"SIMULATOR\",\"description\":\"sums\"}" | jq -r .id)
    curl -sf -X PUT "$base/api/services/$service/source" -H "authorization: Bearer $provider" \
        -H 'content-type: application/zip' --data-binary "@$work/$runtime.zip" >/dev/null
    for _ in $(seq 1 3000); do
        status=$(get "/api/services/$service/build" "$provider" | jq -r .status)
        [ "$status" != WORKING ] && break
        sleep 0.1
    done
    [ "$status" = SUCCESS ] || { echo "managed: $runtime build ended $status" >&2; cat "$work/worker.log" >&2; exit 1; }
    plan=$(post "/api/services/$service/pricing-plans" "$provider" \
        '{"name":"Per run","type":"COMMERCIAL","products":[{"name":"Run","unitPrice":"0.01","unit":"call"}]}' | jq -r .id)
    post "/api/services/$service/publish-internal" "$provider" '{}' >/dev/null
    post "/api/applications/$app_id/subscriptions" "$provider" \
        "{\"serviceId\":\"$service\",\"pricingPlanId\":\"$plan\"}" >/dev/null
    : >"$work/start.txt"
    : >"$work/total.txt"
    for _ in $(seq 1 "$RUNS"); do
        posted=$(ms)
        id=$(post "/gateway/$service/" "$token" '{"data":{"numbers":[1,2,3]},"params":{}}' | jq -r .id)
        while :; do
            execution=$(get "/gateway/$service/$id" "$token")
            case $(jq -r .status <<<"$execution") in
                SUCCEEDED) break ;;
                FAILED | CANCELLED) echo "managed: $execution" >&2; exit 1 ;;
            esac
            sleep 0.005
        done
        get "/gateway/$service/$id/result" "$token" >/dev/null
        echo $(($(ms) - posted)) >>"$work/total.txt"
        echo $(($(to_ms "$(jq -r .startedAt <<<"$execution")") - $(to_ms "$(jq -r .createdAt <<<"$execution")"))) \
            >>"$work/start.txt"
    done
    read -r start_median start_p90 start_max <<<"$(stats "$work/start.txt")"
    read -r total_median total_p90 total_max <<<"$(stats "$work/total.txt")"
    echo "managed $runtime executions ($RUNS, one idle worker polling every 100 ms):"
    echo "  POST -> RUNNING (startedAt - createdAt): median $start_median ms, p90 $start_p90 ms, max $start_max ms"
    echo "  POST -> result read by the client:       median $total_median ms, p90 $total_p90 ms, max $total_max ms"
    summary_row managed "$runtime execution POST -> RUNNING, one idle worker" \
        "$(awk "BEGIN { print $start_median * 1000 }")" "$((start_p90 * 1000))" "-" "p90 in the p99 column; $RUNS runs"
    summary_row managed "$runtime execution POST -> SUCCEEDED result, one idle worker" \
        "$(awk "BEGIN { print $total_median * 1000 }")" "$((total_p90 * 1000))" "-" "p90 in the p99 column; $RUNS runs"
}

for runtime in ${RUNTIMES:-WASM PYTHON_TEMPLATE}; do
    bench_runtime "$runtime"
done
