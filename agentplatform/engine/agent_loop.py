"""One agent's loop: call the model, run the tools it asks for, repeat until it answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from functools import partial

from agentplatform.core.errors import AppError
from agentplatform.engine.budget import (
    COMPLETED,
    MAX_ITERATIONS,
    TIME_BUDGET,
    BudgetTracker,
    TimeBudgetExceeded,
)
from agentplatform.engine.events import StepEvent, StepSink, discard
from agentplatform.engine.providers.base import (
    AssistantMessage,
    ChatMessage,
    Provider,
    TextDeltaCallback,
    Usage,
)
from agentplatform.engine.providers.pricing import cost_usd
from agentplatform.engine.providers.waits import caller_deadline
from agentplatform.engine.tools.registry import ToolRegistry

CostFn = Callable[[str, Usage], float]


class AgentTimeout(AppError):
    """An agent exceeded its own `timeout_s`; the run service marks the run `timed_out`."""

    code = "timed_out"
    status_code = 504


@dataclass(frozen=True)
class AgentSpec:
    """Everything needed to run one agent; `instructions` is already resolved text."""

    id: str
    name: str
    provider: Provider
    model: str = ""
    instructions: str = ""
    tools: list[str] = field(default_factory=list)
    temperature: float | None = None
    max_tokens: int | None = None
    max_iterations: int = 5
    timeout_s: float | None = 120.0
    description: str = ""

    @property
    def model_name(self) -> str:
        """The model recorded on steps and priced: the spec's, else the provider's."""
        return self.model or self.provider.model


@dataclass
class AgentResult:
    """What one agent run produced and what it cost."""

    output: str = ""
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    iterations: int = 0
    stopped_reason: str = COMPLETED
    latency_ms: int = 0
    messages: list[ChatMessage] = field(default_factory=list)


@dataclass(frozen=True)
class Completion:
    """One model call with its cost and latency."""

    message: AssistantMessage
    cost_usd: float
    latency_ms: int


def build_messages(
    spec: AgentSpec, messages_or_input: str | list[ChatMessage]
) -> list[ChatMessage]:
    """The agent's system instructions followed by the input or conversation."""
    head = [ChatMessage(role="system", content=spec.instructions)] if spec.instructions else []
    if isinstance(messages_or_input, str):
        return [*head, ChatMessage(role="user", content=messages_or_input)]
    return [*head, *messages_or_input]


def _elapsed_ms(started: float) -> int:
    """Milliseconds since a `time.perf_counter()` reading."""
    return int((time.perf_counter() - started) * 1000)


@asynccontextmanager
async def time_limit(spec: AgentSpec, budget: BudgetTracker | None) -> AsyncIterator[None]:
    """Enforce the tighter of the agent timeout (AgentTimeout) and the run's time budget."""
    remaining = budget.remaining_seconds() if budget else None
    by_budget = remaining is not None and (spec.timeout_s is None or remaining < spec.timeout_s)
    limit = remaining if by_budget else spec.timeout_s
    if budget is not None and by_budget and remaining is not None and remaining <= 0:
        budget.time_exhausted = True
        raise TimeBudgetExceeded
    what = "the run's time budget" if by_budget else f"agent '{spec.name}''s time limit"
    try:
        async with asyncio.timeout(limit) as scope:
            with caller_deadline(limit, what):
                yield
    except TimeoutError:
        if not scope.expired():
            raise
        if budget is not None and by_budget:
            budget.time_exhausted = True
            raise TimeBudgetExceeded from None
        raise AgentTimeout(
            f"agent '{spec.name}' timed out after {spec.timeout_s:g} s",
            details={"agent_id": spec.id, "timeout_s": spec.timeout_s},
        ) from None


async def call_model(
    spec: AgentSpec,
    messages: list[ChatMessage],
    *,
    tools_enabled: bool = False,
    registry: ToolRegistry | None = None,
    cost_fn: CostFn | None = None,
    budget: BudgetTracker | None = None,
    on_text: TextDeltaCallback | None = None,
) -> Completion:
    """One provider call: priced, added to the budget; no time limit of its own."""
    schemas = registry.schemas_for(spec.tools) if registry and tools_enabled and spec.tools else []
    started = time.perf_counter()
    reply = await spec.provider.complete(
        messages,
        tools=schemas or None,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        on_text=on_text,
    )
    cost = (cost_fn or cost_usd)(reply.model or spec.model_name, reply.usage)
    if budget is not None:
        budget.add_usage(reply.usage, cost)
    return Completion(message=reply, cost_usd=cost, latency_ms=_elapsed_ms(started))


async def complete_once(
    spec: AgentSpec,
    messages: list[ChatMessage],
    *,
    cost_fn: CostFn | None = None,
    budget: BudgetTracker | None = None,
) -> Completion:
    """A single tool-less call under the agent's time limit (used by the selector)."""
    async with time_limit(spec, budget):
        return await call_model(spec, messages, cost_fn=cost_fn, budget=budget)


async def run_agent(
    spec: AgentSpec,
    messages_or_input: str | list[ChatMessage],
    *,
    registry: ToolRegistry,
    sink: StepSink | None = None,
    cost_fn: CostFn | None = None,
    budget: BudgetTracker | None = None,
    stream: bool = True,
) -> AgentResult:
    """Run the agent loop, emitting a step for every message, tool call and tool result."""
    emit: StepSink = sink or discard
    started = time.perf_counter()
    result = AgentResult()
    history = build_messages(spec, messages_or_input)
    try:
        try:
            async with time_limit(spec, budget):
                result.stopped_reason = await _loop(
                    spec, history, result, registry, emit, cost_fn, budget, stream
                )
        except TimeBudgetExceeded:
            result.stopped_reason = TIME_BUDGET
    except Exception as exc:
        text = exc.message if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
        await emit(
            StepEvent(
                agent_id=spec.id,
                agent_name=spec.name,
                kind="error",
                content=text,
                is_error=True,
                model=spec.model_name,
                meta={"error_type": type(exc).__name__},
            )
        )
        raise
    result.latency_ms = _elapsed_ms(started)
    return result


async def _loop(
    spec: AgentSpec,
    history: list[ChatMessage],
    result: AgentResult,
    registry: ToolRegistry,
    emit: StepSink,
    cost_fn: CostFn | None,
    budget: BudgetTracker | None,
    stream: bool,
) -> str:
    """The iterations; updates `result` as it goes so a time-out keeps partial totals."""
    allowed = set(spec.tools)

    on_text = partial(emit.text, spec.id, spec.name)

    for iteration in range(1, spec.max_iterations + 1):
        result.iterations = iteration
        done = await call_model(
            spec,
            history,
            tools_enabled=True,
            registry=registry,
            cost_fn=cost_fn,
            budget=budget,
            on_text=on_text if stream else None,
        )
        reply = done.message
        result.usage = Usage(
            result.usage.input_tokens + reply.usage.input_tokens,
            result.usage.output_tokens + reply.usage.output_tokens,
        )
        result.cost_usd += done.cost_usd
        message = ChatMessage(role="assistant", content=reply.content, tool_calls=reply.tool_calls)
        history.append(message)
        result.messages.append(message)
        if reply.content:
            result.output = reply.content
        model = reply.model or spec.model_name
        # The call's usage/cost/latency go on its first step, so steps sum to the totals.
        charge = StepEvent(
            agent_id=spec.id,
            agent_name=spec.name,
            kind="message",
            content=reply.content,
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            cost_usd=done.cost_usd,
            latency_ms=done.latency_ms,
            model=model,
            meta={"iteration": iteration, "finish_reason": reply.finish_reason},
        )
        charged = False
        if reply.content or not reply.tool_calls:
            await emit(charge)
            charged = True
        if not reply.tool_calls:
            return COMPLETED
        for call in reply.tool_calls:
            step = StepEvent(
                agent_id=spec.id,
                agent_name=spec.name,
                kind="tool_call",
                tool_name=call.name,
                tool_args=call.arguments,
                tool_call_id=call.id,
                model=model,
            )
            if not charged:
                step = replace(
                    step,
                    input_tokens=charge.input_tokens,
                    output_tokens=charge.output_tokens,
                    cost_usd=charge.cost_usd,
                    latency_ms=charge.latency_ms,
                )
                charged = True
            await emit(step)
            outcome = await registry.execute(call.name, call.arguments, allowed)
            text = outcome.for_model()
            await emit(
                StepEvent(
                    kind="tool_result",
                    content=text,
                    tool_name=call.name,
                    tool_result=text,
                    tool_call_id=call.id,
                    is_error=not outcome.ok,
                    latency_ms=outcome.latency_ms,
                    agent_id=spec.id,
                    agent_name=spec.name,
                )
            )
            tool_message = ChatMessage(
                role="tool", content=text, tool_call_id=call.id, name=call.name
            )
            history.append(tool_message)
            result.messages.append(tool_message)
        reason = budget.resource_reason() if budget else None
        if reason:
            return reason
    return MAX_ITERATIONS
