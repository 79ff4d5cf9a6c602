#!/usr/bin/env bash
# Runs the app without Docker (`make run`): a local PostgreSQL from the
# machine's binaries, its data kept in .data/postgres (git-ignored), and the
# app on http://127.0.0.1:8000. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
ensure_postgres_binaries

data=$PWD/.data/postgres
port=${PGPORT_LOCAL:-5433}
# The cluster owner (postgres, when run as root) must be able to enter it.
mkdir -p "$PWD/.data"
chmod 755 "$PWD/.data"
start_cluster "$data" "$port"
# The commands run from this checkout (`visitors sites add …`) read the
# database and address of this app from here (LOCAL_RUN_FILE in
# src/infra/config.rs), as long as it runs.
run_file=$PWD/.data/run.toml
trap 'rm -f "$run_file"; stop_cluster "$data"' EXIT
as_cluster_owner "$PG_BINDIR/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'visitors'" | grep -q 1 ||
    as_cluster_owner "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$port" -U postgres visitors

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/visitors"
# The links and snippets `visitors sites` prints point at this app.
export ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT=${ROCKET_PORT:-8000}
export PUBLIC_URL=${PUBLIC_URL:-http://127.0.0.1:$ROCKET_PORT}
export VISITOR_SECRET_FILE=${VISITOR_SECRET_FILE:-$PWD/.data/visitor-secret}
cat >"$run_file" <<EOF
# Written by \`make run\` while it runs; deleted when it stops.
[default]
public_url = "$PUBLIC_URL"
visitor_secret_file = "$VISITOR_SECRET_FILE"

[default.databases.visitors]
url = "$DATABASE_URL"
EOF
echo "--- the app on $PUBLIC_URL; the setup code for $PUBLIC_URL/setup is in its log below"
echo "--- in another shell, in this directory: cargo run --release -- sites add example.com"
cargo run --release -- serve
