#!/usr/bin/env bash
# The test command (`make test`): lint the code and the ops files, then run
# every test against a real PostgreSQL. Uses $DATABASE_URL when set;
# otherwise starts a throwaway cluster and stops it on every exit path.
# Installs what is missing when run as root: with apt PostgreSQL, nginx,
# dnsmasq and shellcheck; the pinned Python linters into target/lint-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
# nginx and dnsmasq live in sbin, which a normal user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
source scripts/lib/postgres.sh
source scripts/lib/tools.sh

# The outage test starts and stops its own cluster, so the binaries are needed
# even when DATABASE_URL points at an existing server.
ensure_postgres_binaries
# The topology test runs the project's nginx template with dnsmasq as DNS.
ensure_apt_tools nginx:nginx-light dnsmasq:dnsmasq-base shellcheck:shellcheck
NGINX_BIN=$(command -v nginx)
DNSMASQ_BIN=$(command -v dnsmasq)
export NGINX_BIN DNSMASQ_BIN

if [[ -z ${DATABASE_URL:-} ]]; then
    # Durability off for speed, room for many test pools.
    start_throwaway_cluster test-pg -c fsync=off -c synchronous_commit=off -c max_connections=500
    export DATABASE_URL="postgres://postgres@127.0.0.1:$CLUSTER_PORT/postgres"
    echo "--- PostgreSQL test cluster on 127.0.0.1:$CLUSTER_PORT"
fi

echo "--- cargo fmt --check"
cargo fmt --all -- --check
echo "--- cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
scripts/lint-ops.sh
echo "--- cargo test"
cargo test --locked
