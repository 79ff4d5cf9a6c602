#!/usr/bin/env bash
# The test command (`make test`): lint the code, the ops files and the
# pipeline, run every test against a real PostgreSQL, then measure line
# coverage (`make coverage`, which runs the tests again, instrumented). Uses $DATABASE_URL when set;
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
# The pipeline measures coverage in a job of its own.
if [[ ${SKIP_COVERAGE:-} != 1 ]]; then
    scripts/coverage.sh
fi
