"""After an agent run, /metrics shows the run, LLM-call, token and tool series with its labels."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agentplatform.core.db import session_scope
from agentplatform.models.run import RunCreate
from agentplatform.services import runs
from agentplatform.services.run_dispatch import EmbeddedDispatcher, set_dispatcher
from tests.fakes.fake_openai import FakeLLMServer
from tests.services.run_support import (
    isolated_runs,
    make_agent,
    make_provider,
    owner,
    wait_for,
)


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, lab, v in samples if n == name and labels.items() <= lab.items())


async def test_an_agent_run_shows_in_metrics(api: httpx.AsyncClient) -> None:
    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "metered", tools=["calculator"])
    before = _samples((await api.get("/metrics")).text)
    async with session_scope() as session:
        created = await runs.create_run(
            session=session, actor=actor, data=RunCreate(agent_id=agent, input="What is 6 * 7?"),
            correlation_id="metrics-1",
        )  # fmt: skip
    run = await wait_for(created.id)
    assert run.status == "succeeded"
    after = _samples((await api.get("/metrics")).text)

    target = {"kind": "agent"}
    started = "agentplatform_runs_started_total"
    finished = "agentplatform_runs_finished_total"
    assert _value(after, started, **target) - _value(before, started, **target) == 1
    done = {**target, "status": "succeeded"}
    assert _value(after, finished, **done) - _value(before, finished, **done) == 1
    llm = {"provider": "offline", "model": "offline-demo"}
    tokens = "agentplatform_llm_tokens_total"
    assert _value(after, tokens, **llm, direction="input") > _value(
        before, tokens, **llm, direction="input"
    )
    calls = "agentplatform_llm_request_duration_seconds_count"
    assert _value(after, calls, **llm) - _value(before, calls, **llm) == 2
    tool = {"tool": "calculator", "outcome": "ok"}
    tools = "agentplatform_tool_calls_total"
    assert _value(after, tools, **tool) - _value(before, tools, **tool) == 1


async def test_active_and_queued_gauges_follow_the_runs(
    api: httpx.AsyncClient, fake_openai: FakeLLMServer
) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    agent = await make_agent(user.workspace_id, "slow", provider_id=provider)
    fake_openai.delay(30)  # the first run hangs on the provider ...
    dispatcher = EmbeddedDispatcher(concurrency=1)  # ... and holds the only slot
    set_dispatcher(dispatcher)
    created = []
    for text in ("one", "two"):
        async with session_scope() as session:
            data = RunCreate(agent_id=agent, input=text)
            created.append(await runs.create_run(session=session, actor=actor, data=data))
    await wait_for(created[0].id, {"running"})
    now = _samples((await api.get("/metrics")).text)
    assert _value(now, "agentplatform_runs_active") == 1
    assert _value(now, "agentplatform_runs_queued") == 1

    for run in created:
        async with session_scope() as session:
            await runs.cancel_run(session=session, actor=actor, run_id=run.id)
    await dispatcher.wait_idle(timeout=30)
    after = _samples((await api.get("/metrics")).text)
    assert _value(after, "agentplatform_runs_active") == 0
    assert _value(after, "agentplatform_runs_queued") == 0
