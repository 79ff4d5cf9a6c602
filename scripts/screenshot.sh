#!/usr/bin/env bash
# Takes the README's pictures, docs/screenshot.png (1280 px wide) and
# docs/screenshot-phone.png (390 px): a throwaway PostgreSQL, the release
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

start_dashboard shot
take_screenshots "$dir" "$range"
echo "--- wrote $dir/screenshot.png and $dir/screenshot-phone.png"
