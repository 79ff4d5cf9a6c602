#!/usr/bin/env bash
# Exploring one big site (issue 28): loads 4 million and then 40 million
# page views over 90 days into one site, site-1.example, beside 99 smaller
# sites sharing the tables (a ninth more visits among them; generated in SQL
# by bench/fill.sql, with countries and sources), and measures its JSON
# dashboard uncached (STATS_CACHE_MS=0: every request counts everything),
# one request at a time (bench/sample.py): the last three months unfiltered,
# filtered by one page, by one page and one country, and the last 30 days,
# whose comparison reads the 30 days before; and, as the floor under any
# design that reads raw visits, PostgreSQL's time for one exact count of
# the page filter's visitors. Writes the table, with the
# targets and the growth from the first size to the last, into REPORT
# (docs/performance.md). Takes about an hour and 20 GB of disk at 40
# million; targets 127.0.0.1 only.
#   bench/explore.sh [SECONDS_PER_REQUEST_KIND] [REPORT]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
seconds=${1:-20}
report=${2:-docs/performance.md}
site="site-1.example"
# EXPLORE_SIZES (site-1's page views per run) shortens a trial.
read -r -a sizes <<<"${EXPLORE_SIZES:-4000000 40000000}"

ensure_postgres_binaries
build_app

start_fill_cluster explore -c max_wal_size=4GB
work=$CLUSTER_DIR

results=$work/results.jsonl

for views in "${sizes[@]}"; do
    db=explore_$views
    url="postgres://postgres@127.0.0.1:$FILL_PORT/$db"
    psql_fill -c "CREATE DATABASE $db"
    env -i PATH="$PATH" DATABASE_URL="$url" "$VISITORS_BIN" migrate >/dev/null
    echo "--- loading $views page views for $site and a ninth more for 99 others"
    started=$(date +%s)
    events=$((views + views / 9))
    psql_fill -d "$db" -v events="$events" -v visitors=$((events / 8)) -v site_1_share=0.9 -f bench/fill.sql
    load_seconds=$(($(date +%s) - started))
    site_views=$(psql_fill -d "$db" -tAc "SELECT count(*) FROM visit_events WHERE site_id = 1")
    size=$(psql_fill -d "$db" -tAc "SELECT pg_database_size('$db')")

    # The three months up to today, as the date inputs ask for them (today
    # after the load, which may have crossed midnight).
    three_months="from=$(date -u -d '89 days ago' +%F)&to=$(date -u +%F)"
    declare -A requests=(
        [unfiltered]="/api/sites/$site/stats?$three_months"
        [page]="/api/sites/$site/stats?$three_months&f=page:/pricing"
        [page and country]="/api/sites/$site/stats?$three_months&f=page:/pricing&f=country:DE"
        [30 days against the 30 before]="/api/sites/$site/stats?range=30d"
    )
    start_app 127.0.0.1 0 "$url" STATS_CACHE_MS=0
    base="http://127.0.0.1:$APP_PORT"
    for kind in unfiltered page "page and country" "30 days against the 30 before"; do
        echo "--- $views page views: $kind"
        summary=$(python3 bench/sample.py "$base${requests[$kind]}" "$seconds" 5)
        echo "{\"views\": $views, \"site_views\": $site_views, \"load_seconds\": $load_seconds," \
            "\"database_bytes\": $size, \"kind\": \"$kind\", \"target\": \"${requests[$kind]}\"," \
            "\"result\": $summary}" >>"$results"
    done
    stop_app "$APP_PID"
    # The floor under any design that reads the raw visits: one exact count
    # of the page filter's visitors over the three months, by PostgreSQL
    # alone, without the read deadline (the dashboard reads more than this).
    started=$(date +%s%N)
    psql_fill -d "$db" -tAc "SELECT count(DISTINCT visitor_key) FROM visit_events
        WHERE site_id = 1 AND visited_at >= now() - interval '90 days' AND path = '/pricing'
          AND NOT is_bot AND event IS NULL" >/dev/null
    floor_ms=$((($(date +%s%N) - started) / 1000000))
    echo "{\"views\": $views, \"kind\": \"floor\", \"milliseconds\": $floor_ms}" >>"$results"
    # The next size needs the disk.
    psql_fill -c "DROP DATABASE $db"
done

mkdir -p target/bench
cp "$results" target/bench/explore.jsonl
python3 bench/explore_report.py "$results" "$report"
echo "--- $report updated"
