"""The monitoring, ArgoCD and spot-drain part of the offline deployment check (scripts/check_deploy.py
imports it; each *_problems function returns a list of problems, empty when all is well, and each
has a self-test that feeds it broken variants it must reject).

- Prometheus rules (deploy/monitoring/prometheus/rules.yml): promtool check rules, promtool test
  rules (tests.yml), every alert with a case that fires and one that stays quiet, and the test
  suite proven able to fail; the PrometheusRule of k8s/ and of the chart hold exactly these groups.
- Dashboards (deploy/monitoring/grafana/dashboards/*.json): valid JSON, unique uids and panel ids,
  every PromQL expression parsed by promtool, every metric and selector label in
  deploy/monitoring/metrics.yaml (scripts/check_metrics.py).
- Compose: Prometheus scrapes every service of deploy/services.yaml at <id>:<port> with the rules
  file; Grafana provisions the Prometheus and Jaeger datasources and the dashboards; Jaeger takes OTLP on 4318.
- Kubernetes: one ServiceMonitor per service selecting exactly its Service, on its named port, job =
  the service id; NetworkPolicies admit the monitoring namespace on each port.
- ai-worker: preStop + PINGVAS_WORKER_SHUTDOWN_GRACE + 5 s <= terminationGracePeriodSeconds <= 120.
- ArgoCD (k8s/argocd): an Application per environment on its overlay and namespace (dev automated
  with prune and selfHeal, prod manual), replicas ignored (KEDA, HPAs), a project allowing exactly
  what the overlays render, and Karpenter with its interruption queue as the spot handler.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# PINGVAS_METRICS_PORT of every service in the cluster: /metrics alone, the only port Prometheus may reach.
METRICS_PORT = int(yaml.safe_load((ROOT / "deploy" / "services.yaml").read_text())["metrics_port"])
sys.path.insert(0, str(ROOT / "scripts"))
import check_metrics  # noqa: E402
import sync_monitoring  # noqa: E402

PROM = ROOT / "deploy" / "monitoring" / "prometheus"
RULES = PROM / "rules.yml"
TESTS = PROM / "tests.yml"
PROM_CONFIG = PROM / "prometheus.yml"
GRAFANA = ROOT / "deploy" / "monitoring" / "grafana"
ARGOCD = ROOT / "k8s" / "argocd"
SPOT_NOTICE_SECONDS = 120
HANDBACK_SECONDS = 5
DURATION = re.compile(r"^(\d+)(ms|s|m|h)$")


def seconds(text) -> float | None:
    """A PINGVAS_* or Prometheus duration (`100s`, `2m`, `500ms`, plain seconds) in seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    match = DURATION.match(text)
    if not match:
        return None
    return int(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def promtool() -> str | None:
    return shutil.which("promtool")


def run(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd)


def tail(result: subprocess.CompletedProcess, lines: int = 12) -> list[str]:
    return [line for line in (result.stdout + result.stderr).strip().splitlines() if line.strip()][-lines:]


# ---------------------------------------------------------------- rules and their tests

def rule_groups() -> list[dict]:
    return yaml.safe_load(RULES.read_text())["groups"]


def alerts() -> list[str]:
    return [r["alert"] for g in rule_groups() for r in g["rules"] if "alert" in r]


def test_coverage_problems(tests: dict, names: list[str]) -> list[str]:
    """Every alert needs a test case that expects it to fire and one that expects silence."""
    fires, quiet = set(), set()
    for case in tests.get("tests") or []:
        for t in case.get("alert_rule_test") or []:
            (fires if t.get("exp_alerts") else quiet).add(t.get("alertname"))
    problems = [f"{a}: no test case in tests.yml where it fires" for a in names if a not in fires]
    problems += [f"{a}: no test case in tests.yml where it stays quiet" for a in names if a not in quiet]
    problems += [f"tests.yml tests {a}, which rules.yml does not define" for a in sorted((fires | quiet) - set(names))]
    return problems


def promtool_problems() -> tuple[list[str], list[str]]:
    """(problems of promtool check rules + check config, problems of promtool test rules)."""
    tool = promtool()
    if not tool:
        missing = ["promtool not found: make deps installs Debian's prometheus package, which ships it"]
        return missing, missing
    checked = run([tool, "check", "rules", str(RULES)])
    config = run([tool, "check", "config", str(PROM_CONFIG)])
    problems = (tail(checked) if checked.returncode else []) + (tail(config) if config.returncode else [])
    tested = run([tool, "test", "rules", str(TESTS)])
    return problems, (tail(tested, 30) if tested.returncode else [])


def promtool_self_test() -> list[str]:
    """promtool test rules must fail on a suite whose firing case for an alert expects silence, and on
    a rules file whose threshold no longer fires: a suite that cannot fail proves nothing."""
    tool = promtool()
    if not tool:
        return ["promtool not found"]
    tests = yaml.safe_load(TESTS.read_text())
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 1. a firing expectation turned into silence
        broken = copy.deepcopy(tests)
        case = next(c for c in broken["tests"] for t in c["alert_rule_test"] if t.get("exp_alerts"))
        next(t for t in case["alert_rule_test"] if t.get("exp_alerts"))["exp_alerts"] = []
        shutil.copy(RULES, tmp / "rules.yml")
        (tmp / "tests.yml").write_text(yaml.safe_dump(broken, sort_keys=False))
        if run([tool, "test", "rules", "tests.yml"], cwd=tmp).returncode == 0:
            missed.append("promtool test rules passed a suite expecting silence where an alert fires")
        # 2. the queue-wait threshold raised so the alert never fires
        (tmp / "tests.yml").write_text(TESTS.read_text())
        (tmp / "rules.yml").write_text(RULES.read_text().replace("le) (rate(pingvas_queue_wait_seconds_bucket[5m]))) > 60",
                                                                 "le) (rate(pingvas_queue_wait_seconds_bucket[5m]))) > 600"))
        if (tmp / "rules.yml").read_text() == RULES.read_text():
            missed.append("self-test could not find the PingvasQueueWaitHigh threshold to break in rules.yml")
        elif run([tool, "test", "rules", "tests.yml"], cwd=tmp).returncode == 0:
            missed.append("promtool test rules passed rules whose PingvasQueueWaitHigh threshold is 600 s")
    return missed


# ---------------------------------------------------------------- dashboards and metric names

def dashboard_problems(boards: dict[str, dict]) -> list[str]:
    """name -> parsed dashboard: uids unique, panel ids unique per dashboard, every panel with a query."""
    problems, uids = [], {}
    for name, board in boards.items():
        uid = board.get("uid")
        if not uid or uid in uids:
            problems.append(f"{name}: uid {uid!r} missing or also used by {uids.get(uid)}")
        uids[uid] = name
        if not board.get("title"):
            problems.append(f"{name}: no title")
        ids, stack = [], list(board.get("panels") or [])
        while stack:
            panel = stack.pop(0)
            stack += panel.get("panels") or []
            ids.append(panel.get("id"))
            if panel.get("type") != "row" and not any(t.get("expr") for t in panel.get("targets") or []):
                problems.append(f"{name}: panel {panel.get('id')} {panel.get('title')!r} has no query")
        dupes = sorted({i for i in ids if ids.count(i) > 1}, key=str)
        if dupes or None in ids:
            problems.append(f"{name}: panel ids must be unique and set, repeated or missing: {dupes or [None]}")
        if not ids:
            problems.append(f"{name}: no panels")
    return problems


def load_dashboards() -> tuple[dict[str, dict], list[str]]:
    boards, problems = {}, []
    files = sorted((GRAFANA / "dashboards").glob("*.json"))
    if not files:
        problems.append("no dashboards in deploy/monitoring/grafana/dashboards")
    for path in files:
        try:
            boards[path.name] = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            problems.append(f"{path.name}: not valid JSON: {error}")
    return boards, problems


def expressions_parse_problems(expressions: list[tuple[str, str]]) -> list[str]:
    """Every PromQL expression of the dashboards, with Grafana's variables filled in, parsed by promtool
    (each becomes a recording rule of a throw-away rules file)."""
    tool = promtool()
    if not tool:
        return ["promtool not found"]
    rules = [{"record": f"pingvas:dashboard_check_{i}", "expr": check_metrics.grafana_to_promql(expr)}
             for i, (_, expr) in enumerate(expressions)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dashboard-exprs.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, sort_keys=False))
        result = run([tool, "check", "rules", str(path)])
    if result.returncode == 0:
        return []
    problems = []
    for line in tail(result, 40):
        match = re.search(r"pingvas:dashboard_check_(\d+)|group \"dashboards\", rule (\d+)", line)
        index = next((int(g) for g in (match.groups() if match else ()) if g), None)
        where = f"{expressions[index - 1 if match and match.group(2) else index][0]}: " if index is not None else ""
        problems.append(f"{where}{line.strip()}")
    return problems


def metric_name_problems(extra: list[tuple[str, str]] | None = None) -> tuple[dict, list[str]]:
    catalog = check_metrics.load_catalog()
    return check_metrics.used(catalog, check_metrics.all_expressions() + (extra or []))


def metric_check_self_test() -> list[str]:
    """The metric-name check must reject a misspelt metric, an unknown label and a metric no service exports."""
    variants = {
        "a dashboard naming pingvas_queue_wait_secs_bucket": (
            "histogram_quantile(0.95, sum by (pool, le) (rate(pingvas_queue_wait_secs_bucket[5m])))", "exported by no service"),
        "a rule filtering pingvas_workers by a label it lacks": ('sum(pingvas_workers{queue="gpu-sd15"})', "has no label"),
        "a dashboard reading process_cpu_seconds_total": ("rate(process_cpu_seconds_total[5m])", "exported by no service"),
    }
    missed = []
    for what, (expr, expect) in variants.items():
        _, problems = metric_name_problems([("self-test", expr)])
        if not any(expect in p for p in problems):
            missed.append(f"accepted: {what}")
    # and the --scraped mode must name a used metric missing from a scrape
    with tempfile.TemporaryDirectory() as tmp:
        scraped = Path(tmp) / "metrics.txt"
        scraped.write_text("# TYPE hb_requests counter\nhb_requests{http_route=\"/\"} 1\n")
        result = run([sys.executable, str(ROOT / "scripts" / "check_metrics.py"), "--scraped", str(scraped)])
        if result.returncode == 0 or "pingvas_queue_wait_seconds" not in result.stdout:
            missed.append("check_metrics.py --scraped accepted a scrape without pingvas_queue_wait_seconds")
    return missed


# ---------------------------------------------------------------- compose

def compose_monitoring_problems(compose: dict, services: dict[str, int]) -> list[str]:
    """Prometheus scrapes each service at <id>:<port> as job <id> with the rules; Grafana provisions the
    datasources and dashboards; Jaeger takes OTLP over HTTP on 4318."""
    problems = []
    svcs = compose.get("services") or {}
    for name in ("prometheus", "grafana", "jaeger"):
        if name not in svcs:
            problems.append(f"compose has no {name} service")
    config = yaml.safe_load(PROM_CONFIG.read_text())
    jobs = {j.get("job_name"): [t for sc in j.get("static_configs") or [] for t in sc.get("targets") or []]
            for j in config.get("scrape_configs") or []}
    for sid, port in services.items():
        if jobs.get(sid) != [f"{sid}:{port}"]:
            problems.append(f"prometheus.yml: job {sid} must scrape exactly {sid}:{port}, has {jobs.get(sid)}")
    if "rules.yml" not in (config.get("rule_files") or []):
        problems.append("prometheus.yml: rule_files must load rules.yml")

    def mounts(name: str) -> dict[str, str]:
        out = {}
        for v in (svcs.get(name) or {}).get("volumes") or []:
            if v.get("type") == "bind":
                out[v["target"]] = str(Path(v["source"]).resolve().relative_to(ROOT)) if str(v["source"]).startswith(str(ROOT)) else v["source"]
        return out

    prom = mounts("prometheus")
    if prom.get("/etc/prometheus") != "deploy/monitoring/prometheus":
        problems.append(f"prometheus must mount deploy/monitoring/prometheus at /etc/prometheus, mounts {prom}")
    graf = mounts("grafana")
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "dashboards.yml").read_text())["providers"]
    board_path = ((providers[0].get("options") or {}).get("path")) if providers else None
    if graf.get("/etc/grafana/provisioning") != "deploy/monitoring/grafana/provisioning":
        problems.append(f"grafana must mount deploy/monitoring/grafana/provisioning at /etc/grafana/provisioning, mounts {graf}")
    if not board_path or graf.get(board_path) != "deploy/monitoring/grafana/dashboards":
        problems.append(f"grafana must mount deploy/monitoring/grafana/dashboards where the provider reads ({board_path}), mounts {graf}")
    sources = {d.get("uid"): d for d in yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "datasources.yml")
                                                      .read_text()).get("datasources") or []}
    if (sources.get("prometheus") or {}).get("url") != "http://prometheus:9090" or sources["prometheus"].get("type") != "prometheus":
        problems.append("grafana datasource uid prometheus must be type prometheus at http://prometheus:9090")
    if (sources.get("jaeger") or {}).get("url") != "http://jaeger:16686" or sources["jaeger"].get("type") != "jaeger":
        problems.append("grafana datasource uid jaeger must be type jaeger at http://jaeger:16686")
    jaeger_ports = {int(p["target"]) for p in (svcs.get("jaeger") or {}).get("ports") or []}
    if 4318 not in jaeger_ports or 16686 not in jaeger_ports:
        problems.append(f"jaeger must publish 4318 (OTLP/HTTP) and 16686 (UI), publishes {sorted(jaeger_ports)}")
    env = (svcs.get("jaeger") or {}).get("environment") or {}
    if str(env.get("COLLECTOR_OTLP_ENABLED", "true")).lower() != "true":
        problems.append("jaeger: COLLECTOR_OTLP_ENABLED must not be false")
    return problems


# ---------------------------------------------------------------- Kubernetes: ServiceMonitors, rule, drain

def crd_problems(doc: dict) -> list[str] | None:
    """Field-by-field check of a monitoring.coreos.com object (no schema offline); None for other kinds."""
    kind, spec, name = doc.get("kind"), doc.get("spec") or {}, (doc.get("metadata") or {}).get("name")
    if doc.get("apiVersion") != "monitoring.coreos.com/v1":
        return None
    problems = []
    if kind == "ServiceMonitor":
        problems += [f"ServiceMonitor {name}: unknown field spec.{k}" for k in set(spec) -
                     {"jobLabel", "selector", "endpoints", "podTargetLabels", "targetLabels", "namespaceSelector", "sampleLimit"}]
        if not (spec.get("selector") or {}).get("matchLabels"):
            problems.append(f"ServiceMonitor {name}: needs spec.selector.matchLabels")
        if not spec.get("endpoints"):
            problems.append(f"ServiceMonitor {name}: needs spec.endpoints")
        for ep in spec.get("endpoints") or []:
            problems += [f"ServiceMonitor {name}: unknown endpoint field {k}" for k in set(ep) -
                         {"port", "path", "scheme", "interval", "scrapeTimeout", "relabelings", "metricRelabelings", "honorLabels"}]
            if not isinstance(ep.get("port"), str):
                problems.append(f"ServiceMonitor {name}: endpoint port must be the Service port's name: {ep}")
            iv, to = seconds(str(ep.get("interval", "30s")).rstrip()), seconds(str(ep.get("scrapeTimeout", "10s")))
            if iv is None or to is None or to > iv:
                problems.append(f"ServiceMonitor {name}: interval/scrapeTimeout must be durations, timeout <= interval: {ep}")
    elif kind == "PrometheusRule":
        problems += [f"PrometheusRule {name}: unknown field spec.{k}" for k in set(spec) - {"groups"}]
        for group in spec.get("groups") or []:
            problems += [f"PrometheusRule {name}: unknown group field {k}" for k in set(group) - {"name", "interval", "rules", "limit"}]
            for rule in group.get("rules") or []:
                if set(rule) - {"alert", "record", "expr", "for", "labels", "annotations", "keep_firing_for"} or \
                        ("alert" in rule) == ("record" in rule) or not isinstance(rule.get("expr"), str):
                    problems.append(f"PrometheusRule {name}: bad rule {rule.get('alert') or rule.get('record')}")
                if "for" in rule and seconds(rule["for"]) is None:
                    problems.append(f"PrometheusRule {name}: {rule.get('alert')}: for {rule['for']!r} is no duration")
                if any(not isinstance(v, str) for v in list((rule.get("labels") or {}).values()) + list((rule.get("annotations") or {}).values())):
                    problems.append(f"PrometheusRule {name}: {rule.get('alert')}: labels and annotations are strings")
    else:
        problems.append(f"unexpected monitoring.coreos.com kind {kind}")
    return problems


def cluster_monitoring_problems(docs: list[dict], services: dict[str, int], env_value) -> list[str]:
    """One ServiceMonitor per service selecting exactly its Service, on its named metrics port, job = service id;
    the monitoring namespace admitted on the metrics port and on no other; the PrometheusRule = rules.yml; the
    worker's drain fits the notice."""
    problems = []
    svc_objs = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Service"}
    monitors = [d for d in docs if d.get("kind") == "ServiceMonitor"]
    for sid, port in services.items():
        svc = svc_objs.get(sid)
        if not svc:
            continue  # the id/port check reports a missing Service
        labels = svc["metadata"].get("labels") or {}
        port_names = {p.get("name") for p in svc["spec"].get("ports") or [] if p.get("port") == METRICS_PORT}
        mine = [m for m in monitors if (m["spec"].get("selector") or {}).get("matchLabels")
                and (m["spec"]["selector"]["matchLabels"]).items() <= labels.items()]
        if len(mine) != 1:
            problems.append(f"{sid}: want exactly one ServiceMonitor selecting Service {sid}, have {[m['metadata']['name'] for m in mine]}")
            continue
        mon = mine[0]
        others = [n for n, s in svc_objs.items() if n != sid and
                  mon["spec"]["selector"]["matchLabels"].items() <= (s["metadata"].get("labels") or {}).items()]
        if others:
            problems.append(f"ServiceMonitor {mon['metadata']['name']}: also selects Services {others} (their targets would be job {sid})")
        if mon["spec"].get("jobLabel") != "app.kubernetes.io/name" or labels.get("app.kubernetes.io/name") != sid:
            problems.append(f"ServiceMonitor {mon['metadata']['name']}: jobLabel must be app.kubernetes.io/name (job = {sid}, "
                            f"what rules and dashboards group by)")
        for ep in mon["spec"].get("endpoints") or []:
            if ep.get("port") not in port_names:
                problems.append(f"ServiceMonitor {mon['metadata']['name']}: endpoint port {ep.get('port')!r} is not the name of "
                                f"Service {sid}'s metrics port {METRICS_PORT} ({sorted(n for n in port_names if n)})")
            if ep.get("path", "/metrics") != "/metrics":
                problems.append(f"ServiceMonitor {mon['metadata']['name']}: path must be /metrics")
        admitted = False
        for pol in (d for d in docs if d.get("kind") == "NetworkPolicy"):
            if (pol["spec"].get("podSelector") or {}).get("matchLabels", {}).get("app.kubernetes.io/name") != sid:
                continue
            for rule in pol["spec"].get("ingress") or []:
                from_monitoring = any((p.get("namespaceSelector") or {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                                      == "monitoring" and "podSelector" not in p for p in rule.get("from") or [])
                ports = {p.get("port") for p in rule.get("ports") or []}
                if from_monitoring and (METRICS_PORT in ports or "metrics" in ports):
                    admitted = True
                if from_monitoring and (not ports or ports - {METRICS_PORT, "metrics"}):
                    problems.append(f"{sid}: a NetworkPolicy admits the monitoring namespace beyond the metrics port "
                                    f"{METRICS_PORT}: {sorted(map(str, ports)) or 'every port'} (it could call the API)")
        if not admitted:
            problems.append(f"{sid}: no NetworkPolicy admits the monitoring namespace on the metrics port {METRICS_PORT} "
                            f"(Prometheus could not scrape)")
    rules = [d for d in docs if d.get("kind") == "PrometheusRule"]
    if len(rules) != 1:
        problems.append(f"want one PrometheusRule, have {[d['metadata']['name'] for d in rules]}")
    elif json.dumps(rules[0].get("spec", {}).get("groups"), sort_keys=True) != json.dumps(rule_groups(), sort_keys=True):
        problems.append(f"PrometheusRule {rules[0]['metadata']['name']}: groups differ from deploy/monitoring/prometheus/rules.yml "
                        f"(python3 scripts/sync_monitoring.py)")
    problems += drain_problems(docs, env_value)
    return problems


def drain_problems(docs: list[dict], env_value) -> list[str]:
    """Each ai-worker Deployment: preStop pause + PINGVAS_WORKER_SHUTDOWN_GRACE + hand-back <= its
    terminationGracePeriodSeconds <= the 120 s spot notice (after it the instance is gone)."""
    problems = []
    for dep in (d for d in docs if d.get("kind") == "Deployment" and d["metadata"]["name"].startswith("ai-worker-")):
        name = dep["metadata"]["name"]
        pod = dep["spec"]["template"]["spec"]
        container = next((c for c in pod["containers"] if c["name"] == "ai-worker"), pod["containers"][0])
        command = (((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
        pause = seconds(command[-1]) if command and "sleep" in command[0] else 0
        grace = seconds(env_value(docs, name, "PINGVAS_WORKER_SHUTDOWN_GRACE") or "100s")  # the code's default
        period = pod.get("terminationGracePeriodSeconds", 30)
        if grace is None or pause is None:
            problems.append(f"{name}: cannot read PINGVAS_WORKER_SHUTDOWN_GRACE or the preStop pause")
            continue
        if period > SPOT_NOTICE_SECONDS:
            problems.append(f"{name}: terminationGracePeriodSeconds {period} exceeds the {SPOT_NOTICE_SECONDS} s spot notice "
                            f"(the node is gone before the kubelet's deadline)")
        if pause + grace + HANDBACK_SECONDS > period:
            problems.append(f"{name}: terminationGracePeriodSeconds {period} < preStop {pause:g} s + PINGVAS_WORKER_SHUTDOWN_GRACE "
                            f"{grace:g} s + {HANDBACK_SECONDS} s to hand the job back (it would be killed mid-job)")
    return problems


def compose_drain_problems(compose: dict) -> list[str]:
    worker = (compose.get("services") or {}).get("ai-worker") or {}
    grace = seconds((worker.get("environment") or {}).get("PINGVAS_WORKER_SHUTDOWN_GRACE", "100s"))
    stop = worker.get("stop_grace_period")
    stop_s = seconds(stop) if stop else 10
    if stop_s is None and isinstance(stop, str):  # compose normalises to e.g. "1m50s"
        parts = re.findall(r"(\d+)(h|m|s)", stop)
        stop_s = sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)
    if grace is None or stop_s is None or stop_s < grace + HANDBACK_SECONDS:
        return [f"ai-worker: compose stop_grace_period {stop} must be >= PINGVAS_WORKER_SHUTDOWN_GRACE + {HANDBACK_SECONDS} s"]
    return []


def cluster_self_test(docs: list[dict], services: dict[str, int], env_value) -> list[str]:
    def find(d, kind, name=None):
        return next(x for x in d if x.get("kind") == kind and (name is None or x["metadata"]["name"] == name))

    def worker_pod(d):
        return next(x for x in d if x.get("kind") == "Deployment" and x["metadata"]["name"].startswith("ai-worker-"))["spec"]["template"]["spec"]

    def netpol_without_monitoring(d, sid):
        for pol in (x for x in d if x.get("kind") == "NetworkPolicy"
                    and (x["spec"].get("podSelector") or {}).get("matchLabels", {}).get("app.kubernetes.io/name") == sid):
            pol["spec"]["ingress"] = [r for r in pol["spec"].get("ingress") or [] if not any(
                (p.get("namespaceSelector") or {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "monitoring"
                for p in r.get("from") or [])]

    def monitoring_rule(d: list[dict], sid: str) -> dict:
        for pol in d:
            if pol.get("kind") == "NetworkPolicy" and (pol["spec"].get("podSelector") or {}).get("matchLabels", {}).get(
                    "app.kubernetes.io/name") == sid:
                for rule in pol["spec"].get("ingress") or []:
                    if any((p.get("namespaceSelector") or {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "monitoring"
                           for p in rule.get("from") or []):
                        return rule
        raise KeyError(f"no monitoring rule for {sid}")

    variants = {
        "ServiceMonitor of gallery removed": (lambda d: d.remove(find(d, "ServiceMonitor", "gallery")), "exactly one ServiceMonitor"),
        "ServiceMonitor on port `http`": (lambda d: find(d, "ServiceMonitor", "user")["spec"]["endpoints"][0].update(port="http"),
                                          "is not the name"),
        "monitoring admitted to the API port": (lambda d: monitoring_rule(d, "generation")["ports"].append({"protocol": "TCP", "port": 8082}),
                                                "beyond the metrics port"),
        "ServiceMonitor selecting every service": (
            lambda d: find(d, "ServiceMonitor", "gateway")["spec"]["selector"].update(matchLabels={"app.kubernetes.io/instance": "pingvas"}),
            "exactly one ServiceMonitor"),
        "ServiceMonitor without jobLabel": (lambda d: find(d, "ServiceMonitor", "model-router")["spec"].pop("jobLabel"), "jobLabel"),
        "PrometheusRule threshold edited in place": (
            lambda d: find(d, "PrometheusRule")["spec"]["groups"][0]["rules"][0].update(expr="vector(1)"), "differ from"),
        "PrometheusRule removed": (lambda d: d.remove(find(d, "PrometheusRule")), "want one PrometheusRule"),
        "Prometheus shut out of ai-worker": (lambda d: netpol_without_monitoring(d, "ai-worker"), "monitoring namespace"),
        "worker grace period 170 s": (lambda d: worker_pod(d).update(terminationGracePeriodSeconds=170), "exceeds"),
        "worker grace period 60 s": (lambda d: worker_pod(d).update(terminationGracePeriodSeconds=60), "killed mid-job"),
    }
    missed = []
    for what, (mutate, expect) in variants.items():
        broken = copy.deepcopy(docs)
        mutate(broken)
        if not any(expect in p for p in cluster_monitoring_problems(broken, services, env_value)):
            missed.append(f"accepted: {what} (expected a problem mentioning {expect!r})")
    return missed


# ---------------------------------------------------------------- ArgoCD and the spot handler

def load_argocd() -> list[dict]:
    return [d for path in sorted(ARGOCD.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]


def overlay_namespace(env: str) -> str | None:
    path = ROOT / "k8s" / "overlays" / env / "kustomization.yaml"
    return (yaml.safe_load(path.read_text()) or {}).get("namespace") if path.is_file() else None


def argocd_problems(apps: list[dict], renders: dict[str, list[dict] | None], environments: tuple[str, ...]) -> list[str]:
    problems = []
    projects = {d["metadata"]["name"]: d for d in apps if d.get("kind") == "AppProject"}
    applications = {d["metadata"]["name"]: d for d in apps if d.get("kind") == "Application"}
    for d in apps:
        name = f"{d.get('kind')}/{(d.get('metadata') or {}).get('name')}"
        if d.get("apiVersion") != "argoproj.io/v1alpha1" or d.get("kind") not in ("Application", "AppProject"):
            problems.append(f"{name}: want argoproj.io/v1alpha1 Application or AppProject, is {d.get('apiVersion')}")
        if (d.get("metadata") or {}).get("namespace") != "argocd":
            problems.append(f"{name}: must live in namespace argocd")
        if d.get("kind") == "Application":
            spec = d.get("spec") or {}
            problems += [f"{name}: unknown field spec.{k}" for k in set(spec) -
                         {"project", "source", "sources", "destination", "syncPolicy", "ignoreDifferences", "info", "revisionHistoryLimit"}]
            src = spec.get("source") or {}
            problems += [f"{name}: unknown field spec.source.{k}" for k in set(src) -
                         {"repoURL", "targetRevision", "path", "chart", "helm", "kustomize", "directory"}]
            if not src.get("repoURL") or not src.get("targetRevision") or bool(src.get("path")) == bool(src.get("chart")):
                problems.append(f"{name}: source needs repoURL, targetRevision and either path or chart: {src}")
            dest = spec.get("destination") or {}
            if not dest.get("namespace") or bool(dest.get("server")) == bool(dest.get("name")):
                problems.append(f"{name}: destination needs a namespace and one of server or name: {dest}")
            sync = spec.get("syncPolicy") or {}
            problems += [f"{name}: unknown field spec.syncPolicy.{k}" for k in set(sync) -
                         {"automated", "syncOptions", "retry", "managedNamespaceMetadata"}]
    repo_urls = set()
    for env in environments:
        app = applications.get(f"pingvas-{env}")
        if not app:
            problems.append(f"no Application pingvas-{env}")
            continue
        spec, name = app["spec"], f"Application pingvas-{env}"
        src, dest = spec.get("source") or {}, spec.get("destination") or {}
        repo_urls.add(src.get("repoURL"))
        want_path = f"k8s/overlays/{env}"
        if src.get("path") != want_path or not (ROOT / want_path / "kustomization.yaml").is_file():
            problems.append(f"{name}: source.path must be {want_path} (a kustomize overlay of this repository), is {src.get('path')}")
        if dest.get("namespace") != overlay_namespace(env) or dest.get("namespace") != f"pingvas-{env}":
            problems.append(f"{name}: destination.namespace {dest.get('namespace')} is not the overlay's namespace {overlay_namespace(env)}")
        if not any(i.get("kind") == "Deployment" and i.get("group") == "apps" and "/spec/replicas" in (i.get("jsonPointers") or [])
                   for i in spec.get("ignoreDifferences") or []):
            problems.append(f"{name}: ignoreDifferences must cover apps/Deployment /spec/replicas (KEDA and HPAs own it; a sync "
                            f"would scale workers down mid-job)")
        sync = spec.get("syncPolicy") or {}
        if "RespectIgnoreDifferences=true" not in (sync.get("syncOptions") or []):
            problems.append(f"{name}: syncOptions need RespectIgnoreDifferences=true (else a sync still resets replicas)")
        automated = sync.get("automated")
        if env == "dev" and not (isinstance(automated, dict) and automated.get("prune") is True and automated.get("selfHeal") is True):
            problems.append(f"{name}: dev syncs automatically with prune and selfHeal, has automated {automated}")
        if env != "dev" and automated is not None:
            problems.append(f"{name}: {env} is synced by hand: no syncPolicy.automated, has {automated}")
        if env != "dev" and "resources-finalizer.argocd.argoproj.io" in (app["metadata"].get("finalizers") or []):
            problems.append(f"{name}: no cascading-delete finalizer on {env} (deleting the Application would delete production)")
        project = projects.get(spec.get("project"))
        if not project:
            problems.append(f"{name}: project {spec.get('project')!r} is no AppProject of k8s/argocd")
            continue
        pspec = project.get("spec") or {}
        if src.get("repoURL") not in (pspec.get("sourceRepos") or []):
            problems.append(f"{name}: repoURL is not among project {spec['project']}'s sourceRepos")
        if not any(d.get("namespace") == dest.get("namespace") and d.get("server") == dest.get("server")
                   for d in pspec.get("destinations") or []):
            problems.append(f"{name}: project {spec['project']} does not allow destination {dest}")
        allowed = {(w.get("group", ""), w.get("kind")) for w in pspec.get("clusterResourceWhitelist") or []}
        for doc in renders.get(env) or []:
            group = doc.get("apiVersion", "v1").rpartition("/")[0]
            if doc.get("kind") in ("Namespace", "NodePool", "EC2NodeClass", "ClusterRole", "ClusterRoleBinding") and \
                    (group, doc["kind"]) not in allowed and ("*", "*") not in allowed:
                problems.append(f"{name}: k8s/overlays/{env} renders cluster-scoped {group or 'core'}/{doc['kind']} "
                                f"{doc['metadata']['name']}, which project {spec['project']} does not whitelist")
    if len(repo_urls) > 1:
        problems.append(f"the environments' Applications point at different repositories: {sorted(map(str, repo_urls))}")
    # The spot handler: Karpenter's interruption queue (the GPU nodes are Karpenter's); not NTH as well.
    karpenter = [a for a in applications.values() if (a["spec"].get("source") or {}).get("chart") == "karpenter"]
    nth = [a for a in applications.values() if (a["spec"].get("source") or {}).get("chart") == "aws-node-termination-handler"]
    if len(karpenter) != 1:
        problems.append(f"want one Application of the karpenter chart (the spot interruption handler), have {len(karpenter)}")
    else:
        src = karpenter[0]["spec"]["source"]
        settings = (((src.get("helm") or {}).get("valuesObject") or {}).get("settings") or {})
        if src.get("repoURL") != "public.ecr.aws/karpenter" or not re.fullmatch(r"1\.\d+\.\d+", str(src.get("targetRevision"))):
            problems.append(f"Application karpenter: want chart karpenter 1.x from public.ecr.aws/karpenter, has {src}")
        if not settings.get("interruptionQueue") or not settings.get("clusterName"):
            problems.append("Application karpenter: settings.interruptionQueue and settings.clusterName must be set "
                            "(without the queue a spot notice is ignored and workers die mid-job)")
    if nth and karpenter:
        problems.append("both Karpenter's interruption queue and aws-node-termination-handler would drain the GPU nodes on the same notice")
    return problems


def argocd_self_test(apps: list[dict], renders, environments) -> list[str]:
    def app(d, name):
        return next(x for x in d if x.get("kind") == "Application" and x["metadata"]["name"] == name)

    variants = {
        "dev without selfHeal": (lambda d: app(d, "pingvas-dev")["spec"]["syncPolicy"]["automated"].pop("selfHeal"), "selfHeal"),
        "prod synced automatically": (lambda d: app(d, "pingvas-prod")["spec"].setdefault("syncPolicy", {}).update(
            automated={"prune": True, "selfHeal": True}), "synced by hand"),
        "dev pointing at the prod overlay": (lambda d: app(d, "pingvas-dev")["spec"]["source"].update(path="k8s/overlays/prod"),
                                             "source.path"),
        "prod deployed into pingvas-dev": (lambda d: app(d, "pingvas-prod")["spec"]["destination"].update(namespace="pingvas-dev"),
                                           "overlay's namespace"),
        "replicas not ignored": (lambda d: app(d, "pingvas-prod")["spec"].pop("ignoreDifferences"), "ignoreDifferences"),
        "Karpenter without its interruption queue": (
            lambda d: app(d, "karpenter")["spec"]["source"]["helm"]["valuesObject"]["settings"].pop("interruptionQueue"),
            "interruptionQueue"),
        "NodePool not whitelisted": (lambda d: next(x for x in d if x.get("kind") == "AppProject")["spec"].update(
            clusterResourceWhitelist=[{"group": "", "kind": "Namespace"}]), "does not whitelist"),
        "NTH next to Karpenter": (lambda d: d.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                                                      "metadata": {"name": "nth", "namespace": "argocd"},
                                                      "spec": {"project": "default", "source": {
                                                          "repoURL": "https://aws.github.io/eks-charts", "chart": "aws-node-termination-handler",
                                                          "targetRevision": "0.27.0"},
                                                          "destination": {"server": "https://kubernetes.default.svc", "namespace": "kube-system"}}}),
                                  "same notice"),
    }
    missed = []
    for what, (mutate, expect) in variants.items():
        broken = copy.deepcopy(apps)
        mutate(broken)
        if not any(expect in p for p in argocd_problems(broken, renders, environments)):
            missed.append(f"accepted: {what} (expected a problem mentioning {expect!r})")
    return missed
