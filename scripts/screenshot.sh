#!/usr/bin/env bash
# Takes the README's pictures, docs/screenshot.png (1280 px wide) and
# docs/screenshot-phone.png (390 px) of the instance's dashboard,
# docs/screenshot-site.png (1280 px) and docs/screenshot-site-phone.png
# (390 px) of a site's, docs/screenshot-filtered(-phone).png of the same
# filtered to a page and a country, a site's badges, docs/badge.svg and docs/badges.png,
# and the pages behind sign-in, docs/screenshot-sites(-phone).png and
# docs/screenshot-site-settings(-phone).png: a throwaway PostgreSQL, the release
# build, a week of history and a little live traffic (scripts/lib/dashboard.sh),
# then headless Chromium (Debian's `chromium`, installed with apt when missing
# and run as root).
#   scripts/screenshot.sh [OUTPUT_DIR] [RANGE]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
source scripts/lib/dashboard.sh
dir=${1:-docs}
range=${2:-24h}

ensure_browser_modules
start_dashboard shot
take_screenshots "$dir" "$range"
echo "--- wrote $dir/screenshot{,-phone}.png, $dir/screenshot-site{,-phone}.png, $dir/screenshot-filtered{,-phone}.png, $dir/screenshot-sites{,-phone}.png, $dir/screenshot-site-settings{,-phone}.png, $dir/badge.svg and $dir/badges.png"
