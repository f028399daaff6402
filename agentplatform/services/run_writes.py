"""Group commit of the writes runs make as they execute (claims, steps, outcomes): each write is
committed before it returns, and the writes that concurrent runs make meanwhile share one
transaction.

One run alone gets its own transaction at once (no waiting for company); under load, the
writes that arrive while a transaction is committing go together in the next one (one
multi-row statement per kind; a statement that returns a row, such as a claim, one by one),
so the cost of a commit is shared by many runs instead of paid by each. A batch that fails is
retried write by write, so one bad row fails only its own write.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from functools import partial
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Executable, insert
from sqlalchemy.sql.dml import UpdateBase

from agentplatform.core.db import write_transaction
from agentplatform.core.loop_local import LoopLocal
from agentplatform.models.common import new_id, utcnow
from agentplatform.models.run import RunStep

log = logging.getLogger(__name__)

MAX_BATCH = 500
WRITE_TIMEOUT_S = 60.0
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


INSERT_STEPS = insert(_STEPS)
Write = tuple[Executable, Row, "asyncio.Future[Any]"]


def _run_statements(connection: Connection, writes: list[Write]) -> list[Any]:
    """Each write's result: a statement with RETURNING gives its first row (or None) and runs
    once per write; any other runs once per run of equal writes, with all their rows."""
    results: list[Any] = []
    for statement, group in groupby(writes, key=lambda write: write[0]):
        rows = [params for _, params, _ in group]
        if isinstance(statement, UpdateBase) and statement.exported_columns:  # RETURNING
            results += [connection.execute(statement, row).first() for row in rows]
        else:
            connection.execute(statement, rows)
            results += [None] * len(rows)
    return results


async def _execute(writes: list[Write]) -> list[Any]:
    """The writes in one transaction, their results in order. A database that does not answer
    fails them after WRITE_TIMEOUT_S instead of holding every run of the process."""
    async with asyncio.timeout(WRITE_TIMEOUT_S):
        return await write_transaction(partial(_run_statements, writes=writes))


class GroupCommit:
    """Commits run writes for one event loop; `write` returns once its write is committed."""

    def __init__(self) -> None:
        self._pending: list[Write] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, statement: Executable, params: Row) -> Any:
        """Execute and commit `statement` with `params` (together with other writes made
        meanwhile; `statement` must be one object reused for every write of its kind); the
        first row it returned, if it has RETURNING."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((statement, params, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="run-writes")
        return await done

    async def _flush(self) -> None:
        batch: list[Write] = []
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._commit(batch)
        except BaseException as exc:  # cancelled: no waiter may hang on an unsettled write
            for _, _, done in batch + self._pending:
                _settle(done, exc)
            self._pending = []
            raise

    async def _commit(self, batch: list[Write]) -> None:
        try:
            results = await _execute(batch)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][2], exc)
                return
            log.warning("%d run writes failed together (%s); one by one now", len(batch), exc)
            await _one_by_one(batch)
            return
        for (_, _, done), result in zip(batch, results, strict=True):
            _settle(done, None, result)


async def _one_by_one(batch: list[Write]) -> None:
    for write in batch:
        try:
            [result] = await _execute([write])
        except Exception as exc:
            _settle(write[2], exc)
        else:
            _settle(write[2], None, result)


def _settle(done: asyncio.Future[Any], exc: BaseException | None, result: Any = None) -> None:
    if done.done():
        return
    if exc is None:
        done.set_result(result)
    elif isinstance(exc, asyncio.CancelledError):
        done.cancel()
    else:
        done.set_exception(exc)


_writers = LoopLocal(GroupCommit)


def run_writes() -> GroupCommit:
    """The running event loop's writer (its futures and tasks are bound to that loop)."""
    return _writers.get()
