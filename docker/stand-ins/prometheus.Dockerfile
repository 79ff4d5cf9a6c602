# Stand-in for prom/prometheus:<tag> (the monitoring profile), for machines
# that cannot pull from Docker Hub. Built by build.sh.
# What it is: Debian 12's prometheus package (2.42, tagged v2.55.1: older than
# the tag) with the official image's layout and command line: config in
# /etc/prometheus/prometheus.yml, data in /prometheus owned by nobody,
# /bin/prometheus as entrypoint; wget for healthchecks.
# What it is not: the official image (not busybox-based, Debian's build of
# the web UI, no bundled console templates).
FROM visitors-stand-in/bookworm:minbase
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus wget \
    && rm -rf /var/lib/apt/lists/* \
    && { [ -e /bin/prometheus ] || ln -s /usr/bin/prometheus /bin/prometheus; } \
    && mkdir -p /prometheus /etc/prometheus \
    && chown -R 65534:65534 /prometheus
USER 65534:65534
VOLUME /prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
