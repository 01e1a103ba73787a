#!/usr/bin/env python3
"""A fake STS on 127.0.0.1:<port>: AssumeRoleWithWebIdentity answers credentials that expire after
<lifetime> seconds. Access keys count up (ASIAFAKE00000001, ...), so a test sees each refresh; the
session token echoes the role and web identity token it was given. Exits with its parent."""
import datetime
import os
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from loopback import QuietHandler, serve_until_parent_exits  # noqa: E402

port, lifetime = int(sys.argv[1]), int(sys.argv[2])
count = 0
lock = threading.Lock()


class Handler(QuietHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
        if form.get("Action") != "AssumeRoleWithWebIdentity" or not form.get("WebIdentityToken"):
            self.answer(400, "<ErrorResponse><Error><Code>InvalidParameterValue</Code></Error></ErrorResponse>", "text/xml")
            return
        with lock:
            count += 1
            n = count
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime)
        self.answer(200, f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIAFAKE{n:08d}</AccessKeyId>
      <SecretAccessKey>fake-secret-{n}</SecretAccessKey>
      <SessionToken>session-{n}-{form.get("RoleArn")}-{form["WebIdentityToken"]}</SessionToken>
      <Expiration>{expires.strftime("%Y-%m-%dT%H:%M:%SZ")}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>""", "text/xml")

    def do_GET(self):
        self.answer(200, f"<Calls>{count}</Calls>", "text/xml")



serve_until_parent_exits(port, Handler)
