"""One thread that owns a synchronous connection to the SQLite file and runs the hot write
transactions of runs (their group-committed steps and outcomes, their claims) start to
finish: one thread round trip per transaction. Through aiosqlite each driver call is a round
trip of its own (cursor, execute, fetch, close, commit, reset: about six per statement), and
each wakes the event loop and contends with it for the GIL. PostgreSQL needs none of this:
psycopg's async driver talks to its socket from the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")


class SqliteWriter:
    """Runs write transactions, one at a time, on a thread of its own."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one transaction, committed if it returns. Cancelling the
        caller does not stop a transaction already under way: it commits or rolls back on
        its own (SQLite's busy timeout bounds how long it can wait for the file's lock)."""
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, self._transaction, work
        )

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        with self._engine.begin() as connection:
            return work(connection)

    def close(self) -> None:
        """Let the transactions already handed over finish, then close the connection
        (without blocking the caller)."""
        self._thread.submit(self._engine.dispose)
        self._thread.shutdown(wait=False)
