# shellcheck shell=bash
# The dashboard as the README's pictures and the browser test see it: a
# throwaway PostgreSQL, the release app, a week of history filled in bulk
# (scripts/lib/history.sql) and a little live simulated traffic on top; and
# headless Chromium to photograph it. Sourced by scripts/screenshot.sh and
# scripts/browser-test.sh, with scripts/lib/postgres.sh and bench/lib.sh.

# ensure_chromium: Debian's Chromium and a font, installed with apt if missing.
ensure_chromium() {
    if ! command -v chromium >/dev/null || [[ ! -d /usr/share/fonts/truetype/dejavu ]]; then
        apt_install chromium fonts-dejavu-core
    fi
}

# start_dashboard NAME: everything above, stopped when the script exits. The
# dashboard's base URL is in DASHBOARD_URL, a scratch directory in
# DASHBOARD_WORK.
DASHBOARD_URL=
DASHBOARD_WORK=
start_dashboard() {
    local name=$1 url
    ensure_postgres_binaries
    ensure_chromium
    build_app
    start_throwaway_cluster "$name"
    DASHBOARD_WORK=$CLUSTER_DIR
    url="postgres://postgres@127.0.0.1:$CLUSTER_PORT/postgres"
    start_app 127.0.0.1 0 "$url" \
        INSTANCE_NAME=replica-1 USER_NAME="Ada Lovelace" USER_URL=https://example.org STATS_CACHE_MS=0
    DASHBOARD_URL="http://127.0.0.1:$APP_PORT"
    # psql as the caller, over TCP: the files it reads may not be readable
    # by the cluster's owner (a checkout in a private directory).
    "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$CLUSTER_PORT" -U postgres \
        -v per_minute=3 -v visitors=3000 -f scripts/lib/history.sql >/dev/null
    # The last minutes live, through the app as visitors arrive.
    "$VISITORS_BIN" simulate --url "$DASHBOARD_URL/" --rate 10 --duration 3 >/dev/null
}

# screenshot URL WIDTH HEIGHT OUTPUT.png: the page in a WIDTH x HEIGHT
# viewport. Headless Chromium's User-Agent says "HeadlessChrome", which the
# counter records as a bot visit: the picture does not count itself as a
# visitor. The flags keep Chromium off the network (no background requests,
# updates or sync) and quiet; as root it needs --no-sandbox.
screenshot() {
    local url=$1 width=$2 height=$3 output=$4
    chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$DASHBOARD_WORK/chromium-$width" \
        --hide-scrollbars --window-size="$width,$height" --screenshot="$output" "$url" 2>/dev/null
}

# take_screenshots DIR [RANGE]: DIR/screenshot.png at 1280 px wide and
# DIR/screenshot-phone.png at 390 px, of the RANGE view (24h by default).
take_screenshots() {
    local dir=$1 page="$DASHBOARD_URL/?range=${2:-24h}"
    screenshot "$page" 1280 1240 "$dir/screenshot.png"
    screenshot "$page" 390 900 "$dir/screenshot-phone.png"
}

# The flags the browser test passes to Chromium, the same as above.
# shellcheck disable=SC2034
CHROMIUM_FLAGS="--no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update --disable-sync"
