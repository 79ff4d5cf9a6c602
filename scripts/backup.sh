#!/usr/bin/env bash
# Backs up the compose stack's database while it runs (`make backup`): one
# `pg_dump -Fc` inside the db container (a consistent snapshot; visits keep
# being counted meanwhile), written to FILE, by default
# backups/visitors-<UTC time>.dump, through a .partial file that becomes
# FILE only once it is complete and pg_restore can read it.
#   scripts/backup.sh [FILE]
# COMPOSE is the compose command, default `docker compose` (e.g.
# COMPOSE="docker compose -p other-project" for another stack).
# $POSTGRES_USER and $POSTGRES_DB in single quotes are the db container's own.
# shellcheck disable=SC2016
set -euo pipefail
target=${1:-backups/visitors-$(date -u +%Y%m%dT%H%M%SZ).dump}
# FILE is relative to where the command was run, not to the checkout.
target=$(realpath -m -- "$target")
cd "$(dirname "$0")/.."
read -r -a compose <<<"${COMPOSE:-docker compose}"

mkdir -p "$(dirname "$target")"
partial=$target.partial
trap 'rm -f "$partial"' EXIT

"${compose[@]}" exec -T db sh -c 'exec pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Fc' >"$partial"
if [[ $(head -c 5 "$partial") != PGDMP ]]; then
    echo "backup: pg_dump wrote no custom-format archive; nothing saved" >&2
    exit 1
fi
entries=$("${compose[@]}" exec -T db pg_restore --list <"$partial" | grep -c 'TABLE DATA' || true)
if [[ $entries -eq 0 ]]; then
    echo "backup: the archive holds no table data; nothing saved" >&2
    exit 1
fi
mv "$partial" "$target"
echo "backup: $target ($(du -h "$target" | cut -f1), $entries tables)"
