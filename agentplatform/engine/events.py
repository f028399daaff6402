"""Run events the engine emits as it works: trace steps (persisted) and text deltas (live)."""

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


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A chunk of streamed assistant text; published live, not persisted as a step."""

    agent_id: str
    agent_name: str
    text: str


RunEvent = StepEvent | TextDelta


class StepSink(Protocol):
    """Receives every event as it happens (the run service persists and publishes them)."""

    async def __call__(self, event: RunEvent) -> None:
        """Handle one event; raising aborts the run."""
        ...


async def discard(event: RunEvent) -> None:
    """A sink that drops every event (for callers that only want the result)."""
    return None
