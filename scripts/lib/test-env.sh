# shellcheck shell=bash
# What the tests need, for `make test` and `make coverage`: PostgreSQL's
# binaries (the outage test runs a cluster of its own), a server in
# DATABASE_URL (a throwaway cluster unless one is given), and nginx and
# dnsmasq for the topology tests, and aiosmtpd (in target/test-venv) for the
# email tests. Installs what is missing when run as root.

# shellcheck source=scripts/lib/postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"

prepare_test_environment() {
    # nginx and dnsmasq live in sbin, which a normal user's PATH may lack.
    export PATH="$PATH:/usr/sbin:/sbin"
    # The scripts' helpers (free ports, renderers, checks) are Python.
    ensure_apt_tools python3:python3
    ensure_postgres_binaries
    ensure_apt_tools nginx:nginx-light dnsmasq:dnsmasq-base shellcheck:shellcheck
    ensure_venv "$TEST_VENV" requirements-test.txt
    export SMTP_SINK_PYTHON=$TEST_VENV/bin/python
    NGINX_BIN=$(command -v nginx)
    DNSMASQ_BIN=$(command -v dnsmasq)
    export NGINX_BIN DNSMASQ_BIN

    if [[ -z ${DATABASE_URL:-} ]]; then
        # Durability off for speed, room for many test pools.
        start_throwaway_cluster test-pg -c fsync=off -c synchronous_commit=off -c max_connections=500
        export DATABASE_URL="postgres://postgres@127.0.0.1:$CLUSTER_PORT/postgres"
        echo "--- PostgreSQL test cluster on 127.0.0.1:$CLUSTER_PORT"
    fi
}
