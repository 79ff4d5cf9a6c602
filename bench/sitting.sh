#!/usr/bin/env bash
# Several builds of the app under one benchmark in one sitting: each binary
# once in the order given and once in the reverse order, so that a drift in
# the machine's load over the sitting weighs on all of them alike. BENCH
# names the benchmark: stack (the default, bench/stack.sh: the comparison
# goes into REPORT's "sitting" section, bench/sitting_report.py) or pixel
# (bench/pixel.sh: the comparison into "pixel-sitting",
# bench/pixel_report.py); the last binary's second run fills the
# benchmark's own section ("stack", "pixel"; "stack" only when STACK_ROUTES
# has both routes, see bench/lib.sh). Keeps every run's results in
# target/bench/sitting/.
# About 9 minutes per binary for stack, 6 for pixel, at the default 15 s
# per scenario.
#   [BENCH=pixel] bench/sitting.sh [SECONDS_PER_RUN] [REPORT] LABEL=BINARY...
# e.g. bench/sitting.sh 15 docs/performance.md before=/tmp/old/visitors after=target/release/visitors
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
seconds=${1:?seconds per run}
report=${2:?report}
shift 2
(($# >= 2)) || { echo "usage: $0 SECONDS REPORT LABEL=BINARY LABEL=BINARY..." >&2; exit 2; }
# Labels name files and columns: a word each, each once.
declare -A seen=()
for pair in "$@"; do
    label=${pair%%=*}
    [[ $pair == *=* && $label =~ ^[A-Za-z0-9_-]+$ && -x ${pair#*=} && -z ${seen[$label]:-} ]] ||
        { echo "$0: $pair is not LABEL=EXECUTABLE with a new one-word label" >&2; exit 2; }
    seen[$label]=1
done

bench=${BENCH:-stack}
[[ $bench == stack || $bench == pixel ]] || { echo "$0: BENCH is stack or pixel" >&2; exit 2; }
out=target/bench/sitting
rm -rf "$out"
mkdir -p "$out"
order=("$@")
for ((i = $# - 1; i >= 0; i--)); do
    order+=("${order[i]}")
done
scratch=$out/$bench.md
results=()
n=0
for pair in "${order[@]}"; do
    n=$((n + 1))
    label=${pair%%=*}
    echo "=== run $n of ${#order[@]}: $label, load average $(cut -d' ' -f1 /proc/loadavg)"
    printf '<!-- %s:start -->\n<!-- %s:end -->\n' "$bench" "$bench" >"$scratch"
    VISITORS_BIN=${pair#*=} "bench/$bench.sh" "$seconds" "$scratch" >"$out/$n-$label.log" 2>&1 ||
        { tail -20 "$out/$n-$label.log" >&2; exit 1; }
    cp "target/bench/$bench.jsonl" "$out/$n-$label.jsonl"
    results+=("$label=$out/$n-$label.jsonl")
done
# The last binary's second run (the first of the reverse order) fills the
# benchmark's own section.
last=${!#}
last_run=$out/$(($# + 1))-${last%%=*}.jsonl
if [[ $bench == pixel ]]; then
    python3 bench/pixel_report.py "$last_run" "$report"
    python3 bench/pixel_report.py --sitting "$report" "${results[@]}"
else
    # The stack section wants both routes; a bisect's direct runs only
    # compare the builds.
    if has_both_routes; then
        python3 bench/report.py stack "$last_run" "$report"
    fi
    python3 bench/sitting_report.py "$report" "${results[@]}"
fi
echo "--- $report updated"
