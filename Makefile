# Every CI job calls one of these targets, so a developer runs the same thing.
.PHONY: run test build

## run: the app on http://127.0.0.1:8000 with a local PostgreSQL in .data/
run:
	scripts/run.sh

## test: fmt, clippy and all tests against a real (throwaway) PostgreSQL
test:
	scripts/test.sh

## build: the release binary
build:
	cargo build --release --locked
