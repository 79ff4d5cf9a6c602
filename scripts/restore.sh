#!/usr/bin/env bash
# Restores a backup of scripts/backup.sh into the compose stack's database,
# REPLACING what it holds (`make restore FILE=…`). It starts db if needed,
# stops the app replicas (so that no visit lands halfway; nginx answers
# 502 meanwhile), drops and recreates the database, runs `pg_restore` in
# one transaction, and starts again the replicas it stopped. The restored
# schema carries its migration history, so the replicas migrate only what
# is newer than the backup. On a fresh stack: `docker compose up -d db`,
# restore, then `docker compose up -d`.
#   scripts/restore.sh FILE
# COMPOSE is the compose command, as for scripts/backup.sh.
# $POSTGRES_USER and $POSTGRES_DB in single quotes are the db container's own.
# shellcheck disable=SC2016
set -euo pipefail
if [[ $# -ne 1 ]]; then
    echo "usage: scripts/restore.sh FILE (a backup made by scripts/backup.sh)" >&2
    exit 2
fi
source=$(realpath -- "$1")
if [[ $(head -c 5 "$source") != PGDMP ]]; then
    echo "restore: $1 is not a pg_dump custom-format archive; nothing changed" >&2
    exit 1
fi
cd "$(dirname "$0")/.."
read -r -a compose <<<"${COMPOSE:-docker compose}"

"${compose[@]}" up -d --wait db >/dev/null
"${compose[@]}" exec -T db pg_restore --list <"$source" >/dev/null ||
    { echo "restore: pg_restore cannot read $1; nothing changed" >&2; exit 1; }

running=$("${compose[@]}" ps -q app)
if [[ -n $running ]]; then
    echo "restore: stopping the app replicas"
    "${compose[@]}" stop app >/dev/null
fi
"${compose[@]}" exec -T db sh -c \
    'dropdb -U "$POSTGRES_USER" --if-exists --force "$POSTGRES_DB" && createdb -U "$POSTGRES_USER" "$POSTGRES_DB"'
if ! "${compose[@]}" exec -T db sh -c \
    'exec pg_restore -U "$POSTGRES_USER" -d "$POSTGRES_DB" --no-owner --exit-on-error --single-transaction' <"$source"; then
    echo "restore: pg_restore failed: the database is empty and the replicas stay stopped" >&2
    exit 1
fi
visits=$("${compose[@]}" exec -T db sh -c 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAX -c "SELECT coalesce(sum(visits + bot_visits), 0) FROM visit_totals"')
echo "restore: $1 restored ($visits visits in all)"
if [[ -n $running ]]; then
    echo "restore: starting the app replicas again"
    "${compose[@]}" start app >/dev/null
fi
