# The S3 server of compose-test: moto's (the one the tests use, scripts/deps.sh), in place of MinIO
# whose image this machine cannot pull. deploy/images/s3-server.py listens on :9000 and creates the
# buckets named in S3_BUCKETS (the compose file's pingvas-local); it keeps objects in memory.
# moto comes from wheels/ in the context (scripts/images.sh fetches them with the host's pip), so
# the build needs Debian's mirror only.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ARG MOTO_VERSION=5.2.1
RUN --mount=type=bind,source=wheels,target=/tmp/wheels \
    apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && python3 -m venv /opt/moto \
 && /opt/moto/bin/pip install --no-cache-dir --disable-pip-version-check --quiet --no-index --find-links /tmp/wheels "moto[server]==${MOTO_VERSION}" \
 && find /opt/moto -name '__pycache__' -prune -exec rm -rf {} + \
 && useradd --system --uid 10002 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin moto
COPY s3-server.py /usr/local/bin/s3-server
USER 10002
EXPOSE 9000
ENTRYPOINT ["/opt/moto/bin/python", "/usr/local/bin/s3-server"]
