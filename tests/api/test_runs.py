"""The runs REST API on the in-process app: start, read, list, trace, events, cancel."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agentplatform.services.run_dispatch import set_dispatcher
from tests.factories import auth_headers
from tests.fakes.fake_openai import FakeLLMServer
from tests.services.run_support import (
    HoldingDispatcher,
    isolated_runs,
    make_agent,
    make_provider,
    make_team,
    owner,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("_isolated")


@pytest.fixture
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


def parse_sse(text: str) -> list[dict[str, Any]]:
    """SSE frames as {event, id, data}; comments are kept as {"comment": ...}."""
    frames = []
    for block in text.strip().split("\n\n"):
        frame: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":"):
                frame["comment"] = line[1:].strip()
            else:
                key, _, value = line.partition(": ")
                frame[key] = json.loads(value) if key == "data" else value
        frames.append(frame)
    return frames


async def test_start_read_list_and_trace_a_run(api: httpx.AsyncClient) -> None:
    user, _ = await owner()
    agent = await make_agent(user.workspace_id, "calc", tools=["calculator"])
    headers = auth_headers(user) | {"X-Request-ID": "req-42"}
    created = await api.post(
        "/api/runs", json={"agent_id": str(agent), "input": "What is 6 * 7?"}, headers=headers
    )
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["status"] in {"queued", "running", "succeeded"}
    assert created.headers["location"] == f"/api/runs/{body['id']}"
    assert body["correlation_id"] == "req-42"
    assert "config" not in body
    run_id = uuid.UUID(body["id"])
    await wait_for(run_id)

    one = (await api.get(f"/api/runs/{run_id}", headers=headers)).json()
    assert one["status"] == "succeeded" and "42" in one["output"]
    assert one["per_agent"][str(agent)]["steps"] == 3
    trace = (await api.get(f"/api/runs/{run_id}/steps", headers=headers)).json()
    assert [s["kind"] for s in trace["data"]] == ["tool_call", "tool_result", "message"]
    tail = (await api.get(f"/api/runs/{run_id}/steps?after_seq=2", headers=headers)).json()
    assert [s["seq"] for s in tail["data"]] == [3]
    listed = (await api.get(f"/api/runs?agent_id={agent}&status=succeeded", headers=headers)).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == str(run_id)
    assert (await api.get("/api/runs?status=failed", headers=headers)).json()["count"] == 0
    assert (await api.get("/api/runs?since=2999-01-01T00:00:00Z", headers=headers)).json()[
        "count"
    ] == 0


async def test_team_runs_through_the_api(api: httpx.AsyncClient) -> None:
    user, _ = await owner()
    members = [await make_agent(user.workspace_id, n) for n in ("one", "two", "three")]
    team = await make_team(user.workspace_id, "crew", "sequential", members)
    created = await api.post(
        "/api/runs",
        json={"team_id": str(team), "input": "Summarise bees."},
        headers=auth_headers(user),
    )
    assert created.status_code == 202
    run = await wait_for(uuid.UUID(created.json()["id"]))
    assert run.status == "succeeded" and run.kind == "team" and run.target_name == "crew"
    assert set(run.per_agent) == {str(m) for m in members}


async def test_errors_are_shaped_and_mapped(api: httpx.AsyncClient) -> None:
    user, _ = await owner()
    headers = auth_headers(user)
    both = await api.post(
        "/api/runs",
        json={"agent_id": str(uuid.uuid4()), "team_id": str(uuid.uuid4()), "input": "x"},
        headers=headers,
    )
    assert both.status_code == 422 and "exactly one" in both.json()["error"]["message"]
    missing = await api.post(
        "/api/runs", json={"agent_id": str(uuid.uuid4()), "input": "x"}, headers=headers
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert (await api.get(f"/api/runs/{uuid.uuid4()}", headers=headers)).status_code == 404
    assert (await api.get(f"/api/runs/{uuid.uuid4()}/events", headers=headers)).status_code == 404
    assert (await api.get("/api/runs")).status_code == 401
    agent = await make_agent(user.workspace_id, "needs-vars", instructions="Hi {{ name }}")
    unrendered = await api.post(
        "/api/runs", json={"agent_id": str(agent), "input": "x"}, headers=headers
    )
    assert unrendered.status_code == 422 and "name" in unrendered.json()["error"]["message"]


async def test_other_workspaces_runs_are_invisible(api: httpx.AsyncClient) -> None:
    user, _ = await owner()
    stranger, _ = await owner()
    agent = await make_agent(user.workspace_id, "private")
    created = await api.post(
        "/api/runs", json={"agent_id": str(agent), "input": "x"}, headers=auth_headers(user)
    )
    run_id = created.json()["id"]
    await wait_for(uuid.UUID(run_id))
    theirs = auth_headers(stranger)
    assert (await api.get(f"/api/runs/{run_id}", headers=theirs)).status_code == 404
    assert (await api.get(f"/api/runs/{run_id}/steps", headers=theirs)).status_code == 404
    assert (await api.post(f"/api/runs/{run_id}/cancel", headers=theirs)).status_code == 404
    assert (await api.get("/api/runs", headers=theirs)).json()["count"] == 0


async def test_cancel_is_accepted_then_conflicts_once_finished(api: httpx.AsyncClient) -> None:
    user, _ = await owner()
    agent = await make_agent(user.workspace_id, "a")
    set_dispatcher(HoldingDispatcher())
    headers = auth_headers(user)
    run_id = (
        await api.post("/api/runs", json={"agent_id": str(agent), "input": "x"}, headers=headers)
    ).json()["id"]
    from agentplatform.core.db import session_scope
    from agentplatform.models import Membership

    async with session_scope() as session:  # a viewer may look but not cancel
        viewer, _ = await owner()
        session.add(Membership(user_id=viewer.id, workspace_id=user.workspace_id, role="viewer"))
        await session.commit()
    as_viewer = auth_headers(viewer, user.workspace_id)
    assert (await api.post(f"/api/runs/{run_id}/cancel", headers=as_viewer)).status_code == 403
    cancelled = await api.post(f"/api/runs/{run_id}/cancel", headers=headers)
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    again = await api.post(f"/api/runs/{run_id}/cancel", headers=headers)
    assert again.status_code == 409 and "already finished" in again.json()["error"]["message"]


async def test_events_stream_steps_then_status_and_resume(
    api: httpx.AsyncClient, fake_openai: FakeLLMServer
) -> None:
    user, _ = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    agent = await make_agent(
        user.workspace_id, "talker", provider_id=provider, tools=["calculator"]
    )
    fake_openai.tool_calls(("calculator", {"expression": "40 + 2"}))
    fake_openai.reply("It is 42.")
    headers = auth_headers(user)
    run_id = (
        await api.post("/api/runs", json={"agent_id": str(agent), "input": "x"}, headers=headers)
    ).json()["id"]
    response = await api.get(f"/api/runs/{run_id}/events", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in parse_sse(response.text) if f.get("event") != "delta"]
    assert [(f["event"], f.get("id")) for f in frames] == [
        ("step", "1"),
        ("step", "2"),
        ("step", "3"),
        ("status", None),
    ]
    assert frames[0]["data"]["tool_name"] == "calculator"
    assert frames[-1]["data"]["status"] == "succeeded"
    assert frames[-1]["data"]["output"] == "It is 42."
    resumed = await api.get(f"/api/runs/{run_id}/events", headers=headers | {"Last-Event-ID": "2"})
    assert [f.get("id") for f in parse_sse(resumed.text)] == ["3", None]
    after = await api.get(f"/api/runs/{run_id}/events?after=3", headers=headers)
    assert [f["event"] for f in parse_sse(after.text)] == ["status"]
