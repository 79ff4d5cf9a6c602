# The visitors image: a release build in a Rust builder, then only the binary
# (templates, static files, migrations and User-Agent rules are compiled into
# it) and the country database on distroless, as a non-root user.
#
#   docker build --build-arg BUILD_NUMBER=57 --build-arg VCS_REF="$(git rev-parse HEAD)" \
#       --build-arg BUILD_DATE="$(date -u +%FT%TZ)" .
#
# No `# syntax=` line: the engine's built-in Dockerfile frontend (which knows
# RUN --mount=type=cache) builds it, so no frontend image is pulled and the
# build works without a registry (docker/stand-ins/ for the base images).

# The country database the image ships (GEOIP_DB's default path): the npm
# package @ip-location-db/geo-whois-asn-country-mmdb, pinned by version and
# by the tarball's SHA-256. CC BY 4.0 by the NRO (nro.net), as /privacy says.
ARG GEOIP_SHA256=91757a1b06cdcd1955f292e4c4cfc54e091204f998e159a3187f7a2ef3724be0

# version.txt's version, for the OCI label (a label cannot read a file). The
# builder stage fails when the two differ, so the label always says what
# /version says: this, plus "+BUILD_NUMBER" when a build number is given.
ARG VERSION=0.2.0

# rust-version in Cargo.toml is 1.91.
FROM rust:1.91-slim-bookworm AS builder
WORKDIR /src
# Before the sources, so that a source change does not fetch it again. The
# legacy builder knows no ADD --checksum: the next step checks it.
# checkov:skip=CKV_DOCKER_4:ADD fetches a pinned URL whose checksum is verified below
ARG GEOIP_SHA256
ADD https://registry.npmjs.org/@ip-location-db/geo-whois-asn-country-mmdb/-/geo-whois-asn-country-mmdb-2.3.2026061719.tgz /tmp/geoip.tgz
RUN printf '%s  /tmp/geoip.tgz\n' "$GEOIP_SHA256" >/tmp/geoip.sha256 \
    && sha256sum -c /tmp/geoip.sha256 \
    && mkdir -p /usr/share/visitors \
    && tar -xzf /tmp/geoip.tgz -O package/geo-whois-asn-country.mmdb >/usr/share/visitors/geo-whois-asn-country.mmdb \
    && tar -xzf /tmp/geoip.tgz -O package/NRO_LICENSE >/usr/share/visitors/geo-whois-asn-country.mmdb.LICENSE \
    && rm /tmp/geoip.tgz /tmp/geoip.sha256
COPY Cargo.toml Cargo.lock build.rs version.txt ./
COPY assets ./assets
COPY migrations ./migrations
COPY static ./static
COPY templates ./templates
COPY src ./src
# sqlx checks its queries against this offline data instead of a database.
COPY .sqlx ./.sqlx
ENV SQLX_OFFLINE=true
# The CI build number and commit are compiled in by build.rs (/version).
ARG BUILD_NUMBER=""
ARG VCS_REF=""
ARG VERSION
RUN if [ "$VERSION" != "$(cat version.txt)" ]; then \
        echo "the VERSION build argument ($VERSION) is not version.txt ($(cat version.txt)); change both" >&2; \
        exit 1; \
    fi
# BuildKit cache mounts keep the crate registry and target/ across builds:
# a source-only change recompiles this crate, not its ~300 dependencies.
# target/ is a cache, so the binary is copied out of it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    BUILD_NUMBER="$BUILD_NUMBER" VCS_REF="$VCS_REF" cargo build --release --locked \
    && cp target/release/visitors /usr/local/bin/visitors \
    && mkdir -p /var/lib/visitors

# glibc and libgcc, nothing else: no shell, no package manager, no curl.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION
ARG BUILD_NUMBER=""
ARG VCS_REF=""
ARG BUILD_DATE=""
# The repository URL (CI passes $CI_PROJECT_URL).
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="visitors" \
      org.opencontainers.image.description="Self-hosted unique-visitor counter with a server-rendered dashboard" \
      org.opencontainers.image.version="${VERSION}${BUILD_NUMBER:++}${BUILD_NUMBER}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="MIT"
COPY --from=builder /usr/local/bin/visitors /usr/local/bin/visitors
COPY --from=builder /usr/share/visitors /usr/share/visitors
# Where the generated visitor secret is kept (VISITOR_SECRET_FILE), owned by
# the app's user: a volume mounted here starts with that ownership.
COPY --from=builder --chown=65532:65532 /var/lib/visitors /var/lib/visitors
# Rocket listens on 127.0.0.1 unless told otherwise; the release profile
# skips Rocket's development defaults.
# Logs as one JSON object per line, for log collectors.
ENV ROCKET_ADDRESS=0.0.0.0 \
    ROCKET_PORT=8000 \
    ROCKET_PROFILE=release \
    LOG_FORMAT=json
# The app, and its metrics listener (METRICS_PORT), for Prometheus only.
EXPOSE 8000 9464
# distroless' "nonroot" user (65532), named by id so that runtimes can check it.
USER 65532:65532
# The binary checks its own /healthz: no curl or shell needed in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["/usr/local/bin/visitors", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/visitors"]
CMD ["serve"]
