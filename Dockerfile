# syntax=docker/dockerfile:1
# One image for every role of imgedge (`migrate`, `api`, `transformer`, `edge`, ...):
# the role is the command, e.g. `docker run IMAGE api`. docker-compose.yml runs the stack.
#
# Stages:
#   web      builds the web client from web/ (an empty directory while there is none)
#   libvips  fetches the current libvips the binary links (scripts/libvips: Sharp's build)
#   builder  builds the imgedge binary against that libvips and Debian's libheif
#   runtime  Debian slim with libvips, libheif, the binary and the web client; non-root
#
# Needs BuildKit (the default builder of current Docker) for the cache mounts and heredoc.

# ---------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS web
# Where the web client's `npm run build` writes its output, relative to web/.
ARG WEB_DIST=dist
WORKDIR /web
# `we[b]` rather than `web`: a wildcard that matches nothing copies nothing instead of
# failing the build, so this stage also works before web/ exists.
COPY we[b] /web/
RUN --mount=type=cache,id=imgedge-npm,target=/root/.npm \
    set -eu; \
    if [ -f package.json ]; then \
      if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
      else npm install --no-audit --no-fund; fi; \
      npm run build; \
      mv "$WEB_DIST" /out; \
    else \
      echo "no web/package.json: the image gets an empty web directory"; \
      mkdir /out; \
    fi

# ---------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS libvips
# The same script, and so the same version, as every default build of the repository:
# npm fetches @img/sharp-libvips-linux-{x64,arm64} for this platform into /opt/libvips.
COPY scripts/libvips /usr/local/bin/imgedge-libvips
RUN set -eu; \
    dir="$(XDG_CACHE_HOME=/tmp/cache imgedge-libvips)"; \
    mkdir -p /opt/libvips; \
    cp -a "$dir/lib" /opt/libvips/lib

# ---------------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
# crates/imgedge-engine/build.rs links the libvips in IMGEDGE_LIBVIPS_DIR, with an rpath to
# /opt/libvips/lib, where the runtime stage puts the same files; HEIC is decoded by
# Debian's libheif, found through pkg-config.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libheif-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
COPY --from=libvips /opt/libvips /opt/libvips
ENV IMGEDGE_LIBVIPS_DIR=/opt/libvips
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# Cargo reads every target the manifest declares (the `it` test) even
# when building only the binary, so their sources come along; migrations/ is embedded; the
# workspace's crates (the URL contract, the engine, the upload checks) are built with it.
COPY crates crates
COPY migrations migrations
COPY tests tests
COPY src src
# The registry and target directory live in BuildKit cache mounts, so a rebuild after a
# source change recompiles only imgedge, not its few hundred dependencies (the AWS SDK
# alone takes minutes). A cache mount is not part of the image: the binary is copied out
# in the same step.
RUN --mount=type=cache,id=imgedge-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=imgedge-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=imgedge-target,target=/src/target,sharing=locked \
    cargo build --release --locked --bin imgedge \
 && install -m 0755 target/release/imgedge /usr/local/bin/imgedge

# ---------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# libheif1 (with libde265): HEIC decoding, beside the libvips from the libvips stage.
# fonts-dejavu-core: the text watermark's font. fontconfig: its install builds the system
# font cache, so the non-root user never needs a writable one. ca-certificates: TLS to AWS
# S3 and CloudFront.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libheif1 libde265-0 fonts-dejavu-core fontconfig ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The binary's rpath points here (see the builder stage).
COPY --from=libvips /opt/libvips/lib /opt/libvips/lib

# A fixed numeric id, so orchestrators can check "runs as non-root" without /etc/passwd.
RUN groupadd --system --gid 10001 imgedge \
 && useradd --system --uid 10001 --gid imgedge --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin imgedge

# `imgedge-healthz PORT`: exits 0 when http://127.0.0.1:PORT/healthz answers 200. It speaks
# HTTP through bash's /dev/tcp so that the image needs neither curl nor wget. The image has
# no HEALTHCHECK of its own because the port depends on the role; compose sets one per role.
COPY --chmod=0755 <<'EOF' /usr/local/bin/imgedge-healthz
#!/bin/bash
set -euo pipefail
port=${1:?usage: imgedge-healthz PORT [PATH]}
path=${2:-/healthz}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
IFS= read -r -t 5 status <&3
[[ $status == "HTTP/1."[01]" 200 "* ]]
EOF

COPY --from=builder /usr/local/bin/imgedge /usr/local/bin/imgedge
COPY --from=web /out /app/web

# The roles' listen defaults are loopback, which is unreachable from outside a container.
ENV IMGEDGE_API_LISTEN=0.0.0.0:8080 \
    IMGEDGE_TRANSFORMER_LISTEN=0.0.0.0:8081 \
    IMGEDGE_EDGE_LISTEN=0.0.0.0:8000 \
    IMGEDGE_WEB_DIR=/app/web

WORKDIR /app
USER 10001:10001
EXPOSE 8000 8080 8081
ENTRYPOINT ["imgedge"]
CMD ["--help"]
