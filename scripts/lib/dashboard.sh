# shellcheck shell=bash
# The dashboard as the README's pictures and the browser test see it: a
# throwaway PostgreSQL, the release app, a week of history filled in bulk
# (scripts/lib/history.sql: the instance's own page and a site, example.org)
# and a little live simulated traffic on top; and headless Chromium to
# photograph it. Sourced by scripts/screenshot.sh and
# scripts/browser-test.sh, with scripts/lib/postgres.sh and bench/lib.sh.

# ensure_chromium: Debian's Chromium and a font, installed with apt if missing.
ensure_chromium() {
    # A text font, and the emoji font for the Countries panel's flags.
    if ! command -v chromium >/dev/null || [[ ! -d /usr/share/fonts/truetype/dejavu ]] ||
        [[ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]]; then
        apt_install chromium fonts-dejavu-core fonts-noto-color-emoji
    fi
}

# ensure_browser_modules: node, npm and playwright-core (pinned by
# tests/browser/package-lock.json) in tests/browser/node_modules.
ensure_browser_modules() {
    local modules=tests/browser/node_modules
    ensure_apt_tools node:nodejs npm:npm
    if ! cmp -s tests/browser/package-lock.json "$modules/.package-lock.json.installed"; then
        echo "--- installing tests/browser/package-lock.json"
        (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
        cp tests/browser/package-lock.json "$modules/.package-lock.json.installed"
    fi
}

# start_dashboard NAME: everything above, stopped when the script exits. The
# dashboard's base URL is in DASHBOARD_URL, its database's in
# DASHBOARD_DATABASE_URL, a scratch directory in DASHBOARD_WORK.
DASHBOARD_URL=
DASHBOARD_DATABASE_URL=
DASHBOARD_WORK=
start_dashboard() {
    local name=$1 url
    ensure_postgres_binaries
    ensure_chromium
    build_app
    start_throwaway_cluster "$name"
    DASHBOARD_WORK=$CLUSTER_DIR
    url="postgres://postgres@127.0.0.1:$CLUSTER_PORT/postgres"
    # shellcheck disable=SC2034 # read by scripts/browser-test.sh
    DASHBOARD_DATABASE_URL=$url
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

# screenshot URL WIDTH HEIGHT OUTPUT.png [CHROMIUM_FLAG...]: the page in a
# WIDTH x HEIGHT viewport. Headless Chromium's User-Agent says
# "HeadlessChrome", which the counter records as a bot visit: the picture
# does not count itself as a visitor. The flags keep Chromium off the
# network (no background requests, updates or sync) and quiet; as root it
# needs --no-sandbox.
screenshot() {
    local url=$1 width=$2 height=$3 output=$4
    shift 4
    chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$DASHBOARD_WORK/chromium-$width" \
        --hide-scrollbars --window-size="$width,$height" "$@" --screenshot="$output" "$url" 2>/dev/null
}

# Three of example.org's badges, as a README shows them: all-time visitors
# (the default), this week's visits (flat-square) and one page's readers.
BADGE_QUERIES=(
    ""
    "?metric=visits&range=7d&style=flat-square&label=visits%20this%20week"
    "?p=/blog/exact-unique-visitors&label=readers"
)

# take_badges DIR: DIR/badge.svg, example.org's default badge as the app
# draws it, and DIR/badges.png, the three badges above side by side at twice
# the pixel density (they are small, and read on sharp screens). The page
# holds the badges as data: URLs, each its own SVG document (inline, their
# ids would clash), so the picture is of what curl received and Chromium
# fetches nothing.
take_badges() {
    local dir=$1 page="$DASHBOARD_WORK/badges.html" query svg images=
    curl -fsS -o "$dir/badge.svg" "$DASHBOARD_URL/badge/example.org.svg"
    for query in "${BADGE_QUERIES[@]}"; do
        svg=$(curl -fsS "$DASHBOARD_URL/badge/example.org.svg$query" | base64 -w0)
        images+="<img src=\"data:image/svg+xml;base64,$svg\" alt=\"\">"
    done
    cat >"$page" <<HTML
<!doctype html>
<style>body { margin: 8px; background: #fff; display: flex; gap: 8px; }</style>
$images
HTML
    screenshot "file://$page" 400 36 "$dir/badges.png" --force-device-scale-factor=2
}

# take_account_screenshots DIR: DIR/screenshot-sites.png and
# DIR/screenshot-site-settings.png ("Your sites" and example.org's settings
# page) at 1280 px, and their -phone.png at 390 px, signed in as an owner of
# example.org made with `visitors users add`
# (tests/browser/account-screenshots.mjs).
take_account_screenshots() {
    local dir email=ada@example.org password="a long enough password"
    dir=$(realpath "$1")
    printf '%s\n' "$password" |
        DATABASE_URL=$DASHBOARD_DATABASE_URL "$VISITORS_BIN" users add "$email" >/dev/null
    "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$CLUSTER_PORT" -U postgres -c \
        "INSERT INTO site_members (site_id, user_id, role) SELECT s.id, u.id, 'owner'
         FROM sites s, users u WHERE s.domain = 'example.org' AND u.email = '$email'" >/dev/null
    (cd tests/browser && CHROMIUM_FLAGS=$CHROMIUM_FLAGS node account-screenshots.mjs \
        "$DASHBOARD_URL" "$dir" "$email" "$password")
}

# take_screenshots DIR [RANGE]: DIR/screenshot.png at 1280 px wide and
# DIR/screenshot-phone.png at 390 px, of the RANGE view (24h by default);
# DIR/screenshot-site.png, example.org's dashboard at 1280 px, and
# DIR/screenshot-site-phone.png, its panels at 390 px;
# DIR/screenshot-filtered(-phone).png, the same filtered to one page and
# one country; the badges (take_badges) and the pages behind sign-in
# (take_account_screenshots).
take_screenshots() {
    local dir=$1 range=${2:-24h}
    local site="$DASHBOARD_URL/sites/example.org?range=$range"
    local filtered="$site&f=page:/blog/exact-unique-visitors&f=country:DE"
    screenshot "$DASHBOARD_URL/?range=$range" 1280 1400 "$dir/screenshot.png"
    screenshot "$DASHBOARD_URL/?range=$range" 390 900 "$dir/screenshot-phone.png"
    screenshot "$site" 1280 2000 "$dir/screenshot-site.png"
    screenshot "$site" 390 3400 "$dir/screenshot-site-phone.png"
    screenshot "$filtered" 1280 1100 "$dir/screenshot-filtered.png"
    screenshot "$filtered" 390 1500 "$dir/screenshot-filtered-phone.png"
    take_badges "$dir"
    take_account_screenshots "$dir"
}

# The flags the browser test passes to Chromium, the same as above.
# shellcheck disable=SC2034
CHROMIUM_FLAGS="--no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update --disable-sync"
