# shellcheck shell=bash
# Shared by the benchmarks: tools, the app as a process, and wrk runs.

# start_app PORT DATABASE_URL [VAR=value ...]: the release binary in the
# background, stopped when the script exits; waits until it is ready. Its pid
# is in APP_PID.
APP_PID=
start_app() {
    local port=$1 url=$2
    shift 2
    env -i PATH="$PATH" DATABASE_URL="$url" ROCKET_PORT="$port" ROCKET_PROFILE=release \
        ROCKET_LOG_LEVEL=off "$@" target/release/visitors serve >/dev/null 2>&1 &
    APP_PID=$!
    on_exit stop_app
    for _ in $(seq 1 200); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "the app on port $port did not become ready" >&2
    return 1
}

# stop_app: stops the app that start_app started, if it still runs.
stop_app() {
    if [[ -n $APP_PID ]]; then
        kill "$APP_PID" 2>/dev/null || true
        wait "$APP_PID" 2>/dev/null || true
        APP_PID=
    fi
}

# measure URL SECONDS CONNECTIONS [wrk args]: one wrk run, printed as JSON.
measure() {
    local url=$1 seconds=$2 connections=$3
    shift 3
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@" "$url" | python3 bench/wrk_summary.py
}
