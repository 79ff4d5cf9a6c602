#!/usr/bin/env bash
# `make test-faults` (the test command runs it on the instrumented build):
# scripts/test_faults.py on a PostgreSQL cluster of its own, which it
# freezes and restarts, with nginx and dnsmasq from the machine (installed
# with apt when missing and run as root). VISITORS_BIN names the binary;
# unset, the debug build is built. REPORT names a file whose faults section
# gets the table (docs/operations.md by default; the test command gives a
# scratch copy).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/test-env.sh

ensure_postgres_binaries
ensure_apt_tools nginx:nginx-light dnsmasq:dnsmasq-base
export PATH="$PATH:/usr/sbin:/sbin"
if [[ -z ${VISITORS_BIN:-} ]]; then
    cargo build --locked
    VISITORS_BIN=target/debug/visitors
fi
start_throwaway_cluster faults
python3 scripts/test_faults.py --binary "$VISITORS_BIN" --pg-data "$CLUSTER_DIR/data" \
    --pg-port "$CLUSTER_PORT" --pg-bindir "$PG_BINDIR" --report "${REPORT:-docs/operations.md}"
