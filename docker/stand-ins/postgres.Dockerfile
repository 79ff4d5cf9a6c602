# Stand-in for postgres:<tag> (the compose file's db), for machines that cannot
# pull from Docker Hub. Built by build.sh.
# What it is: Debian 12's PostgreSQL 15 (tagged 16: the major version differs
# from the tag) with postgres-entrypoint.sh, which honours the official
# image's documented contract: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB,
# PGDATA (initdb only when it is empty), /docker-entrypoint-initdb.d (*.sh,
# *.sql) run against a server listening on the Unix socket only, then the
# real server as user postgres; pg_isready on PATH.
# What it is not: the official image (no POSTGRES_INITDB_ARGS,
# POSTGRES_HOST_AUTH_METHOD, *_FILE secrets, *.sql.gz, locales).
FROM visitors-stand-in/bookworm:minbase
RUN mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
    && chmod 700 /var/lib/postgresql/data
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
