#!/usr/bin/env bash
# Lints the ops files the way `make test` does: Dockerfile (hadolint,
# checkov), compose file (Compose Specification schema, and Compose v2
# itself), nginx configuration (`nginx -t` on the shipped template) and the
# shell scripts (shellcheck). Installs what it needs: the pinned Python tools
# of requirements-lint.txt into target/lint-venv, nginx and shellcheck with
# apt (as root). Also terraform/: see scripts/check_terraform.py and checkov.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/tools.sh

ensure_venv "$LINT_VENV" requirements-lint.txt
ensure_venv "$TERRAFORM_VENV" requirements-terraform.txt
ensure_apt_tools nginx:nginx-light shellcheck:shellcheck promtool:prometheus

echo "--- hadolint Dockerfile"
"$LINT_VENV/bin/hadolint" --failure-threshold warning Dockerfile
echo "--- checkov (dockerfile)"
"$LINT_VENV/bin/checkov" -f Dockerfile --framework dockerfile --skip-download --quiet --compact

echo "--- docker-compose.yml against the Compose Specification"
"$LINT_VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
echo "--- .env.example lists every variable of docker-compose.yml"
python3 scripts/check_env_example.py docker-compose.yml .env.example
echo "--- docker-compose.yml through Compose v2 (config -q)"
# The package's Python wrapper always exits 0: call the Go binary it ships.
"$(compose_binary)" -f docker-compose.yml config -q
for profile in $(sed -n 's/^ *profiles: *\[\(.*\)\]/\1/p' docker-compose.yml | tr -d ' "' | tr ',' '\n' | sort -u); do
    "$(compose_binary)" -f docker-compose.yml --profile "$profile" config -q
done
# The override of `make test-compose`'s restart check, merged as the test does.
"$(compose_binary)" -f docker-compose.yml -f docker/test/restart-loop.yml config -q

echo "--- promtool check config monitoring/prometheus.yml"
promtool check config monitoring/prometheus.yml

echo "--- nginx -t on nginx/templates/default.conf.template"
work=$(mktemp -d -t visitors-nginx.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 scripts/render_nginx.py "$work" \
    NGINX_LISTEN_PORT=80 NGINX_APP_UPSTREAM=app:8000 NGINX_RESOLVER=127.0.0.11 NGINX_RATE_LIMIT=10r/s NGINX_RATE_BURST=20
# The configuration logs to /dev/stdout, which nginx cannot open when stdout
# is a socket (as under gitlab-ci-local); the test only needs it openable.
nginx -t -q -p "$work" -c "$work/nginx.conf" >/dev/null

echo "--- terraform/: parse, fmt, bootstrap template (then shellcheck it)"
"$TERRAFORM_VENV/bin/python" scripts/check_terraform.py terraform "$work/user-data.sh"
echo "--- checkov (terraform)"
"$LINT_VENV/bin/checkov" -d terraform --framework terraform --skip-download --quiet --compact

echo "--- Markdown links"
mapfile -t markdown < <(git ls-files --cached --others --exclude-standard '*.md')
python3 scripts/check_links.py "${markdown[@]}"

echo "--- shellcheck"
shellcheck -x .ci/run scripts/*.sh scripts/lib/*.sh bench/*.sh docker/stand-ins/*.sh "$work/user-data.sh"
