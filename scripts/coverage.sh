#!/usr/bin/env bash
# Line coverage of the whole test suite (`make coverage`) with cargo-llvm-cov:
# target/coverage/cobertura.xml (GitLab's coverage report), a summary, and a
# "Line coverage: N%" line for the pipeline's `coverage:` regex; fails below
# 80 % of lines. Same environment as `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/test-env.sh

CARGO_LLVM_COV_VERSION=0.9.1

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

mkdir -p target/coverage
cargo llvm-cov clean --workspace
echo "--- cargo llvm-cov (the test suite, instrumented)"
cargo llvm-cov --locked --no-report
cargo llvm-cov report --cobertura --output-path target/coverage/cobertura.xml
cargo llvm-cov report --summary-only | tee target/coverage/summary.txt
# One line for GitLab's `coverage:` regex, and the project's floor of 80 %.
cargo llvm-cov report --json --summary-only --output-path target/coverage/summary.json
python3 - <<'PY'
import json
import sys

lines = json.load(open("target/coverage/summary.json"))["data"][0]["totals"]["lines"]
print(f"Line coverage: {lines['percent']:.2f}% ({lines['covered']} of {lines['count']} lines)")
if lines["percent"] < 80:
    sys.exit("line coverage is below the 80 % target")
PY
