#!/usr/bin/env bash
# Formatting and clippy, warnings as errors (`make lint`).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "--- cargo fmt --check"
cargo fmt --all -- --check
echo "--- cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
