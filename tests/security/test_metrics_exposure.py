"""`/metrics`: closed in production unless a token (or an explicit opt-out) says otherwise, and
no tenant id (workspace, agent, team, user) ever becomes a label; every label stays bounded."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from agentplatform.core.config import Environment, get_settings
from agentplatform.core.db import session_scope
from agentplatform.models.run import RunCreate
from agentplatform.observability import metrics
from agentplatform.services import runs
from tests.api.test_input_validation import assert_error
from tests.fakes.fake_openai import FakeLLMServer
from tests.services.run_support import (
    isolated_runs,
    make_agent,
    make_provider,
    make_team,
    owner,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-me-0123456789-abcdefghij"


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "environment", Environment.production)


async def test_production_without_a_token_keeps_metrics_closed(
    api: httpx.AsyncClient, production: None
) -> None:
    error = assert_error(await api.get("/metrics"), 403)
    assert "METRICS_TOKEN" in error["message"] and "METRICS_PUBLIC" in error["message"]
    anything = await api.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert_error(anything, 403)


async def test_production_serves_metrics_with_the_token_only(
    api: httpx.AsyncClient, production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "metrics_token", TOKEN)
    assert_error(await api.get("/metrics"), 401)
    assert_error(await api.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
    ok = await api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and "agentplatform_http_requests_total" in ok.text
    monkeypatch.setattr(get_settings(), "metrics_public", True)  # a token still wins
    assert_error(await api.get("/metrics"), 401)


async def test_metrics_public_is_an_explicit_opt_out(
    api: httpx.AsyncClient, production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "metrics_public", True)
    assert (await api.get("/metrics")).status_code == 200


def _label_values(text: str) -> set[str]:
    return {
        value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        for value in sample.labels.values()
    }


async def test_no_tenant_id_is_a_label_after_agent_and_team_runs(
    api: httpx.AsyncClient, fake_openai: FakeLLMServer
) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    helper = await make_agent(user.workspace_id, "helper", tools=["calculator"])
    remote = await make_agent(user.workspace_id, "remote", provider_id=provider)
    team = await make_team(user.workspace_id, "crew", "sequential", [helper, remote])
    fake_openai.tool_calls(("format_disk", {"device": "/dev/sda"}))  # a tool nobody gave it
    fake_openai.reply("done")
    fake_openai.reply("done again")
    created = []
    for data in (
        RunCreate(agent_id=helper, input="What is 6 * 7?"),
        RunCreate(agent_id=remote, input="use a tool"),
        RunCreate(team_id=team, input="work together"),
    ):
        async with session_scope() as session:
            created.append(await runs.create_run(session=session, actor=actor, data=data))
    finished = [await wait_for(run.id) for run in created]
    assert [run.status for run in finished] == ["succeeded"] * 3, [r.error for r in finished]
    text = (await api.get("/metrics")).text
    tenant_ids = {user.workspace_id, user.id, provider, helper, remote, team}
    tenant_ids |= {run.id for run in created}
    for tenant_id in tenant_ids:
        assert str(tenant_id) not in text
    labels = _label_values(text)
    assert "format_disk" not in labels  # the model's invented tool is `unknown`, not a label
    samples = {
        (sample.name, frozenset(sample.labels.items()))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    team_done = frozenset({"kind": "team", "status": "succeeded"}.items())
    assert ("agentplatform_runs_finished_total", team_done) in samples
    invented = frozenset({"tool": "unknown", "outcome": "unknown_tool"}.items())
    assert ("agentplatform_tool_calls_total", invented) in samples


async def test_labels_stay_bounded_whatever_names_tenants_choose(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fresh caps for this test, so the names it invents do not use up the process's.
    monkeypatch.setattr(metrics, "_model_label", metrics._BoundedNames(metrics.MODEL_LABELS_MAX))
    monkeypatch.setattr(metrics, "_tool_label", metrics._BoundedNames(metrics.TOOL_LABELS_MAX))
    mark = uuid.uuid4().hex[:6]
    for i in range(metrics.MODEL_LABELS_MAX * 2):
        metrics.llm_request(
            provider=f"workspace-{uuid.uuid4()}", model=f"model-{mark}-{i}",
            duration_s=0.1, input_tokens=1,
        )  # fmt: skip
        metrics.tool_call(tool=f"tool-{mark}-{i}", outcome="ok")
    text = (await api.get("/metrics")).text
    models, tools, providers = set(), set(), set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("agentplatform_llm_"):
                models.add(sample.labels["model"])
                providers.add(sample.labels["provider"])
            if sample.name == "agentplatform_tool_calls_total":
                tools.add(sample.labels["tool"])
    assert len({m for m in models if mark in m}) == metrics.MODEL_LABELS_MAX and "other" in models
    assert len({t for t in tools if mark in t}) == metrics.TOOL_LABELS_MAX and "other" in tools
    assert providers <= metrics.PROVIDER_KINDS | {"other"}
    assert "workspace-" not in text


def test_the_bundled_prometheus_scrapes_with_the_apps_token(tmp_path: Path) -> None:
    """docker compose hands .env's METRICS_TOKEN to Prometheus where its config reads it."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["prometheus"]
    assert service["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"
    config = yaml.safe_load((ROOT / "deployment/monitoring/prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "agentplatform")
    token_file = job["authorization"]["credentials_file"]
    shell, flag, script, arg0 = service["entrypoint"]
    assert (shell, flag) == ("/bin/sh", "-c") and token_file in script
    script = script.replace("$$", "$").replace(token_file, str(tmp_path / "token"))
    script = script.replace("exec /bin/prometheus", "exec echo")  # stands in for Prometheus
    result = subprocess.run(
        [shell, flag, script, arg0, *service["command"]],
        env={**os.environ, "METRICS_TOKEN": TOKEN},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert (tmp_path / "token").read_text() == TOKEN
    assert oct((tmp_path / "token").stat().st_mode & 0o777) == "0o600"
    assert shlex.split(result.stdout) == service["command"]


SERIES_SCRIPT = """
from agentplatform.api.app import build_api
from agentplatform.observability import metrics as m
from agentplatform.observability import provider_metrics, queue_metrics
from agentplatform.observability.http_metrics import UNMATCHED, _flat_routes

routes = {r.path_format for r in _flat_routes(build_api()) if getattr(r, "path_format", None)}
routes |= {UNMATCHED, "/{path}"}  # nothing served it; the UI mounted under the API app
for method in [*m.HTTP_METHODS, "BREW"]:
    for route in routes:
        for status in %(statuses)r:
            m.http_request(method=method, route=route, status=status, duration_s=0.1)
for kind in [*m.RUN_KINDS, "x"]:
    m.run_started(kind=kind)
    for status in [*m.RUN_STATUSES, "x"]:
        m.run_finished(kind=kind, status=status, duration_s=1)
for provider in [*m.PROVIDER_KINDS, "x"]:
    for i in range(m.MODEL_LABELS_MAX + 5):
        m.llm_request(provider=provider, model=f"m{i}", duration_s=1, input_tokens=1,
                      output_tokens=1, cost_usd=1)
        provider_metrics.llm_error(provider=provider, model=f"m{i}")
for i in range(m.TOOL_LABELS_MAX + 5):
    for outcome in [*m.TOOL_OUTCOMES, "x"]:
        m.tool_call(tool=f"t{i}", outcome=outcome)
m.set_runs_active(1)
m.set_runs_queued(1)
queue_metrics.set_workers(1)
queue_metrics.set_oldest_queued_age(1)
body, _ = m.exposition()
print(len(routes), sum(1 for line in body.decode().splitlines() if line[:1] not in ("", "#")))
"""
# The statuses the API and the UI answer (docs/security.md counts with these 20).
STATUSES = (200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429,
            500, 502, 503, 504)  # fmt: skip


def test_the_worst_case_series_count_in_the_docs_is_true() -> None:
    """Every label combination filled in a fresh process: the count docs/security.md states."""
    result = subprocess.run(
        [sys.executable, "-c", SERIES_SCRIPT % {"statuses": STATUSES}],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    routes, series = (int(n) for n in result.stdout.split())
    docs = (ROOT / "docs" / "security.md").read_text()
    formula = re.search(r"(\d+) \* R \+ ([\d,]+)", docs)
    assert formula, "docs/security.md states the worst case as `A * R + B`"
    per_route, fixed = int(formula[1]), int(formula[2].replace(",", ""))
    assert series == per_route * routes + fixed, (
        f"{series} series with R = {routes}: update the formula in docs/security.md"
    )
    assert f"R = {routes}" in docs and f"{series:,}" in docs
