#!/bin/bash
# Entrypoint of the nginx stand-in (nginx.Dockerfile): the official image's
# template mechanism (its 20-envsubst-on-templates.sh), then the command.
set -euo pipefail

templates=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
output=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
# Only variables set in the environment are replaced: nginx's own $host,
# $remote_addr... stay as they are.
mapfile -t names < <(compgen -e)
# shellcheck disable=SC2016
defined=$(printf '${%s} ' "${names[@]}")
if [[ -d $templates ]]; then
    for template in "$templates"/*"$suffix"; do
        [[ -f $template ]] || continue
        target=$output/$(basename "$template" "$suffix")
        echo "$0: rendering $template to $target"
        envsubst "$defined" <"$template" >"$target"
    done
fi
exec "$@"
