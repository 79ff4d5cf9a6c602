#!/usr/bin/env bash
# The pixel next to the page, through nginx in front of three replicas, in
# one run (docs/performance.md, "The pixel next to the page"):
#   - the stack as bench/stack.sh starts it (PostgreSQL tuned as
#     docker-compose.yml tunes it, three replicas of the binary on
#     127.0.0.1-3 behind one name in dnsmasq, the project's nginx template
#     with its rate limit raised), and one public site, site-1.example; the
#     replicas look every client up in a country database that places the
#     loopback addresses in one country (bench/loopback_country.py), so that
#     each new visitor stores a country, as with the image's database;
#   - wrk at saturation, 100 connections: GET /pixel/site-1.example.gif?p=/x
#     as new visitors (bench/pixel.lua, with a Referer of the site's page),
#     the script's hit (POST /hit/site-1.example with a referrer, a screen
#     class and a campaign, as new visitors; skipped by a build without it),
#     GET / as new visitors (bench/visitors.lua), and the proxy ceiling: the
#     pixel's requests through the same nginx configuration in front of an
#     nginx that answers at once;
#   - then the pixel, the script's hit and GET / again at a fixed offered
#     rate of half the maximum just measured for each (bench/fixed_rate.js,
#     an open-loop sender in Node: wrk can only saturate), for p50 and p99 at
#     a load the stack is meant to carry.
# Checks first that the pixel counts (ten hits, ten visitors of the site).
# Writes the table into REPORT (docs/performance.md). Targets 127.0.0.1
# only; about 3 minutes at the default 15 s per run.
#   bench/pixel.sh [SECONDS_PER_RUN] [REPORT]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
seconds=${1:-15}
report=${2:-docs/performance.md}
warmup=${BENCH_WARMUP:-2}
connections=100
rate_limit=100000r/s
rate_burst=100000
site="site-1.example"
pixel="/pixel/$site.gif?p=/x"
# What the script sends for a page view that came from a search, on a laptop,
# with a campaign: every new column of the write path filled.
script_hit="/hit/$site?p=/x&r=https%3A%2F%2Fwww.google.com%2F&w=laptop&utm_source=newsletter&utm_medium=email&utm_campaign=bench"
referer="https://$site/x"

# nginx and dnsmasq live in sbin, which a non-login shell may not search.
export PATH="$PATH:/usr/sbin:/sbin"
ensure_postgres_binaries
ensure_apt_tools wrk:wrk nginx:nginx-light dnsmasq:dnsmasq-base node:nodejs
build_app

start_bench_database pixel
work=$CLUSTER_DIR
ensure_venv "$PWD/target/bench-venv" bench/requirements.txt
"$PWD/target/bench-venv/bin/python" bench/loopback_country.py "$work/country.mmdb"
# 0.1.0, a fixed reference of every sitting, has no sites: for it only GET /
# and the proxy ceiling are measured.
has_sites=$(add_public_site "$site")

replica_env=(ROCKET_IP_HEADER=X-Real-IP VISITOR_SECRET=a-benchmark-secret-of-some-length
    GEOIP_DB="$work/country.mmdb")
app_port=0
for replica in 1 2 3; do
    start_app "127.0.0.$replica" "$app_port" "$url" "${replica_env[@]}" INSTANCE_NAME="app-$replica"
    app_port=$APP_PORT
done

start_topology "$work/network" --host app=127.0.0.1 --host app=127.0.0.2 --host app=127.0.0.3 \
    --host constant=127.0.0.1 --constant constant --proxy "lb=app:$app_port" --proxy ceiling=@constant \
    --rate "$rate_limit" --burst "$rate_burst"
lb=http://127.0.0.1:$(topology_port lb)
ceiling=http://127.0.0.1:$(topology_port ceiling)
for base in "$lb" "$ceiling"; do
    wait_for_url "$base/version"
done

# site_visitors: the site's unique visitors so far, as its counters hold them.
site_visitors() {
    psql_visitors -c "SELECT coalesce(sum(t.unique_visitors), 0) FROM visit_totals t JOIN sites s ON s.id = t.site_id WHERE s.domain = '$site'"
}
if [[ $has_sites == t ]]; then
    for n in $(seq 1 10); do
        curl -fsS -o /dev/null -e "$referer" "$lb$pixel" \
            -A "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 visitor/check-$n"
    done
    counted=$(site_visitors)
    if [[ $counted != 10 ]]; then
        echo "ten pixel hits through nginx counted $counted visitors of $site" >&2
        exit 1
    fi
fi

results=$work/results.jsonl
record() { echo "$1" >>"$results"; }
record "{\"kind\": \"settings\", \"seconds\": $seconds, \"connections\": $connections, \"rate_limit\": \"$rate_limit\", \"rate_burst\": $rate_burst, \"postgres\": \"${pg_options[*]}\"}"

# saturate SCENARIO URL [wrk args]: a warm-up, then the measured run; its
# requests/s go to SATURATED_RPS.
SATURATED_RPS=
saturate() {
    local scenario=$1 url=$2 summary
    shift 2
    echo "--- $scenario, saturated"
    BENCH_PHASE=warmup measure "$url" "$warmup" "$connections" "$@" >/dev/null
    summary=$(measure "$url" "$seconds" "$connections" "$@")
    record "{\"kind\": \"saturated\", \"scenario\": \"$scenario\", \"result\": $summary}"
    SATURATED_RPS=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["rps"])' "$summary")
}
run=$(date +%s)
pixel_max=
if [[ $has_sites == t ]]; then
    saturate "pixel" "$lb$pixel" -s bench/pixel.lua -- "$run" "$pixel" "$referer"
    pixel_max=$SATURATED_RPS
fi
# A build before the script answers 404 to its hit.
script_max=
if [[ $(curl -s -o /dev/null -w '%{http_code}' "$lb/script.js") == 200 ]]; then
    saturate "script hit" "$lb$script_hit" -s bench/pixel.lua -- "$run-script" "$script_hit" "$referer" POST
    script_max=$SATURATED_RPS
fi
saturate "GET /" "$lb/" -s bench/visitors.lua -- new "pixel-$run"
page_max=$SATURATED_RPS
saturate "proxy ceiling" "$ceiling$pixel" -s bench/pixel.lua -- "$run-ceiling" "$pixel" "$referer"

# fixed_rate SCENARIO URL MAXIMUM [REFERER [METHOD]]: half of MAXIMUM
# requests/s, offered for the same time as a saturated run.
fixed_rate() {
    local scenario=$1 url=$2 rate summary
    rate=$(python3 -c 'import sys; print(max(1, round(float(sys.argv[1]) / 2)))' "$3")
    echo "--- $scenario, $rate requests/s offered"
    summary=$(node bench/fixed_rate.js "$url" "$rate" "$seconds" "$connections" "$run-rate-${scenario//[^a-z]/}" "${4:-}" "${5:-GET}")
    record "{\"kind\": \"fixed_rate\", \"scenario\": \"$scenario\", \"result\": $summary}"
}
if [[ -n $pixel_max ]]; then
    fixed_rate "pixel" "$lb$pixel" "$pixel_max" "$referer"
fi
if [[ -n $script_max ]]; then
    fixed_rate "script hit" "$lb$script_hit" "$script_max" "$referer" POST
fi
fixed_rate "GET /" "$lb/" "$page_max"

# Raw visits with a country (none for a build before countries): to_jsonb
# reads a column that may not exist.
if [[ $has_sites == t ]]; then
    with_country=$(psql_visitors -c "SELECT count(*) FROM visit_events e WHERE to_jsonb(e) ->> 'country' IS NOT NULL")
    record "{\"kind\": \"counted\", \"site_visitors\": $(site_visitors), \"with_country\": $with_country}"
fi
mkdir -p target/bench
cp "$results" target/bench/pixel.jsonl
python3 bench/pixel_report.py "$results" "$report"
echo "--- $report updated"
