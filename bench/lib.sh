# shellcheck shell=bash
# Shared by the benchmarks: the app as processes, nginx, DNS, and load runs.

# The binary under test; the smoke test in the suite points it at a debug build.
VISITORS_BIN=${VISITORS_BIN:-target/release/visitors}

# stack_routes: the routes bench/stack.sh measures, one per line, from
# STACK_ROUTES: direct (to a replica) and nginx, both by default, direct
# alone for a bisect of the write path. Any other word is refused.
stack_routes() {
    local route
    for route in ${STACK_ROUTES:-direct nginx}; do
        [[ $route == direct || $route == nginx ]] ||
            { echo "STACK_ROUTES: $route is neither direct nor nginx" >&2; return 2; }
        echo "$route"
    done
}

# has_both_routes: whether stack_routes has both, which the stack section
# of the report wants.
has_both_routes() {
    local routes
    routes=" $(stack_routes | tr '\n' ' ')"
    [[ $routes == *" direct "* && $routes == *" nginx "* ]]
}

# build_app: the release binary, unless VISITORS_BIN names another one.
build_app() {
    if [[ $VISITORS_BIN == target/release/visitors ]]; then
        cargo build --release --locked --quiet
    fi
}

# start_fill_cluster NAME [-c SETTING...]: a throwaway PostgreSQL for the
# benchmarks that load history with bench/fill.sql: durable settings
# (fsync on), as in production, and a little more cache. psql_fill then runs
# psql on it as the caller, over TCP: bench/fill.sql may not be readable by
# the cluster's owner (a checkout in a private directory).
start_fill_cluster() {
    start_throwaway_cluster "$@" -c shared_buffers=256MB
    FILL_PORT=$CLUSTER_PORT
}
psql_fill() { "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$FILL_PORT" -U postgres "$@"; }

# psql_visitors ARGS...: psql on the benchmark's database, unaligned, as
# its cluster's owner.
psql_visitors() { as_cluster_owner "$PG_BINDIR/psql" -X -q -tA "${pg[@]}" -d visitors "$@"; }

# add_public_site DOMAIN: the site, public, for the pixel's scenarios; prints
# t, or f when the binary's schema has no sites (0.1.0, a fixed reference of
# every sitting), which then adds nothing.
add_public_site() {
    local has_sites
    has_sites=$(psql_visitors -c "SELECT to_regclass('sites') IS NOT NULL")
    if [[ $has_sites == t ]]; then
        psql_visitors -c "INSERT INTO sites (domain, visibility, share_token)
                          VALUES ('$1', 'public', sha256('$1'::bytea))" >/dev/null
    fi
    echo "$has_sites"
}

# start_bench_database NAME: a throwaway PostgreSQL cluster with the server
# options of docker-compose.yml's db command, and in it the database
# "visitors", migrated by VISITORS_BIN. Sets pg_options (those options), pg
# (psql's connection options), url (the database's URL) and CLUSTER_DIR.
start_bench_database() {
    mapfile -t pg_options < <(python3 -c '
import json, re
compose = open("docker-compose.yml").read()
command = json.loads(re.search(r"^\s*command: (\[\"postgres\".*\])$", compose, re.M).group(1))
print("\n".join(command[1:]))')
    start_throwaway_cluster "$1" "${pg_options[@]}"
    pg=(-h 127.0.0.1 -p "$CLUSTER_PORT" -U postgres)
    as_cluster_owner "$PG_BINDIR/psql" -X -q "${pg[@]}" -c "CREATE DATABASE visitors"
    url="postgres://postgres@127.0.0.1:$CLUSTER_PORT/visitors"
    env -i PATH="$PATH" ${LLVM_PROFILE_FILE:+LLVM_PROFILE_FILE="$LLVM_PROFILE_FILE"} DATABASE_URL="$url" "$VISITORS_BIN" migrate >/dev/null
}

# start_app ADDRESS PORT DATABASE_URL [VAR=value ...]: the app in the
# background, stopped when the script exits; returns once it is ready. Port 0
# lets the app pick one, read from its log. Its pid is in APP_PID, its port
# in APP_PORT.
APP_PID=
APP_PORT=
APP_PIDS=()
start_app() {
    local address=$1 port=$2 url=$3 log
    shift 3
    log=$(mktemp -t visitors-app.XXXXXX)
    on_exit "rm -f '$log'"
    env -i PATH="$PATH" ${LLVM_PROFILE_FILE:+LLVM_PROFILE_FILE="$LLVM_PROFILE_FILE"} DATABASE_URL="$url" ROCKET_ADDRESS="$address" ROCKET_PORT="$port" \
        ROCKET_PROFILE=release ROCKET_LOG_LEVEL=off LOG_FORMAT=json "$@" "$VISITORS_BIN" serve >"$log" 2>&1 &
    APP_PID=$!
    APP_PIDS+=("$APP_PID")
    on_exit stop_apps
    APP_PORT=$port
    for _ in $(seq 1 1000); do
        [[ $APP_PORT != 0 ]] && break
        APP_PORT=$(sed -n 's/.*"message":"listening".*"port":\([0-9]*\).*/\1/p; s/.*"port":\([0-9]*\).*"message":"listening".*/\1/p' "$log" | head -1)
        APP_PORT=${APP_PORT:-0}
        sleep 0.01
    done
    wait_for_url "http://$address:$APP_PORT/readyz"
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

# start_topology DIR [scripts/topology.py options]: dnsmasq and nginx as
# the topology tests run them, stopped when the script exits; the JSON of
# their ports is in TOPOLOGY, the pid of the process that runs them in
# TOPOLOGY_PID.
TOPOLOGY_PID=
start_topology() {
    local dir=$1
    shift
    mkfifo "$dir.ports"
    python3 scripts/topology.py "$dir" "$@" >"$dir.ports" &
    # shellcheck disable=SC2034 # read by the scripts that source this file
    TOPOLOGY_PID=$!
    on_exit "kill $! 2>/dev/null || true; rm -f '$dir.ports'"
    read -r TOPOLOGY <"$dir.ports"
}

# topology_port NAME: a port from TOPOLOGY.
topology_port() {
    python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$TOPOLOGY" "$1"
}

# Words put before the load generator's command, such as bench/usage.py's.
LOAD_WRAPPER=()

# measure URL SECONDS CONNECTIONS [wrk options] [-- script arguments]: one
# wrk run, printed as JSON.
measure() {
    local url=$1 seconds=$2 connections=$3 options=()
    shift 3
    while [[ $# -gt 0 && $1 != -- ]]; do
        options+=("$1")
        shift
    done
    "${LOAD_WRAPPER[@]}" wrk -t2 -c"$connections" -d"${seconds}s" --latency "${options[@]}" "$url" "$@" |
        python3 bench/wrk_summary.py
}
