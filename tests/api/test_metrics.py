"""The metrics summary: counts, success rate, latency percentiles, tokens and cost, broken
down per day, agent, team and prompt version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agentplatform.models import Run
from agentplatform.services.run_metrics import percentile
from tests.factories import auth_headers
from tests.services.run_support import add, make_agent, make_prompt, make_team, owner

DAY1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
RANGE = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-03T00:00:00Z"}


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 95) == 48.0


async def test_summary_over_a_range(api: httpx.AsyncClient) -> None:
    user, _ = await owner()
    ws = user.workspace_id
    writer = await make_agent(ws, "writer")
    team = await make_team(ws, "crew", "sequential", [writer])
    prompt = await make_prompt(ws, "tone", ["v1", "v2"])

    def run(status: str, at: datetime, latency: float | None, **kw: Any) -> Run:
        target = (
            {"kind": "team", "team_id": team, "target_name": "crew"}
            if kw.pop("team", False)
            else {"kind": "agent", "agent_id": writer, "target_name": "writer"}
        )
        return Run(
            workspace_id=ws, input="x", status=status, created_at=at, latency_ms=latency,
            input_tokens=100, output_tokens=10, cost_usd=0.5, **target, **kw,
        )  # fmt: skip

    other, _ = await owner()
    await add(
        run("succeeded", DAY1, 100.0, prompt_versions={str(prompt): 1}),
        run("succeeded", DAY1, 300.0, prompt_versions={str(prompt): 2}),
        run("failed", DAY1, 200.0, prompt_versions={str(prompt): 2}),
        run("cancelled", DAY2, 5000.0, team=True),
        run("timed_out", DAY2, 900.0, team=True),
        run("queued", DAY2, None),
        run("succeeded", DAY1 - timedelta(days=3), 1.0),  # before the range
        Run(workspace_id=other.workspace_id, kind="agent", target_name="x", input="x",
            status="succeeded", created_at=DAY1),  # another workspace
    )  # fmt: skip
    response = await api.get("/api/metrics/summary", params=RANGE, headers=auth_headers(user))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["runs"] == 6
    assert (body["succeeded"], body["failed"], body["cancelled"], body["timed_out"]) == (2, 1, 1, 1)
    assert body["active"] == 1
    assert body["success_rate"] == 0.5  # 2 of the 4 decided runs; cancelled ones are left out
    assert body["latency_p50_ms"] == 250.0  # of 100, 200, 300, 900 (cancelled/queued left out)
    assert body["latency_p95_ms"] == pytest.approx(810.0)
    assert (body["input_tokens"], body["output_tokens"]) == (600, 60)
    assert body["cost_usd"] == pytest.approx(3.0)
    days = {d["day"]: d["runs"] for d in body["per_day"]}
    assert days == {"2026-03-01": 3, "2026-03-02": 3}
    agent = body["per_agent"][0]
    assert (agent["agent_id"], agent["name"], agent["runs"]) == (str(writer), "writer", 4)
    crew = body["per_team"][0]
    assert (crew["name"], crew["runs"], crew["success_rate"]) == ("crew", 2, 0.0)
    versions = {(p["prompt_name"], p["version"]): p for p in body["per_prompt_version"]}
    assert versions[("tone", 1)]["success_rate"] == 1.0
    assert versions[("tone", 2)]["runs"] == 2 and versions[("tone", 2)]["success_rate"] == 0.5


async def test_summary_defaults_and_checks(api: httpx.AsyncClient) -> None:
    user, _ = await owner()
    headers = auth_headers(user)
    empty = (await api.get("/api/metrics/summary", headers=headers)).json()
    assert empty["runs"] == 0 and empty["success_rate"] is None and empty["per_day"] == []
    until = datetime.fromisoformat(empty["until"])
    since = datetime.fromisoformat(empty["since"])  # 7 days back from the current minute
    assert since == until.replace(second=0, microsecond=0) - timedelta(days=7)
    backwards = await api.get(
        "/api/metrics/summary",
        params={"since": RANGE["until"], "until": RANGE["since"]},
        headers=headers,
    )
    assert backwards.status_code == 422
    too_long = await api.get(
        "/api/metrics/summary", params={"since": "2020-01-01T00:00:00Z"}, headers=headers
    )
    assert too_long.status_code == 422
    assert (await api.get("/api/metrics/summary")).status_code == 401
