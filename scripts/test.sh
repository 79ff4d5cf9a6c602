#!/usr/bin/env bash
# The test command (`make test`): lint the code, the ops files and the
# pipeline, run every test against a real PostgreSQL, run the stack
# benchmark for one second per scenario on the debug build (to prove it runs,
# not to measure), then measure line coverage (`make coverage`, which runs the
# tests again, instrumented). Uses $DATABASE_URL when set;
# otherwise starts a throwaway cluster and stops it on every exit path.
# Installs what is missing when run as root: with apt PostgreSQL, nginx,
# dnsmasq and shellcheck; the pinned Python linters into target/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/test-env.sh

prepare_test_environment
scripts/lint-rust.sh
scripts/lint-ops.sh
scripts/check-pipeline.sh
echo "--- cargo test"
cargo test --locked
scripts/test-compose.sh
echo "--- bench/stack.sh, 1 s per scenario, debug build"
smoke_report=$(mktemp)
on_exit "rm -f '$smoke_report'"
cp docs/performance.md "$smoke_report"
VISITORS_BIN=target/debug/visitors BENCH_WARMUP=1 bench/stack.sh 1 "$smoke_report" >/dev/null
grep -q "GET / new visitors | nginx" "$smoke_report"
# The pipeline measures coverage in a job of its own.
if [[ ${SKIP_COVERAGE:-} != 1 ]]; then
    scripts/coverage.sh
fi
