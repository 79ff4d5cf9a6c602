# Every CI job calls one of these targets, so a developer runs the same thing.
.PHONY: run test lint-ops build screenshot bench-dashboard

## run: the app on http://127.0.0.1:8000 with a local PostgreSQL in .data/
run:
	scripts/run.sh

## test: fmt, clippy and all tests against a real (throwaway) PostgreSQL
test:
	scripts/test.sh

## build: the release binary
build:
	cargo build --release --locked

## lint-ops: hadolint, checkov, compose validation, nginx -t, shellcheck
lint-ops:
	scripts/lint-ops.sh

## screenshot: docs/screenshot.png from a live dashboard (headless Chromium)
screenshot:
	scripts/screenshot.sh

## bench-dashboard: dashboard latency at 10 thousand and 10 million visits
bench-dashboard:
	bench/dashboard.sh
