"""Termination settings and the tracker every strategy consults after each turn."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agentplatform.engine.providers.base import Usage

# Explicit reasons a run (or an agent loop) stops.
COMPLETED = "completed"
MAX_TURNS = "max_turns"
MAX_ITERATIONS = "max_iterations"
STOP_PHRASE = "stop_phrase"
TOKEN_BUDGET = "token_budget"
COST_BUDGET = "cost_budget"
TIME_BUDGET = "time_budget"
STOP_REASONS = (
    COMPLETED,
    MAX_TURNS,
    MAX_ITERATIONS,
    STOP_PHRASE,
    TOKEN_BUDGET,
    COST_BUDGET,
    TIME_BUDGET,
)

DEFAULT_MAX_TURNS = 10


@dataclass(frozen=True)
class Termination:
    """When a run must stop; `None` disables a limit. The stop phrase matches case-sensitively."""

    max_turns: int = DEFAULT_MAX_TURNS
    stop_phrase: str | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_seconds: float | None = None


Budget = Termination


class BudgetTracker:
    """Counts turns, tokens, cost and wall time against a `Termination`."""

    def __init__(
        self, termination: Termination | None = None, *, clock: Callable[[], float] | None = None
    ) -> None:
        self.termination = termination or Termination()
        self._clock = clock or time.monotonic
        self.started = self._clock()
        self.turns = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self.time_exhausted = False

    @property
    def tokens(self) -> int:
        """Input plus output tokens so far."""
        return self.input_tokens + self.output_tokens

    def elapsed(self) -> float:
        """Seconds since the tracker started."""
        return self._clock() - self.started

    def remaining_seconds(self) -> float | None:
        """Seconds left in the wall-time budget (never negative), or None without one."""
        limit = self.termination.max_seconds
        return None if limit is None else max(limit - self.elapsed(), 0.0)

    def add_usage(self, usage: Usage, cost_usd: float = 0.0) -> None:
        """Record one model call's tokens and cost."""
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cost_usd += cost_usd

    def add_turn(self) -> None:
        """Record that one agent finished a turn."""
        self.turns += 1

    def has_stop_phrase(self, text: str | None) -> bool:
        """Whether `text` contains the configured stop phrase."""
        phrase = self.termination.stop_phrase
        return bool(phrase and text and phrase in text)

    def resource_reason(self) -> str | None:
        """`token_budget`, `cost_budget` or `time_budget` once a budget is spent, else None."""
        t = self.termination
        if t.max_tokens is not None and self.tokens >= t.max_tokens:
            return TOKEN_BUDGET
        if t.max_cost_usd is not None and self.cost_usd >= t.max_cost_usd:
            return COST_BUDGET
        if self.time_exhausted or (t.max_seconds is not None and self.elapsed() >= t.max_seconds):
            return TIME_BUDGET
        return None

    def check(self, text: str | None = None) -> str | None:
        """The reason to stop after a turn whose message was `text`, or None to go on."""
        if self.has_stop_phrase(text):
            return STOP_PHRASE
        reason = self.resource_reason()
        if reason:
            return reason
        if self.turns >= self.termination.max_turns:
            return MAX_TURNS
        return None


class TimeBudgetExceeded(Exception):
    """Control flow: the wall-time budget ran out during a model call or tool."""
