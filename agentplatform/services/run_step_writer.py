"""Group commit of run steps: each step is committed before its write returns, and the steps
that concurrent runs write meanwhile share one transaction.

One run alone gets its own transaction at once (no waiting for company); under load, the
steps that arrive while a transaction is committing go together in the next one, so the
cost of a commit is shared by many runs instead of paid by each. A batch that fails is
retried row by row, so one bad row fails only its own write.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from agentplatform.core.db import get_async_engine
from agentplatform.models.common import new_id, utcnow
from agentplatform.models.run import RunStep

log = logging.getLogger(__name__)

MAX_BATCH = 500
_STEPS = RunStep.__table__  # type: ignore[attr-defined]

Row = dict[str, Any]
# Every row of a batch names every column (one executemany statement for all of them).
_DEFAULTS: Row = {
    "agent_id": None,
    "agent_name": None,
    "content": "",
    "tool_name": None,
    "tool_args": None,
    "input_tokens": 0,
    "output_tokens": 0,
    "cost_usd": 0.0,
    "latency_ms": None,
    "model": None,
}


def step_row(*, run_id: uuid.UUID, seq: int, kind: str, **fields: Any) -> Row:
    """A complete RunStep row: the given fields, defaults, a new id and the current time."""
    unknown = fields.keys() - _DEFAULTS.keys()
    if unknown:
        raise TypeError(f"not RunStep fields: {sorted(unknown)}")
    row = {**_DEFAULTS, **fields}
    row.update(id=new_id(), run_id=run_id, seq=seq, kind=kind, created_at=utcnow())
    return row


async def _insert(rows: Sequence[Row]) -> None:
    async with get_async_engine().begin() as conn:
        await conn.execute(insert(_STEPS), list(rows))


class StepWriter:
    """Writes steps for one event loop; `write` returns once its step is committed."""

    def __init__(self) -> None:
        self._pending: list[tuple[Row, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, row: Row) -> None:
        """Commit one step (together with any others written meanwhile)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="run-step-writer")
        await done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await _insert([row for row, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                log.warning("%d steps failed together (%s); one by one now", len(batch), exc)
                await _one_by_one(batch)
                continue
            except BaseException as exc:  # cancelled: no waiter may hang on an unsettled step
                for _, done in batch + self._pending:
                    _settle(done, exc)
                self._pending = []
                raise
            for _, done in batch:
                _settle(done, None)


async def _one_by_one(batch: list[tuple[Row, asyncio.Future[None]]]) -> None:
    for row, done in batch:
        try:
            await _insert([row])
        except Exception as exc:
            _settle(done, exc)
        else:
            _settle(done, None)


def _settle(done: asyncio.Future[None], exc: BaseException | None) -> None:
    if done.done():
        return
    if exc is None:
        done.set_result(None)
    elif isinstance(exc, asyncio.CancelledError):
        done.cancel()
    else:
        done.set_exception(exc)


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StepWriter] = (
    weakref.WeakKeyDictionary()
)


def step_writer() -> StepWriter:
    """The running event loop's writer (its futures and tasks are bound to that loop)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = StepWriter()
    return writer
