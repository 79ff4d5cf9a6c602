#!/usr/bin/env bash
# Regenerates `.sqlx/`, the offline data of sqlx's compile-time-checked
# queries (`query_as!`, `query_file_as!`), after a query or a migration
# changed: a throwaway PostgreSQL, the migrations, then `cargo sqlx
# prepare`. Commit the result; builds read it (SQLX_OFFLINE in
# .cargo/config.toml) and need no database.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

SQLX_CLI_VERSION=0.7.4
if [[ $(cargo sqlx --version 2>/dev/null) != *" $SQLX_CLI_VERSION" ]]; then
    echo "--- installing sqlx-cli $SQLX_CLI_VERSION"
    cargo install --locked --quiet sqlx-cli --version "$SQLX_CLI_VERSION" \
        --no-default-features --features postgres,rustls
fi
ensure_postgres_binaries
start_throwaway_cluster sqlx-prepare
export DATABASE_URL="postgres://postgres@127.0.0.1:$CLUSTER_PORT/postgres"
cargo sqlx migrate run
SQLX_OFFLINE=false cargo sqlx prepare -- --all-targets --locked
