#!/usr/bin/env python3
"""make check-api: the OpenAPI document against itself and against the code.

1. docs/openapi.json, docs/api.html and the gateway's embedded copy are what docs/openapi.yaml gives
   (scripts/openapi.py --check).
2. docs/openapi.json is a valid OpenAPI 3.1 document (openapi-spec-validator from PyPI).
3. Every public route the services register is documented, and every documented operation exists:
   routes come from each service's `+build.swift` (`router.addRoutes(<Controller>.routes, atPath:)`)
   and the controller's `routes.<method>("...")` registrations; a route is public when the gateway's
   table (Services/GatewayService/UpstreamRoute.swift) forwards its path, or the gateway serves it.
   Pages the gateway serves outside `/api/` and `/webhooks/` (the studio page: `/`, `/studio/{file}`)
   are not API routes and are left out.
4. The gateway's embedded studio page is what web/studio/ gives (scripts/studio.py --check).
5. Every `curl ... $api/...` example in README.md is a documented operation, sending only fields its
   request schema names.

Run with the contract tools' Python (.run/venv-contract, scripts/contract-venv.sh).
"""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METHODS = ["get", "post", "put", "patch", "delete"]


def call_text(source: str, start: int) -> str:
    """The text of the call whose `(` is at `start`, through its matching `)`."""
    depth = 0
    for index in range(start, len(source)):
        if source[index] == "(":
            depth += 1
        elif source[index] == ")":
            depth -= 1
            if depth == 0:
                return source[start:index + 1]
    return source[start:]


def controller_file(service_dir: Path, name: str) -> Path | None:
    for path in service_dir.rglob("*.swift"):
        if re.search(rf"\bstruct {re.escape(name)}\b", path.read_text()):
            return path
    return None


def property_text(source: str, prop: str) -> str:
    """The body of `var <prop>: RouteCollection...` (through its matching brace), or all of `source`
    when the controller declares no such property (routes built elsewhere in the file)."""
    match = re.search(rf"var {re.escape(prop)}\s*:\s*RouteCollection[^{{]*\{{", source)
    if not match:
        return source
    depth = 0
    for index in range(match.end() - 1, len(source)):
        if source[index] == "{":
            depth += 1
        elif source[index] == "}":
            depth -= 1
            if depth == 0:
                return source[match.start():index + 1]
    return source[match.start():]


def controller_routes(path: Path, prop: str = "routes") -> list[tuple[str, str]]:
    whole = path.read_text()
    constants = dict(re.findall(r'static let (\w+)(?:\s*:\s*\w+)?\s*=\s*"([^"]*)"', whole))
    source = property_text(whole, prop)
    found = []
    for method, literal, constant in re.findall(r'routes\.(get|post|put|patch|delete)\s*(?:\(\s*(?:"([^"]*)"|Self\.(\w+))?|\{)', source):
        found.append((method, literal or constants.get(constant, "")))
    for literal, method in re.findall(r'routes\.on\(\s*"([^"]*)",\s*method:\s*\.(\w+)', source):
        found.append((method, literal))
    return found


def normalise(path: str) -> str:
    path = re.sub(r"/+", "/", "/" + path).rstrip("/") or "/"
    path = re.sub(r":(\w+)", r"{\1}", path)
    return re.sub(r"\{[^}]*\}", "{}", path)


def code_routes() -> dict[tuple[str, str], str]:
    """(method, normalised path) -> where it is registered, for every route of every service."""
    routes = {}
    for build in sorted(ROOT.glob("Services/*/*+build.swift")):
        service_dir = build.parent
        source = build.read_text()
        for match in re.finditer(r"addRoutes\(", source):
            text = call_text(source, match.end() - 1)
            at_path = re.search(r'atPath:\s*"([^"]*)"', text)
            prefix = at_path.group(1) if at_path else ""
            prop_match = re.search(r"\.(\w*[rR]outes)\b", text)
            prop = prop_match.group(1) if prop_match else "routes"
            name = re.search(r"\b([A-Z]\w*Controller)\s*[(<]", text)
            if name:
                controller = name.group(1)
            else:
                variable = re.search(r"(\w+)\.\w*[rR]outes", text)
                declared = variable and re.search(rf"(?:let|var) {variable.group(1)}\s*=\s*([A-Z]\w*Controller)\s*[(<]", source)
                if not declared:
                    raise SystemExit(f"check-api: cannot tell which controller {build.name} mounts in: {text[:120]}")
                controller = declared.group(1)
            path = controller_file(service_dir, controller)
            if path is None:
                raise SystemExit(f"check-api: no struct {controller} under {service_dir.relative_to(ROOT)}")
            for method, route in controller_routes(path, prop):
                if "**" in route:
                    continue  # the gateway's proxy catch-all
                full = route if route.startswith("/") and not prefix else f"{prefix}/{route}"
                routes[(method, normalise(full))] = f"{path.relative_to(ROOT)} ({service_dir.name})"
    return routes


def gateway_prefixes() -> list[str]:
    source = (ROOT / "Services/GatewayService/UpstreamRoute.swift").read_text()
    return re.findall(r'\("(/[^"]*)",\s*UpstreamRoute\(', source)


def is_public(path: str, prefixes: list[str]) -> bool:
    for prefix in prefixes:
        if prefix.endswith("/"):
            if path.startswith(prefix):
                return True
        elif path == prefix or path.startswith(prefix + "/"):
            return True
    return False


def is_api_path(path: str) -> bool:
    """The public API lives under /api/ and /webhooks/; anything else the gateway serves is a page."""
    return path.startswith("/api/") or path.startswith("/webhooks/")


def check_routes(document: dict) -> list[str]:
    prefixes = gateway_prefixes()
    documented = set()
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                documented.add((method, normalise(path)))
    problems = []
    code = code_routes()
    public = {}
    for (method, path), where in code.items():
        if not is_api_path(path):
            continue
        if "(GatewayService)" in where or is_public(path, prefixes):
            public[(method, path)] = where
    for key in sorted(set(public) - documented):
        problems.append(f"{key[0].upper()} {key[1]} is served ({public[key]}) but docs/openapi.yaml does not document it")
    for key in sorted(documented - set(public)):
        problems.append(f"{key[0].upper()} {key[1]} is documented but no service serves it publicly")
    print(f"check-api: {len(public)} public routes in the code, {len(documented)} documented operations")
    return problems


def request_properties(document: dict, schema: dict) -> set[str] | None:
    """The top-level property names a request schema allows (through `$ref` and `allOf`), or None when any."""
    if "$ref" in schema:
        target = document
        for key in schema["$ref"].lstrip("#/").split("/"):
            target = target[key]
        return request_properties(document, target)
    if "allOf" in schema:
        names = set()
        for part in schema["allOf"]:
            found = request_properties(document, part)
            if found is None:
                return None
            names |= found
        return names
    if "properties" not in schema:
        return None
    return set(schema["properties"])


def check_examples(document: dict) -> list[str]:
    """Every `curl ... $api/<path>` example in README.md names a documented operation, and the
    top-level fields of its JSON body (`-d '{...}'`) are ones the operation's request schema has."""
    problems = []
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    templates = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                templates.setdefault(normalise(path), {})[method] = item[method]
    count = 0
    for line in text.splitlines():
        for match in re.finditer(r"curl [^|#]*?\$api(/[^\s\"')]*)", line):
            count += 1
            command = line[match.start():]
            path = re.sub(r"\$\w+", "{}", match.group(1).split("?", 1)[0])
            explicit = re.search(r"-X\s*([A-Z]+)", command)
            method = explicit.group(1).lower() if explicit else ("post" if re.search(r"\s-d\s", command) else "get")
            operation = templates.get(normalise(path), {}).get(method)
            if operation is None:
                problems.append(f"README.md: example {method.upper()} {match.group(1)} is not a documented operation")
                continue
            body = re.search(r"\s-d\s+'(\{.*?\})'", command)
            if not body:
                continue
            try:
                fields = set(json.loads(body.group(1)))
            except ValueError:
                problems.append(f"README.md: example {method.upper()} {match.group(1)}: its body is not JSON")
                continue
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            allowed = request_properties(document, schema)
            if allowed is not None and fields - allowed:
                problems.append(f"README.md: example {method.upper()} {match.group(1)} sends {sorted(fields - allowed)}, which the document does not name")
    print(f"check-api: {count} README examples checked against the document")
    return problems


def main() -> int:
    problems = []
    generated = subprocess.run([sys.executable, str(ROOT / "scripts/openapi.py"), "--check"], capture_output=True, text=True)
    print(generated.stdout.strip())
    if generated.returncode != 0:
        problems.append("generated files are stale: run python3 scripts/openapi.py")
    studio = subprocess.run([sys.executable, str(ROOT / "scripts/studio.py"), "--check"], capture_output=True, text=True)
    print(studio.stdout.strip())
    if studio.returncode != 0:
        problems.append("the gateway's studio page is stale: run python3 scripts/studio.py")
    document = json.loads((ROOT / "docs/openapi.json").read_text())
    from openapi_spec_validator import validate
    try:
        validate(document)
        print("check-api: docs/openapi.json is valid OpenAPI " + document["openapi"])
    except Exception as error:  # the validator's errors name the offending part
        problems.append(f"docs/openapi.json is not valid OpenAPI: {error}")
    problems += check_routes(document)
    problems += check_examples(document)
    for problem in problems:
        print("check-api: FAIL " + problem)
    print("check-api: " + ("failed" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
