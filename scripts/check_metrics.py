#!/usr/bin/env python3
"""Which metrics the dashboards and alert rules use, and whether the services really export them.

    python3 scripts/check_metrics.py                      # every name and selector label used is in
                                                          # deploy/monitoring/metrics.yaml (make check-deploy)
    python3 scripts/check_metrics.py --list               # the metric families our services must export,
                                                          # one per line (histograms by family name)
    python3 scripts/check_metrics.py --scraped a.txt b.txt   # exit 1 naming every used family that none of
                                                          # these scraped /metrics texts contains

Used names come from the PromQL of every alert rule file (deploy/monitoring/prometheus/rules.yml)
and every Grafana dashboard (deploy/monitoring/grafana/dashboards/*.json: panel targets, nested
panels of rows, and `label_values(...)`/query variables). Cluster metrics (container_*, kube_*,
node_*, up; the `external` list of metrics.yaml) are allowed and never expected from a service.
A histogram counts as exported when its family appears (`# TYPE name histogram`, or samples
name_bucket / name_sum / name_count); a rule may name name_bucket, name_sum or name_count.
Needs PyYAML (Debian: python3-yaml).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover
    raise SystemExit("check_metrics: needs PyYAML (apt-get install python3-yaml)")

ROOT = Path(__file__).resolve().parent.parent
MONITORING = ROOT / "deploy" / "monitoring"
CATALOG = MONITORING / "metrics.yaml"
RULE_FILES = [MONITORING / "prometheus" / "rules.yml"]
DASHBOARDS = MONITORING / "grafana" / "dashboards"
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset",
            "bool", "inf", "nan", "start", "end", "atan2"}
IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^{}]*)\}")
MATCHER = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*\"\"\s*")
GRAFANA_VARIABLE = re.compile(r"\$\{([a-zA-Z0-9_]+)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)")
LABEL_VALUES = re.compile(r"^\s*label_values\s*\((.*?)(?:,\s*([a-zA-Z_][a-zA-Z0-9_]*))?\s*\)\s*$", re.S)


def grafana_to_promql(expr: str) -> str:
    """Grafana's interval variables become durations, other variables a plain word; both are valid PromQL."""
    def sub(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return "5m" if name.startswith("__") and ("interval" in name or "range" in name) else "x"
    return GRAFANA_VARIABLE.sub(sub, expr)


def parse(expr: str) -> tuple[set[str], dict[str, set[str]], list[str]]:
    """(metric names, metric -> label names used in its selectors, problems) of one PromQL expression.
    A light tokenizer, not a parser: promtool checks the syntax (scripts/check_deploy.py)."""
    problems = []
    text = STRING.sub('""', grafana_to_promql(expr))
    labels: dict[str, set[str]] = {}

    def selector(match: re.Match) -> str:
        name, body = match.group(1), match.group(2)
        used = set()
        for part in (p for p in body.split(",") if p.strip()):
            m = MATCHER.fullmatch(part)
            if not m:
                problems.append(f"cannot read label matcher {part.strip()!r} in {expr.strip()!r}")
                continue
            used.add(m.group(1))
        if name and name not in KEYWORDS:
            labels.setdefault(name, set()).update(used - {"__name__"})
            return f" {name} "
        if "__name__" in used:
            problems.append(f"selector by __name__ is not checkable: {expr.strip()!r}")
        return " "

    text = SELECTOR.sub(selector, text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\boffset\s+-?\d+[smhdwy]+", " ", text)
    previous = None
    while previous != text:  # grouping clauses can follow one another
        previous, text = text, GROUPING.sub(" ", text)
    names = set()
    for match in IDENT.finditer(text):
        word = match.group(1)
        after = text[match.end():].lstrip()
        if word.lower() in KEYWORDS or after.startswith("("):
            continue  # an operator, modifier or function
        names.add(word)
    for name in names:
        labels.setdefault(name, set())
    return names, labels, problems


def load_catalog() -> dict:
    return yaml.safe_load(CATALOG.read_text())


def is_external(name: str, catalog: dict) -> bool:
    ext = catalog.get("external") or {}
    return name in (ext.get("names") or []) or name.startswith(tuple(ext.get("prefixes") or []))


def family(name: str, catalog: dict) -> str:
    """name_bucket/_sum/_count of a catalogued histogram -> the histogram's name."""
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and (catalog["metrics"].get(base) or {}).get("type") == "histogram":
            return base
    return name


def dashboard_expressions(path: Path) -> list[tuple[str, str]]:
    """(where, PromQL) of one dashboard: every target of every panel (rows' nested panels included) and
    every query variable (label_values(<selector>, label) gives its selector)."""
    board = json.loads(path.read_text())
    found = []

    def panels(items):
        for panel in items or []:
            yield panel
            yield from panels(panel.get("panels"))

    for panel in panels(board.get("panels")):
        for i, target in enumerate(panel.get("targets") or []):
            if target.get("expr"):
                found.append((f"{path.name} panel {panel.get('id')} {panel.get('title')!r} target {i}", target["expr"]))
    for var in (board.get("templating") or {}).get("list") or []:
        if var.get("type") != "query":
            continue
        query = var.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if not query:
            continue
        match = LABEL_VALUES.match(query)
        expr = match.group(1) if match else query
        found.append((f"{path.name} variable {var.get('name')}", expr))
    return found


def rule_expressions(path: Path) -> list[tuple[str, str]]:
    doc = yaml.safe_load(path.read_text()) or {}
    return [(f"{path.relative_to(ROOT)} {rule.get('alert') or rule.get('record')}", str(rule["expr"]))
            for group in doc.get("groups") or [] for rule in group.get("rules") or []]


def all_expressions() -> list[tuple[str, str]]:
    found = []
    for path in RULE_FILES:
        found += rule_expressions(path)
    for path in sorted(DASHBOARDS.glob("*.json")):
        found += dashboard_expressions(path)
    return found


def used(catalog: dict, expressions: list[tuple[str, str]] | None = None) -> tuple[dict[str, set[str]], list[str]]:
    """metric family -> where it is used; and every problem: unknown metrics, unknown selector labels
    (of `expressions`, default all_expressions())."""
    where: dict[str, set[str]] = {}
    problems = []
    scrape = set(catalog.get("scrape_labels") or [])
    for origin, expr in all_expressions() if expressions is None else expressions:
        names, labels, errors = parse(expr)
        problems += [f"{origin}: {e}" for e in errors]
        if not names:
            problems.append(f"{origin}: names no metric: {expr.strip()!r}")
        for name in sorted(names):
            if is_external(name, catalog):
                continue
            base = family(name, catalog)
            entry = catalog["metrics"].get(base)
            if entry is None:
                problems.append(f"{origin}: {name} is exported by no service (not in deploy/monitoring/metrics.yaml)")
                continue
            where.setdefault(base, set()).add(origin)
            known = set(entry.get("labels") or []) | scrape | ({"le"} if name.endswith("_bucket") else set())
            for label in sorted(labels.get(name, set()) - known):
                problems.append(f"{origin}: {name} has no label {label!r} (its labels: {sorted(entry.get('labels') or [])})")
    return where, problems


def scraped_families(paths: list[Path]) -> set[str]:
    names = set()
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            line = line.strip()
            if line.startswith("# TYPE "):
                parts = line.split()
                if len(parts) >= 3:
                    names.add(parts[2])
            elif line and not line.startswith("#"):
                names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    for name in list(names):
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix):
                names.add(name[: -len(suffix)])
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the metric families the dashboards and rules expect")
    parser.add_argument("--scraped", nargs="+", type=Path, metavar="FILE",
                        help="scraped /metrics texts (any number, e.g. one per service): fail on names none of them has")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    where, problems = used(catalog)
    if args.list:
        print("\n".join(sorted(where)))
        return 1 if problems else 0
    if problems:
        print("check_metrics: dashboards and rules name metrics or labels the services do not export:")
        print("\n".join(f"  - {p}" for p in problems))
        if not args.scraped:
            return 1
    if args.scraped:
        have = scraped_families(args.scraped)
        missing = sorted(set(where) - have)
        if missing:
            print(f"check_metrics: {len(missing)} of {len(where)} metrics used by dashboards and rules are not in "
                  f"{', '.join(str(p) for p in args.scraped)}:")
            for name in missing:
                print(f"  {name}  (used by {', '.join(sorted(where[name])[:3])}{' ...' if len(where[name]) > 3 else ''})")
            return 1
        print(f"check_metrics: all {len(where)} metrics used by dashboards and rules are exported")
        return 1 if problems else 0
    print(f"check_metrics: {len(where)} metrics used by dashboards and rules, all in deploy/monitoring/metrics.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
