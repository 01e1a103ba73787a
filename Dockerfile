# syntax=docker/dockerfile:1
# One image per service:
#   docker build --build-arg SERVICE=gateway --build-arg PORT=8080 -t ghcr.io/pingvas/gateway:0.1.0 .
# (ids and ports: deploy/services.yaml; `make images` builds all seven, README "Container images")
# The GPU worker image is Dockerfile.ai-worker-gpu; this file's ai-worker is its CPU twin: the same
# engine shim and library at the same paths, built without CUDA.
#
# Base images are build arguments (official tags by default), so a machine without a registry can
# build the same file on bases it made itself (scripts/images.sh does that here).
ARG ENGINE_IMAGE=python:3.12-slim-bookworm
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
# checkov:skip=CKV_DOCKER_7: the bases are build arguments whose defaults are pinned tags (make check-deploy checks them)

# stable-diffusion.cpp (CPU) and the worker's shim, by `make engine`'s own script, without
# -march=native (the image runs on other CPUs than the builder's). The stage is the same for every
# service, so it is built once and cached; only ai-worker's image gets its libraries.
FROM ${ENGINE_IMAGE} AS engine
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake ninja-build pkg-config git \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY scripts/engine.sh scripts/engine.sh
COPY Shared/CStableDiffusion Shared/CStableDiffusion
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF" PINGVAS_ENGINE_DIR=/opt/pingvas/engine scripts/engine.sh \
 && test -e /opt/pingvas/engine/lib/libpingvas-sd.so && test -e /opt/pingvas/engine/lib/libstable-diffusion.so

# The build stage leaves what the runtime stage takes in /out: service (the executable),
# swift-lib/ (the Swift runtime libraries it links, by ldd; empty for a --static-swift-stdlib build)
# and engine/ (ai-worker only). scripts/images.sh fills the same /out from binaries built on the host.
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev libhiredis-dev libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not re-fetch them.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Shared Shared
COPY Services Services
COPY Tests Tests
COPY --from=engine /opt/pingvas/engine/lib /opt/pingvas/engine/lib
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build with --build-arg SERVICE=<service id> --build-arg PORT=<port>" >&2; exit 1)
RUN swift build -c release --product "$SERVICE" \
 && mkdir -p /out/swift-lib /out/engine \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/$SERVICE" /out/service \
 && strip /out/service \
 && ldd /out/service | awk '$3 ~ /\/lib\/swift\// {print $3}' | xargs -r cp -L -t /out/swift-lib \
 && if [ "$SERVICE" = ai-worker ]; then cp -L /opt/pingvas/engine/lib/libpingvas-sd.so /opt/pingvas/engine/lib/libstable-diffusion.so /out/engine/; fi

# ---- runtime: deploy/images/Dockerfile.prebuilt has this stage verbatim (make check-deploy compares them)
FROM ${RUNTIME_IMAGE}
# /data/images: mount point of the filesystem image store (PINGVAS_STORAGE_DIR), owned by the
# service user so that a fresh Docker named volume mounted there inherits that owner.
# libgomp1: the engine's OpenMP (ai-worker); one runtime layer for all seven images.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libhiredis0.14 libcurl4 libssl3 libgomp1 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 pingvas \
 && useradd --system --uid 10001 --gid pingvas --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pingvas \
 && install -d -o 10001 -g 10001 -m 0750 /data/images \
 && echo /usr/lib/swift/linux >/etc/ld.so.conf.d/swift.conf \
 && echo /opt/pingvas/engine/lib >/etc/ld.so.conf.d/pingvas-engine.conf
# SERVICE and PORT only from here on, so the layer above is shared by every service's image.
ARG SERVICE
ARG PORT
COPY --from=build /out/swift-lib/ /usr/lib/swift/linux/
COPY --from=build /out/engine/ /opt/pingvas/engine/lib/
RUN ldconfig
COPY --from=build /out/service /usr/local/bin/service
COPY deploy/healthcheck.sh /usr/local/bin/pingvas-healthcheck
LABEL org.opencontainers.image.title="pingvas-${SERVICE}" \
      org.opencontainers.image.source="Pingvas Studio backend"
ENV PINGVAS_HOST=0.0.0.0 \
    PINGVAS_PORT=${PORT} \
    PINGVAS_SERVICE=${SERVICE}
USER 10001:10001
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["/usr/local/bin/pingvas-healthcheck", "/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/service"]
