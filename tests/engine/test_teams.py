"""Team strategies end to end on the offline model, plus termination and budgets."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from agentplatform.core.errors import ProviderError, ValidationFailed
from agentplatform.engine.agent_loop import AgentSpec
from agentplatform.engine.budget import Termination
from agentplatform.engine.providers.base import (
    AssistantMessage,
    ChatMessage,
    Provider,
    TextDeltaCallback,
    ToolSchema,
    Usage,
)
from agentplatform.engine.providers.offline import OfflineProvider
from agentplatform.engine.strategies import protocol
from agentplatform.engine.teams import TeamResult, TeamSpec, run_team
from agentplatform.engine.tools import ToolRegistry
from tests.engine.test_agent_loop import Recorder, ScriptedProvider, text_reply

TASK = "What is 17 * 23, and why do bees make honey?"
OFFLINE = OfflineProvider()


def member(
    index: int, name: str, instructions: str, provider: Provider = OFFLINE, **kw: Any
) -> AgentSpec:
    """An agent whose description (shown to the selector) is its instructions."""
    return AgentSpec(
        id=f"a{index}",
        name=name,
        provider=provider,
        instructions=instructions,
        description=instructions,
        **kw,
    )


MEMBERS = [
    member(
        1, "researcher", "You are a careful researcher. Collect the facts.", tools=["calculator"]
    ),
    member(2, "writer", "You are a clear writer. Write a short paragraph."),
    member(3, "reviewer", "You are a strict reviewer. Check the draft."),
]
LEAD = member(9, "lead", "You are the team lead.")


def team(strategy: str, members: list[AgentSpec] = MEMBERS, **termination: Any) -> TeamSpec:
    return TeamSpec(
        name="demo",
        strategy=strategy,
        members=members,
        selector=LEAD,
        termination=Termination(**termination),
    )


async def run(spec: TeamSpec, task: str = TASK, **kw: Any) -> tuple[TeamResult, Recorder]:
    sink = Recorder()
    result = await run_team(spec, task, registry=ToolRegistry(), sink=sink, **kw)
    return result, sink


def speakers(sink: Recorder) -> list[str]:
    return [s.agent_name for s in sink.steps if s.kind == "message"]


def assert_totals_add_up(result: TeamResult, sink: Recorder) -> None:
    tokens = sum(s.input_tokens + s.output_tokens for s in sink.steps)
    assert tokens == result.totals.input_tokens + result.totals.output_tokens
    per_agent = sum(t.input_tokens + t.output_tokens for t in result.per_agent.values())
    assert per_agent == tokens


async def test_sequential_runs_each_member_once_on_the_previous_output() -> None:
    result, sink = await run(team("sequential"))
    assert result.stopped_reason == "completed" and result.turns == 3
    assert speakers(sink) == ["researcher", "writer", "reviewer"]
    assert [s.kind for s in sink.steps[:2]] == ["tool_call", "tool_result"]
    assert result.output.startswith("As a strict reviewer")
    assert "- Facts: The answer is 391 (17 * 23 = 391)." in result.output
    assert set(result.per_agent) == {"a1", "a2", "a3"}
    assert_totals_add_up(result, sink)


async def test_round_robin_shares_the_conversation_until_the_stop_phrase() -> None:
    result, sink = await run(team("round_robin", stop_phrase="TERMINATE"))
    assert result.stopped_reason == "stop_phrase" and result.turns == 4
    assert speakers(sink) == ["researcher", "writer", "reviewer", "researcher"]
    assert result.transcript[-1] == ("researcher", "TERMINATE")
    assert result.output.startswith("As a strict reviewer")
    assert "Building on: researcher, writer." in result.output
    assert_totals_add_up(result, sink)


async def test_round_robin_loops_until_max_turns() -> None:
    result, sink = await run(team("round_robin", max_turns=5))
    assert result.stopped_reason == "max_turns" and result.turns == 5
    assert speakers(sink) == ["researcher", "writer", "reviewer", "researcher", "writer"]
    assert result.output.startswith("As a strict reviewer")  # TERMINATE turns are skipped


async def test_selector_picks_speakers_records_reasons_and_ends() -> None:
    result, sink = await run(team("selector"))
    assert result.stopped_reason == "completed" and result.turns == 3
    handoffs = [s for s in sink.steps if s.kind == "handoff"]
    assert [h.meta["next"] for h in handoffs] == ["researcher", "writer", "reviewer", None]
    assert handoffs[0].content == "researcher has not contributed yet."
    assert handoffs[-1].content == "Every member has contributed; done."
    assert all(h.agent_name == "lead" and h.input_tokens > 0 for h in handoffs)
    assert speakers(sink) == ["researcher", "writer", "reviewer"]
    assert result.per_agent["a9"].turns == 0 and result.per_agent["a9"].input_tokens > 0
    assert result.output.startswith("As a strict reviewer")
    assert_totals_add_up(result, sink)


async def test_selector_tolerates_prose_and_falls_back_on_nonsense() -> None:
    lead = member(
        9,
        "lead",
        "",
        ScriptedProvider(
            [
                text_reply("I'd let the writer speak now."),
                text_reply("banana"),
                text_reply(json.dumps({"next": "TERMINATE", "reason": "good enough"})),
            ]
        ),
    )
    spec = TeamSpec("t", "selector", MEMBERS, selector=lead)
    result, sink = await run(spec)
    handoffs = [(h.meta["next"], h.content) for h in sink.steps if h.kind == "handoff"]
    assert handoffs == [
        ("writer", "I'd let the writer speak now."),
        ("reviewer", "Selector answer not understood; reviewer speaks next in team order."),
        (None, "good enough"),
    ]
    assert result.stopped_reason == "completed" and speakers(sink) == ["writer", "reviewer"]


async def test_selector_obeys_max_turns() -> None:
    result, _ = await run(team("selector", max_turns=2))
    assert result.stopped_reason == "max_turns" and result.turns == 2


@dataclass
class BarrierProvider:
    """Answers only once `expected` calls are in flight together: proves concurrency."""

    expected: int
    kind: str = "barrier"
    model: str = "barrier-1"
    in_flight: int = 0
    peak: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSchema] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        on_text: TextDeltaCallback | None = None,
    ) -> AssistantMessage:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        if self.in_flight >= self.expected:
            self.arrived.set()
        await asyncio.wait_for(self.arrived.wait(), timeout=10)
        self.in_flight -= 1
        return AssistantMessage(content=f"answer {messages[-1].content[:4]}", usage=Usage(3, 2))


async def test_parallel_runs_members_concurrently_then_aggregates() -> None:
    barrier = BarrierProvider(expected=3)
    members = [member(i, f"m{i}", "You are helpful.", barrier) for i in (1, 2, 3)]
    spec = TeamSpec("t", "parallel", members, aggregator=member(7, "agg", "", OFFLINE))
    result, sink = await run(spec)
    assert barrier.peak == 3
    assert result.stopped_reason == "completed" and result.turns == 2
    assert result.output.splitlines()[0] == "Combined answer from 3 team members (m1, m2, m3):"
    assert speakers(sink)[-1] == "agg" and set(result.per_agent) == {"a1", "a2", "a3", "a7"}


async def test_parallel_on_the_offline_model() -> None:
    result, sink = await run(team("parallel"))
    assert result.stopped_reason == "completed"
    assert "- researcher: The answer is 391 (17 * 23 = 391)." in result.output
    assert speakers(sink)[-1] == "lead"  # the selector agent aggregates by default
    assert_totals_add_up(result, sink)


async def test_parallel_member_failure_fails_the_run() -> None:
    async def failing() -> AssistantMessage:
        raise ProviderError("boom", provider="x", model="y")

    members = [*MEMBERS[:2], member(4, "flaky", "", ScriptedProvider([failing]))]
    with pytest.raises(ProviderError, match="boom"):
        await run(TeamSpec("t", "parallel", members))


async def test_stop_phrase_in_a_message_ends_the_run() -> None:
    approving = member(2, "approver", "", ScriptedProvider([text_reply("Looks great. APPROVED")]))
    members = [MEMBERS[0], approving, MEMBERS[2]]
    result, sink = await run(team("sequential", members, stop_phrase="APPROVED"))
    assert result.stopped_reason == "stop_phrase" and result.turns == 2
    assert speakers(sink) == ["researcher", "approver"]
    assert result.output == "Looks great."


@pytest.mark.parametrize("strategy", ["sequential", "round_robin", "selector"])
async def test_token_budget_ends_the_run(strategy: str) -> None:
    result, _ = await run(team(strategy, max_tokens=50))
    assert result.stopped_reason == "token_budget"
    assert result.totals.input_tokens + result.totals.output_tokens >= 50


async def test_cost_budget_ends_the_run() -> None:
    result, sink = await run(
        team("round_robin", max_cost_usd=0.025), cost_fn=lambda model, usage: 0.01
    )
    assert result.stopped_reason == "cost_budget"
    assert result.totals.cost_usd == pytest.approx(0.03)  # three calls: tool call, answer, next
    assert sum(s.cost_usd for s in sink.steps) == pytest.approx(0.03)


async def test_max_turns_ends_a_sequential_run_early() -> None:
    result, sink = await run(team("sequential", max_turns=2))
    assert result.stopped_reason == "max_turns" and speakers(sink) == ["researcher", "writer"]


@pytest.mark.parametrize("strategy", ["sequential", "round_robin", "selector", "parallel"])
async def test_time_budget_ends_the_run(strategy: str) -> None:
    async def slow() -> AssistantMessage:
        await asyncio.sleep(10)
        return text_reply("late")

    sleepy = ScriptedProvider([slow])
    members = [member(i, f"m{i}", "", sleepy) for i in (1, 2, 3)]
    spec = TeamSpec("t", strategy, members, selector=LEAD, termination=Termination(max_seconds=0.1))
    result, _ = await run(spec)
    assert result.stopped_reason == "time_budget"
    assert result.totals.latency_ms < 2000


async def test_a_member_timeout_fails_the_team_with_a_timeout_error() -> None:
    from agentplatform.engine.agent_loop import AgentTimeout

    async def slow() -> AssistantMessage:
        await asyncio.sleep(10)
        return text_reply("late")

    members = [member(1, "slow", "", ScriptedProvider([slow]), timeout_s=0.05)]
    with pytest.raises(AgentTimeout):
        await run(TeamSpec("t", "sequential", members))


async def test_cancelling_a_team_run_propagates() -> None:
    started = asyncio.Event()

    async def forever() -> AssistantMessage:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    members = [member(i, f"m{i}", "", ScriptedProvider([forever])) for i in (1, 2)]
    task = asyncio.create_task(run(TeamSpec("t", "parallel", members)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (TeamSpec("t", "chaos", MEMBERS), "unknown strategy 'chaos'"),
        (TeamSpec("t", "sequential", []), "has no members"),
        (TeamSpec("t", "selector", MEMBERS), "needs a selector agent"),
        (TeamSpec("t", "round_robin", MEMBERS, termination=Termination(max_turns=0)), "max_turns"),
    ],
)
async def test_invalid_teams_are_refused(spec: TeamSpec, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        await run(spec)


def test_transcript_messages_merge_other_members_as_user_turns() -> None:
    transcript = [("a", "one"), ("b", "two"), ("a", "three")]
    messages = protocol.transcript_messages("T", transcript, "b")
    assert [(m.role, m.content) for m in messages] == [
        ("user", "Task: T\n\n### a\none"),
        ("assistant", "two"),
        ("user", "### a\nthree"),
    ]
    as_a = protocol.transcript_messages("T", transcript, "a")
    assert [m.role for m in as_a] == ["user", "assistant", "user", "assistant", "user"]
