#!/usr/bin/env python3
"""Validates real exchanges with the running API against docs/openapi.json.

    contract_check.py <exchanges.json>

The file (written by Tests/EndToEndTests/ContractTests.swift) is a JSON list of
    {"method", "path", "status", "content_type", "body"}   one request and its real response
    {"event", "data"}                                       one server-sent event of a job's stream
For each response: the operation must be documented, the status documented for it explicitly, the
content type one the document names, and a JSON body valid against the documented schema (JSON
Schema 2020-12, which OpenAPI 3.1 schemas are, with `$ref`s into the document's components). Event
data must fit `Generation` (queued, started, succeeded, failed, canceled) or `GenerationProgress`.
Every documented operation must appear at least once. Exit 1 on any failure, listing them all.
Needs jsonschema (.run/venv-contract, scripts/contract-venv.sh).
"""
import json
import re
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent.parent
METHODS = ["get", "post", "put", "patch", "delete"]


def validator(document: dict, schema: dict) -> Draft202012Validator:
    root = dict(schema)
    root["components"] = document["components"]
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def resolve(document: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for key in node["$ref"].lstrip("#/").split("/"):
            target = target[key]
        node = target
    return node


def operation_for(document: dict, method: str, path: str):
    path = path.split("?", 1)[0]
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    return None, None


def errors_of(v: Draft202012Validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in v.iter_errors(instance)]


def main() -> int:
    document = json.loads((ROOT / "docs/openapi.json").read_text())
    exchanges = json.loads(Path(sys.argv[1]).read_text())
    failures = []
    seen = set()
    statuses = {}
    generation = validator(document, {"$ref": "#/components/schemas/Generation"})
    progress = validator(document, {"$ref": "#/components/schemas/GenerationProgress"})
    for exchange in exchanges:
        if "event" in exchange:
            name = exchange["event"]
            try:
                data = json.loads(exchange["data"])
            except ValueError:
                failures.append(f"event {name}: data is not JSON: {exchange['data'][:200]}")
                continue
            if name == "progress":
                failures += [f"event progress: {e}" for e in errors_of(progress, data)]
            elif name in ("queued", "started", "succeeded", "failed", "canceled"):
                failures += [f"event {name}: {e}" for e in errors_of(generation, data)]
            else:
                failures.append(f"event {name}: not an event the document names")
            continue
        method, path, status = exchange["method"].upper(), exchange["path"], str(exchange["status"])
        label = f"{method} {path} -> {status}"
        template, operation = operation_for(document, method, path)
        if operation is None:
            failures.append(f"{label}: no documented operation")
            continue
        seen.add((method, template))
        statuses.setdefault((method, template), set()).add(status)
        responses = operation.get("responses", {})
        if status not in responses:
            failures.append(f"{label}: status {status} is not documented for {method} {template} (documented: {', '.join(responses)})")
            continue
        response = resolve(document, responses[status])
        content = response.get("content", {})
        media = (exchange.get("content_type") or "").split(";", 1)[0].strip().lower()
        body = exchange.get("body")
        if not content:
            if body:
                failures.append(f"{label}: documented without a body, got {len(body)} characters")
            continue
        if media not in content:
            failures.append(f"{label}: content type {media or '(none)'} is not documented (documented: {', '.join(content)})")
            continue
        schema = content[media].get("schema")
        if schema is None or not media.endswith("json"):
            continue
        try:
            instance = json.loads(body or "")
        except ValueError:
            failures.append(f"{label}: body is not JSON: {(body or '')[:200]}")
            continue
        failures += [f"{label}: {e}" for e in errors_of(validator(document, schema), instance)]

    documented = {(m.upper(), p) for p, item in document["paths"].items() for m in METHODS if m in item}
    for method, template in sorted(documented - seen):
        failures.append(f"{method} {template}: documented but never exercised")
    for (method, template), codes in sorted(statuses.items()):
        print(f"contract: {method} {template}: {', '.join(sorted(codes))}")
    events = sum(1 for e in exchanges if "event" in e)
    print(f"contract: {len(exchanges) - events} responses and {events} events checked, {len(seen)} of {len(documented)} operations")
    for failure in failures:
        print(f"contract: FAIL {failure}")
    print("contract: " + ("failed" if failures else "every response matches docs/openapi.json"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
