#!/usr/bin/env bash
# The test suite, run once, instrumented by cargo-llvm-cov (`make coverage`,
# and the core of `make test`): every Rust test against a real PostgreSQL,
# then the stack benchmark and the pixel benchmark for one second per
# scenario on the same instrumented debug build (it proves the benchmarks
# run, not how fast, and their processes add to the coverage), the fault
# suite (scripts/test-faults.sh), the upgrade from every release
# (scripts/test-upgrade.sh) and the browser test
# (scripts/browser-test.sh) on that build too. Writes target/coverage/cobertura.xml
# (GitLab's coverage report), a summary, and a "Line coverage: N%" line for
# the pipeline's `coverage:` regex; fails below 80 % of lines.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/test-env.sh

CARGO_LLVM_COV_VERSION=0.9.1
COVERAGE_FLOOR=80

prepare_test_environment

# LLVM tools matching rustc's LLVM: rustup's component when it can be
# fetched (cargo-llvm-cov finds it), else Debian's llvm-<major>.
if [[ -z ${LLVM_COV:-} ]] && ! rustup component add llvm-tools-preview >/dev/null 2>&1; then
    llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
    ensure_apt_tools "llvm-profdata-$llvm:llvm-$llvm"
    export LLVM_COV=/usr/lib/llvm-$llvm/bin/llvm-cov
    export LLVM_PROFDATA=/usr/lib/llvm-$llvm/bin/llvm-profdata
fi
if [[ $(cargo llvm-cov --version 2>/dev/null) != "cargo-llvm-cov $CARGO_LLVM_COV_VERSION" ]]; then
    echo "--- installing cargo-llvm-cov $CARGO_LLVM_COV_VERSION"
    cargo install --locked --quiet cargo-llvm-cov --version "$CARGO_LLVM_COV_VERSION"
fi

# The instrumentation settings (RUSTFLAGS, LLVM_PROFILE_FILE, its own target
# directory) for plain cargo commands and the processes they start.
# shellcheck source=/dev/null
source <(cargo llvm-cov show-env --sh)
cargo llvm-cov clean --workspace
echo "--- cargo test (instrumented)"
cargo test --locked

echo "--- bench/stack.sh, 1 s per scenario, on the instrumented debug build"
smoke_report=$(mktemp)
on_exit "rm -f '$smoke_report'"
cp docs/performance.md "$smoke_report"
VISITORS_BIN="${CARGO_TARGET_DIR:-target}/debug/visitors" BENCH_WARMUP=1 \
    bench/stack.sh 1 "$smoke_report" >/dev/null
grep -q "GET / new visitors | nginx" "$smoke_report"
# bench/sitting.sh's comparison, over that run's results under two labels.
python3 bench/sitting_report.py "$smoke_report" one=target/bench/stack.jsonl other=target/bench/stack.jsonl
grep -q "one visitor ≥ 80 % of new-visitor requests/s, nginx | .* | .* |" "$smoke_report"

echo "--- bench/pixel.sh, 1 s per run, on the instrumented debug build"
VISITORS_BIN="${CARGO_TARGET_DIR:-target}/debug/visitors" BENCH_WARMUP=1 \
    bench/pixel.sh 1 "$smoke_report" >/dev/null
grep -q "GET /pixel/site-1.example.gif?p=/x. new visitors | fixed rate (open loop)" "$smoke_report"
grep -q "new visitors (the script) | fixed rate (open loop)" "$smoke_report"
# bench/sitting.sh's pixel comparison, over that run's results under two labels.
python3 bench/pixel_report.py --sitting "$smoke_report" before=target/bench/pixel.jsonl after=target/bench/pixel.jsonl
grep -q "after / before at saturation" "$smoke_report"

echo "--- the fault suite (scripts/test-faults.sh), on the same build, into a scratch copy of docs/operations.md"
faults_report=$(mktemp)
on_exit "rm -f '$faults_report'"
cp docs/operations.md "$faults_report"
VISITORS_BIN="${CARGO_TARGET_DIR:-target}/debug/visitors" REPORT="$faults_report" \
    scripts/test-faults.sh
grep -q "| a replica SIGTERMed while PostgreSQL is frozen for 2 s |" "$faults_report"

echo "--- the upgrade from every release (scripts/test-upgrade.sh), to the same build"
VISITORS_BIN="${CARGO_TARGET_DIR:-target}/debug/visitors" scripts/test-upgrade.sh

echo "--- the dashboard in real Chromium, on the same build"
VISITORS_BIN="${CARGO_TARGET_DIR:-target}/debug/visitors" scripts/browser-test.sh

mkdir -p target/coverage
cargo llvm-cov report --cobertura --output-path target/coverage/cobertura.xml
cargo llvm-cov report --summary-only | tee target/coverage/summary.txt
# One line for GitLab's `coverage:` regex.
cargo llvm-cov report --json --summary-only --output-path target/coverage/summary.json
python3 - <<'PY'
import json

lines = json.load(open("target/coverage/summary.json"))["data"][0]["totals"]["lines"]
print(f"Line coverage: {lines['percent']:.2f}% ({lines['covered']} of {lines['count']} lines)")
PY
cargo llvm-cov report --fail-under-lines "$COVERAGE_FLOOR" >/dev/null
