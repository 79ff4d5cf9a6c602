#!/usr/bin/env bash
# Dashboard cost as history grows: loads 10 thousand and then 10 million
# visits (90 days, generated in SQL), and measures GET /api/stats?range=30d
# and GET / at each size, with the app's short stats cache on (as deployed)
# and off (every request computes everything). Writes the table into
# docs/performance.md. Takes about 15 minutes; targets 127.0.0.1 only.
#   bench/dashboard.sh [SECONDS_PER_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
seconds=${1:-10}

ensure_postgres_binaries
ensure_apt_tools wrk:wrk
build_app

# Durable settings (fsync on), as in production; a little more cache.
start_throwaway_cluster bench -c shared_buffers=256MB
pg_port=$CLUSTER_PORT
work=$CLUSTER_DIR
# psql as the caller, over TCP: bench/fill.sql may not be readable by the
# cluster's owner (a checkout in a private directory).
psql_bench() { "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }

results=$work/results.jsonl

for events in 10000 10000000; do
    db=bench_$events
    url="postgres://postgres@127.0.0.1:$pg_port/$db"
    psql_bench -c "CREATE DATABASE $db"
    env -i PATH="$PATH" DATABASE_URL="$url" "$VISITORS_BIN" migrate >/dev/null
    echo "--- loading $events visits"
    started=$(date +%s)
    psql_bench -d "$db" -v events="$events" -v visitors=$((events / 8)) -f bench/fill.sql
    load_seconds=$(($(date +%s) - started))

    for cache_ms in 1000 0; do
        start_app 127.0.0.1 0 "$url" STATS_CACHE_MS="$cache_ms"
        base="http://127.0.0.1:$APP_PORT"
        curl -fsS -o /dev/null "$base/api/stats?range=30d"
        for target in "/api/stats?range=30d" "/"; do
            [[ $cache_ms == 0 && $target == "/" ]] && continue
            echo "--- $events visits, cache ${cache_ms} ms: GET $target"
            summary=$(measure "$base$target" "$seconds" 8)
            echo "{\"events\": $events, \"load_seconds\": $load_seconds, \"cache_ms\": $cache_ms, \"target\": \"$target\", \"result\": $summary}" >>"$results"
        done
        stop_app "$APP_PID"
    done
    psql_bench -d "$db" -tAc "SELECT pg_size_pretty(pg_database_size('$db'))" | sed "s/^/--- database size: /"
done

python3 bench/report.py dashboard "$results" docs/performance.md
echo "--- docs/performance.md updated"
