# Redis for compose-test where redis:7.4-bookworm cannot be pulled: Debian's redis-server (7.0) on
# the debootstrap base. Like the official image's entrypoint, `redis-server ...` without a
# configuration file gets --protected-mode no (the network is the compose project's own).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && install -d -o redis -g redis -m 0750 /data \
 && printf '#!/bin/sh\nif [ "$1" = redis-server ]; then shift; exec redis-server --protected-mode no --bind "* -::*" "$@"; fi\nexec "$@"\n' >/usr/local/bin/redis-entrypoint \
 && chmod 0755 /usr/local/bin/redis-entrypoint
WORKDIR /data
USER redis
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/redis-entrypoint"]
CMD ["redis-server"]
