#!/usr/bin/env python3
"""A webhook receiver for the tests (Tests/EndToEndTests/WebhookTests.swift), on 127.0.0.1.

    webhook_receiver.py --port P --secret whsec_... --log FILE [--fail-first N]

Verifies every request with `standardwebhooks` (PyPI), an implementation of Standard Webhooks
independent of the service's. Answers 400 to a request that does not verify, 500 to the first N
that do, then 204. Appends one JSON line per request to FILE: {"verified", "status", "id", "payload"}.
Runs until killed.
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--secret", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--fail-first", type=int, default=0)
args = parser.parse_args()
webhook = Webhook(args.secret)
verified_count = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global verified_count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        entry = {"id": self.headers.get("webhook-id"), "verified": False, "payload": None}
        try:
            entry["payload"] = webhook.verify(body, dict(self.headers.items()))
            entry["verified"] = True
            verified_count += 1
            status = 500 if verified_count <= args.fail_first else 204
        except WebhookVerificationError as error:
            entry["error"] = str(error)
            status = 400
        entry["status"] = status
        with open(args.log, "a") as log:
            log.write(json.dumps(entry) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
