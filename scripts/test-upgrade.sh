#!/usr/bin/env bash
# `make test-upgrade` (the test command runs it on the instrumented build):
# scripts/test_upgrade.py, from every release in releases.txt to this
# build, on a PostgreSQL cluster of its own whose clock the test sets
# (libfaketime, from Debian's faketime, installed with apt when missing and
# run as root): the traffic script's visits fall on days, hours and
# minutes in the past, as a real history does. VISITORS_BIN names this
# build's binary; unset, the debug build is built. The releases' binaries
# are built once per commit and kept in VISITORS_RELEASES_CACHE (default
# ~/.cache/visitors/releases).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

ensure_postgres_binaries
ensure_apt_tools faketime:faketime
faketime_library=$(find /usr/lib /usr/local/lib -name libfaketime.so.1 -print -quit 2>/dev/null)
if [[ -z $faketime_library ]]; then
    echo "test-upgrade: libfaketime.so.1 not found (apt-get install faketime)" >&2
    exit 1
fi
if [[ -z ${VISITORS_BIN:-} ]]; then
    cargo build --locked
    VISITORS_BIN=target/debug/visitors
fi
clock=$(mktemp -d -t visitors-upgrade-clock.XXXXXX)
on_exit "rm -rf '$clock'"
chmod 755 "$clock"
echo "+0d" >"$clock/offset"
chmod 644 "$clock/offset"
# Every clock reading of the server reads the file (no cache), so a new
# offset holds for every connection at once.
CLUSTER_ENV=("LD_PRELOAD=$faketime_library" "FAKETIME_TIMESTAMP_FILE=$clock/offset" FAKETIME_NO_CACHE=1)
start_throwaway_cluster upgrade -c fsync=off
python3 scripts/test_upgrade.py --current "$VISITORS_BIN" --pg-data "$CLUSTER_DIR/data" \
    --pg-port "$CLUSTER_PORT" --pg-bindir "$PG_BINDIR" --clock "$clock/offset"
