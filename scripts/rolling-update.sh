#!/usr/bin/env bash
# Runs on the host of the compose stack (scripts/deploy.sh sends it there):
# switches the app to IMAGE without taking the site down.
#   1. pull IMAGE;
#   2. back the database up (scripts/backup.sh, into backups/, the last
#      KEEP_BACKUPS kept): rolling back is restoring it with the image
#      before (docs/operations.md, "Rolling back an upgrade"); then point
#      the stack at IMAGE (APP_IMAGE in .env);
#   3. run `visitors migrate` with the new image, once, before any new replica;
#   4. replace the replicas one at a time: start one new replica, wait until
#      Docker reports it healthy, then stop one old replica. nginx keeps
#      sending traffic to the healthy ones and re-resolves the replicas every
#      10 s. If a new replica does not become healthy, it is removed and the
#      update stops, with the old replicas still serving.
#   IMAGE=registry.example.org/visitors:1.4.0-57 APP_DIR=/opt/visitors rolling-update.sh
set -euo pipefail

: "${IMAGE:?IMAGE, the image to deploy}"
APP_DIR=${APP_DIR:-/opt/visitors}
# Seconds to wait for a new replica to be healthy, and between two looks.
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-180}
HEALTH_POLL=${HEALTH_POLL:-2}
KEEP_BACKUPS=${KEEP_BACKUPS:-5}
cd "$APP_DIR"

log() {
    echo "rolling-update: $*"
}

app_containers() {
    docker compose ps --quiet app | sort
}

# wait_healthy ID: 0 once Docker says healthy, 1 if unhealthy or too slow.
wait_healthy() {
    local id=$1 deadline=$((SECONDS + HEALTH_TIMEOUT)) status
    while ((SECONDS < deadline)); do
        status=$(docker inspect --format '{{.State.Health.Status}}' "$id")
        case $status in
            healthy) return 0 ;;
            unhealthy) return 1 ;;
        esac
        sleep "$HEALTH_POLL"
    done
    return 1
}

log "pulling $IMAGE"
docker pull "$IMAGE"

# The image's tag, safe in a file name: which version the backup preceded.
tag=${IMAGE##*/}
backup="backups/pre-upgrade-$(date -u +%Y%m%dT%H%M%SZ)-${tag//[^A-Za-z0-9._-]/_}.dump"
log "backing up the database before migrating: $backup"
scripts/backup.sh "$backup"
mapfile -t outdated < <(find backups -maxdepth 1 -name 'pre-upgrade-*.dump' | sort -r | tail -n +$((KEEP_BACKUPS + 1)))
if ((${#outdated[@]} > 0)); then
    log "removing ${#outdated[@]} older pre-upgrade backups (KEEP_BACKUPS=$KEEP_BACKUPS)"
    rm -f -- "${outdated[@]}"
fi

# Only once the backup is there does the stack point at the new image.
if grep -q '^APP_IMAGE=' .env 2>/dev/null; then
    sed -i "s|^APP_IMAGE=.*|APP_IMAGE=$IMAGE|" .env
else
    echo "APP_IMAGE=$IMAGE" >>.env
fi

log "migrating the database with the new image"
docker compose run --rm --no-deps app migrate

mapfile -t old < <(app_containers)
replicas=${#old[@]}
if ((replicas == 0)); then
    log "no replica runs: starting the stack"
    docker compose up -d --no-build
    exit 0
fi

for id in "${old[@]}"; do
    before=$(app_containers)
    # One more replica: compose creates it from the new image and leaves the
    # running ones alone.
    docker compose up -d --no-deps --no-build --no-recreate --scale "app=$((replicas + 1))" app
    new=$(comm -13 <(echo "$before") <(app_containers) | head -n 1)
    if [[ -z $new ]]; then
        log "compose started no new replica"
        exit 1
    fi
    log "waiting for the new replica $new"
    if ! wait_healthy "$new"; then
        log "the new replica $new did not become healthy: removing it and stopping here"
        docker stop "$new" >/dev/null
        docker rm "$new" >/dev/null
        exit 1
    fi
    log "replacing $id"
    docker stop "$id" >/dev/null
    docker rm "$id" >/dev/null
done
log "done: $replicas replicas on $IMAGE"
