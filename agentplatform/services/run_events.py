"""Live run events: wake-up signals between processes' parts, and the step/status stream.

The database is the source of truth: a step is persisted before it is signalled, and a
stream re-reads the database on every wake-up and at least every `poll_s`, so it works
from any process. The notifier only makes it prompt; a Redis pub/sub notifier can replace
the in-process one through `set_notifier()` without touching the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.core.errors import DatabaseBusy
from agentplatform.models.run import TERMINAL_STATUSES, Run, RunPublic, RunStep, RunStepPublic
from agentplatform.services.permissions import Actor
from agentplatform.services.run_queries import get_run, run_public, step_public

SignalKind = Literal["step", "status", "cancel", "delta"]
ALL_KINDS: frozenset[str] = frozenset({"step", "status", "cancel", "delta"})
QUEUE_SIZE = 1000


@dataclass(frozen=True)
class RunSignal:
    """A wake-up about one run: a step was persisted, its status changed, a cancel was
    requested, or (`delta`) a chunk of live assistant text that is never persisted."""

    run_id: str
    kind: SignalKind
    seq: int | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    text: str | None = None

    def to_json(self) -> str:
        """The wire form (for a cross-process notifier such as Redis pub/sub)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> RunSignal:
        """Parse the wire form."""
        return cls(**json.loads(raw))


class RunSubscription(Protocol):
    """Signals about one run, in the order they were published."""

    async def next(self, timeout: float) -> RunSignal | None:
        """The next signal, or None when `timeout` seconds pass without one."""
        ...


class RunNotifier(Protocol):
    """Publish/subscribe of run signals; delivery is best effort (the DB is the truth)."""

    @property
    def pushes_cancels(self) -> bool:
        """Whether a cancel signalled by any process reaches subscribers here right now
        (when not, cancel watchers poll the database flag often)."""
        ...

    async def publish(self, signal: RunSignal) -> None:
        """Deliver `signal` to the current subscribers of its run (never raises on none)."""
        ...

    def listening(self, run_id: str, kind: str) -> bool:
        """Whether a `kind` signal about `run_id` may reach a subscriber now; False only when
        none can (a publisher may then skip gathering what no one would read)."""
        ...

    def subscribe(
        self, run_id: str, kinds: Iterable[str] | None = None
    ) -> AbstractAsyncContextManager[RunSubscription]:
        """Receive signals of `run_id` (only `kinds`, if given) while the context is open."""
        ...


class _QueueSubscription:
    """One in-process subscriber: a bounded queue that drops its oldest signal when full."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self.kinds = kinds
        self.queue: asyncio.Queue[RunSignal] = asyncio.Queue(QUEUE_SIZE)

    def offer(self, signal: RunSignal) -> None:
        if signal.kind not in self.kinds:
            return
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(signal)

    async def next(self, timeout: float) -> RunSignal | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout=max(timeout, 0))
        except TimeoutError:
            return None


class InProcessNotifier:
    """Signals within this process (one event loop): the embedded default."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_QueueSubscription]] = {}

    @property
    def pushes_cancels(self) -> bool:
        return True  # without Redis, every cancel is requested in this very process

    async def publish(self, signal: RunSignal) -> None:
        for subscription in list(self._subscribers.get(signal.run_id, ())):
            subscription.offer(signal)

    def listening(self, run_id: str, kind: str) -> bool:
        return any(kind in sub.kinds for sub in self._subscribers.get(run_id, ()))

    @asynccontextmanager
    async def subscribe(
        self, run_id: str, kinds: Iterable[str] | None = None
    ) -> AsyncIterator[RunSubscription]:
        subscription = _QueueSubscription(frozenset(kinds) if kinds else ALL_KINDS)
        self._subscribers.setdefault(run_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(run_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    self._subscribers.pop(run_id, None)


_notifier: RunNotifier | None = None


def get_notifier() -> RunNotifier:
    """The process-wide notifier: Redis pub/sub with REDIS_URL, else in-process (unless
    another was installed)."""
    global _notifier
    if _notifier is None:
        settings = get_settings()
        if settings.redis_url:
            from agentplatform.services.run_notifier_redis import RedisNotifier

            _notifier = RedisNotifier(settings.redis_url, settings.redis_prefix)
        else:
            _notifier = InProcessNotifier()
    return _notifier


def set_notifier(notifier: RunNotifier | None) -> None:
    """Install a notifier; None re-chooses from Settings on next use."""
    global _notifier
    _notifier = notifier


async def publish(run_id: uuid.UUID | str, kind: SignalKind, *, seq: int | None = None) -> None:
    """Publish one step/status/cancel signal through the current notifier."""
    await get_notifier().publish(RunSignal(run_id=str(run_id), kind=kind, seq=seq))


@dataclass(frozen=True)
class StreamEvent:
    """One item of a run's live stream: a persisted step, live text, the final status, or
    a keep-alive (nothing happened for a while)."""

    kind: Literal["step", "delta", "status", "keepalive"]
    step: RunStepPublic | None = None
    run: RunPublic | None = None
    delta: RunSignal | None = None


@dataclass(frozen=True)
class _Progress:
    """What one read of the database found: new steps, and the run once it is terminal."""

    steps: list[RunStepPublic]
    exists: bool = True
    finished: RunPublic | None = None


async def _read_progress(run_id: uuid.UUID, after_seq: int) -> _Progress:
    """New steps and the run's state in one connection checkout, returned at once: a stream
    holds no connection while it waits between reads."""

    async def steps_after(session: AsyncSession, seq: int) -> list[RunStepPublic]:
        query = (
            select(RunStep)
            .where(RunStep.run_id == run_id, col(RunStep.seq) > seq)
            .order_by(col(RunStep.seq))
        )
        return [step_public(step) for step in (await session.exec(query)).all()]

    async with session_scope() as session:
        steps = await steps_after(session, after_seq)
        run = await session.get(Run, run_id)
        if run is None:
            return _Progress(steps, exists=False)
        if run.status not in TERMINAL_STATUSES:
            return _Progress(steps)
        # Steps are written before the status: read any that landed in between.
        late = await steps_after(session, steps[-1].seq if steps else after_seq)
        return _Progress([*steps, *late], finished=run_public(run))


async def stream_run_events(
    run_id: uuid.UUID,
    *,
    after_seq: int = 0,
    poll_s: float = 0.25,
    keepalive_s: float | None = None,
    notifier: RunNotifier | None = None,
) -> AsyncIterator[StreamEvent]:
    """Every persisted step after `after_seq` in order as it appears, then the final status.

    Callers check access first (see `open_run_stream`). Live `delta` text is
    passed on as it is published in this process; it is never replayed. A read that finds
    no free database connection (`DatabaseBusy`) is simply tried again at the next wake-up.
    """
    notifier = notifier or get_notifier()
    last_seq = after_seq
    last_sent = time.monotonic()
    async with notifier.subscribe(str(run_id)) as subscription:
        while True:
            try:
                progress: _Progress | None = await _read_progress(run_id, last_seq)
            except DatabaseBusy:
                progress = None
            if progress is not None:
                for step in progress.steps:
                    last_seq = step.seq
                    last_sent = time.monotonic()
                    yield StreamEvent(kind="step", step=step)
                if not progress.exists:
                    return
                if progress.finished is not None:
                    yield StreamEvent(kind="status", run=progress.finished)
                    return
            deadline = time.monotonic() + poll_s
            while (left := deadline - time.monotonic()) > 0:
                signal = await subscription.next(left)
                if signal is None:
                    break
                if signal.kind != "delta":
                    break
                last_sent = time.monotonic()
                yield StreamEvent(kind="delta", delta=signal)
            if keepalive_s is not None and time.monotonic() - last_sent >= keepalive_s:
                last_sent = time.monotonic()
                yield StreamEvent(kind="keepalive")


async def open_run_stream(
    *,
    session: AsyncSession,
    actor: Actor,
    run_id: uuid.UUID,
    after_seq: int = 0,
    keepalive_s: float | None = None,
) -> AsyncIterator[StreamEvent]:
    """Check the actor may read the run, then its live stream (which opens its own sessions).

    The caller's read transaction is ended here so a long stream holds no connection.
    """
    await get_run(session=session, actor=actor, run_id=run_id)
    await session.rollback()
    return stream_run_events(run_id, after_seq=after_seq, keepalive_s=keepalive_s)
