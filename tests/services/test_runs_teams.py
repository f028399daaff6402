"""Team runs end to end (every strategy, fake server and offline model), budgets, stops."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentplatform.core.db import session_scope
from agentplatform.models.run import RunCreate, RunPublic
from agentplatform.services import runs
from tests.fakes.fake_openai import FakeLLMServer
from tests.services.run_support import (
    isolated_runs,
    make_agent,
    make_provider,
    make_team,
    owner,
    set_price,
    wait_for,
)

NAMES = ["alpha", "beta", "gamma"]


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


async def team_run(
    strategy: str,
    provider_url: str | None,
    *,
    task: str = "Plan a picnic.",
    price: float | None = None,
    **termination: Any,
) -> tuple[RunPublic, list[Any], dict[str, uuid.UUID]]:
    """Run a 3-member team (plus a lead as selector/aggregator) and wait for it to end."""
    user, actor = await owner()
    if price is not None:
        await set_price(user.workspace_id, "fake-model", price, price)
    provider = await make_provider(user.workspace_id, provider_url) if provider_url else None
    agents = {
        name: await make_agent(
            user.workspace_id,
            name,
            provider_id=provider,
            instructions=f"You are {name}.",
            description=f"{name} helps",
        )
        for name in [*NAMES, "lead"]
    }
    termination.setdefault("max_turns", 3)
    team = await make_team(
        user.workspace_id,
        f"{strategy}-team",
        strategy,
        [agents[n] for n in NAMES],
        selector_agent_id=agents["lead"],
        **termination,
    )
    async with session_scope() as session:
        run = await runs.create_run(
            session=session, actor=actor, data=RunCreate(team_id=team, input=task)
        )
    done = await wait_for(run.id)
    async with session_scope() as session:
        steps = (await runs.list_steps(session=session, actor=actor, run_id=run.id)).data
    return done, steps, agents


def assert_totals(run: RunPublic, steps: list[Any]) -> None:
    assert run.input_tokens == sum(s.input_tokens for s in steps) > 0
    assert run.output_tokens == sum(s.output_tokens for s in steps) > 0
    per_agent = run.per_agent.values()
    assert sum(a["input_tokens"] for a in per_agent) == run.input_tokens
    assert sum(a["output_tokens"] for a in per_agent) == run.output_tokens
    assert [s.seq for s in steps] == list(range(1, len(steps) + 1))


def speakers(steps: list[Any]) -> list[str]:
    return [s.agent_name for s in steps if s.kind == "message"]


def script_selector(fake: FakeLLMServer) -> None:
    for name in NAMES:
        fake.reply(json.dumps({"next": name, "reason": f"{name} next"}))
        fake.reply(f"{name} says hi")
    fake.reply(json.dumps({"next": "TERMINATE", "reason": "done"}))


EXPECTED = {
    "sequential": (NAMES, "completed"),
    "round_robin": (NAMES, "max_turns"),
    "selector": (NAMES, "completed"),
    "parallel": (None, "completed"),  # members answer concurrently, then the lead aggregates
}


@pytest.mark.parametrize("strategy", list(EXPECTED))
async def test_strategy_on_the_fake_server(strategy: str, fake_openai: FakeLLMServer) -> None:
    if strategy == "selector":
        script_selector(fake_openai)
    turns = 5 if strategy == "selector" else 3  # the selector ends it before the limit
    run, steps, agents = await team_run(strategy, fake_openai.url, max_turns=turns)
    assert run.status == "succeeded", run.error
    order, reason = EXPECTED[strategy]
    assert run.stopped_reason == reason
    if order is None:
        assert sorted(speakers(steps)[:3]) == sorted(NAMES) and speakers(steps)[3] == "lead"
    else:
        assert speakers(steps) == order
    assert {str(agents[n]) for n in NAMES} <= set(run.per_agent)
    if strategy == "selector":
        assert [s.kind for s in steps].count("handoff") == 4
        assert run.per_agent[str(agents["lead"])]["input_tokens"] > 0
    if strategy == "round_robin":
        assert all(run.per_agent[str(agents[n])]["turns"] == 1 for n in NAMES)
    assert run.output
    assert_totals(run, steps)


@pytest.mark.parametrize("strategy", list(EXPECTED))
async def test_strategy_on_the_offline_model(strategy: str) -> None:
    run, steps, _ = await team_run(strategy, None, task="What is 17 * 23?")
    assert run.status == "succeeded", run.error
    assert set(NAMES) <= set(speakers(steps))
    assert run.output
    assert {s.model for s in steps if s.kind == "message"} == {"offline-demo"}
    assert_totals(run, steps)


async def test_turn_limit_ends_a_round_robin(fake_openai: FakeLLMServer) -> None:
    run, steps, _ = await team_run("round_robin", fake_openai.url, max_turns=2)
    assert (run.status, run.stopped_reason) == ("succeeded", "max_turns")
    assert speakers(steps) == ["alpha", "beta"]


async def test_stop_phrase_ends_the_run(fake_openai: FakeLLMServer) -> None:
    fake_openai.reply("Nothing more to add. ALL DONE")
    run, steps, _ = await team_run(
        "round_robin", fake_openai.url, max_turns=10, stop_phrase="ALL DONE"
    )
    assert (run.status, run.stopped_reason) == ("succeeded", "stop_phrase")
    assert speakers(steps) == ["alpha"]
    assert run.output == "Nothing more to add."


async def test_token_budget_ends_the_run(fake_openai: FakeLLMServer) -> None:
    run, steps, _ = await team_run("round_robin", fake_openai.url, max_turns=10, max_total_tokens=5)
    assert (run.status, run.stopped_reason) == ("succeeded", "token_budget")
    assert speakers(steps) == ["alpha"]


async def test_cost_budget_ends_the_run(fake_openai: FakeLLMServer) -> None:
    run, steps, _ = await team_run(
        "round_robin", fake_openai.url, price=1_000.0, max_turns=10, max_cost_usd=0.001
    )
    assert (run.status, run.stopped_reason) == ("succeeded", "cost_budget")
    assert speakers(steps) == ["alpha"]
    assert run.cost_usd >= 0.001


async def test_time_budget_is_a_normal_stop(fake_openai: FakeLLMServer) -> None:
    fake_openai.delay(5)
    run, steps, _ = await team_run("round_robin", fake_openai.url, max_turns=10, max_seconds=0.4)
    assert (run.status, run.stopped_reason) == ("succeeded", "time_budget")
    assert run.latency_ms is not None and run.latency_ms < 3000
    assert speakers(steps) == []


async def test_a_team_that_cannot_run_is_rejected_at_start() -> None:
    from agentplatform.core.errors import ValidationFailed

    user, actor = await owner()
    lone = await make_agent(user.workspace_id, "lone")
    leaderless = await make_team(user.workspace_id, "leaderless", "selector", [lone])
    empty = await make_team(user.workspace_id, "empty", "sequential", [])
    for team, problem in ((leaderless, "no selector agent"), (empty, "no members")):
        async with session_scope() as session:
            with pytest.raises(ValidationFailed, match=problem):
                await runs.create_run(
                    session=session, actor=actor, data=RunCreate(team_id=team, input="x")
                )
