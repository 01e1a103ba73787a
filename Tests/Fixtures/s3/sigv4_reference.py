#!/usr/bin/env python3
"""What botocore signs for a request: reads a JSON file (argv[1]) with method, url, headers,
body_hex, access_key, secret_key, token (or null), region, timestamp (YYYYMMDDTHHMMSSZ) and
expires (for a presigned GET), prints JSON {"authorization": ..., "headers": {...}, "presigned_url": ...}."""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(open(sys.argv[1]))
now = datetime.datetime.strptime(spec["timestamp"], "%Y%m%dT%H%M%SZ")
credentials = Credentials(spec["access_key"], spec["secret_key"], spec.get("token"))
with mock.patch("botocore.auth.get_current_datetime", return_value=now):
    request = AWSRequest(method=spec["method"], url=spec["url"], headers=dict(spec["headers"]), data=bytes.fromhex(spec["body_hex"]))
    botocore.auth.S3SigV4Auth(credentials, "s3", spec["region"]).add_auth(request)
    presign = AWSRequest(method="GET", url=spec["url"])
    botocore.auth.S3SigV4QueryAuth(credentials, "s3", spec["region"], expires=spec["expires"]).add_auth(presign)
print(json.dumps({
    "authorization": request.headers["Authorization"],
    "headers": {k: v for k, v in request.headers.items()},
    "presigned_url": presign.url,
}))
