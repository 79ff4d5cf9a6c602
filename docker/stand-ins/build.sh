#!/usr/bin/env bash
# Local stand-ins for the images the project names (Dockerfile: rust,
# distroless/cc; docker-compose.yml: postgres, nginx, prom/prometheus), for a
# machine with a Docker engine but no registry. For each name that is not
# present in the engine, it builds a stand-in under that exact name from a
# Debian bookworm base made with `debootstrap --variant=minbase` and
# `docker import`; an image already present (pulled, or built before) is
# left alone, so a registry-connected machine uses the real images and a
# second run takes seconds. With STAND_INS_PULL=1 it first tries
# `docker pull` (off by default: this script sends traffic only to Debian's
# archive and, for the toolchain copy, nowhere at all).
# Each *.Dockerfile here says what its stand-in is and is not. Every
# stand-in carries the label org.visitors.stand-in=true:
#   docker image ls --filter label=org.visitors.stand-in=true
# Needs root (debootstrap), docker, and for rust: this machine's rustup.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$repo/target/stand-ins
base=visitors-stand-in/bookworm:minbase
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The legacy builder: no buildx needed, and FROM uses local images as they are.
export DOCKER_BUILDKIT=0

present() { docker image inspect "$1" >/dev/null 2>&1; }

# The names, read from the files that use them.
rust_image=$(sed -n 's/^FROM \(rust:[^ ]*\).*/\1/p' "$repo/Dockerfile")
distroless_image=$(sed -n 's/^FROM \(gcr\.io\/distroless\/cc[^ ]*\).*/\1/p' "$repo/Dockerfile")
compose_image() { sed -n "s/^ *image: *\\($1:[^ ]*\\)/\\1/p" "$repo/docker-compose.yml"; }
postgres_image=$(compose_image postgres)
nginx_image=$(compose_image nginx)
prometheus_image=$(compose_image 'prom\/prometheus')
for name in rust_image distroless_image postgres_image nginx_image prometheus_image; do
    [[ -n ${!name} ]] || { echo "stand-ins: cannot find the ${name%_image} image's name" >&2; exit 1; }
done

ensure_base() {
    present "$base" && return 0
    command -v debootstrap >/dev/null || {
        echo "--- installing debootstrap with apt"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    }
    local rootfs=$work/rootfs
    rm -rf "$rootfs" && mkdir -p "$rootfs"
    echo "--- stand-ins: debootstrap --variant=minbase bookworm ($mirror)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
        || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import \
        --change 'CMD ["/bin/bash"]' --change 'LABEL org.visitors.stand-in=true' - "$base" >/dev/null
    rm -rf "$rootfs"
}

# build NAME DOCKERFILE CONTEXT
build() {
    echo "--- stand-ins: building $1 ($2)"
    docker build -q --label org.visitors.stand-in=true -t "$1" -f "$2" "$3" >/dev/null
}

# The rust stand-in's context: this machine's active toolchain (without its
# HTML docs), the rustup proxies of CARGO_HOME/bin and the extra CA
# certificates, hard-linked where possible.
rust_context() {
    local ctx=$work/rust-context rustup_home toolchain cargo_home
    rustup_home=$(rustup show home)
    toolchain=$(rustup show active-toolchain | cut -d' ' -f1)
    cargo_home=${CARGO_HOME:-$HOME/.cargo}
    rm -rf "$ctx" && mkdir -p "$ctx/ca"
    cp -al "$rustup_home/toolchains/$toolchain" "$ctx/toolchain" 2>/dev/null \
        || cp -a "$rustup_home/toolchains/$toolchain" "$ctx/toolchain"
    rm -rf "$ctx/toolchain/share/doc"
    cp -a "$cargo_home/bin" "$ctx/cargo-bin"
    cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
    cp "$here/rust.Dockerfile" "$ctx/Dockerfile"
    echo "$ctx"
}

missing=()
for name in "$rust_image" "$distroless_image" "$postgres_image" "$nginx_image" "$prometheus_image"; do
    present "$name" && continue
    if [[ ${STAND_INS_PULL:-0} == 1 ]] && docker pull -q "$name" >/dev/null 2>&1; then
        continue
    fi
    missing+=("$name")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "--- stand-ins: every base image is present"
    exit 0
fi
mkdir -p "$work"
ensure_base
for name in "${missing[@]}"; do
    case $name in
        "$rust_image")
            ctx=$(rust_context)
            build "$name" "$ctx/Dockerfile" "$ctx"
            rm -rf "$ctx" ;;
        "$distroless_image") build "$name" "$here/distroless-cc.Dockerfile" "$here" ;;
        "$postgres_image") build "$name" "$here/postgres.Dockerfile" "$here" ;;
        "$nginx_image") build "$name" "$here/nginx.Dockerfile" "$here" ;;
        "$prometheus_image") build "$name" "$here/prometheus.Dockerfile" "$here" ;;
    esac
done
