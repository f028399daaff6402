"""The step sink of a run: each engine event becomes a RunStep, committed within
milliseconds (in a group commit shared with other runs' writes: run_writes) while the run
goes on to its next model call or tool; the next step waits for it.

Steps are written before they are signalled, so a crash leaves a readable trace (all but a
step still committing at that moment) and a stream never announces a step it cannot read.
Streamed text is only signalled (live), and coalesced: kept as it comes (no coroutine per
delta: a fast model sends hundreds a second) and signalled at most once per agent every
DELTA_INTERVAL_S (with Redis each signal is a publish), after the step before it and before
the next step, so a watcher sees the trace and the text in order. When the notifier knows no
one is watching the run (in-process: nobody streams it), the text is dropped at signal time
instead: a watcher who comes later gets the text from then on, and the steps in full.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from agentplatform.engine.events import StepEvent
from agentplatform.services.run_events import RunNotifier, RunSignal
from agentplatform.services.run_writes import INSERT_STEPS, Row, run_writes, step_row

log = logging.getLogger(__name__)

CONTENT_MAX = 100_000
DELTA_INTERVAL_S = 0.05  # ~20 updates a second: smooth to read, cheap to send


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
        self._in_flight: asyncio.Task[None] | None = None
        self.observe: Callable[[StepEvent], None] | None = None
        self._deltas: dict[tuple[str, str], list[str]] = {}  # (agent id, name) -> texts
        self._last_delta_signal = 0.0
        self._delta_due: asyncio.TimerHandle | None = None  # the next signal, when scheduled
        self._delta_signals: set[asyncio.Task[None]] = set()
        self._delta_lock = asyncio.Lock()
        self._run_key = str(run_id)

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

    async def __call__(self, event: StepEvent) -> None:
        """The engine's sink for steps: count, observe and persist one."""
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

    def text(self, agent_id: str, agent_name: str, text: str) -> None:
        """The engine's sink for streamed text: keep it for the next signal, scheduling that
        signal when none is (DELTA_INTERVAL_S after the last one at the earliest)."""
        key = (agent_id, agent_name)
        texts = self._deltas.get(key)
        if texts is None:
            self._deltas[key] = [text]
        else:
            texts.append(text)
        if self._delta_due is None:
            loop = asyncio.get_running_loop()
            wait_s = max(self._last_delta_signal + DELTA_INTERVAL_S - loop.time(), 0.0)
            self._delta_due = loop.call_later(wait_s, self._signal_due)

    def _signal_due(self) -> None:
        self._delta_due = None
        if self._drop_unwatched_text():
            return
        task = asyncio.ensure_future(self._signal_scheduled())
        self._delta_signals.add(task)
        task.add_done_callback(self._delta_signals.discard)

    async def _signal_scheduled(self) -> None:
        try:
            await self._signal_deltas()
        except Exception:  # live text only: the message step that follows carries all of it
            log.warning("run %s: streamed text could not be signalled", self.run_id, exc_info=True)

    async def _signal_pending(self) -> None:
        """Signal the text kept so far now, after a signal already under way."""
        if self._delta_due is not None:
            self._delta_due.cancel()
            self._delta_due = None
        if self._deltas:
            self._drop_unwatched_text()
        if self._deltas or self._delta_lock.locked():
            await self._signal_deltas()

    def _drop_unwatched_text(self) -> bool:
        """Drop the text kept so far if no one can be watching it (it counts as signalled)."""
        if self.notifier.listening(self._run_key, "delta"):
            return False
        self._deltas.clear()
        self._last_delta_signal = asyncio.get_running_loop().time()
        return True

    async def _signal_deltas(self) -> None:
        """Publish the text gathered since the last signal, one signal per agent, in order
        (after every step still committing, whose signals come first)."""
        async with self._delta_lock:
            committing = [write for write in self._writes if not write.done()]
            if committing:
                await asyncio.wait(committing)
            self._last_delta_signal = asyncio.get_running_loop().time()
            pending, self._deltas = self._deltas, {}
            for (agent_id, agent_name), texts in pending.items():
                await self.notifier.publish(
                    RunSignal(
                        run_id=self._run_key,
                        kind="delta",
                        agent_id=agent_id,
                        agent_name=agent_name,
                        text="".join(texts),
                    )
                )

    def _count(self, event: StepEvent) -> None:
        usage = self.per_agent.setdefault(event.agent_id, AgentUsage(name=event.agent_name))
        usage.input_tokens += event.input_tokens
        usage.output_tokens += event.output_tokens
        usage.cost_usd += event.cost_usd
        usage.latency_ms += event.latency_ms
        usage.steps += 1

    async def write(self, *, kind: str, content: str = "", **fields: Any) -> int:
        """Record one step: it is committed and then signalled while the run goes on (one
        step in flight per run: the next write waits for the one before and raises its
        error). The write completes even if the caller is cancelled."""
        await self._signal_pending()
        async with self._lock:
            if self._in_flight is not None:
                before, self._in_flight = self._in_flight, None
                await asyncio.shield(before)  # its error fails the run here, once
            self.seq += 1
            row = step_row(
                run_id=self.run_id, seq=self.seq, kind=kind, content=content[:CONTENT_MAX], **fields
            )
            task = asyncio.ensure_future(self._persist(row))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
            self._in_flight = task
            return self.seq

    async def _persist(self, row: Row) -> None:
        await run_writes().write(INSERT_STEPS, row)
        await self.notifier.publish(RunSignal(run_id=self._run_key, kind="step", seq=row["seq"]))

    async def flush(self) -> BaseException | None:
        """Signal pending text and wait for every write still in flight; the first error
        of those writes, if one failed."""
        await self._signal_pending()
        writes = {*self._writes, *self._delta_signals}
        if self._in_flight is not None:
            writes.add(self._in_flight)
        results = await asyncio.gather(*writes, return_exceptions=True)
        self._in_flight = None
        return next((r for r in results if isinstance(r, BaseException)), None)
