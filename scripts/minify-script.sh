#!/usr/bin/env bash
# The served script, assets/script/visitors.min.js, made from the readable
# assets/script/visitors.js by terser (pinned in assets/script/package-lock.json).
#   scripts/minify-script.sh          writes it
#   scripts/minify-script.sh --check  fails when it differs from what terser
#                                     makes now, or is over 1 024 bytes gzipped
#                                     (the test command runs this)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/tools.sh

MAX_GZIPPED=1024
dir=assets/script
ensure_apt_tools node:nodejs npm:npm
if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"; then
    echo "--- installing $dir/package-lock.json"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
fi
minified=$(mktemp)
trap 'rm -f "$minified"' EXIT
"$dir/node_modules/.bin/terser" "$dir/visitors.js" --compress passes=3 --mangle --toplevel -o "$minified"
if [[ ${1:-} == --check ]]; then
    if ! cmp -s "$minified" "$dir/visitors.min.js"; then
        echo "$dir/visitors.min.js is not terser's output of $dir/visitors.js: run scripts/minify-script.sh" >&2
        exit 1
    fi
else
    cp "$minified" "$dir/visitors.min.js"
fi
gzipped=$(gzip -9 -c "$dir/visitors.min.js" | wc -c)
echo "--- the script: $(wc -c <"$dir/visitors.min.js") bytes, $gzipped bytes gzipped (at most $MAX_GZIPPED)"
if ((gzipped > MAX_GZIPPED)); then
    echo "$dir/visitors.min.js is over $MAX_GZIPPED bytes gzipped" >&2
    exit 1
fi
