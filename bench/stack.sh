#!/usr/bin/env bash
# The whole stack under load, next to the ceilings of its parts, all measured
# in one run on this machine (docs/performance.md explains each number):
#   - PostgreSQL, tuned only as docker-compose.yml tunes it;
#   - three replicas of the release binary, configured as the compose file
#     configures them, on 127.0.0.1-3 behind one name in dnsmasq, as Docker's
#     DNS serves a scaled service;
#   - the project's nginx template in front, with its rate limit raised
#     (NGINX_RATE_LIMIT / NGINX_RATE_BURST) since all load comes from one
#     address;
#   - wrk, 100 connections per run: GET /version, GET /api/stats?range=24h,
#     GET / and a site's pixel as new visitors (each unseen; direct, also
#     sharing one User-Agent, and GET / drawing from 50 real ones; the
#     pixel sharing one User-Agent also with 400 connections, a spike that
#     fills the recorder's batches), GET / as returning visitors, GET / and
#     the pixel as one visitor on every connection, direct to one replica
#     and through nginx; for every run, the write commits, WAL bytes, rows
#     and index entries per visit, and how the CPU time was split
#     (bench/usage.py), hence the app's and PostgreSQL's CPU per request
#     and per visit;
#   - the ceilings: the same nginx configuration in front of an nginx that
#     answers at once, and pgbench running one visitor upsert per transaction
#     (bench/pgbench/upsert.sql), then the app's own per-visit statement.
# Writes the table into REPORT (docs/performance.md) and keeps the results in
# target/bench/stack.jsonl. Targets 127.0.0.1 only;
# about 5 minutes at the default 15 s per run. STACK_ROUTES=direct leaves
# nginx out (about half the time), for a bisect of the write path.
#   [STACK_ROUTES=direct] bench/stack.sh [SECONDS_PER_RUN] [REPORT]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
seconds=${1:-15}
report=${2:-docs/performance.md}
routes=$(stack_routes)
warmup=${BENCH_WARMUP:-2}
connections=100
rate_limit=100000r/s
rate_burst=100000

# nginx and dnsmasq live in sbin, which a non-login shell may not search.
export PATH="$PATH:/usr/sbin:/sbin"
ensure_postgres_binaries
ensure_apt_tools wrk:wrk nginx:nginx-light dnsmasq:dnsmasq-base
build_app

start_bench_database stack
work=$CLUSTER_DIR

# As docker-compose.yml sets them (the rest are the app's defaults); the
# fixed secret spares a lookup. The first replica picks a free port, the
# others take it on their own addresses.
replica_env=(ROCKET_IP_HEADER=X-Real-IP VISITOR_SECRET=a-benchmark-secret-of-some-length)
replicas=()
app_port=0
for replica in 1 2 3; do
    start_app "127.0.0.$replica" "$app_port" "$url" "${replica_env[@]}" INSTANCE_NAME="app-$replica"
    app_port=$APP_PORT
    replicas+=("$APP_PID")
done

# The project's nginx in front of the replicas (lb), and the same
# configuration in front of an nginx that answers at once (ceiling).
start_topology "$work/network" --host app=127.0.0.1 --host app=127.0.0.2 --host app=127.0.0.3 \
    --host constant=127.0.0.1 --constant constant --proxy "lb=app:$app_port" --proxy ceiling=@constant \
    --rate "$rate_limit" --burst "$rate_burst"
lb_port=$(topology_port lb)
proxy_port=$(topology_port ceiling)
for port in "$lb_port" "$proxy_port"; do
    wait_for_url "http://127.0.0.1:$port/version"
done

# One public site, for the pixel beside GET /.
site=bench.example
has_sites=$(add_public_site "$site")

results=$work/results.jsonl
record() { echo "$1" >>"$results"; }
record "{\"kind\": \"settings\", \"seconds\": $seconds, \"connections\": $connections, \"rate_limit\": \"$rate_limit\", \"rate_burst\": $rate_burst, \"postgres\": \"${pg_options[*]}\"}"

# Transactions that wrote (one transaction id each), visits recorded, WAL
# bytes written, rows written (inserted or updated) and index entries
# written (a row inserted, or updated other than in place, adds one to each
# index of its table), as a JSON array. The transaction ids and the WAL
# position are read at once, where pg_stat_database's xact_commit reaches
# the view up to 10 s late from an idle connection, and they leave out the
# read-only transactions; the row counts reach pg_stat_user_tables within a
# second of each commit, which a run's length makes small.
counters() {
    as_cluster_owner "$PG_BINDIR/psql" -X -Atq -F, "${pg[@]}" -d visitors -c \
        "SELECT pg_snapshot_xmax(pg_current_snapshot())::text,
                (SELECT coalesce(sum(visits + bot_visits), 0) FROM visit_totals),
                pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
                (SELECT sum(n_tup_ins + n_tup_upd) FROM pg_stat_user_tables),
                (SELECT sum((n_tup_ins + n_tup_upd - n_tup_hot_upd)
                            * (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.relid))
                 FROM pg_stat_user_tables t)" |
        sed 's/.*/[&]/'
}
# The process trees whose CPU time is counted apart: the replicas, nginx
# (with dnsmasq), PostgreSQL.
postmaster=$(as_cluster_owner head -1 "$work/data/postmaster.pid")
usage_groups=("app=$(IFS=,; echo "${replicas[*]}")" "nginx=$TOPOLOGY_PID" "postgres=$postmaster")
usage=$work/usage.json
# measured COMMAND...: COMMAND is a load run that prints its JSON summary
# and starts its load generator with LOAD_WRAPPER; prints the summary, the
# counters before and after, and the CPU split, as the fields of a record.
measured() {
    local before summary
    before=$(counters)
    LOAD_WRAPPER=(python3 bench/usage.py "$usage" "${usage_groups[@]}" --)
    summary=$("$@")
    LOAD_WRAPPER=()
    echo "\"result\": $summary, \"counters\": [$before, $(counters)], \"cpu\": $(cat "$usage")"
}

# load SCENARIO ROUTE URL [wrk args]: a warm-up, then the measured run.
load() {
    local scenario=$1 route=$2 url=$3 fields
    shift 3
    echo "--- $scenario, $route"
    BENCH_PHASE=warmup measure "$url" "$warmup" "$connections" "$@" >/dev/null
    fields=$(measured measure "$url" "$seconds" "$connections" "$@")
    record "{\"kind\": \"load\", \"scenario\": \"$scenario\", \"route\": \"$route\", $fields}"
}

for route in $routes; do
    base=http://127.0.0.1:$app_port
    [[ $route == nginx ]] && base=http://127.0.0.1:$lb_port
    load "GET /version" "$route" "$base/version"
    load "GET /api/stats?range=24h" "$route" "$base/api/stats?range=24h"
    load "GET / new visitors" "$route" "$base/" -s bench/visitors.lua -- new "$route"
    if [[ $has_sites == t ]]; then
        load "pixel new visitors" "$route" "$base/" -s bench/visitors.lua -- new "$route" 0 "/pixel/$site.gif?p=/"
    fi
    # X-Real-IP is the identity only direct: nginx overwrites it.
    if [[ $route == direct ]]; then
        load "GET / new visitors, one User-Agent" "$route" "$base/" -s bench/visitors.lua -- shared "$route"
        load "GET / new visitors, 50 real User-Agents" "$route" "$base/" -s bench/visitors.lua -- pool "$route"
        if [[ $has_sites == t ]]; then
            load "pixel new visitors, one User-Agent" "$route" "$base/" \
                -s bench/visitors.lua -- shared "$route-pixel" 0 "/pixel/$site.gif?p=/"
            # A spike: the replica's queue runs deep, and its batches grow
            # toward the recorder's largest.
            connections=$((4 * connections)) load "pixel new visitors, one User-Agent, spike" "$route" "$base/" \
                -s bench/visitors.lua -- shared "$route-spike" 0 "/pixel/$site.gif?p=/"
        fi
    fi
    load "GET / returning visitors" "$route" "$base/" -s bench/visitors.lua -- returning "$route" 1000
    load "GET / one visitor" "$route" "$base/" -s bench/visitors.lua -- one "$route"
    if [[ $has_sites == t ]]; then
        load "pixel one visitor" "$route" "$base/" -s bench/visitors.lua -- one "$route-pixel" 0 "/pixel/$site.gif?p=/"
    fi
done
load "GET /version" "proxy ceiling" "http://127.0.0.1:$proxy_port/version"

for replica in "${replicas[@]}"; do
    awk '/^VmRSS:/ {print $2}' "/proc/$replica/status"
done | python3 -c 'import json, sys; print(json.dumps({"kind": "memory", "rss_kib": [int(l) for l in sys.stdin]}))' >>"$results"

# pgbench_run SCRIPT LOGS: one measured pgbench run, logged in LOGS,
# printed as JSON.
pgbench_run() {
    "${LOAD_WRAPPER[@]}" "$PG_BINDIR/pgbench" "${pg[@]}" -n -M prepared -c "$connections" -j 2 -T "$seconds" -f "$1" \
        -l --log-prefix="$2/log" visitors >"$2/output" 2>&1
    python3 bench/pgbench_summary.py "$2"/log.* <"$2/output"
}
# pgbench_load SCENARIO SCRIPT VISITS: a warm-up, then the measured run; each
# transaction records VISITS visits.
pgbench_load() {
    local scenario=$1 script=$2 visits=$3 logs fields
    logs=$(mktemp -d -p "$work" pgbench.XXXX)
    echo "--- $scenario"
    # The ceilings run this checkout's statements: on the older schema of a
    # release binary (a fixed reference of a sitting) they cannot.
    if ! "$PG_BINDIR/pgbench" "${pg[@]}" -n -M prepared -c "$connections" -j 2 -T "$warmup" -f "$script" visitors \
        >/dev/null 2>&1; then
        echo "    skipped: the statement does not run on this binary's schema"
        return
    fi
    fields=$(measured pgbench_run "$script" "$logs")
    record "{\"kind\": \"load\", \"scenario\": \"$scenario\", \"route\": \"pgbench\", \"visits\": $visits, $fields}"
}
pgbench_load "visitor upsert ceiling" bench/pgbench/upsert.sql 1
# The app's statement alone, as one visit per transaction would run it, and
# as a batch of about the size this load makes (100 connections over three
# replicas, each committing one batch at a time: about 30); planned once, as
# the recorder's connections plan it (src/counting/recorder.rs).
for batch in 1 30; do
    python3 bench/pgbench/app_statement.py "$batch" >"$work/app-$batch.sql"
    PGOPTIONS="-c plan_cache_mode=force_generic_plan" \
        pgbench_load "app statement, $batch per transaction" "$work/app-$batch.sql" "$batch"
done

# Start-up to ready on the database the run has filled: one replica again.
stop_app "${replicas[2]}"
started=$(date +%s%N)
start_app 127.0.0.3 "$app_port" "$url" "${replica_env[@]}"
record "{\"kind\": \"startup\", \"seconds\": $((($(date +%s%N) - started) / 1000000))e-3}"

mkdir -p target/bench
cp "$results" target/bench/stack.jsonl
# The table wants both routes: direct runs only go to bench/sitting.sh.
if has_both_routes; then
    python3 bench/report.py stack "$results" "$report"
    echo "--- $report updated"
fi
