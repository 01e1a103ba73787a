#!/usr/bin/env python3
"""moto's S3 server on 0.0.0.0:$S3_PORT (9000) with the buckets in $S3_BUCKETS made at start.
`s3-server health` exits 0 when the server answers and every bucket exists (the healthcheck)."""
import os
import signal
import sys
import time
import urllib.request

port = int(os.environ.get("S3_PORT", "9000"))
buckets = [b for b in os.environ.get("S3_BUCKETS", "").split(",") if b]


def request(method, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(req, timeout=3) as reply:
        return reply.status


if sys.argv[1:] == ["health"]:
    try:
        sys.exit(0 if all(request("HEAD", f"/{b}") == 200 for b in buckets) else 1)
    except Exception:
        sys.exit(1)

from moto.server import ThreadedMotoServer  # noqa: E402

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 has no default action
server = ThreadedMotoServer(ip_address="0.0.0.0", port=port, verbose=False)
server.start()
for bucket in buckets:
    for _ in range(50):
        try:
            request("PUT", f"/{bucket}")
            break
        except Exception:
            time.sleep(0.1)
print(f"moto S3 on :{port}, buckets: {', '.join(buckets) or '(none)'}", flush=True)
while True:
    time.sleep(3600)
