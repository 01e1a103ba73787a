#!/usr/bin/env python3
"""Drives the studio page (http://<gateway>/) in headless Chromium as a person would, against a real stack.

    .run/venv-contract/bin/python scripts/studio_browser_test.py --base http://127.0.0.1:8080 \
        --artifacts .run/studio-screenshots --report /tmp/report.json

Run by Tests/EndToEndTests/StudioBrowserTests.swift (part of make test) against a fresh ServiceSuite,
whose only worker serves the `cpu-preview` pool: jobs for `sd15` stay queued, which is how a job is
canceled while queued. Each check is recorded in the report (name, ok, detail) and the exit status is
0 only when all passed; a screenshot of each main screen is saved under --artifacts.
Needs Debian's chromium and chromium-driver (scripts/deps.sh) and selenium (scripts/requirements-contract.txt).
"""
import argparse
import json
import shutil
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
CHROMEDRIVER = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
PASSWORD = "correct horse battery"


class Failed(Exception):
    pass


class Relay:
    """A TCP relay on loopback between the browser and the gateway, so the test can drop the network:
    `drop()` resets every open connection (an event stream included); new ones go through as before."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.open = set()
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.server.accept()
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                return
            with self.lock:
                self.open.update([client, upstream])
            threading.Thread(target=self.pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client), daemon=True).start()

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            with self.lock:
                self.open.discard(end)

    def drop(self):
        with self.lock:
            connections = list(self.open)
        for connection in connections:
            try:
                # shutdown() ends the connection even while a pump thread is blocked reading it.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(connections)


class Run:
    def __init__(self, args):
        self.base = args.base.rstrip("/")
        gateway = urllib.parse.urlsplit(self.base)
        self.relay = Relay(gateway.hostname, gateway.port or 80)
        # The browser goes through the relay; the test's own API calls go straight to the gateway.
        self.page = f"http://127.0.0.1:{self.relay.port}"
        self.artifacts = Path(args.artifacts)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.checks = []
        self.screenshots = []
        self.driver = None

    # ------------------------------------------------------------------ plumbing

    def check(self, name, ok, detail=""):
        self.checks.append({"name": name, "ok": bool(ok), "detail": str(detail)[:2000]})
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
        return ok

    def require(self, name, ok, detail=""):
        if not self.check(name, ok, detail):
            raise Failed(name)

    def start_browser(self):
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            raise Failed("selenium is missing from this Python: run scripts/contract-venv.sh (make check-api does)")

        binary = next((path for path in CHROMIUM if Path(path).exists()), shutil.which("chromium"))
        driver = next((path for path in CHROMEDRIVER if Path(path).exists()), shutil.which("chromedriver"))
        if not binary or not driver:
            raise Failed("chromium and chromium-driver are not installed: run scripts/deps.sh (Debian packages chromium, chromium-driver)")
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking", "--lang=en-US"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        self.driver.set_page_load_timeout(30)

    def wait(self, what, condition, timeout=30, state=None):
        """Polls `condition()` until it is truthy (its value) or the deadline passes (Failed with `what`)."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = condition()
                if value:
                    return value
            except Exception as error:  # stale elements while the page re-renders
                last_error = error
            time.sleep(0.1)
        seen = ""
        if state:
            try:
                seen = f"; {state()}"
            except Exception as error:
                seen = f"; state unreadable: {error!r}"
        self.check(f"within {timeout}s: {what}", False, f"last error: {last_error!r}; {self.problem_text()}{seen}")
        raise Failed(what)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def by_id(self, element_id):
        return self.driver.find_element("id", element_id)

    def visible(self, element_id):
        elements = self.driver.find_elements("id", element_id)
        return bool(elements) and elements[0].is_displayed()

    def text(self, element_id):
        return self.by_id(element_id).text.strip()

    def type(self, element_id, value):
        field = self.by_id(element_id)
        field.clear()
        field.send_keys(value)

    def select(self, element_id, value):
        from selenium.webdriver.support.ui import Select
        Select(self.by_id(element_id)).select_by_value(value)

    def problem_text(self):
        try:
            if self.visible("problem"):
                return "problem shown: " + self.text("problem")
        except Exception:
            pass
        return "no problem shown"

    def screenshot(self, name):
        path = self.artifacts / f"{len(self.screenshots) + 1:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        self.screenshots.append(str(path))

    def session(self):
        return self.js("return JSON.parse(localStorage.getItem('pingvas.session'))")

    def api(self, method, path, token=None, body=None):
        """The API straight from the test (not through the page), to confirm what the page claims."""
        request = urllib.request.Request(self.base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def credits_shown(self):
        value = self.text("credits")
        return int(value) if value.isdigit() else None

    def console_problems(self):
        try:
            entries = self.driver.get_log("browser")
        except Exception:
            return []
        return [entry["message"] for entry in entries
                if entry.get("level") == "SEVERE" and ("Content Security Policy" in entry["message"] or "Uncaught" in entry["message"])]

    # ------------------------------------------------------------------ the story

    def sign_up(self, name):
        email = f"studio-{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        self.wait("the sign-in screen shows", lambda: self.visible("view-auth"))
        self.type("signup-name", name)
        self.type("signup-email", email)
        self.type("signup-password", PASSWORD)
        self.by_id("signup-submit").click()
        self.wait(f"{name} is signed in and the header shows the credits", lambda: self.visible("account") and self.credits_shown() is not None)
        return email

    def sign_out(self):
        self.by_id("signout").click()
        self.wait("signing out shows the sign-in screen", lambda: self.visible("view-auth") and not self.visible("account"))
        self.check("signing out forgets the tokens", self.session() is None)

    def choose_model(self, model_id):
        self.wait(f"the model picker offers {model_id}",
                  lambda: self.js("return [...document.querySelectorAll('#model option')].some(o => o.value === arguments[0])", model_id))
        # The list is rebuilt when availability is reloaded: select again until the choice holds.
        def chosen():
            if self.by_id("model").get_attribute("value") != model_id:
                self.select("model", model_id)
            return self.by_id("model").get_attribute("value") == model_id
        self.wait(f"{model_id} is the chosen model", chosen)

    def job_items(self):
        return self.driver.find_elements("css selector", "#job-list li.job")

    def run(self):
        self.start_browser()
        driver = self.driver
        driver.get(self.page + "/")
        self.wait("the page loads and shows sign-in", lambda: self.visible("view-auth"))
        self.check("signed out, the sign-in and sign-up forms show", self.visible("signin-form") and self.visible("signup-form"))
        self.check("no OAuth buttons when no provider is configured", not self.visible("oauth"))

        # A sign-up the API refuses shows the problem's title and detail.
        self.type("signup-name", "Shorty")
        self.type("signup-email", f"short-{uuid.uuid4().hex[:6]}@example.com")
        self.type("signup-password", "short")
        self.by_id("signup-submit").click()
        self.wait("a refused sign-up shows a problem", lambda: self.visible("problem"))
        self.check("the refused sign-up names the password field", "password" in self.text("problem").lower(), self.text("problem"))
        self.screenshot("signin")

        self.sign_up("Alice")
        self.check("a new account starts with the signup credits", self.credits_shown() == 100, self.text("credits"))
        self.check("debt and plan are shown", self.text("debt") == "0" and self.text("plan") == "free", f"{self.text('debt')} {self.text('plan')}")
        token = self.session()["access"]

        # Generate: the preview model, a price shown before submitting, one job for a double click.
        self.wait("the generate view shows", lambda: self.visible("view-generate"))
        self.choose_model("preview")
        self.check("the model's availability is shown", "ready" in self.text("model-info") or "cold" in self.text("model-info"), self.text("model-info"))
        self.type("prompt", "a lighthouse at dusk, studio test")
        self.type("width", "64")
        self.type("height", "64")
        self.type("steps", "8")
        self.type("seed", "42")
        self.wait("the price is shown before submitting", lambda: self.text("price").endswith("credit") or self.text("price").endswith("credits"))
        price = int(self.text("price").split()[0])
        self.check("the preview model's price is its published cost", price == 1, self.text("price"))
        self.screenshot("generate")
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(driver).double_click(self.by_id("generate-submit")).perform()
        job = self.wait("the job appears in the list", lambda: (self.job_items() or [None])[0])
        job_id = job.get_attribute("data-job")
        self.wait("the job succeeds", lambda: self.job_items()[0].get_attribute("data-status") == "succeeded", timeout=60)
        item = self.job_items()[0]
        percent = item.find_element("css selector", ".job-percent").text
        bar = item.find_element("css selector", "progress")
        self.check("progress reaches 100%", percent == "100%" and bar.get_attribute("value") == bar.get_attribute("max"), f"{percent} {bar.get_attribute('value')}/{bar.get_attribute('max')}")
        image = self.wait("the image appears in the job", lambda: self.js(
            "const img = document.querySelector('#job-list li.job img'); return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('data-image') : null"))
        status, page = self.api("GET", "/api/v1/generations", token)
        self.check("a double click made one job", status == 200 and len(page["items"]) == 1 and len(self.job_items()) == 1,
                   f"{status} {[j['id'] for j in page.get('items', [])]} {len(self.job_items())} items")
        self.check("the page shows the job the API has", page["items"][0]["id"] == job_id if page.get("items") else False)
        self.wait("the header shows the credits spent", lambda: self.credits_shown() == 100 - price)
        self.screenshot("job-done")

        # Reload with a refused access token: every call the page makes at once gets 401, one quiet
        # refresh (a second use of the refresh token would revoke the whole family) and a retry.
        old_refresh = self.session()["refresh"]
        self.js("const s = JSON.parse(localStorage.getItem('pingvas.session')); s.access = 'not-a-token';"
                "localStorage.setItem('pingvas.session', JSON.stringify(s))")
        driver.refresh()
        self.wait("the page refreshed the token pair quietly", lambda: (self.session() or {}).get("refresh") not in (None, old_refresh)
                  and self.credits_shown() == 100 - price, state=lambda: f"session {self.session()}; {self.problem_text()}")
        self.check("no problem shown for the refused access token", not self.visible("problem"), self.problem_text())
        token = self.session()["access"]
        status, _ = self.api("GET", "/api/v1/me", token)
        self.check("the refreshed access token works", status == 200, status)

        # The image is in the gallery, still signed in.
        driver.get(self.page + "/#/gallery")
        self.wait("after a reload the gallery shows the image", lambda: self.js(
            "const img = document.querySelector(`#gallery-grid li[data-image='${arguments[0]}'] img`); return img && img.complete && img.naturalWidth > 0", image))
        self.check("still signed in after the reload", self.visible("account"))
        self.screenshot("gallery")

        # Its page: the recipe, then visibility and title.
        driver.find_element("css selector", f"#gallery-grid li[data-image='{image}'] a").click()
        self.wait("the image page shows its recipe", lambda: self.visible("view-image") and "Seed" in self.text("recipe"))
        recipe = self.text("recipe")
        self.check("the recipe names the model, size and seed", "preview" in recipe and "64 × 64" in recipe and "42" in recipe, recipe)
        self.type("image-title", "Lighthouse")
        self.type("image-tags", "sea, dusk")
        self.select("image-visibility", "public")
        self.by_id("image-save").click()
        self.wait("saving says the image is public", lambda: "public" in self.text("notice"))
        status, body = self.api("GET", f"/api/v1/images/{image}", token)
        self.check("the API has the new visibility, title and tags",
                   status == 200 and body["visibility"] == "public" and body.get("title") == "Lighthouse" and body["tags"] == ["sea", "dusk"], body)
        self.screenshot("image")
        self.check("no CSP violation or script error so far", not self.console_problems(), self.console_problems())

        # The owner's page offers the catalog's upscalers (and the generate form does not list them).
        upscalers = self.wait("the image page offers the upscalers", lambda: self.js(
            "return [...document.querySelectorAll('#image-upscalers button')].map((b) => b.dataset.model + '=' + b.textContent)"))
        self.check("one button per upscaler: x2 and x4",
                   sorted(upscalers) == ["realesrgan-x2=Upscale ×2", "realesrgan-x4=Upscale ×4"], upscalers)
        picker = self.js("return [...document.querySelectorAll('#model option')].map((o) => o.value)")
        self.check("the generate form's model list has no upscaler", not any(m.startswith("realesrgan") for m in picker), picker)

        # Remix it: a new job from the recipe; then delete the remix from its page.
        self.by_id("image-remix").click()
        self.wait("the remix is a new job in the list", lambda: self.visible("view-generate") and self.job_items()
                  and self.job_items()[0].get_attribute("data-job") != job_id)
        self.wait("the remix succeeds", lambda: self.job_items()[0].get_attribute("data-status") == "succeeded", timeout=60)
        remix = self.wait("the remix's image appears", lambda: self.js(
            "const img = document.querySelector('#job-list li.job img'); return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('data-image') : null"))
        self.check("the remix is another image", remix != image, remix)
        driver.find_element("css selector", f"#job-list li.job img[data-image='{remix}']").find_element("xpath", "..").click()
        self.wait("the remix's page shows", lambda: self.visible("view-image") and "Seed" in self.text("recipe"))
        self.check("the remix keeps the recipe's seed", "42" in self.text("recipe"), self.text("recipe"))
        self.by_id("image-delete").click()
        self.wait("deleting asks first", lambda: driver.switch_to.alert).accept()
        self.wait("deleting leads back to the gallery without the remix", lambda: self.visible("view-gallery") and self.js(
            "return document.querySelector(`#gallery-grid li[data-image='${arguments[0]}']`) === null"
            " && document.querySelector(`#gallery-grid li[data-image='${arguments[1]}']`) !== null", remix, image))
        status, _ = self.api("GET", f"/api/v1/images/{remix}", token)
        self.check("the deleted image is gone from the API", status == 404, status)

        # Billing: the plan, and a checkout the API refuses shows its problem.
        driver.get(self.page + "/#/billing")
        self.wait("billing shows the plan", lambda: self.visible("view-billing") and "free" in self.text("subscription"))
        self.type("variant", "999999")
        self.by_id("checkout-submit").click()
        self.wait("a refused checkout shows a problem", lambda: self.visible("problem"))
        self.check("the problem has a title", len(self.text("problem-title")) > 0, self.text("problem"))
        self.screenshot("billing")
        self.sign_out()

        # Signed out, Explore still shows the public image (the API needs no token for it).
        driver.get(self.page + "/#/explore")
        self.wait("signed out, Explore shows the public image", lambda: self.visible("view-explore") and self.js(
            "const img = document.querySelector(`#explore-grid li[data-image='${arguments[0]}'] img`); return img && img.complete && img.naturalWidth > 0", image))
        driver.get(self.page + "/")

        # A second account sees the public image in Explore and can report it.
        self.sign_up("Bob")
        driver.get(self.page + "/#/explore")
        self.wait("Explore shows Alice's public image", lambda: self.js(
            "const img = document.querySelector(`#explore-grid li[data-image='${arguments[0]}'] img`); return img && img.complete && img.naturalWidth > 0", image))
        self.screenshot("explore")
        driver.find_element("css selector", f"#explore-grid li[data-image='{image}'] a").click()
        self.wait("someone else's image offers a report form, not editing", lambda: self.visible("report-form") and not self.visible("image-form"))
        self.type("report-reason", "just testing the report button")
        self.by_id("report-submit").click()
        self.wait("the report is acknowledged", lambda: "report" in self.text("notice").lower())

        # Cancel a queued job: sd15 has no worker in this stack, so its job waits.
        driver.get(self.page + "/#/generate")
        self.wait("the generate view shows", lambda: self.visible("view-generate"))
        self.choose_model("sd15")
        self.check("a model without a worker says so", "offline" in self.text("model-info"), self.text("model-info"))
        self.type("prompt", "a queue that never moves")
        before = self.credits_shown()
        price = int(self.text("price").split()[0])
        self.by_id("generate-submit").click()
        self.wait("the sd15 job is queued with its position", lambda: self.job_items() and self.job_items()[0].get_attribute("data-status") == "queued"
                  and "queue" in self.job_items()[0].text.lower())
        self.wait("the header shows the credits held", lambda: self.credits_shown() == before - price)
        self.screenshot("queued")
        # The network drops while the job waits: the stream reconnects by itself, with Last-Event-ID.
        queued = self.job_items()[0]
        self.wait("the event stream is live", lambda: queued.get_attribute("data-stream") == "live")
        self.js("""window.__eventRequests = [];
            const original = window.fetch;
            window.fetch = (url, init = {}) => {
              if (String(url).endsWith('/events')) window.__eventRequests.push({ url: String(url), lastEventId: (init.headers || {})['Last-Event-ID'] || null });
              return original(url, init);
            };""")
        dropped = self.relay.drop()
        self.check("the network drop cut open connections", dropped > 0, dropped)
        self.wait("the stream is live again after the drop", lambda: len(self.js("return window.__eventRequests")) > 0
                  and queued.get_attribute("data-stream") == "live", timeout=30,
                  state=lambda: f"stream {queued.get_attribute('data-stream')}, requests {self.js('return window.__eventRequests')}")
        requests = self.js("return window.__eventRequests")
        self.check("the stream reconnected with Last-Event-ID", bool(requests) and all(r["lastEventId"] for r in requests), requests)
        self.job_items()[0].find_element("css selector", ".job-cancel").click()
        self.wait("the job shows canceled", lambda: self.job_items()[0].get_attribute("data-status") == "canceled")
        self.wait("the credits come back", lambda: self.credits_shown() == before)
        self.screenshot("canceled")

        # A submission the API rejects: a width that is not a multiple of 8.
        self.choose_model("preview")
        self.type("prompt", "a rejected one")
        self.type("width", "70")
        jobs_before = len(self.job_items())
        self.by_id("generate-submit").click()
        self.wait("a rejected submission shows a problem", lambda: self.visible("problem"))
        shown = self.text("problem")
        self.check("the problem names the field", "width" in shown, shown)
        self.check("the problem is the API's title", self.text("problem-title") != "" and "Request failed" not in self.text("problem-title"), shown)
        self.check("no job was added", len(self.job_items()) == jobs_before)
        self.screenshot("rejected")

        # 375 px wide: nothing scrolls sideways.
        driver.set_window_size(375, 900)
        self.by_id("problem-dismiss").click()
        overflow = self.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        self.check("at 375 px wide nothing scrolls sideways", overflow <= 0, f"{overflow}px too wide")
        self.screenshot("narrow")
        self.check("no CSP violation or script error", not self.console_problems(), self.console_problems())
        # Keyboard: every control has a label.
        unlabeled = self.js("""return [...document.querySelectorAll('input, select, textarea')].filter(e =>
            e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id || e.name)""")
        self.check("every control has a label", not unlabeled, unlabeled)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--report", required=True)
    args = parser.parse_args()
    run = Run(args)
    error = None
    try:
        run.run()
    except Failed as failure:
        error = str(failure)
    except Exception as failure:  # the report says what broke, with the traceback
        error = "".join(traceback.format_exception(failure))
        run.check("the browser run finished", False, error)
    finally:
        if run.driver is not None:
            try:
                if error:
                    run.screenshot("failure")
            except Exception:
                pass
            run.driver.quit()
    if error and not any(not c["ok"] for c in run.checks):
        run.check("the browser run finished", False, error)
    Path(args.report).write_text(json.dumps({"checks": run.checks, "screenshots": run.screenshots, "error": error}, indent=2))
    return 0 if all(c["ok"] for c in run.checks) and run.checks else 1


if __name__ == "__main__":
    sys.exit(main())
