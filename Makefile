# Every CI job calls one of these targets, so a developer runs the same thing.
.PHONY: run test test-compose test-faults test-upgrade lint lint-ops coverage build image deploy screenshot bench bench-sitting bench-dashboard bench-explore bench-prune bench-pixel

## run: the app on http://127.0.0.1:8000 with a local PostgreSQL in .data/
run:
	scripts/run.sh

## test: fmt, clippy and all tests against a real (throwaway) PostgreSQL
test:
	scripts/test.sh

## test-compose: the stack in real containers (Docker engine, stand-in images when offline), checks 1-12
test-compose:
	scripts/test-compose.sh

## test-faults: PostgreSQL frozen and restarted, replicas killed, batches failed, under load through nginx; the table goes into docs/operations.md
test-faults:
	scripts/test-faults.sh

## test-upgrade: from every release in releases.txt to this build: every number its API shows kept, new visits added, its pre-upgrade backup restored
test-upgrade:
	scripts/test-upgrade.sh

## build: the release binary
build:
	cargo build --release --locked

## lint: cargo fmt --check and clippy with warnings as errors
lint:
	scripts/lint-rust.sh

## lint-ops: Dockerfile, compose file, nginx, terraform (offline), shell scripts
lint-ops:
	scripts/lint-ops.sh

## coverage: the test suite once, instrumented, with the coverage floor (target/coverage/)
coverage:
	scripts/coverage.sh

## image: build and push the image (IMAGE, BUILD_NUMBER, VCS_REF)
image:
	scripts/build-image.sh

## deploy: rolling deploy of DEPLOY_IMAGE to the Terraform host (see the script)
deploy:
	scripts/deploy.sh

## screenshot: docs/screenshot.png (1280 px) and docs/screenshot-phone.png (390 px) of a dashboard with a week of history, docs/screenshot-site(-phone).png of a site's, docs/screenshot-sites(-phone).png and docs/screenshot-site-settings(-phone).png of the pages behind sign-in, docs/badge.svg and docs/badges.png of its badges (headless Chromium)
screenshot:
	scripts/screenshot.sh

.PHONY: test-browser
## test-browser: the dashboard in real Chromium at phone and desktop widths, a site's pixel and badge on a page of another origin, and a screenshot smoke run
test-browser:
	scripts/browser-test.sh

.PHONY: backup restore
## backup: the compose stack's database, while it runs, to backups/visitors-<UTC time>.dump (or FILE=…)
backup:
	scripts/backup.sh $(FILE)

## restore: FILE=… (a backup) into the compose stack's database, replacing it; the replicas stop meanwhile
restore:
	scripts/restore.sh "$(FILE)"

## bench: the whole stack (PostgreSQL, 3 replicas, nginx) under load, next to its ceilings
bench:
	bench/stack.sh

## bench-sitting: bench/stack.sh for several builds in one sitting, compared in docs/performance.md (BINARIES="before=PATH after=PATH"; STACK_ROUTES=direct leaves nginx out, for a bisect)
bench-sitting:
	bench/sitting.sh 15 docs/performance.md $(BINARIES)

## bench-dashboard: a site's dashboard latency at 10 thousand and 10 million visits over 100 sites
bench-dashboard:
	bench/dashboard.sh

## bench-explore: one big site's dashboard, unfiltered and filtered, uncached, at 4 and 40 million page views
bench-explore:
	bench/explore.sh

## bench-prune: time to prune a million raw visits past RAW_VISITS_RETENTION_DAYS (visitors prune)
bench-prune:
	bench/prune.sh

## bench-pixel: the pixel next to GET / through nginx, saturated and at a fixed rate of half the maximum
bench-pixel:
	bench/pixel.sh
