# Shared by the benchmark scripts: start `qmarket up` on a fresh state
# directory, call the platform API with curl, read wrk's figures.
# Source it after setting QMARKET and PLATFORM_ADDR.

state_dir=$(mktemp -d)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$state_dir" "$work"
}
trap cleanup EXIT
base="http://$PLATFORM_ADDR"

# Starts the platform in the background and waits until it answers.
start_platform() {
    "$QMARKET" up --listen "$PLATFORM_ADDR" --state-dir "$state_dir" 2>"$work/platform.log" &
    pids+=($!)
    for _ in $(seq 1 100); do
        curl -sf "$base/api/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    cat "$work/platform.log" >&2
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

to_us() { # wrk duration (12.3us, 1.2ms, 1.0s) to microseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
        else if (v ~ /m$/) print n * 60000000; else if (v ~ /s$/) print n * 1000000; else print n }'
}
