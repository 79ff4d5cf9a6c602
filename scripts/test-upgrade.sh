#!/usr/bin/env bash
# `make test-upgrade` (the test command runs it on the instrumented build):
# scripts/test_upgrade.py, from every release in releases.txt to this
# build. Uses $DATABASE_URL's server when set, else a throwaway cluster.
# VISITORS_BIN names this build's binary; unset, the debug build is built.
# The releases' binaries are built once per commit and kept in
# ~/.cache/visitors/releases (XDG_CACHE_HOME).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

ensure_postgres_binaries
if [[ -z ${VISITORS_BIN:-} ]]; then
    cargo build --locked
    VISITORS_BIN=target/debug/visitors
fi
if [[ -z ${DATABASE_URL:-} ]]; then
    start_throwaway_cluster upgrade -c fsync=off
    DATABASE_URL="postgres://postgres@127.0.0.1:$CLUSTER_PORT/postgres"
fi
python3 scripts/test_upgrade.py --current "$VISITORS_BIN" --server "$DATABASE_URL" --pg-bindir "$PG_BINDIR"
