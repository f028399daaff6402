"""The alerting rules: valid for Prometheus, proven by `promtool test rules` on synthetic
series, documented with a runbook each, and identical in the Kubernetes PrometheusRule."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deployment.monitoring_support import (
    ALERTS,
    MONITORING,
    OPERATIONS,
    PROMETHEUS_RULE,
    ROOT,
    alert_groups,
    alert_rules,
    promql_metric_names,
    require_tool,
)

UNIT_TESTS = Path(__file__).parent / "promtool" / "alerts_test.yml"
SEVERITIES = {"critical", "warning"}
# The alerts the operations issue asks for, by what they watch.
EXPECTED = {
    "AgentPlatformHighErrorRate",  # error rate
    "AgentPlatformHighLatency",  # p95 latency
    "AgentPlatformFailedRunRatio",  # failed-run ratio
    "AgentPlatformRunQueueBacklog",  # queue backlog
    "AgentPlatformRunQueueStalled",  # queue age
    "AgentPlatformNoWorker",  # no worker consuming
    "AgentPlatformLLMProviderErrors",  # LLM provider error rate
    "AgentPlatformNotReady",  # readiness failing
    "AgentPlatformDown",  # no scrape at all
    "AgentPlatformPodRestarting",  # pod restarts
}


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_promtool_accepts_the_rules() -> None:
    done = promtool("check", "rules", str(ALERTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(EXPECTED)} rules found" in done.stdout


def test_each_alert_fires_on_its_trouble_and_not_on_look_alikes() -> None:
    done = promtool("test", "rules", UNIT_TESTS.name, cwd=UNIT_TESTS.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_firing_unit_test() -> None:
    cases = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    fired = {
        check["alertname"]
        for case in cases
        for check in case.get("alert_rule_test", [])
        if check.get("exp_alerts")
    }
    assert {rule["alert"] for rule in alert_rules()} == EXPECTED
    assert fired == EXPECTED


def _runbook_anchors() -> set[str]:
    """GitHub's anchors of the headings under `## Alerts and runbooks` in docs/operations.md."""
    text = OPERATIONS.read_text()
    section = text.split("\n## Alerts and runbooks\n", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^###+ (.+)$", section, flags=re.MULTILINE)
    slugs = (re.sub(r"[^\w\- ]", "", heading.strip().lower()) for heading in headings)
    return {slug.replace(" ", "-") for slug in slugs}


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_says_how_bad_what_and_where_the_runbook_is(rule: dict[str, object]) -> None:
    labels, annotations = rule["labels"], rule["annotations"]
    assert isinstance(labels, dict) and isinstance(annotations, dict)
    assert labels["severity"] in SEVERITIES
    assert annotations["summary"] and annotations["description"]
    url = annotations["runbook_url"]
    assert url == f"docs/operations.md#{str(rule['alert']).lower()}"
    assert url.split("#", 1)[1] in _runbook_anchors(), f"docs/operations.md has no {url}"


def test_the_prometheus_rule_carries_exactly_the_same_groups() -> None:
    manifest = yaml.safe_load(PROMETHEUS_RULE.read_text())
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    assert "namespace" not in manifest["metadata"]  # the overlay's namespace applies
    assert manifest["spec"]["groups"] == alert_groups()
    script = MONITORING / "render_prometheus_rule.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_prometheus_loads_the_rules_compose_mounts(tmp_path: Path) -> None:
    """prometheus.yml names the rule file where docker-compose.yml mounts alerts.yml; with
    that path pointed at the checkout, `promtool check config` accepts both."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = dict(
        mount.split(":")[1::-1] for mount in compose["services"]["prometheus"]["volumes"]
    )  # container path -> source
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    local = []
    for path in config["rule_files"]:
        source = mounts[path]
        assert (ROOT / source).resolve() == ALERTS
        local.append(str(ALERTS))
    config["rule_files"] = local
    for job in config["scrape_configs"]:  # the token file compose's entrypoint writes
        authorization = job.get("authorization") or {}
        if "credentials_file" in authorization:
            token = tmp_path / "metrics-token"
            token.write_text("scrape-token")
            authorization["credentials_file"] = str(token)
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config))
    done = promtool("check", "config", str(checked))
    assert done.returncode == 0, done.stdout + done.stderr


def test_metric_names_are_read_from_promql() -> None:
    """The name extraction the live-/metrics comparison relies on (tests/observability)."""
    by_alert = {rule["alert"]: promql_metric_names(rule["expr"]) for rule in alert_rules()}
    assert by_alert["AgentPlatformHighErrorRate"] == {"agentplatform_http_requests_total"}
    assert by_alert["AgentPlatformLLMProviderErrors"] == {
        "agentplatform_llm_errors_total",
        "agentplatform_llm_request_duration_seconds_count",
    }
    assert by_alert["AgentPlatformDown"] == {"up"}
    assert promql_metric_names(
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{route="/x/{id}"}[5m])))'
        " * 1e3 > bool on(route) group_left b offset 5m or vector(0)"
    ) == {"a_bucket", "b"}
