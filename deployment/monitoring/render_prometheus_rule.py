"""Write the Kubernetes PrometheusRule from deployment/monitoring/alerts.yml (the one source).

    python deployment/monitoring/render_prometheus_rule.py          # rewrite the manifest
    python deployment/monitoring/render_prometheus_rule.py --check  # exit 1 if it is stale

Needs only PyYAML. tests/deployment/test_alert_rules.py fails when the two files disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deployment" / "monitoring" / "alerts.yml"
MANIFEST = ROOT / "deployment" / "k8s" / "base" / "monitoring" / "prometheus-rule.yaml"
HEADER = """\
# GENERATED from deployment/monitoring/alerts.yml by
# deployment/monitoring/render_prometheus_rule.py: edit alerts.yml, then run the script.
# The Prometheus Operator loads it when the rule's labels match your Prometheus's
# ruleSelector (kube-prometheus-stack: add `release: <its release name>` in an overlay).
"""


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL) as literal blocks, so the manifest reads like alerts.yml."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def prometheus_rule(groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "agentplatform",
            "labels": {
                "app.kubernetes.io/name": "agentplatform",
                "app.kubernetes.io/component": "monitoring",
            },
        },
        "spec": {"groups": groups},
    }


def render() -> str:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    body = yaml.dump(prometheus_rule(groups), Dumper=_Dumper, sort_keys=False, width=100)
    return HEADER + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the manifest is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not MANIFEST.exists() or MANIFEST.read_text() != text:
            sys.stderr.write(f"{MANIFEST.relative_to(ROOT)} is stale: run {Path(__file__).name}\n")
            return 1
        return 0
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
