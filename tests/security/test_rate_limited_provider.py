"""A provider that answers 429 with a long Retry-After: the run ends at once saying it was
rate-limited and for how long (not a bare "timed out" after sleeping out the agent's limit).
Real HTTP against the fake OpenAI-compatible server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from agentplatform.core.db import session_scope
from agentplatform.models.run import RunCreate
from agentplatform.services import runs
from tests.fakes.fake_openai import FakeLLMServer
from tests.services.run_support import (
    isolated_runs,
    make_agent,
    make_provider,
    make_team,
    owner,
    wait_for,
)

# Generous functional bound: these runs must end long before the limits they would otherwise
# have slept out (agent time limits of 60 s, a Retry-After of 10 minutes).
PROMPT_END_S = 30


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


async def _run(actor, data: RunCreate):  # type: ignore[no-untyped-def]
    async with session_scope() as session:
        created = await runs.create_run(session=session, actor=actor, data=data)
    return await wait_for(created.id, timeout=PROMPT_END_S + 30)


async def test_a_long_retry_after_fails_the_run_saying_rate_limited_and_for_how_long(
    fake_openai: FakeLLMServer,
) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    agent = await make_agent(user.workspace_id, "busy", provider_id=provider, timeout_s=60)
    fake_openai.error(429, "Rate limit reached for requests per day", retry_after="600")
    started = time.monotonic()
    run = await _run(actor, RunCreate(agent_id=agent, input="hello"))
    assert time.monotonic() - started < PROMPT_END_S
    assert (run.status, run.stopped_reason) == ("failed", "provider_error")
    assert run.error is not None
    assert "rate-limited by the provider (HTTP 429" in run.error
    assert "Rate limit reached for requests per day" in run.error
    assert "asks to wait 10 min (until " in run.error and "UTC)" in run.error
    assert "timed out" not in run.error
    assert len(fake_openai.requests) == 1  # no futile retries before the wait is over


async def test_a_wait_longer_than_the_agents_time_left_fails_at_once(
    fake_openai: FakeLLMServer,
) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    agent = await make_agent(user.workspace_id, "hasty", provider_id=provider, timeout_s=8)
    fake_openai.error(429, "slow down", retry_after="20")  # within the 30 s a call may wait
    started = time.monotonic()
    run = await _run(actor, RunCreate(agent_id=agent, input="hello"))
    assert time.monotonic() - started < 8  # not slept out until the agent's limit
    assert run.status == "failed" and run.error is not None
    assert "rate-limited by the provider" in run.error and "asks to wait 20 s" in run.error
    assert "left of agent 'hasty''s time limit" in run.error


async def test_a_team_budget_names_itself_as_the_limit(fake_openai: FakeLLMServer) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    agent = await make_agent(user.workspace_id, "member", provider_id=provider, timeout_s=60)
    team = await make_team(user.workspace_id, "crew", "sequential", [agent], max_seconds=5)
    fake_openai.error(429, "slow down", retry_after="15")
    run = await _run(actor, RunCreate(team_id=team, input="hello"))
    assert run.error is not None, run
    assert "rate-limited by the provider" in run.error and "asks to wait 15 s" in run.error
    assert "the run's time budget" in run.error


async def test_a_short_retry_after_is_still_waited_and_retried(fake_openai: FakeLLMServer) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    agent = await make_agent(user.workspace_id, "patient", provider_id=provider, timeout_s=60)
    fake_openai.error(429, "slow down", retry_after="1")
    fake_openai.reply("made it")
    run = await _run(actor, RunCreate(agent_id=agent, input="hello"))
    assert (run.status, run.output) == ("succeeded", "made it")
    assert len(fake_openai.requests) == 2
