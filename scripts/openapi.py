#!/usr/bin/env python3
"""docs/openapi.yaml is the source of the public API's description; this writes what is made from it.

    python3 scripts/openapi.py           writes docs/openapi.json, docs/api.html and the gateway's
                                         embedded copy Services/GatewayService/Generated/APIDocument.swift
    python3 scripts/openapi.py --check   fails (exit 1) when any of them differs from what the YAML gives

The reference page is static HTML with inline CSS: no script, nothing loaded from elsewhere.
Needs only PyYAML (Debian's python3-yaml, scripts/deps.sh).
"""
import html
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "docs/openapi.yaml"
JSON_OUT = ROOT / "docs/openapi.json"
HTML_OUT = ROOT / "docs/api.html"
SWIFT_OUT = ROOT / "Services/GatewayService/Generated/APIDocument.swift"
METHODS = ["get", "post", "put", "patch", "delete"]


def load() -> dict:
    # YAML 1.1 would read `on`/`yes` as booleans and some keys as non-strings: refuse those.
    document = yaml.safe_load(SOURCE.read_text())
    return document


def render_json(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- HTML

def esc(text) -> str:
    return html.escape(str(text), quote=True)


def inline(text: str) -> str:
    """The little Markdown the document uses: `code` and paragraphs."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append(f"<code>{esc(part[1:-1])}</code>")
        else:
            out.append(esc(part))
    return "".join(out)


def prose(text) -> str:
    if not text:
        return ""
    paragraphs = [p.strip() for p in str(text).split("\n\n") if p.strip()]
    return "".join(f"<p>{inline(' '.join(p.split()))}</p>" for p in paragraphs)


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def resolve(document: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].lstrip("#/").split("/")
        target = document
        for key in path:
            target = target[key]
        node = target
    return node


def type_label(schema) -> str:
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        name = ref_name(schema["$ref"])
        return f'<a href="#schema-{esc(name)}">{esc(name)}</a>'
    if "oneOf" in schema or "anyOf" in schema:
        return " | ".join(type_label(s) for s in schema.get("oneOf", schema.get("anyOf")))
    if "allOf" in schema:
        return " &amp; ".join(type_label(s) for s in schema["allOf"]) or "object"
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    labels = []
    for k in kinds:
        if k == "array":
            labels.append(f"array of {type_label(schema.get('items', {})) or 'any'}")
        else:
            labels.append(esc(k))
    label = " | ".join(labels)
    if "format" in schema:
        label += f" <span class=fmt>({esc(schema['format'])})</span>"
    if "enum" in schema:
        label += ": " + ", ".join(f"<code>{esc(v)}</code>" for v in schema["enum"])
    if "const" in schema:
        label += f": <code>{esc(schema['const'])}</code>"
    bounds = []
    for key in ["minimum", "maximum", "minLength", "maxLength", "maxItems", "pattern", "default"]:
        if key in schema:
            bounds.append(f"{key} {esc(json.dumps(schema[key]))}")
    if bounds:
        label += f" <span class=fmt>[{'; '.join(bounds)}]</span>"
    return label


def schema_table(schema: dict, depth: int = 0) -> str:
    """Properties as a table; nested inline objects as nested tables."""
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        return f"<p>{type_label(schema)}</p>"
    if "allOf" in schema:
        return "".join(schema_table(part, depth) for part in schema["allOf"])
    properties = schema.get("properties")
    if not properties:
        return f"<p>{type_label(schema)}</p>" + prose(schema.get("description"))
    required = set(schema.get("required", []))
    rows = []
    for name, prop in properties.items():
        nested = ""
        target = prop.get("items", {}) if prop.get("type") == "array" else prop
        if isinstance(target, dict) and "properties" in target and depth < 4:
            nested = schema_table(target, depth + 1)
        rows.append(
            f"<tr><td><code>{esc(name)}</code>{'<span class=req>required</span>' if name in required else ''}</td>"
            f"<td>{type_label(prop) if 'properties' not in prop else 'object'}</td>"
            f"<td>{prose(prop.get('description'))}{nested}</td></tr>"
        )
    intro = prose(schema.get("description")) if depth > 0 else ""
    return f"{intro}<table><tr><th>field</th><th>type</th><th>about</th></tr>{''.join(rows)}</table>"


def security_label(document: dict, operation: dict) -> str:
    security = operation.get("security", document.get("security", []))
    if not security:
        return "none"
    names = [", ".join(requirement.keys()) or "none" for requirement in security]
    if any(not requirement for requirement in security):
        return "optional (" + ", ".join(n for n in names if n != "none") + ")"
    return " or ".join(names)


def render_operation(document: dict, path: str, method: str, op: dict) -> str:
    out = []
    out.append(f'<section class=op id="op-{esc(op["operationId"])}">')
    out.append(f'<h3><span class="m {method}">{method.upper()}</span><span class=path>{esc(path)}</span></h3>')
    out.append(f"<p><strong>{esc(op.get('summary', ''))}</strong></p>{prose(op.get('description'))}")
    out.append(f"<p>Authentication: {esc(security_label(document, op))}</p>")
    parameters = [resolve(document, p) for p in op.get("parameters", [])]
    if parameters:
        out.append("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>about</th></tr>")
        for p in parameters:
            req = "<span class=req>required</span>" if p.get("required") else ""
            out.append(
                f"<tr><td><code>{esc(p['name'])}</code>{req}</td><td>{esc(p['in'])}</td>"
                f"<td>{type_label(p.get('schema', {}))}</td><td>{prose(p.get('description'))}</td></tr>"
            )
        out.append("</table>")
    body = op.get("requestBody")
    if body:
        body = resolve(document, body)
        for media, content in body.get("content", {}).items():
            out.append(f"<h4>Request body <code>{esc(media)}</code></h4>{schema_table(content.get('schema', {}))}")
    out.append("<h4>Responses</h4><table><tr><th>status</th><th>about</th><th>body</th></tr>")
    for status, response in op.get("responses", {}).items():
        response = resolve(document, response)
        bodies = []
        for media, content in response.get("content", {}).items():
            bodies.append(f"<code>{esc(media)}</code> {type_label(content.get('schema', {}))}")
        headers = ", ".join(f"<code>{esc(h)}</code>" for h in response.get("headers", {}))
        about = prose(response.get("description")) + (f"<p>Headers: {headers}</p>" if headers else "")
        out.append(f"<tr><td>{esc(status)}</td><td>{about}</td><td>{'<br>'.join(bodies)}</td></tr>")
    out.append("</table></section>")
    return "".join(out)


def render_html(document: dict) -> str:
    info = document["info"]
    operations = []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                operations.append((path, method, item[method]))
    tags = [t["name"] for t in document.get("tags", [])]
    out = []
    out.append("<!doctype html><html lang=en><head><meta charset=utf-8>")
    out.append('<meta name=viewport content="width=device-width, initial-scale=1">')
    out.append(f"<title>{esc(info['title'])} {esc(info['version'])}</title><style>")
    out.append(
        "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;display:flex}"
        "nav{width:300px;flex:none;height:100vh;overflow:auto;position:sticky;top:0;background:#f4f5f8;padding:12px;box-sizing:border-box;font-size:13px}"
        "nav a{display:block;color:#1d2330;text-decoration:none;padding:1px 0}nav h3{margin:12px 0 2px;text-transform:uppercase;font-size:11px;color:#667}"
        "main{padding:20px 36px;max-width:1000px}code{background:#eef0f4;padding:0 3px;border-radius:3px;font-size:90%}"
        "table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border:1px solid #dde;padding:4px 6px;text-align:left;vertical-align:top}"
        "th{background:#f4f5f8;font-weight:600}.op{border-top:2px solid #dde;margin-top:28px;padding-top:8px}"
        ".m{display:inline-block;min-width:56px;text-align:center;color:#fff;border-radius:3px;font-weight:700;font-size:12px;padding:1px 4px;margin-right:6px}"
        ".get{background:#2b7bb9}.post{background:#3a9c4e}.patch{background:#b8860b}.put{background:#8a55b5}.delete{background:#c0392b}"
        ".req{color:#c0392b;font-size:11px;margin-left:4px}.fmt{color:#667;font-size:90%}h2{margin-top:40px}.path{font-family:monospace;font-size:16px}"
    )
    out.append("</style></head><body><nav>")
    out.append(f"<strong>{esc(info['title'])}</strong><br><span class=fmt>version {esc(info['version'])} · OpenAPI {esc(document['openapi'])}</span>")
    out.append('<br><a href="openapi.json">openapi.json</a>')
    for tag in tags:
        ops = [(p, m, o) for p, m, o in operations if o.get("tags", [""])[0] == tag]
        if not ops:
            continue
        out.append(f"<h3>{esc(tag)}</h3>")
        for path, method, op in ops:
            out.append(f'<a href="#op-{esc(op["operationId"])}"><span class="m {method}">{method.upper()}</span>{esc(path)}</a>')
    out.append('<h3>schemas</h3>')
    for name in document["components"]["schemas"]:
        out.append(f'<a href="#schema-{esc(name)}">{esc(name)}</a>')
    out.append("</nav><main>")
    out.append(f"<h1>{esc(info['title'])}</h1>{prose(info.get('description'))}")
    schemes = document["components"].get("securitySchemes", {})
    out.append("<h2>Authentication</h2><table><tr><th>scheme</th><th>how</th><th>about</th></tr>")
    for name, scheme in schemes.items():
        how = f"{esc(scheme.get('type'))} {esc(scheme.get('scheme', ''))} ({esc(scheme.get('bearerFormat', ''))})"
        out.append(f"<tr><td><code>{esc(name)}</code></td><td>{how}</td><td>{prose(scheme.get('description'))}</td></tr>")
    out.append("</table>")
    for tag in tags:
        ops = [(p, m, o) for p, m, o in operations if o.get("tags", [""])[0] == tag]
        if not ops:
            continue
        description = next((t.get("description", "") for t in document["tags"] if t["name"] == tag), "")
        out.append(f"<h2>{esc(tag)}</h2>{prose(description)}")
        for path, method, op in ops:
            out.append(render_operation(document, path, method, op))
    if document.get("webhooks"):
        out.append("<h2>Outgoing webhooks</h2><p>Requests this API sends to endpoints you register.</p>")
        for name, item in document["webhooks"].items():
            for method in METHODS:
                if method in item:
                    out.append(render_operation(document, f"(your endpoint): {name}", method, item[method]))
    out.append("<h2>Schemas</h2>")
    for name, schema in document["components"]["schemas"].items():
        out.append(f'<section class=op id="schema-{esc(name)}"><h3>{esc(name)}</h3>{prose(schema.get("description"))}{schema_table(schema, 0)}</section>')
    out.append("</main></body></html>\n")
    return "".join(out)


# ---------------------------------------------------------------- Swift

def swift_literal(text: str) -> str:
    hashes = "#"
    while f'"{hashes}' in text or f"\\{hashes}" in text:
        hashes += "#"
    return f'{hashes}"""\n{text}\n"""{hashes}'


def render_swift(json_text: str, html_text: str) -> str:
    return (
        "// Generated by scripts/openapi.py from docs/openapi.yaml; do not edit (make check-api fails when it is stale).\n\n"
        "/// The public API's OpenAPI document and its reference page, as the gateway serves them.\n"
        "enum APIDocument {\n"
        "    /// `docs/openapi.json`, byte for byte.\n"
        f"    static let json = {swift_literal(json_text.removesuffix(chr(10)))} + \"\\n\"\n\n"
        "    /// `docs/api.html`, byte for byte.\n"
        f"    static let html = {swift_literal(html_text.removesuffix(chr(10)))} + \"\\n\"\n"
        "}\n"
    )


def main() -> int:
    check = "--check" in sys.argv[1:]
    document = load()
    json_text = render_json(document)
    html_text = render_html(document)
    outputs = {JSON_OUT: json_text, HTML_OUT: html_text, SWIFT_OUT: render_swift(json_text, html_text)}
    stale = []
    for path, text in outputs.items():
        current = path.read_text() if path.exists() else None
        if current != text:
            stale.append(path.relative_to(ROOT))
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    if check:
        if stale:
            print("openapi: out of date with docs/openapi.yaml (run python3 scripts/openapi.py): " + ", ".join(map(str, stale)))
            return 1
        print("openapi: docs/openapi.json, docs/api.html and the gateway's copy match docs/openapi.yaml")
        return 0
    print("openapi: wrote " + (", ".join(map(str, stale)) if stale else "nothing (all up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
