#!/usr/bin/env bash
# The test command (`make test`, what CI runs): lint the code, the ops files
# and the pipeline once, then the test suite once, instrumented for coverage
# (scripts/coverage.sh: every test against a real PostgreSQL, the stack
# benchmark's smoke run, the browser test, the 80 % floor), then the stack
# on a real Docker engine (scripts/test-compose.sh). Uses $DATABASE_URL when set;
# otherwise starts a throwaway cluster and stops it on every exit path.
# Installs what is missing when run as root: with apt PostgreSQL, nginx,
# dnsmasq and shellcheck; the pinned Python linters into target/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/lint-rust.sh
scripts/lint-ops.sh
scripts/check-pipeline.sh
scripts/coverage.sh
scripts/test-compose.sh
