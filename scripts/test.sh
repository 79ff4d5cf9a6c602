#!/usr/bin/env bash
# The test command (`make test`): lint, then every test against a real
# PostgreSQL. Uses $DATABASE_URL when set; otherwise starts a throwaway cluster
# (installing PostgreSQL with apt first if it is missing and we are root) and
# stops it on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

# The outage test starts and stops its own cluster, so the binaries are needed
# even when DATABASE_URL points at an existing server.
ensure_postgres_binaries

if [[ -z ${DATABASE_URL:-} ]]; then
    cluster=$(mktemp -d -t visitors-test-pg.XXXXXX)
    chmod 755 "$cluster"
    trap 'stop_cluster "$cluster/data"; rm -rf "$cluster"' EXIT
    port=$(free_port)
    # A throwaway cluster: durability off for speed, room for many test pools.
    start_cluster "$cluster/data" "$port" -c fsync=off -c synchronous_commit=off -c max_connections=500
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    echo "--- PostgreSQL test cluster on 127.0.0.1:$port"
fi

echo "--- cargo fmt --check"
cargo fmt --all -- --check
echo "--- cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "--- cargo test"
cargo test --locked
