"""A run's live stream in small batches, for screens that redraw on each one.

`stream_run_events` yields every text delta on its own; a UI that pushed each one would
redraw per word. `follow_run` coalesces them (at most one text batch per `flush_s`), passes
steps on at once, and reports the run's status whenever it changes (queued → running → …).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.db import session_scope
from agentplatform.models.run import Run, RunPublic, RunStepPublic
from agentplatform.services.permissions import Actor
from agentplatform.services.run_events import StreamEvent, open_run_stream
from agentplatform.services.run_queries import run_public

KEEPALIVE_S = 0.25


@dataclass
class LiveBatch:
    """What happened since the previous batch."""

    steps: list[RunStepPublic] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)  # live text per agent name, in order
    run: RunPublic | None = None  # set when the status changed; terminal on the last batch
    done: bool = False

    def empty(self) -> bool:
        return not self.steps and not self.text and self.run is None


async def _current(run_id: uuid.UUID) -> RunPublic | None:
    async with session_scope() as session:
        run = await session.get(Run, run_id)
        return run_public(run) if run is not None else None


async def _batches(
    run_id: uuid.UUID, events: AsyncIterator[StreamEvent], flush_s: float, status: str
) -> AsyncIterator[LiveBatch]:
    batch = LiveBatch()
    flushed = time.monotonic()
    async for event in events:
        if event.kind == "delta" and event.delta is not None:
            name = event.delta.agent_name or ""
            batch.text[name] = batch.text.get(name, "") + (event.delta.text or "")
            if time.monotonic() - flushed < flush_s:
                continue
        elif event.kind == "step" and event.step is not None:
            batch.steps.append(event.step)
        elif event.kind == "status" and event.run is not None:
            batch.run, batch.done = event.run, True
        if not batch.done and event.kind != "delta":
            current = await _current(run_id)
            if current is not None and current.status != status:
                batch.run = current
        if batch.run is not None:
            status = batch.run.status
        if not batch.empty() or batch.done:
            yield batch
            batch = LiveBatch()
            flushed = time.monotonic()
    if not batch.empty():
        yield batch


async def follow_run(
    *,
    session: AsyncSession,
    actor: Actor,
    run_id: uuid.UUID,
    after_seq: int = 0,
    status: str = "",
    flush_s: float = 0.1,
) -> AsyncIterator[LiveBatch]:
    """Check read access, then the run's batches until it finishes (`status`: last known)."""
    events = await open_run_stream(
        session=session, actor=actor, run_id=run_id, after_seq=after_seq, keepalive_s=KEEPALIVE_S
    )
    return _batches(run_id, events, flush_s, status)
