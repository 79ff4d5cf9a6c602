#!/usr/bin/env bash
# Takes the README's screenshot (docs/screenshot.png): a throwaway PostgreSQL,
# the release build, a minute of simulated traffic, then headless Chromium
# (Debian's `chromium`, installed with apt when missing and run as root).
#   scripts/screenshot.sh [OUTPUT.png] [RANGE]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
output=${1:-docs/screenshot.png}
range=${2:-1h}

ensure_postgres_binaries
if ! command -v chromium >/dev/null; then
    apt_install chromium fonts-dejavu-core
fi
cargo build --release --locked --quiet

start_throwaway_cluster shot
pg_port=$CLUSTER_PORT
work=$CLUSTER_DIR
start_app 127.0.0.1 0 "postgres://postgres@127.0.0.1:$pg_port/postgres" \
    INSTANCE_NAME=replica-1 USER_NAME="Ada Lovelace" USER_URL=https://example.org STATS_CACHE_MS=0
app_port=$APP_PORT

# Spread over a few minutes of chart: three bursts, 20 s apart.
for _ in 1 2 3; do
    target/release/visitors simulate --url "http://127.0.0.1:$app_port/" --rate 12 --duration 20 >/dev/null
done

# Flags that keep Chromium off the network (this machine has none) and quiet.
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$work/chromium" --hide-scrollbars \
    --window-size=1200,1240 --screenshot="$output" "http://127.0.0.1:$app_port/?range=$range" 2>/dev/null
echo "--- wrote $output"
