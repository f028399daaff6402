"""Shared team pieces: TeamSpec, TeamResult, per-agent totals and the turn runner."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from agentplatform.engine.agent_loop import AgentResult, AgentSpec, CostFn, run_agent
from agentplatform.engine.budget import (
    COST_BUDGET,
    TIME_BUDGET,
    TOKEN_BUDGET,
    BudgetTracker,
    Termination,
)
from agentplatform.engine.events import StepEvent, StepSink, discard
from agentplatform.engine.providers.base import ChatMessage, Usage
from agentplatform.engine.strategies import protocol
from agentplatform.engine.tools.registry import ToolRegistry

STRATEGIES = ("sequential", "round_robin", "selector", "parallel")
RESOURCE_REASONS = frozenset({TOKEN_BUDGET, COST_BUDGET, TIME_BUDGET})
NO_ANSWER = "(no answer)"


@dataclass
class AgentTotals:
    """Tokens, cost, latency and turns of one agent (or of the whole run)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    turns: int = 0

    def add(self, usage: Usage, cost_usd: float, latency_ms: int, *, turn: bool) -> None:
        """Accumulate one turn or one selector call."""
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cost_usd += cost_usd
        self.latency_ms += latency_ms
        self.turns += int(turn)


@dataclass(frozen=True)
class TeamSpec:
    """A team: strategy over ordered members, optional selector/aggregator, termination."""

    name: str
    strategy: str
    members: list[AgentSpec]
    selector: AgentSpec | None = None
    aggregator: AgentSpec | None = None
    termination: Termination = field(default_factory=Termination)

    def aggregator_agent(self) -> AgentSpec:
        """Who combines parallel answers: the aggregator, else the selector, else member 1."""
        return self.aggregator or self.selector or self.members[0]


@dataclass
class TeamResult:
    """What a team run produced, why it stopped, and what each agent used."""

    output: str
    stopped_reason: str
    per_agent: dict[str, AgentTotals]
    totals: AgentTotals
    turns: int
    transcript: list[tuple[str, str]]


def strip_stop_phrase(text: str, stop_phrase: str | None) -> str:
    """The text without the stop phrase, trimmed."""
    return (text.replace(stop_phrase, "") if stop_phrase else text).strip()


class TeamContext:
    """State shared by a strategy's turns: budget tracker, transcript and per-agent totals."""

    def __init__(
        self,
        spec: TeamSpec,
        task: str,
        *,
        registry: ToolRegistry,
        sink: StepSink | None,
        cost_fn: CostFn | None,
    ) -> None:
        self.spec = spec
        self.task = task
        self.registry = registry
        self.sink: StepSink = sink or discard
        self.cost_fn = cost_fn
        self.tracker = BudgetTracker(spec.termination)
        self.per_agent: dict[str, AgentTotals] = {}
        self.transcript: list[tuple[str, str]] = []
        self._started = time.perf_counter()

    def record(
        self, agent: AgentSpec, usage: Usage, cost: float, latency_ms: int, *, turn: bool
    ) -> None:
        """Add usage to the agent's totals."""
        totals = self.per_agent.setdefault(agent.id, AgentTotals())
        totals.add(usage, cost, latency_ms, turn=turn)

    async def turn(
        self,
        agent: AgentSpec,
        messages_or_input: str | list[ChatMessage],
        *,
        count_turn: bool = True,
    ) -> AgentResult:
        """Run one agent turn against the team budget and record its totals."""
        result = await run_agent(
            agent,
            messages_or_input,
            registry=self.registry,
            sink=self.sink,
            cost_fn=self.cost_fn,
            budget=self.tracker,
        )
        self.record(agent, result.usage, result.cost_usd, result.latency_ms, turn=True)
        if count_turn:
            self.tracker.add_turn()
        return result

    def after_turn(self, agent: AgentSpec, result: AgentResult) -> str | None:
        """Append the turn to the transcript; the reason to stop now, if any."""
        self.transcript.append((agent.name, result.output or NO_ANSWER))
        if result.stopped_reason in RESOURCE_REASONS:
            return result.stopped_reason
        return self.tracker.check(result.output)

    async def emit_error(self, agent: AgentSpec, exc: Exception) -> None:
        """Record a failure of a call made outside `run_agent` (the selector's)."""
        text = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        await self.sink(
            StepEvent(
                agent_id=agent.id,
                agent_name=agent.name,
                kind="error",
                content=str(text),
                is_error=True,
                model=agent.model_name,
            )
        )

    def final_output(self) -> str:
        """The last real answer in the transcript (stop phrase removed; TERMINATE skipped)."""
        for _, content in reversed(self.transcript):
            text = strip_stop_phrase(content, self.spec.termination.stop_phrase)
            if text and text not in (NO_ANSWER, protocol.DONE):
                return text
        return ""

    def result(self, output: str, reason: str) -> TeamResult:
        """The TeamResult with run totals from the tracker and wall-clock latency."""
        totals = AgentTotals(
            input_tokens=self.tracker.input_tokens,
            output_tokens=self.tracker.output_tokens,
            cost_usd=self.tracker.cost_usd,
            latency_ms=int((time.perf_counter() - self._started) * 1000),
            turns=self.tracker.turns,
        )
        return TeamResult(
            output=output,
            stopped_reason=reason,
            per_agent=self.per_agent,
            totals=totals,
            turns=self.tracker.turns,
            transcript=self.transcript,
        )
