# shellcheck shell=bash
# Shared by the benchmarks: the app as processes, nginx, DNS, and load runs.

# The binary under test; the smoke test in the suite points it at a debug build.
VISITORS_BIN=${VISITORS_BIN:-target/release/visitors}

# build_app: the release binary, unless VISITORS_BIN names another one.
build_app() {
    if [[ $VISITORS_BIN == target/release/visitors ]]; then
        cargo build --release --locked --quiet
    fi
}

# start_app ADDRESS PORT DATABASE_URL [VAR=value ...]: the app in the
# background, stopped when the script exits; returns once it is ready. Its pid
# is in APP_PID.
APP_PID=
APP_PIDS=()
start_app() {
    local address=$1 port=$2 url=$3
    shift 3
    env -i PATH="$PATH" ${LLVM_PROFILE_FILE:+LLVM_PROFILE_FILE="$LLVM_PROFILE_FILE"} DATABASE_URL="$url" ROCKET_ADDRESS="$address" ROCKET_PORT="$port" \
        ROCKET_PROFILE=release ROCKET_LOG_LEVEL=off "$@" "$VISITORS_BIN" serve >/dev/null 2>&1 &
    APP_PID=$!
    APP_PIDS+=("$APP_PID")
    on_exit stop_apps
    wait_for_url "http://$address:$port/readyz"
}

# wait_for_url URL: polls until URL answers 2xx (10 s at most).
wait_for_url() {
    for _ in $(seq 1 1000); do
        if curl -fsS -o /dev/null "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.01
    done
    echo "$1 did not answer" >&2
    return 1
}

# stop_app PID: stops one app process.
stop_app() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

stop_apps() {
    local pid
    for pid in "${APP_PIDS[@]}"; do
        stop_app "$pid"
    done
    APP_PIDS=()
}

# start_dns DIR PORT NAME=ADDRESS...: dnsmasq on 127.0.0.1:PORT answering each
# NAME with its addresses (a name given several times gets them all, as
# Docker's DNS answers for a scaled service).
start_dns() {
    local dir=$1 port=$2 entry
    shift 2
    mkdir -p "$dir"
    for entry in "$@"; do
        echo "${entry#*=} ${entry%%=*}"
    done >"$dir/hosts"
    dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
        --listen-address=127.0.0.1 --pid-file= --port="$port" --addn-hosts="$dir/hosts" \
        >/dev/null 2>&1 &
    on_exit "kill $! 2>/dev/null || true"
}

# start_nginx DIR: nginx with DIR/nginx.conf (as scripts/render_nginx.py writes
# it), stopped when the script exits. Its pid is in NGINX_PID.
start_nginx() {
    nginx -p "$1" -c "$1/nginx.conf" >/dev/null 2>&1 &
    NGINX_PID=$!
    on_exit "kill $NGINX_PID 2>/dev/null || true"
}

# measure URL SECONDS CONNECTIONS [wrk options] [-- script arguments]: one
# wrk run, printed as JSON.
measure() {
    local url=$1 seconds=$2 connections=$3 options=()
    shift 3
    while [[ $# -gt 0 && $1 != -- ]]; do
        options+=("$1")
        shift
    done
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "${options[@]}" "$url" "$@" |
        python3 bench/wrk_summary.py
}
