"""Runs of one agent: resolution at start, the recorded trace, totals, cost and queries."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from agentplatform.core.db import session_scope
from agentplatform.core.errors import NotFound, PermissionDenied, ValidationFailed
from agentplatform.models.common import utcnow
from agentplatform.models.run import RunCreate
from agentplatform.services import runs
from agentplatform.services.run_dispatch import set_dispatcher
from tests.fakes.fake_openai import FakeLLMServer
from tests.services.run_support import (
    API_KEY,
    HoldingDispatcher,
    actor_for,
    load,
    make_agent,
    make_prompt,
    make_provider,
    owner,
    set_price,
    wait_for,
)


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    from tests.services.run_support import isolated_runs

    async with isolated_runs():
        yield


async def start(actor, **fields) -> uuid.UUID:  # type: ignore[no-untyped-def]
    async with session_scope() as session:
        run = await runs.create_run(
            session=session, actor=actor, data=RunCreate(**fields), correlation_id="cid-1"
        )
    return run.id


async def steps_of(actor, run_id: uuid.UUID):  # type: ignore[no-untyped-def]
    async with session_scope() as session:
        return (await runs.list_steps(session=session, actor=actor, run_id=run_id)).data


async def test_agent_run_with_a_tool_call_is_recorded_in_order(fake_openai: FakeLLMServer) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    await set_price(user.workspace_id, "fake-model", 1000.0, 2000.0)
    agent = await make_agent(
        user.workspace_id,
        "calc",
        provider_id=provider,
        tools=["calculator"],
        instructions="You help {{ customer }} with sums.",
    )
    fake_openai.tool_calls(("calculator", {"expression": "17 * 23"}))
    fake_openai.reply("17 * 23 is 391.")

    run_id = await start(
        actor, agent_id=agent, input="What is 17*23?", variables={"customer": "Ada"}
    )
    run = await wait_for(run_id)

    assert run.status == "succeeded", run.error
    assert run.stopped_reason == "completed"
    assert run.output == "17 * 23 is 391."
    assert run.correlation_id == "cid-1"
    steps = await steps_of(actor, run_id)
    assert [(s.seq, s.kind) for s in steps] == [
        (1, "tool_call"),
        (2, "tool_result"),
        (3, "message"),
    ]
    assert steps[0].tool_name == "calculator"
    assert steps[0].tool_args == {"expression": "17 * 23"}
    assert steps[1].content == "391"
    assert {s.agent_name for s in steps} == {"calc"}
    assert steps[0].agent_id == agent and steps[0].model == "fake-model"
    for charged in (steps[0], steps[2]):
        assert charged.input_tokens > 0 and charged.output_tokens > 0
        assert charged.latency_ms is not None and charged.latency_ms >= 0
        expected = (charged.input_tokens * 1000 + charged.output_tokens * 2000) / 1_000_000
        assert charged.cost_usd == pytest.approx(expected)
    assert run.input_tokens == sum(s.input_tokens for s in steps)
    assert run.output_tokens == sum(s.output_tokens for s in steps)
    assert run.cost_usd == pytest.approx(sum(s.cost_usd for s in steps))
    assert run.latency_ms is not None and run.latency_ms > 0
    assert run.per_agent[str(agent)]["input_tokens"] == run.input_tokens
    # The model got the rendered instructions and the real key; the snapshot has no key.
    first = fake_openai.log[0]
    assert first.body["messages"][0] == {"role": "system", "content": "You help Ada with sums."}
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    stored = await load(run_id)
    assert API_KEY not in json.dumps(stored.config)
    assert stored.config["agent"]["instructions"] == "You help Ada with sums."
    assert stored.config["agent"]["provider_kind"] == "openai"


async def test_offline_agent_runs_without_network() -> None:
    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "offline", tools=["calculator"])
    run = await wait_for(await start(actor, agent_id=agent, input="What is 6 * 7?"))
    assert run.status == "succeeded"
    assert "42" in (run.output or "")
    assert [s.kind for s in await steps_of(actor, run.id)] == [
        "tool_call",
        "tool_result",
        "message",
    ]


async def test_prompt_versions_resolve_by_label_and_pin(fake_openai: FakeLLMServer) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    prompt = await make_prompt(
        user.workspace_id,
        "support",
        ["v1 for {{ name }}", "v2 for {{ name }}", "v3 for {{ name }}"],
        labels={"production": 2},
    )
    agent = await make_agent(
        user.workspace_id,
        "helper",
        provider_id=provider,
        prompt_id=prompt,
        prompt_label="production",
    )
    by_label = await wait_for(
        await start(actor, agent_id=agent, input="hi", variables={"name": "Bo"})
    )
    pinned = await wait_for(
        await start(
            actor,
            agent_id=agent,
            input="hi",
            variables={"name": "Bo"},
            prompt_versions={str(prompt): 3},
        )
    )
    assert by_label.prompt_versions == {str(prompt): 2}
    assert pinned.prompt_versions == {str(prompt): 3}
    systems = [r.body["messages"][0]["content"] for r in fake_openai.log]
    assert systems == ["v2 for Bo", "v3 for Bo"]
    config = (await load(pinned.id)).config["agent"]
    assert (config["prompt_name"], config["prompt_version"]) == ("support", 3)


async def test_bad_configuration_is_rejected_before_queueing() -> None:
    user, actor = await owner()
    prompt = await make_prompt(user.workspace_id, "p", ["Hello {{ who }}"])
    agent = await make_agent(user.workspace_id, "a", prompt_id=prompt)
    with pytest.raises(ValidationFailed, match="who") as missing:
        await start(actor, agent_id=agent, input="x")
    assert missing.value.details[0]["field"] == "variables.who"
    with pytest.raises(ValidationFailed, match="no version 9"):
        await start(
            actor,
            agent_id=agent,
            input="x",
            variables={"who": "a"},
            prompt_versions={str(prompt): 9},
        )
    with pytest.raises(ValidationFailed, match="does not use"):
        await start(actor, agent_id=agent, input="x", prompt_versions={str(uuid.uuid4()): 1})
    broken = await make_agent(user.workspace_id, "broken", instructions="{% if %}")
    with pytest.raises(ValidationFailed, match="broken"):
        await start(actor, agent_id=broken, input="x")
    async with session_scope() as session:
        listed = await runs.list_runs(session=session, actor=actor)
    assert listed.count == 0


async def test_target_outside_the_workspace_is_not_found() -> None:
    _, actor = await owner()
    other, _ = await owner()
    foreign = await make_agent(other.workspace_id, "theirs")
    with pytest.raises(NotFound):
        await start(actor, agent_id=foreign, input="x")
    with pytest.raises(NotFound):
        await start(actor, team_id=uuid.uuid4(), input="x")


async def test_viewers_read_but_cannot_start_or_cancel() -> None:
    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "a")
    set_dispatcher(HoldingDispatcher())
    run_id = await start(actor, agent_id=agent, input="x")
    viewer = actor_for(user, "viewer")
    with pytest.raises(PermissionDenied):
        await start(viewer, agent_id=agent, input="x")
    async with session_scope() as session:
        with pytest.raises(PermissionDenied):
            await runs.cancel_run(session=session, actor=viewer, run_id=run_id)
        assert (await runs.get_run(session=session, actor=viewer, run_id=run_id)).status == "queued"


async def test_list_filters_newest_first_and_steps_after_seq() -> None:
    user, actor = await owner()
    first = await make_agent(user.workspace_id, "first", tools=["calculator"])
    second = await make_agent(user.workspace_id, "second")
    a = await wait_for(await start(actor, agent_id=first, input="What is 2 + 3?"))
    b = await wait_for(await start(actor, agent_id=second, input="hello"))
    async with session_scope() as session:
        everything = await runs.list_runs(session=session, actor=actor)
        assert [r.id for r in everything.data] == [b.id, a.id]
        only = await runs.list_runs(
            session=session, actor=actor, filters=runs.RunFilters(agent_id=first)
        )
        assert [r.id for r in only.data] == [a.id]
        paged = await runs.list_runs(session=session, actor=actor, limit=1, offset=1)
        assert paged.count == 2 and [r.id for r in paged.data] == [a.id]
        later = runs.RunFilters(since=utcnow() + timedelta(minutes=1))
        assert (await runs.list_runs(session=session, actor=actor, filters=later)).count == 0
        mine = runs.RunFilters(created_by=user.id, status="succeeded")
        assert (await runs.list_runs(session=session, actor=actor, filters=mine)).count == 2
        tail = await runs.list_steps(session=session, actor=actor, run_id=a.id, after_seq=1)
        assert [s.seq for s in tail.data] == [2, 3] and tail.count == 2
