# Stand-in for gcr.io/distroless/cc-debian12:nonroot (the image's runtime base),
# for machines that cannot pull from gcr.io. Built by build.sh.
# What it is: the files of Debian 12's libc6, libgcc-s1, libssl3,
# ca-certificates (with the generated bundle), tzdata, netbase and base-files,
# extracted with `dpkg -x` (no maintainer scripts run), and /etc/passwd and
# /etc/group naming root, nobody and nonroot (65532, home /home/nonroot).
# What it is not: Google's build (no SBOM, no /var/lib/dpkg/status.d, no
# libstdc++/libgomp). Like the real one it has no shell and no package manager.
FROM visitors-stand-in/bookworm:minbase AS files
WORKDIR /pkgs
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && apt-get download libc6 libgcc-s1 libssl3 ca-certificates tzdata netbase base-files \
    && mkdir /out \
    && for deb in ./*.deb; do dpkg -x "$deb" /out; done \
    && rm -rf /out/usr/share/doc /out/usr/share/man /out/usr/share/info /out/usr/share/lintian \
    && mkdir -p /out/etc/ssl/certs /out/home/nonroot /out/tmp \
    && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
    && chown 65532:65532 /out/home/nonroot && chmod 1777 /out/tmp \
    && printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/out/etc/passwd \
    && printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' >/out/etc/group \
    && rm -rf /var/lib/apt/lists/*

FROM scratch
COPY --from=files /out/ /
USER 65532:65532
WORKDIR /home/nonroot
