#!/usr/bin/env bash
# The dashboard in real Chromium (`make test-browser`, run by scripts/test.sh):
# the app set up as for the README's pictures (scripts/lib/dashboard.sh), the
# node tests in tests/browser/ (playwright-core, pinned by its lock file and
# installed into tests/browser/node_modules): the dashboard's layout, and a
# site's pixel and badge on a page of another origin; then `make
# screenshot`'s pictures into a scratch directory, which must be real PNGs
# (and an SVG).
# Installs Chromium, a font, node and npm with apt when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
# A debug build unless told otherwise: in the test command it costs far less
# than the release build (thin LTO), and the pages are the same.
VISITORS_BIN=${VISITORS_BIN:-target/debug/visitors}
source scripts/lib/postgres.sh
source bench/lib.sh
source scripts/lib/dashboard.sh

ensure_browser_modules

if [[ ! -x $VISITORS_BIN || $VISITORS_BIN == target/debug/visitors ]]; then
    cargo build --locked --quiet
fi
start_dashboard browser
echo "--- browser test against $DASHBOARD_URL"
# The site test adds its site with the binary, as an operator would.
bin=$(realpath "$VISITORS_BIN")
(cd tests/browser && DASHBOARD_URL=$DASHBOARD_URL CHROMIUM_FLAGS=$CHROMIUM_FLAGS \
    DATABASE_URL=$DASHBOARD_DATABASE_URL VISITORS_BIN=$bin node --test --test-reporter=spec)

echo "--- screenshot smoke run"
shots=$DASHBOARD_WORK/shots
mkdir -p "$shots"
take_screenshots "$shots"
# A page's picture is tens of kilobytes; the badges' a few.
for picture in screenshot.png:20000 screenshot-phone.png:20000 screenshot-site.png:20000 \
    screenshot-site-phone.png:20000 screenshot-sites.png:10000 screenshot-sites-phone.png:10000 \
    screenshot-site-settings.png:20000 screenshot-site-settings-phone.png:20000 \
    screenshot-filtered.png:20000 screenshot-filtered-phone.png:20000 badges.png:2000; do
    png=$shots/${picture%:*}
    size=$(stat -c %s "$png")
    if [[ $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') != 89504e470d0a1a0a || $size -lt ${picture#*:} ]]; then
        echo "$png is not a PNG of a page ($size bytes)" >&2
        exit 1
    fi
    echo "--- $png: $size bytes"
done
if ! grep -q 'role="img" aria-label="visitors: [0-9,]*"' "$shots/badge.svg"; then
    echo "$shots/badge.svg is not a visitors badge" >&2
    exit 1
fi
echo "--- $shots/badge.svg: $(stat -c %s "$shots/badge.svg") bytes"
