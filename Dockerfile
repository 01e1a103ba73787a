# syntax=docker/dockerfile:1
# One image per service:
#   docker build --build-arg SERVICE=gateway --build-arg PORT=8080 -t ghcr.io/pingvas/gateway:0.1.0 .
# (ids and ports: deploy/services.yaml)
# The GPU worker image is Dockerfile.ai-worker-gpu; this file's ai-worker carries the CPU engine.

# stable-diffusion.cpp (CPU) for ai-worker's StableDiffusionEngine. The stage is the same for every
# service, so BuildKit builds it once and caches it; only a binary that links it gets its libraries.
FROM python:3.12-slim-bookworm AS engine
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git \
 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir --target /opt/sd stable-diffusion-cpp-python==0.4.7 \
 && mkdir -p /opt/engine/lib /opt/engine/include \
 && find /opt/sd -name '*.so*' -path '*stable_diffusion_cpp*' -exec cp -a {} /opt/engine/lib/ \; \
 && find /opt/sd -name 'stable-diffusion.h' -exec cp {} /opt/engine/include/ \; \
 && test -e /opt/engine/lib/libstable-diffusion.so

FROM swift:6.3-bookworm AS build
ARG SERVICE
ARG PORT
RUN test -n "$SERVICE" && test -n "$PORT" || (echo "build with --build-arg SERVICE=<service id> --build-arg PORT=<port>" >&2; exit 1)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev libhiredis-dev libcurl4-openssl-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
COPY --from=engine /opt/engine /opt/engine
WORKDIR /src
# Dependencies first, so a source change does not re-fetch them.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Shared Shared
COPY Services Services
COPY Tests Tests
RUN swift build -c release --product "$SERVICE" \
 && install -D "$(swift build -c release --show-bin-path)/$SERVICE" /out/service \
 && mkdir -p /out/engine \
 && if ldd /out/service | grep -q stable-diffusion; then cp -a /opt/engine/lib/. /out/engine/; fi

FROM debian:bookworm-slim
ARG SERVICE
ARG PORT
# /data/images: mount point of the filesystem image store (PINGVAS_STORAGE_DIR), owned by the
# service user so that a fresh Docker named volume mounted there inherits that owner.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libhiredis0.14 libcurl4 libssl3 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pingvas \
 && useradd --system --uid 10001 --gid pingvas --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pingvas \
 && install -d -o 10001 -g 10001 -m 0750 /data/images
COPY --from=build /usr/lib/swift/linux/*.so /usr/lib/swift/linux/
COPY --from=build /out/engine /opt/engine/lib
RUN echo /usr/lib/swift/linux >/etc/ld.so.conf.d/swift.conf \
 && echo /opt/engine/lib >/etc/ld.so.conf.d/engine.conf \
 && ldconfig
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
