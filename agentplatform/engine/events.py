"""Run events the engine emits as it works: trace steps (persisted) and streamed text (live)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

StepKind = Literal["message", "tool_call", "tool_result", "handoff", "error"]


@dataclass(frozen=True)
class StepEvent:
    """One RunStep of the trace; usage/cost/latency are set on the step that incurred them."""

    agent_id: str
    agent_name: str
    kind: StepKind
    content: str = ""
    tool_name: str | None = None
    tool_args: dict[str, Any] | None = None
    tool_result: str | None = None
    tool_call_id: str | None = None
    is_error: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    model: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


class StepSink(Protocol):
    """Receives the run's events as they happen (the run service persists and publishes them):
    every trace step, awaited, and streamed text, handed on without waiting."""

    async def __call__(self, event: StepEvent) -> None:
        """Handle one step; raising aborts the run."""
        ...

    def text(self, agent_id: str, agent_name: str, text: str) -> None:
        """Take a piece of streamed assistant text (live only; the message step that follows
        carries the whole text). Must not block: a model sends hundreds a second."""
        ...


class Discard:
    """A sink that drops every event (for callers that only want the result)."""

    async def __call__(self, event: StepEvent) -> None:
        return None

    def text(self, agent_id: str, agent_name: str, text: str) -> None:
        return None


discard = Discard()
