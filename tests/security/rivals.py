"""Rival processes for race tests: each its own interpreter, engine and database connection.

Requests in one event loop already race (separate sessions and connections), but on SQLite
the attack that matters is two processes writing one file, as two app workers do. `Rivals`
keeps spawned processes warm across trials and starts their work at the same instant.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from agentplatform.core.errors import AppError

_start_line: Any = None  # this rival's barrier, set by `_enter` in the child process
BARRIER_TIMEOUT_S = 60.0  # a hang guard, not a timing claim


def _enter(barrier: Any) -> None:
    global _start_line
    _start_line = barrier
    import agentplatform.services.workspaces  # noqa: F401  (warm imports before the first race)


def _race(work: Callable[..., Coroutine[Any, Any, Any]], kwargs: dict[str, Any]) -> str:
    """Wait for every rival, then run `work(**kwargs)`: "ok", or the error's code."""
    from agentplatform.core.db import dispose_engine

    async def attempt() -> str:
        try:
            _start_line.wait(BARRIER_TIMEOUT_S)
            await work(**kwargs)
            return "ok"
        except AppError as error:
            return error.code
        finally:
            await dispose_engine()  # the engine belongs to this event loop only

    return asyncio.run(attempt())


class Rivals:
    """`n` warm processes; `race(calls)` runs one call in each at once."""

    def __init__(self, n: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.n = n
        self._barrier = context.Barrier(n)
        self._pool = ProcessPoolExecutor(
            n, mp_context=context, initializer=_enter, initargs=(self._barrier,)
        )

    def race(self, calls: list[tuple[Callable[..., Any], dict[str, Any]]]) -> list[str]:
        assert len(calls) == self.n, "every rival must take part, or the barrier never opens"
        futures: list[Future[str]] = [self._pool.submit(_race, f, kw) for f, kw in calls]
        return [future.result(timeout=BARRIER_TIMEOUT_S * 2) for future in futures]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


@contextmanager
def rivals(n: int) -> Iterator[Rivals]:
    pool = Rivals(n)
    try:
        yield pool
    finally:
        pool.close()
