#!/usr/bin/env python3
"""One image end to end through the gateway of the containerised stack (scripts/compose-test.sh):
sign up, generate with model "preview", follow the event stream, fetch the image content (through
the presigned S3 redirect), then a Lemon Squeezy order delivery signed like Lemon Squeezy signs it
(X-Signature: hex HMAC-SHA256 of the raw body) that must grant the credit pack; a forged one must be
refused. Usage: compose_e2e.py <gateway base URL> <signing secret>. Exit 0 when all of it held."""
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

api, secret = sys.argv[1].rstrip("/"), sys.argv[2]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def call(method, path, body=None, token=None, headers=None, raw=None, url=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url or api + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with opener.open(req, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def step(text):
    print(f"compose-e2e: {text}", flush=True)


def check(condition, text):
    if not condition:
        print(f"compose-e2e: FAILED: {text}", file=sys.stderr, flush=True)
        sys.exit(1)


def wait_for(what, predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    check(False, f"timed out after {timeout} s waiting for {what}")


# 1. sign up
email = f"compose-{uuid.uuid4().hex[:8]}@example.com"
status, _, body = call("POST", "/api/v1/auth/signup", {"email": email, "password": "correct horse battery", "display_name": "Compose"})
check(status == 201, f"signup: {status} {body[:300]!r}")
signup = json.loads(body)
token, user = signup["access_token"], signup["user"]["id"]
status, _, body = call("GET", "/api/v1/me/credits", token=token)
check(status == 200, f"me/credits: {status} {body[:300]!r}")
balance = json.loads(body)["balance"]
step(f"1. signed up {email} (user {user}), balance {balance}")

# 2. generate with the preview model
request = {"model": "preview", "prompt": "a lighthouse at dusk", "width": 256, "height": 192, "steps": 8, "cfg_scale": 7, "seed": 7}
status, _, body = call("POST", "/api/v1/generations", request, token=token, headers={"Idempotency-Key": str(uuid.uuid4())})
check(status == 202, f"generation: {status} {body[:300]!r}")
job = json.loads(body)
step(f"2. job {job['id']} accepted, cost {job['cost']}")

# 3. the event stream, through the gateway, until the job finished
req = urllib.request.Request(f"{api}/api/v1/generations/{job['id']}/events", headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
events, last = [], None
with urllib.request.urlopen(req, timeout=90) as stream:
    check(stream.headers.get("Content-Type", "").startswith("text/event-stream"), f"events content type {stream.headers.get('Content-Type')}")
    for raw_line in stream:
        line = raw_line.decode().rstrip("\r\n")
        if line.startswith("event:"):
            last = line[6:].strip()
            events.append(last)
        if line.startswith("data:") and last in ("succeeded", "failed", "canceled"):
            break
check(events and events[-1] == "succeeded", f"events ended with {events[-3:]}")
# How many started/progress events a client sees depends on when it attached (they are not all
# replayed); that the stream ends with succeeded is what counts.
step(f"3. events: {', '.join(dict.fromkeys(events))} ({len(events)} in all)")

# 4. the image content: the gallery answers a redirect to a presigned URL on the S3 server
status, _, body = call("GET", f"/api/v1/generations/{job['id']}", token=token)
generation = json.loads(body)
check(status == 200 and generation["status"] == "succeeded" and generation["images"], f"generation: {status} {body[:300]!r}")
image = generation["images"][0]["id"]


def content():
    status, headers, body = call("GET", f"/api/v1/images/{image}/content", token=token)
    if status in (301, 302, 303, 307):
        location = headers.get("Location") or headers.get("location")
        status, headers, body = call("GET", "", url=location)
        return (status, location, body) if status == 200 else None
    return (status, None, body) if status == 200 else None


status, location, png = wait_for("the image content", content, timeout=30)
check(png[:8] == b"\x89PNG\r\n\x1a\n", f"not a PNG: {png[:16]!r}")
check(location is not None and "X-Amz-Signature" in location, f"expected a presigned S3 redirect, got {location}")
step(f"4. image {image}: PNG of {len(png)} bytes through a presigned redirect to {location.split('?')[0]}")

# 5. a signed Lemon Squeezy delivery: a 500-credit pack (variant 201) for this user
order_id = int(time.time() * 1000) % 1_000_000_000
order = json.dumps({
    "meta": {"test_mode": False, "event_name": "order_created", "custom_data": {"user_id": user}},
    "data": {"type": "orders", "id": str(order_id), "attributes": {
        "store_id": 12345, "customer_id": 67890, "identifier": str(uuid.uuid4()), "order_number": order_id,
        "user_name": "Ada Lovelace", "user_email": "ada@example.com", "currency": "USD", "subtotal": 999, "total": 999,
        "status": "paid", "refunded": False, "refunded_at": None,
        "first_order_item": {"id": order_id + 100, "order_id": order_id, "product_id": 4322, "variant_id": 201, "product_name": "500 credits", "price": 999},
        "created_at": "2030-01-01T09:00:00.000000Z", "updated_at": "2030-01-01T09:00:00.000000Z", "test_mode": False},
        "links": {"self": f"https://api.lemonsqueezy.com/v1/orders/{order_id}"}},
}).encode()
forged = hmac.new(b"not-the-secret", order, hashlib.sha256).hexdigest()
status, _, body = call("POST", "/webhooks/lemonsqueezy", raw=order, headers={"X-Event-Name": "order_created", "X-Signature": forged})
check(status == 401, f"a forged signature must be refused: {status} {body[:200]!r}")
signature = hmac.new(secret.encode(), order, hashlib.sha256).hexdigest()
status, _, body = call("POST", "/webhooks/lemonsqueezy", raw=order, headers={"X-Event-Name": "order_created", "X-Signature": signature})
check(status == 200, f"signed delivery: {status} {body[:300]!r}")
expected = balance - job["cost"] + 500


def credited():
    status, _, body = call("GET", "/api/v1/me/credits", token=token)
    return status == 200 and json.loads(body)["balance"] == expected


wait_for(f"balance {expected} (the pack granted)", credited, timeout=30)
step(f"5. signed order delivery accepted (forged one refused: 401); balance {balance} - {job['cost']} + 500 = {expected}")
print("compose-e2e: ok", flush=True)
