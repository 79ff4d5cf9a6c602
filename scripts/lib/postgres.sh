# shellcheck shell=bash
# A private PostgreSQL cluster from the machine's own binaries, for tests,
# benchmarks and running without Docker.

# shellcheck source=scripts/lib/cleanup.sh
source "$(dirname "${BASH_SOURCE[0]}")/cleanup.sh"
# shellcheck source=scripts/lib/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"

# Set by a script that needs it, after sourcing (see start_cluster).
CLUSTER_ENV=()

# Finds initdb/pg_ctl; installs Debian's PostgreSQL when missing and we are root.
# Sets and exports PG_BINDIR.
ensure_postgres_binaries() {
    PG_BINDIR=${PG_BINDIR:-$(find_postgres_bindir || true)}
    if [[ -z $PG_BINDIR ]]; then
        echo "--- PostgreSQL server binaries not found (or set PG_BINDIR)" >&2
        # Debian would create and start a 'main' cluster we do not want.
        if [[ $(id -u) -eq 0 ]]; then
            mkdir -p /etc/postgresql-common
            echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
        fi
        apt_install postgresql
        PG_BINDIR=$(find_postgres_bindir)
    fi
    export PG_BINDIR
}

find_postgres_bindir() {
    local dir candidates=()
    # Debian's layout, newest major version first; then whatever is on PATH.
    mapfile -t candidates < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V -r)
    candidates+=("$(pg_config --bindir 2>/dev/null || true)")
    if command -v initdb >/dev/null; then
        candidates+=("$(dirname "$(command -v initdb)")")
    fi
    for dir in "${candidates[@]}"; do
        if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# initdb refuses to run as root: as root, clusters belong to 'postgres'.
as_cluster_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# own_for_cluster DIR: makes DIR writable by whoever runs the cluster.
own_for_cluster() {
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$1"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_cluster DIR PORT [extra postgres options]: initialises DIR if empty and
# starts a server on 127.0.0.1:PORT with trust authentication for user postgres.
# The server's processes get the variables of the array CLUSTER_ENV, if any
# (NAME=VALUE: the upgrade test's faked clock).
start_cluster() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    own_for_cluster "$dir"
    if [[ ! -s $dir/PG_VERSION ]]; then
        as_cluster_owner "$PG_BINDIR/initdb" -D "$dir" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    fi
    as_cluster_owner env "${CLUSTER_ENV[@]}" "$PG_BINDIR/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $*" start >/dev/null
}

stop_cluster() {
    local dir=$1
    if [[ -f $dir/postmaster.pid ]]; then
        as_cluster_owner "$PG_BINDIR/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
    fi
}

# start_throwaway_cluster NAME [postgres options]: a cluster in a new
# temporary directory, stopped and deleted when the script exits. Sets
# CLUSTER_DIR and CLUSTER_PORT.
start_throwaway_cluster() {
    CLUSTER_DIR=$(mktemp -d -t "visitors-$1.XXXXXX")
    shift
    chmod 755 "$CLUSTER_DIR"
    CLUSTER_PORT=$(free_port)
    on_exit "stop_cluster '$CLUSTER_DIR/data'; rm -rf '$CLUSTER_DIR'"
    start_cluster "$CLUSTER_DIR/data" "$CLUSTER_PORT" "$@"
}
