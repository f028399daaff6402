"""The agent loop: steps in order, tool round trips, limits, timeouts and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from agentplatform.core.errors import ProviderError
from agentplatform.engine.agent_loop import AgentSpec, AgentTimeout, run_agent
from agentplatform.engine.budget import BudgetTracker, Termination
from agentplatform.engine.events import StepEvent
from agentplatform.engine.providers.base import (
    AssistantMessage,
    ChatMessage,
    Provider,
    TextDeltaCallback,
    ToolCall,
    ToolSchema,
    Usage,
)
from agentplatform.engine.providers.offline import OfflineProvider
from agentplatform.engine.tools import Tool, ToolRegistry

Reply = AssistantMessage | Callable[[], Awaitable[AssistantMessage]]


@dataclass
class ScriptedProvider:
    """Replays scripted replies (the last one repeats) and records what it was sent."""

    replies: list[Reply]
    kind: str = "scripted"
    model: str = "scripted-1"
    calls: list[list[ChatMessage]] = field(default_factory=list)
    tools_seen: list[list[str]] = field(default_factory=list)

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSchema] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        on_text: TextDeltaCallback | None = None,
    ) -> AssistantMessage:
        self.calls.append(list(messages))
        self.tools_seen.append([t.name for t in tools or ()])
        reply = self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]
        message = reply if isinstance(reply, AssistantMessage) else await reply()
        if on_text and message.content:
            on_text(message.content)
        return message


def tool_reply(name: str, args: dict[str, object], call_id: str = "c1") -> AssistantMessage:
    return AssistantMessage(
        tool_calls=(ToolCall(id=call_id, name=name, arguments=args),),
        usage=Usage(10, 5),
        finish_reason="tool_calls",
    )


def text_reply(text: str) -> AssistantMessage:
    return AssistantMessage(content=text, usage=Usage(20, 7))


def agent(provider: Provider, **overrides: Any) -> AgentSpec:
    values: dict[str, Any] = {
        "id": "a1",
        "name": "solver",
        "provider": provider,
        "instructions": "You are a precise solver.",
        "tools": ["calculator"],
    }
    values.update(overrides)
    return AgentSpec(**values)


class Recorder:
    """A sink that keeps every event."""

    def __init__(self) -> None:
        self.steps: list[StepEvent] = []
        self.texts: list[tuple[str, str]] = []  # (agent name, streamed text)

    async def __call__(self, event: StepEvent) -> None:
        self.steps.append(event)

    def text(self, agent_id: str, agent_name: str, text: str) -> None:
        self.texts.append((agent_name, text))


async def test_tool_round_trip_is_recorded_as_steps_in_order() -> None:
    provider = ScriptedProvider(
        [tool_reply("calculator", {"expression": "6 * 7"}), text_reply("42!")]
    )
    sink = Recorder()
    result = await run_agent(
        agent(provider),
        "What is 6 * 7?",
        registry=ToolRegistry(),
        sink=sink,
        cost_fn=lambda model, usage: 0.001 * usage.output_tokens,
    )
    assert result.output == "42!" and result.stopped_reason == "completed"
    assert result.iterations == 2
    assert result.usage == Usage(30, 12)
    assert result.cost_usd == pytest.approx(0.012)
    kinds = [(s.kind, s.tool_name) for s in sink.steps]
    assert kinds == [("tool_call", "calculator"), ("tool_result", "calculator"), ("message", None)]
    call, outcome, message = sink.steps
    assert call.tool_args == {"expression": "6 * 7"} and call.tool_call_id == "c1"
    assert outcome.tool_result == "42" and not outcome.is_error
    assert message.content == "42!" and message.model == "scripted-1"
    assert sum(s.input_tokens for s in sink.steps) == 30
    assert sum(s.cost_usd for s in sink.steps) == pytest.approx(0.012)
    first, second = provider.calls
    assert [m.role for m in first] == ["system", "user"]
    assert first[0].content == "You are a precise solver."
    assert [m.role for m in second] == ["system", "user", "assistant", "tool"]
    assert second[-1] == ChatMessage(
        role="tool", content="42", tool_call_id="c1", name="calculator"
    )
    assert provider.tools_seen[0] == ["calculator"]
    assert [text for _, text in sink.texts] == ["42!"]


async def test_only_the_agents_tools_run() -> None:
    provider = ScriptedProvider([tool_reply("clock", {}), text_reply("ok")])
    sink = Recorder()
    await run_agent(agent(provider), "time?", registry=ToolRegistry(), sink=sink)
    outcome = sink.steps[1]
    assert outcome.kind == "tool_result" and outcome.is_error
    assert outcome.content == "Error: tool 'clock' is not enabled for this agent"


async def test_max_iterations_stops_a_looping_agent() -> None:
    looping = AssistantMessage(
        content="let me compute",
        tool_calls=(ToolCall(id="c", name="calculator", arguments={"expression": "1+1"}),),
        usage=Usage(1, 1),
    )
    provider = ScriptedProvider([looping])
    sink = Recorder()
    result = await run_agent(
        agent(provider, max_iterations=3), "loop", registry=ToolRegistry(), sink=sink
    )
    assert result.stopped_reason == "max_iterations" and result.iterations == 3
    assert len(provider.calls) == 3
    assert [s.kind for s in sink.steps] == ["message", "tool_call", "tool_result"] * 3
    assert result.output == "let me compute"


async def test_agent_timeout_raises_a_clear_error() -> None:
    async def slow() -> AssistantMessage:
        await asyncio.sleep(10)
        return text_reply("late")

    sink = Recorder()
    with pytest.raises(AgentTimeout, match=r"agent 'solver' timed out after 0\.05 s") as caught:
        await run_agent(
            agent(ScriptedProvider([slow]), timeout_s=0.05), "x", registry=ToolRegistry(), sink=sink
        )
    assert caught.value.code == "timed_out"
    assert [(s.kind, s.is_error) for s in sink.steps] == [("error", True)]
    assert "timed out" in sink.steps[0].content


async def test_time_budget_ends_the_agent_without_error() -> None:
    async def slow() -> AssistantMessage:
        await asyncio.sleep(10)
        return text_reply("late")

    budget = BudgetTracker(Termination(max_seconds=0.05))
    result = await run_agent(
        agent(ScriptedProvider([slow])), "x", registry=ToolRegistry(), budget=budget
    )
    assert result.stopped_reason == "time_budget" and result.output == ""
    assert budget.resource_reason() == "time_budget"


async def test_token_budget_stops_the_tool_loop() -> None:
    provider = ScriptedProvider([tool_reply("calculator", {"expression": "1+1"})])
    budget = BudgetTracker(Termination(max_tokens=10))
    result = await run_agent(agent(provider), "x", registry=ToolRegistry(), budget=budget)
    assert result.stopped_reason == "token_budget" and result.iterations == 1
    assert budget.tokens == 15


async def test_cancellation_propagates_from_the_provider() -> None:
    started = asyncio.Event()

    async def forever() -> AssistantMessage:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    sink = Recorder()
    task = asyncio.create_task(
        run_agent(agent(ScriptedProvider([forever])), "x", registry=ToolRegistry(), sink=sink)
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.steps == []  # cancellation is not an error step


async def test_cancellation_propagates_from_a_tool() -> None:
    started = asyncio.Event()

    async def hang(args: dict[str, object]) -> str:
        started.set()
        await asyncio.sleep(10)
        return "never"

    registry = ToolRegistry([Tool("hang", "waits", {"type": "object"}, hang, timeout_s=30)])
    provider = ScriptedProvider([tool_reply("hang", {}), text_reply("done")])
    task = asyncio.create_task(run_agent(agent(provider, tools=["hang"]), "x", registry=registry))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_provider_errors_are_recorded_then_raised() -> None:
    async def failing() -> AssistantMessage:
        raise ProviderError("openai (gpt-x): 500 from server", provider="openai", model="gpt-x")

    sink = Recorder()
    with pytest.raises(ProviderError):
        await run_agent(agent(ScriptedProvider([failing])), "x", registry=ToolRegistry(), sink=sink)
    assert [(s.kind, s.content) for s in sink.steps] == [
        ("error", "openai (gpt-x): 500 from server")
    ]


async def test_history_input_and_no_streaming() -> None:
    provider = ScriptedProvider([text_reply("fine")])
    sink = Recorder()
    history = [
        ChatMessage(role="user", content="hi"),
        ChatMessage(role="assistant", content="hey"),
        ChatMessage(role="user", content="how are you?"),
    ]
    result = await run_agent(
        agent(provider, instructions=""), history, registry=ToolRegistry(), sink=sink, stream=False
    )
    assert result.output == "fine" and provider.calls[0] == history
    assert sink.texts == []


async def test_offline_provider_tool_round_trip() -> None:
    sink = Recorder()
    spec = agent(OfflineProvider(), tools=["calculator", "clock"])
    result = await run_agent(spec, "What is 6 * 7?", registry=ToolRegistry(), sink=sink)
    assert result.output == "The answer is 42 (6 * 7 = 42)."
    assert [s.kind for s in sink.steps] == ["tool_call", "tool_result", "message"]
    assert sink.steps[0].model == "offline-demo" and sink.steps[0].input_tokens > 0
    deltas = "".join(text for _, text in sink.texts)
    assert deltas == result.output
    assert result.cost_usd == 0.0  # offline is priced as free
