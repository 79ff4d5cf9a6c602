#!/usr/bin/env bash
# Lints the ops files the way `make test` does: Dockerfile (hadolint,
# checkov), compose file (Compose Specification schema, and Compose v2
# itself), nginx configuration (`nginx -t` on the shipped template) and the
# shell scripts (shellcheck). Installs what it needs: the pinned Python tools
# of requirements-lint.txt into target/lint-venv, nginx and shellcheck with
# apt (as root). Also terraform/ (both deployments): see
# scripts/check_terraform.py and checkov.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/tools.sh

ensure_venv "$LINT_VENV" requirements-lint.txt
ensure_venv "$TERRAFORM_VENV" requirements-terraform.txt
ensure_apt_tools nginx:nginx-light shellcheck:shellcheck promtool:prometheus openssl:openssl curl:curl

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

echo "--- nginx -t with nginx/tls/ (HTTPS on the Terraform host), throwaway certificate"
tls="$work/tls"
python3 scripts/render_nginx.py "$tls" \
    NGINX_LISTEN_PORT=80 NGINX_APP_UPSTREAM=app:8000 NGINX_RESOLVER=127.0.0.11 NGINX_RATE_LIMIT=10r/s NGINX_RATE_BURST=20
# Where the host mounts them: server.d/ and letsencrypt/, relative to the
# configuration directory.
mkdir -p "$tls/server.d" "$tls/letsencrypt/live/visitors"
cp nginx/tls/*.conf "$tls/server.d/"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=visitors.test \
    -keyout "$tls/letsencrypt/live/visitors/privkey.pem" \
    -out "$tls/letsencrypt/live/visitors/fullchain.pem" 2>/dev/null
nginx -t -q -p "$tls" -c "$tls/nginx.conf" >/dev/null
grep -q 'include server.d/\*.conf;' "$tls/conf.d/default.conf" ||
    { echo "default.conf.template no longer includes server.d/*.conf: nginx/tls/ would not apply" >&2; exit 1; }
echo "--- nginx/tls/ at work: redirect to HTTPS except the ACME challenge and /lb-health, HSTS, no TLS 1.1"
# The same configuration on free ports, started for a moment.
read -r http_port https_port < <(python3 -c 'import socket
ports = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ports.append(s)
print(*[s.getsockname()[1] for s in ports])')
live="$work/tls-live"
cp -r "$tls" "$live"
sed -i "s/listen 80;/listen 127.0.0.1:$http_port;/" "$live/conf.d/default.conf"
sed -i "s/listen 443 ssl;/listen 127.0.0.1:$https_port ssl;/" "$live/server.d/https.conf"
sed -i "s|$tls|$live|g" "$live/nginx.conf"
nginx -p "$live" -c "$live/nginx.conf" >/dev/null 2>&1 &
nginx_pid=$!
trap 'kill "$nginx_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$http_port/lb-health" && break
    sleep 0.1
done
expect() {
    local what=$1 want=$2 got
    shift 2
    got=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$@" || echo "failed")
    [[ $got == "$want"* ]] || { echo "nginx/tls/: $what: expected $want, got $got" >&2; exit 1; }
}
expect "plain HTTP page" "301 https://visitors.test/?x=1" -H "Host: visitors.test" "http://127.0.0.1:$http_port/?x=1"
expect "ACME challenge over HTTP" "404" "http://127.0.0.1:$http_port/.well-known/acme-challenge/token"
expect "/lb-health over HTTP" "200" "http://127.0.0.1:$http_port/lb-health"
expect "/lb-health over HTTPS" "200" -k "https://127.0.0.1:$https_port/lb-health"
expect "TLS 1.1" "000" -k --tlsv1.1 --tls-max 1.1 "https://127.0.0.1:$https_port/lb-health"
headers=$(curl -sk -D - -o /dev/null "https://127.0.0.1:$https_port/lb-health")
grep -qi '^strict-transport-security: max-age=' <<<"$headers" ||
    { echo "nginx/tls/: no HSTS header over HTTPS" >&2; exit 1; }
kill "$nginx_pid"
wait "$nginx_pid" 2>/dev/null || true

echo "--- terraform/ and terraform/ha/: parse, fmt, bootstrap templates (then shellcheck them), README inputs, rules"
"$TERRAFORM_VENV/bin/python" scripts/check_terraform.py terraform "$work/terraform" --self-test
echo "--- the single host's compose override (HTTP, then HTTPS) merges with docker-compose.yml"
for https in no yes; do
    # write_override from the rendered bootstrap, with the values it sets.
    (
        # shellcheck disable=SC2034 # read by write_override
        APP_DIR="$work" DATA_MOUNT=/srv/visitors DATA_DIR=/srv/visitors/pgdata DOMAIN=visitors.example.org \
            ACME_WEBROOT=/var/www/certbot LETSENCRYPT_DIR=/srv/visitors/letsencrypt
        eval "$(sed -n '/^write_override() {$/,/^}$/p' "$work/terraform/terraform-user-data.sh")"
        write_override "$https"
    )
    "$(compose_binary)" -f docker-compose.yml -f "$work/docker-compose.override.yml" config -q
    if [[ $https == yes ]]; then
        merged=$("$(compose_binary)" -f docker-compose.yml -f "$work/docker-compose.override.yml" config)
        grep -q 'target: /etc/nginx/server.d/https.conf' <<<"$merged" ||
            { echo "the HTTPS override does not mount nginx/tls/https.conf" >&2; exit 1; }
    fi
done
echo "--- checkov (terraform: both deployments and their modules)"
"$LINT_VENV/bin/checkov" -d terraform --framework terraform --skip-download --quiet --compact

echo "--- Markdown links"
mapfile -t markdown < <(git ls-files --cached --others --exclude-standard '*.md')
python3 scripts/check_links.py "${markdown[@]}"

echo "--- CHANGELOG.md names every migration and release"
python3 scripts/check_changelog.py

echo "--- the script: terser's output of assets/script/visitors.js, at most 1 024 bytes gzipped"
scripts/minify-script.sh --check

echo "--- no build or coverage artefact is tracked"
artefacts=$(git ls-files -- '*.profraw' '*.profdata' 'target/*')
if [[ -n $artefacts ]]; then
    echo "tracked artefacts (delete them; .gitignore keeps them out): $artefacts" >&2
    exit 1
fi

echo "--- shellcheck"
shellcheck -x .ci/run scripts/*.sh scripts/lib/*.sh bench/*.sh docker/stand-ins/*.sh "$work"/terraform/*-user-data.sh
