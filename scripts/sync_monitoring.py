#!/usr/bin/env python3
"""Writes the generated monitoring files from their one source each, or (--check) lists the stale ones.

- deploy/monitoring/prometheus/rules.yml (hand-written, the source) ->
  k8s/components/monitoring/prometheus-rule.yaml (a PrometheusRule whose spec is the same groups) and
  helm/pingvas/files/prometheus-rules.yml (a byte copy the chart's PrometheusRule reads with .Files.Get).
- the DASHBOARDS below (the source) -> deploy/monitoring/grafana/dashboards/<uid>.json.

    python3 scripts/sync_monitoring.py          # after changing rules.yml or a dashboard below
    python3 scripts/sync_monitoring.py --check  # make check-deploy: exit 1 naming stale files
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "monitoring" / "prometheus" / "rules.yml"
K8S_RULE = ROOT / "k8s" / "components" / "monitoring" / "prometheus-rule.yaml"
HELM_RULES = ROOT / "helm" / "pingvas" / "files" / "prometheus-rules.yml"
DASHBOARD_DIR = ROOT / "deploy" / "monitoring" / "grafana" / "dashboards"

# ---------------------------------------------------------------- dashboards

DS = {"type": "prometheus", "uid": "${datasource}"}
NS = 'namespace=~"$namespace"'
NOT_PROBES = 'http_route!~"/healthz|/readyz|/metrics"'
RATE = "$__rate_interval"


def ts(title, exprs, unit="short", stack=False, description="", w=12, h=8):
    """A time-series panel; exprs: [(expr, legend)]."""
    return {"w": w, "h": h, "type": "timeseries", "title": title, "description": description, "datasource": DS,
            "fieldConfig": {"defaults": {"unit": unit, "custom": {"stacking": {"mode": "normal" if stack else "none"},
                                                                  "fillOpacity": 20 if stack else 0}},
                            "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi"}},
            "targets": [{"refId": chr(65 + i), "expr": e, "legendFormat": lf, "datasource": DS}
                        for i, (e, lf) in enumerate(exprs)]}


def stat(title, expr, unit="short", description="", w=6, h=5):
    return {"w": w, "h": h, "type": "stat", "title": title, "description": description, "datasource": DS,
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value"},
            "targets": [{"refId": "A", "expr": expr, "legendFormat": "", "datasource": DS}]}


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def quantiles(metric, by, sel, qs=(0.5, 0.95, 0.99), legend=""):
    return [(f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket{{{sel}}}[{RATE}])))",
             f"p{int(q * 100)} {legend}".strip()) for q in qs]


def variables(extra=()):
    return [
        {"type": "datasource", "name": "datasource", "label": "Prometheus", "query": "prometheus",
         "current": {"text": "Prometheus", "value": "prometheus"}, "hide": 0},
        # No "All": dev and prod must not be added up. Under compose there is no namespace label, the
        # variable is empty and namespace=~"" matches the missing label.
        {"type": "query", "name": "namespace", "label": "namespace", "datasource": DS,
         "query": {"query": "label_values(hb_requests, namespace)", "refId": "namespace"},
         "definition": "label_values(hb_requests, namespace)", "refresh": 2, "includeAll": False,
         "multi": False, "sort": 1, "hide": 0},
        *extra,
    ]


def layout(items):
    """Rows take a full line; panels flow two (w 12) or three (w 8) a line as their `w` says."""
    panels, x, y, line_h, pid = [], 0, 0, 0, 1
    for item in items:
        panel = dict(item)
        w = panel.pop("w", 12)
        h = panel.pop("h", 8)
        if panel["type"] == "row":
            if x:
                y, x = y + line_h, 0
            panel["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
            y += 1
            line_h = 0
        else:
            if x + w > 24:
                y, x, line_h = y + line_h, 0, 0
            panel["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
            x += w
            line_h = max(line_h, h)
        panel["id"] = pid
        pid += 1
        panels.append(panel)
    return panels


def dashboard(uid, title, description, items, extra_vars=()):
    return {"uid": uid, "title": title, "description": description, "tags": ["pingvas"], "editable": True,
            "schemaVersion": 39, "version": 1, "time": {"from": "now-6h", "to": "now"}, "refresh": "30s",
            "timezone": "utc", "graphTooltip": 1, "annotations": {"list": []}, "links": [],
            "templating": {"list": variables(extra_vars)}, "panels": layout(items)}


def overview():
    sel = f"{NS}, {NOT_PROBES}"
    svc_sel = f'{NS}, job=~"$service", {NOT_PROBES}'
    service_var = {"type": "query", "name": "service", "label": "service", "datasource": DS,
                   "query": {"query": f"label_values(hb_requests{{{NS}}}, job)", "refId": "service"},
                   "definition": f"label_values(hb_requests{{{NS}}}, job)", "refresh": 2,
                   "includeAll": True, "allValue": ".*", "multi": True, "sort": 1, "hide": 0,
                   "current": {"text": "All", "value": "$__all"}}
    items = [
        row("Traffic and errors (health checks and scrapes excluded)"),
        ts("Requests per second by service", [(f"sum by (job) (rate(hb_requests{{{sel}}}[{RATE}]))", "{{job}}")], "reqps"),
        ts("5xx share by service (alert: above 1% for 1 minute)",
           [(f'sum by (job) (rate(hb_requests{{{sel}, http_response_status_code=~"5.."}}[{RATE}])) / '
             f"sum by (job) (rate(hb_requests{{{sel}}}[{RATE}]))", "{{job}}")], "percentunit"),
        ts("4xx per second by service",
           [(f'sum by (job) (rate(hb_requests{{{sel}, http_response_status_code=~"4.."}}[{RATE}]))', "{{job}}")], "reqps"),
        ts("Errors thrown by handlers, by service and status",
           [(f"sum by (job, error_type) (rate(hb_request_errors{{{sel}}}[{RATE}]))", "{{job}} {{error_type}}")], "reqps"),
        row("Latency"),
        ts("p50 latency by service", quantiles("http_server_request_duration", "job", sel, (0.5,), "{{job}}"), "s", w=8),
        ts("p95 latency by service", quantiles("http_server_request_duration", "job", sel, (0.95,), "{{job}}"), "s", w=8),
        ts("p99 latency by service", quantiles("http_server_request_duration", "job", sel, (0.99,), "{{job}}"), "s", w=8),
        ts("p95 latency by route ($service)",
           [(f"histogram_quantile(0.95, sum by (job, http_route, le) (rate(http_server_request_duration_bucket{{{svc_sel}}}[{RATE}])))",
             "{{job}} {{http_route}}")], "s"),
        ts("Requests by route and status ($service)",
           [(f"sum by (job, http_route, http_response_status_code) (rate(hb_requests{{{svc_sel}}}[{RATE}]))",
             "{{job}} {{http_route}} {{http_response_status_code}}")], "reqps"),
        ts("Requests in flight by service", [(f"sum by (job) (http_server_active_requests{{{NS}}})", "{{job}}")]),
        ts("Targets up by service", [(f'sum by (job) (up{{{NS}, job=~"gateway|user|generation|payment-webhook|gallery|model-router|ai-worker"}})',
                                      "{{job}}")]),
        row("Resources (cluster metrics: cAdvisor and kube-state-metrics; empty under compose)"),
        ts("CPU used / limit by pod (alert: above 80% for 5 minutes)",
           [(f'sum by (pod, container) (rate(container_cpu_usage_seconds_total{{{NS}, container!="", container!="POD"}}[{RATE}])) '
             f'/ on (pod, container) sum by (pod, container) (kube_pod_container_resource_limits{{{NS}, resource="cpu"}})',
             "{{pod}}")], "percentunit"),
        ts("Memory working set / limit by pod (alert: above 85% for 5 minutes)",
           [(f'max by (pod, container) (container_memory_working_set_bytes{{{NS}, container!="", container!="POD"}}) '
             f'/ on (pod, container) sum by (pod, container) (kube_pod_container_resource_limits{{{NS}, resource="memory"}})',
             "{{pod}}")], "percentunit"),
    ]
    return dashboard("pingvas-overview", "Pingvas / Overview",
                     "Traffic, latency percentiles and errors of the seven services (Hummingbird's metrics middleware).",
                     items, [service_var])


def pipeline():
    pool = f'{NS}, queue=~"$pool"'
    ppool = f'{NS}, pool=~"$pool"'
    pool_var = {"type": "query", "name": "pool", "label": "pool", "datasource": DS,
                "query": {"query": f"label_values(pingvas_queue_depth{{{NS}}}, queue)", "refId": "pool"},
                "definition": f"label_values(pingvas_queue_depth{{{NS}}}, queue)", "refresh": 2,
                "includeAll": True, "allValue": ".*", "multi": True, "sort": 1, "hide": 0,
                "current": {"text": "All", "value": "$__all"}}
    items = [
        row("Queues (model-router; the same value on every replica, so max)"),
        ts("Queue depth per pool (waiting + delayed + running; KEDA scales on it)",
           [(f"max by (queue) (pingvas_queue_depth{{{pool}}})", "{{queue}}")], w=8),
        ts("Waiting per pool", [(f"max by (queue) (pingvas_queue_waiting{{{pool}}})", "{{queue}}")], w=8),
        ts("Dead per pool (worker_lost, kept for requeue)", [(f"max by (queue) (pingvas_queue_dead{{{pool}}})", "{{queue}}")], w=8),
        ts("Queue wait p50 per pool and plan",
           quantiles("pingvas_queue_wait_seconds", "pool, plan", ppool, (0.5,), "{{pool}} {{plan}}"), "s"),
        ts("Queue wait p95 per pool and plan (alert: p95 above 60 s)",
           quantiles("pingvas_queue_wait_seconds", "pool, plan", ppool, (0.95,), "{{pool}} {{plan}}"), "s"),
        ts("Dead letters by stream", [(f"max by (stream) (pingvas_dead_letters{{{NS}}})", "{{stream}}")]),
        ts("Outbox: unsent rows and age of the oldest",
           [(f"max by (job) (pingvas_outbox_pending{{{NS}}})", "{{job}} pending"),
            (f"max by (job) (pingvas_outbox_lag_seconds{{{NS}}})", "{{job}} lag (s)")]),
        row("Jobs (ai-worker)"),
        ts("Jobs finished per second by outcome",
           [(f"sum by (outcome) (rate(pingvas_worker_jobs_total{{{NS}}}[{RATE}]))", "{{outcome}}")], "ops", stack=True),
        ts("Failures per second by code", [(f"sum by (code) (rate(pingvas_job_failures_total{{{NS}}}[{RATE}]))", "{{code}}")],
           "ops", stack=True),
        ts("Job duration p50 / p95 by outcome",
           quantiles("pingvas_worker_job_duration_seconds", "outcome", NS, (0.5, 0.95), "{{outcome}}"), "s"),
        ts("Sampling step p95 by engine", quantiles("pingvas_engine_step_seconds", "engine", NS, (0.95,), "{{engine}}"), "s"),
        row("Workers (heartbeats in the registry)"),
        ts("Workers per pool, busy and idle", [(f"max by (pool, state) (pingvas_workers{{{ppool}}})", "{{pool}} {{state}}")],
           stack=True, w=8),
        ts("Models loaded per pool", [(f"max by (pool, model) (pingvas_workers_models_loaded{{{ppool}}})", "{{pool}} {{model}}")],
           w=8),
        ts("Engine memory per pool (VRAM on GPU nodes)",
           [(f'max by (pool, kind) (pingvas_workers_memory_bytes{{{ppool}, kind=~"used|free"}})', "{{pool}} {{kind}}")],
           "bytes", w=8),
        ts("SSE event streams open", [(f"sum (pingvas_event_streams_open{{{NS}}})", "open")]),
        row("Completion webhooks (generation's deliveries to customers' endpoints)"),
        ts("Webhook attempts per second by outcome",
           [(f"sum by (outcome) (rate(pingvas_user_webhook_attempts_total{{{NS}}}[{RATE}]))", "{{outcome}}")], "ops", stack=True),
        ts("Webhook receiver time p50 / p95 by outcome",
           quantiles("pingvas_user_webhook_attempt_seconds", "outcome", NS, (0.5, 0.95), "{{outcome}}"), "s"),
        ts("ai-worker restarts in the last hour (cluster metric)",
           [(f'sum by (pod) (increase(kube_pod_container_status_restarts_total{{{NS}, container="ai-worker"}}[1h]))', "{{pod}}")]),
    ]
    return dashboard("pingvas-pipeline", "Pingvas / Pipeline",
                     "Job queues per pool, queue wait, job outcomes and failures, workers, models, engine memory and completion webhooks.",
                     items, [pool_var])


def business():
    items = [
        row("Users and credits (user service; the same value on every replica, so max)"),
        stat("Users", f"max (pingvas_users{{{NS}}})", w=6, h=5),
        stat("Signups, last 24 h", f"max (pingvas_users{{{NS}}}) - max (pingvas_users{{{NS}}} offset 1d)", w=6, h=5),
        stat("Credits captured, last 24 h",
             f"max (pingvas_credits_captured{{{NS}}}) - max (pingvas_credits_captured{{{NS}}} offset 1d)", w=6, h=5),
        stat("Credit holds outstanding", f"max (pingvas_credit_holds_outstanding{{{NS}}})", w=6, h=5),
        ts("Users", [(f"max (pingvas_users{{{NS}}})", "users")]),
        ts("Credits captured (total) and per hour",
           [(f"max (pingvas_credits_captured{{{NS}}})", "total"),
            (f"max (pingvas_credits_captured{{{NS}}}) - max (pingvas_credits_captured{{{NS}}} offset 1h)", "last hour")]),
        ts("Credit holds: outstanding and age of the oldest (alert: older than an hour)",
           [(f"max (pingvas_credit_holds_outstanding{{{NS}}})", "outstanding"),
            (f"max (pingvas_credit_hold_oldest_seconds{{{NS}}})", "oldest (s)")]),
        ts("Jobs succeeded per hour",
           [(f'sum (increase(pingvas_worker_jobs_total{{{NS}, outcome="succeeded"}}[1h]))', "succeeded")]),
        row("Payments (payment-webhook)"),
        ts("Subscriptions by status", [(f"max by (status) (pingvas_subscriptions{{{NS}}})", "{{status}}")], stack=True),
        ts("Webhook deliveries by status (alert: failed or dead growing, pending for 30 minutes)",
           [(f"max by (status) (pingvas_webhook_deliveries{{{NS}}})", "{{status}}")]),
        ts("Subscriptions of deleted accounts not yet cancelled at Lemon Squeezy (alert: for an hour)",
           [(f"max (pingvas_subscription_cancellations_due{{{NS}}})", "due")]),
    ]
    return dashboard("pingvas-business", "Pingvas / Business",
                     "Users, signups, credits captured and held, subscriptions, Lemon Squeezy deliveries and cancellations.", items)


DASHBOARDS = {"pingvas-overview": overview, "pingvas-pipeline": pipeline, "pingvas-business": business}

# ---------------------------------------------------------------- rules


def k8s_rule_text(rules_text: str) -> str:
    groups = yaml.safe_load(rules_text)["groups"]
    doc = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
           "metadata": {"name": "pingvas",
                        "labels": {"app.kubernetes.io/name": "pingvas", "app.kubernetes.io/instance": "pingvas",
                                   "app.kubernetes.io/component": "monitoring",
                                   "release": "kube-prometheus-stack"}},
           "spec": {"groups": groups}}
    header = ("# GENERATED by scripts/sync_monitoring.py from deploy/monitoring/prometheus/rules.yml: edit that\n"
              "# file and run the script (make check-deploy fails while this one differs).\n")

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value):  # multi-line PromQL stays a readable literal block
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, text)
    return header + yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=200, allow_unicode=True)


def wanted() -> dict[Path, str]:
    rules_text = RULES.read_text()
    files = {K8S_RULE: k8s_rule_text(rules_text), HELM_RULES: rules_text}
    for uid, build in DASHBOARDS.items():
        files[DASHBOARD_DIR / f"{uid}.json"] = json.dumps(build(), indent=2) + "\n"
    return files


def stale() -> list[str]:
    return [f"{path.relative_to(ROOT)} is not what scripts/sync_monitoring.py generates (run it)"
            for path, text in wanted().items() if not path.is_file() or path.read_text() != text]


def main() -> int:
    if "--check" in sys.argv[1:]:
        problems = stale()
        print("\n".join(problems) or "sync_monitoring: generated files are up to date")
        return 1 if problems else 0
    for path, text in wanted().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
