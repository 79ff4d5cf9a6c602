# Stand-in for rust:<tag> (the Dockerfile's builder), for machines that cannot
# pull from Docker Hub. Built by build.sh from the local Debian bookworm base.
# What it is: Debian 12 (minbase) with gcc and libc6-dev, and THIS MACHINE's
# Rust toolchain copied in under RUSTUP_HOME=/usr/local/rustup and
# CARGO_HOME=/usr/local/cargo, as the official image lays them out; plus the
# host's extra CA certificates (a TLS-intercepting proxy in front of
# crates.io needs them; a user behind a corporate proxy does the same).
# What it is not: the official image. The Rust version is whatever the host
# has (1.95 here, tagged 1.91), no nightly, no docs, no pkg-config/libssl-dev.
# The build context is a tar stream made by build.sh (toolchain/, cargo-bin/,
# ca/), not a directory of the repository.
FROM visitors-stand-in/bookworm:minbase
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       gcc libc6-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY toolchain/ /usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/
COPY cargo-bin/ /usr/local/cargo/bin/
RUN printf 'version = "12"\ndefault_toolchain = "stable-x86_64-unknown-linux-gnu"\nprofile = "minimal"\nauto_self_update = "disable"\n' \
        >/usr/local/rustup/settings.toml \
    && chmod -R a+rwX /usr/local/cargo /usr/local/rustup \
    && cargo --version && rustc --version
