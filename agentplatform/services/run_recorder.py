"""The step sink of a run: each engine event becomes a RunStep, committed at once.

Steps are written before they are signalled, so a crash leaves a readable trace and a
stream never announces a step it cannot read. Text deltas are only signalled (live).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from agentplatform.core.db import session_scope
from agentplatform.engine.events import RunEvent, StepEvent, TextDelta
from agentplatform.models.run import RunStep
from agentplatform.services.run_events import RunNotifier, RunSignal

CONTENT_MAX = 100_000


@dataclass
class AgentUsage:
    """Tokens, cost, latency and steps of one agent within a run."""

    name: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    steps: int = 0


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class RunRecorder:
    """Persists steps with consecutive `seq` numbers (safe for parallel members)."""

    def __init__(self, run_id: uuid.UUID, notifier: RunNotifier, *, start_seq: int = 0) -> None:
        self.run_id = run_id
        self.notifier = notifier
        self.seq = start_seq
        self.per_agent: dict[str, AgentUsage] = {}
        self._lock = asyncio.Lock()
        self._writes: set[asyncio.Task[None]] = set()
        self.observe: Callable[[StepEvent], None] | None = None

    @property
    def input_tokens(self) -> int:
        return sum(u.input_tokens for u in self.per_agent.values())

    @property
    def output_tokens(self) -> int:
        return sum(u.output_tokens for u in self.per_agent.values())

    @property
    def cost_usd(self) -> float:
        return sum(u.cost_usd for u in self.per_agent.values())

    def per_agent_json(self, turns: dict[str, int] | None = None) -> dict[str, Any]:
        """Per-agent totals keyed by agent id, with team turns when known."""
        out: dict[str, Any] = {}
        for agent_id, usage in self.per_agent.items():
            entry: dict[str, Any] = asdict(usage)
            entry["cost_usd"] = round(usage.cost_usd, 10)
            if turns is not None:
                entry["turns"] = turns.get(agent_id, 0)
            out[agent_id] = entry
        return out

    async def __call__(self, event: RunEvent) -> None:
        """The engine's sink: persist a step, or pass live text on."""
        if isinstance(event, TextDelta):
            await self.notifier.publish(
                RunSignal(
                    run_id=str(self.run_id),
                    kind="delta",
                    agent_id=event.agent_id,
                    agent_name=event.agent_name,
                    text=event.text,
                )
            )
            return
        self._count(event)
        if self.observe is not None:
            self.observe(event)
        await self.write(
            kind=event.kind,
            content=event.content,
            agent_id=_uuid(event.agent_id),
            agent_name=event.agent_name,
            tool_name=event.tool_name,
            tool_args=event.tool_args,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cost_usd=event.cost_usd,
            latency_ms=float(event.latency_ms),
            model=event.model or None,
        )

    def _count(self, event: StepEvent) -> None:
        usage = self.per_agent.setdefault(event.agent_id, AgentUsage(name=event.agent_name))
        usage.input_tokens += event.input_tokens
        usage.output_tokens += event.output_tokens
        usage.cost_usd += event.cost_usd
        usage.latency_ms += event.latency_ms
        usage.steps += 1

    async def write(self, *, kind: str, content: str = "", **fields: Any) -> int:
        """Persist one step and signal it; completes even if the caller is cancelled."""
        async with self._lock:
            self.seq += 1
            step = RunStep(
                run_id=self.run_id, seq=self.seq, kind=kind, content=content[:CONTENT_MAX], **fields
            )
            task = asyncio.ensure_future(self._persist(step))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
            await asyncio.shield(task)
            return step.seq

    async def _persist(self, step: RunStep) -> None:
        async with session_scope() as session:
            session.add(step)
            await session.commit()
        await self.notifier.publish(RunSignal(run_id=str(self.run_id), kind="step", seq=step.seq))

    async def flush(self) -> None:
        """Wait for writes still in flight (those a cancellation left running)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
