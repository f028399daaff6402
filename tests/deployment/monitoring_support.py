"""The monitoring files (alerts, dashboard, Fluent Bit) as the tests read them, the PromQL
metric names they use, and the Debian tools that check them (installed by `make
monitoring-tools`, or a clear failure saying how)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deployment" / "monitoring"
ALERTS = MONITORING / "alerts.yml"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "agentplatform.json"
PROMETHEUS_RULE = ROOT / "deployment" / "k8s" / "base" / "monitoring" / "prometheus-rule.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"


def require_tool(name: str) -> str:
    """The path of `name` (promtool, luajit); `make monitoring-tools` installs them when the
    tests run as root, otherwise the test fails saying what to install."""
    found = shutil.which(name)
    if found is None:
        done = subprocess.run(
            ["make", "-s", "monitoring-tools"], cwd=ROOT, capture_output=True, text=True
        )
        found = shutil.which(name)
        if found is None:
            pytest.fail(
                f"{name} is missing and `make monitoring-tools` could not install it:\n"
                f"{done.stdout}{done.stderr}"
            )
    return found


def alert_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(ALERTS.read_text())["groups"]
    return groups


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in alert_groups() for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    found = []
    for panel in dashboard()["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def dashboard_queries(datasource_type: str) -> list[str]:
    """The query expressions of every panel target that uses a data source of this type."""
    return [
        target["expr"]
        for panel in dashboard_panels()
        for target in panel.get("targets", [])
        if (target.get("datasource") or panel.get("datasource") or {}).get("type")
        == datasource_type
    ]


# --- metric names in PromQL ----------------------------------------------------------------
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:$])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan"}
)


def promql_metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions,
    keywords, label names (inside braces or grouping clauses) or numbers."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}
