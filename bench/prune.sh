#!/usr/bin/env bash
# Time to prune a million raw visits: loads EVENTS (default 1 000 000) visit
# events older than 90 days (spread over the year before) and a tenth as
# many younger ones into a fresh, migrated database on a PostgreSQL of its
# own (durable settings, `shared_buffers=256MB` as in docker-compose.yml),
# then runs `visitors prune` with RAW_VISITS_RETENTION_DAYS=90: the code path
# of the server's maintenance job (batches of 10 000 through the
# visited_at index). Checks that exactly the old ones went, and writes the
# figure into docs/performance.md. About a minute; 127.0.0.1 only.
#   bench/prune.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
events=${1:-1000000}
young=$((events / 10))

ensure_postgres_binaries
build_app

start_throwaway_cluster bench-prune -c shared_buffers=256MB
pg_port=$CLUSTER_PORT
work=$CLUSTER_DIR
psql_bench() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }

db=bench_prune
url="postgres://postgres@127.0.0.1:$pg_port/$db"
psql_bench -c "CREATE DATABASE $db"
env -i PATH="$PATH" DATABASE_URL="$url" "$VISITORS_BIN" migrate >/dev/null

echo "--- loading $events visits older than 90 days and $young younger ones"
started=$(date +%s)
psql_bench -d "$db" <<SQL
INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
SELECT 0, now() - interval '91 days' - random() * interval '365 days',
       sha256(int8send((n % 125000)::bigint)), '/', 'Firefox', 'Linux', 'desktop', false,
       CASE WHEN n % 3 = 0 THEN 'news.example.com' END
FROM generate_series(1, $events) AS n;
INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
SELECT 0, now() - random() * interval '89 days', sha256(int8send((n % 125000)::bigint)), '/',
       'Chrome', 'Windows', 'desktop', false, NULL
FROM generate_series(1, $young) AS n;
VACUUM ANALYZE visit_events;
SQL
load_seconds=$(($(date +%s) - started))

echo "--- visitors prune (RAW_VISITS_RETENTION_DAYS=90)"
wall_start=$(date +%s.%N)
output=$(env -i PATH="$PATH" ${LLVM_PROFILE_FILE:+LLVM_PROFILE_FILE="$LLVM_PROFILE_FILE"} \
    DATABASE_URL="$url" RAW_VISITS_RETENTION_DAYS=90 "$VISITORS_BIN" prune)
wall_end=$(date +%s.%N)
echo "$output"

left=$(psql_bench -d "$db" -tAc "SELECT count(*) FROM visit_events WHERE visited_at < now() - interval '90 days'")
kept=$(psql_bench -d "$db" -tAc "SELECT count(*) FROM visit_events")
if [[ $left -ne 0 || $kept -ne $young ]]; then
    echo "prune: $left old visits left and $kept kept (expected 0 and $young)" >&2
    exit 1
fi

results=$work/prune.jsonl
python3 - "$output" "$events" "$young" "$load_seconds" "$wall_start" "$wall_end" >"$results" <<'PY'
import json, re, sys
output, events, young, load, start, end = sys.argv[1:7]
m = re.search(r"deleted (\d+) raw visits .* in (\d+) batches, ([\d.]+) s \(slowest batch (\d+) ms\)", output)
print(json.dumps({"events": int(events), "kept": int(young), "deleted": int(m[1]), "batches": int(m[2]),
                  "seconds": float(m[3]), "slowest_batch_ms": int(m[4]), "load_seconds": int(load),
                  "wall_seconds": float(end) - float(start)}))
PY
python3 bench/report.py prune "$results" docs/performance.md
echo "--- docs/performance.md updated"
