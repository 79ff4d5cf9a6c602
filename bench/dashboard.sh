#!/usr/bin/env bash
# Dashboard cost as history grows, at 100 sites: loads 10 thousand and then
# 10 million visits (90 days, spread over 100 public sites, generated in SQL
# by bench/fill.sql), and measures one site's dashboard at each size:
# GET /api/sites/site-1.example/stats?range=30d with the app's short stats
# cache on (as deployed) and off (every request computes everything), and
# the page GET /sites/site-1.example. Writes the table, with the ratios
# 10 million / 10 thousand, into REPORT (docs/performance.md). Takes about
# 15 minutes; targets 127.0.0.1 only.
#   bench/dashboard.sh [SECONDS_PER_RUN] [REPORT]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
seconds=${1:-10}
report=${2:-docs/performance.md}
site="site-1.example"
# BENCH_SIZES (visits per run, "10000 10000000" unless set) shortens a trial.
read -r -a sizes <<<"${BENCH_SIZES:-10000 10000000}"

ensure_postgres_binaries
ensure_apt_tools wrk:wrk
build_app

start_fill_cluster bench
work=$CLUSTER_DIR

results=$work/results.jsonl

for events in "${sizes[@]}"; do
    db=bench_$events
    url="postgres://postgres@127.0.0.1:$FILL_PORT/$db"
    psql_fill -c "CREATE DATABASE $db"
    env -i PATH="$PATH" DATABASE_URL="$url" "$VISITORS_BIN" migrate >/dev/null
    echo "--- loading $events visits"
    started=$(date +%s)
    psql_fill -d "$db" -v events="$events" -v visitors=$((events / 8)) -f bench/fill.sql
    load_seconds=$(($(date +%s) - started))

    for cache_ms in 1000 0; do
        start_app 127.0.0.1 0 "$url" STATS_CACHE_MS="$cache_ms"
        base="http://127.0.0.1:$APP_PORT"
        curl -fsS -o /dev/null "$base/api/sites/$site/stats?range=30d"
        for target in "/api/sites/$site/stats?range=30d" "/sites/$site"; do
            [[ $cache_ms == 0 && $target == "/sites/$site" ]] && continue
            echo "--- $events visits, cache ${cache_ms} ms: GET $target"
            summary=$(measure "$base$target" "$seconds" 8)
            echo "{\"events\": $events, \"load_seconds\": $load_seconds, \"cache_ms\": $cache_ms, \"target\": \"$target\", \"result\": $summary}" >>"$results"
        done
        stop_app "$APP_PID"
    done
    psql_fill -d "$db" -tAc "SELECT pg_size_pretty(pg_database_size('$db'))" | sed "s/^/--- database size: /"
done

mkdir -p target/bench
cp "$results" target/bench/dashboard.jsonl
python3 bench/dashboard_report.py "$results" "$report"
echo "--- $report updated"
