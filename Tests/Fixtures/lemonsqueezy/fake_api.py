#!/usr/bin/env python3
"""A stand-in for Lemon Squeezy's API on 127.0.0.1:<port> for the end-to-end tests:
DELETE /v1/subscriptions/<id> appends one JSON line to <output> (the id, and whether the request
carried "Authorization: Bearer <key>" and the JSON:API Accept header) and answers the cancelled
subscription, as Lemon Squeezy does. GET / answers 200. Exits with its parent."""
import json
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from loopback import QuietHandler, serve_until_parent_exits  # noqa: E402

port, output, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
JSON_API = "application/vnd.api+json"


class Handler(QuietHandler):
    def do_GET(self):
        self.answer(200, b"{}", JSON_API)

    def do_DELETE(self):
        match = re.fullmatch(r"/v1/subscriptions/(\d+)", self.path)
        if not match:
            self.answer(404, b'{"errors":[{"status":"404","detail":"not found"}]}', JSON_API)
            return
        authorized = self.headers.get("Authorization") == f"Bearer {key}"
        with lock, open(output, "a", encoding="utf-8") as file:
            file.write(json.dumps({
                "id": int(match.group(1)), "authorized": authorized,
                "accept": self.headers.get("Accept") == "application/vnd.api+json",
            }) + "\n")
        if not authorized:
            self.answer(401, b'{"errors":[{"status":"401","detail":"Unauthenticated."}]}', JSON_API)
            return
        body = {"jsonapi": {"version": "1.0"}, "data": {"type": "subscriptions", "id": match.group(1), "attributes": {
            "status": "cancelled", "cancelled": True, "ends_at": "2030-02-01T10:00:00.000000Z"}}}
        self.answer(200, json.dumps(body), JSON_API)



serve_until_parent_exits(port, Handler)
