"""Where queued runs go to execute: the dispatcher interface and its embedded implementation.

Embedded (no REDIS_URL): runs execute as asyncio tasks in this process, at most
`RUN_CONCURRENCY` at once; the others wait as `queued` rows. With REDIS_URL,
`get_dispatcher()` returns the Redis-backed one (`run_queue.RedisDispatcher`: a job queue
consumed by worker processes) behind the same three methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Protocol

from sqlmodel import col, select

from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.core.heap import freeze_startup_heap
from agentplatform.models.run import Run
from agentplatform.observability import metrics, queue_metrics
from agentplatform.services.run_executor import execute_run
from agentplatform.services.run_lease import reap_expired_leases

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


class RunDispatcher(Protocol):
    """Accepts queued runs for execution; started and stopped with the app."""

    async def submit(self, run_id: uuid.UUID) -> None:
        """Hand a freshly queued run over for execution (returns without waiting for it)."""
        ...

    async def start(self) -> bool:
        """Begin serving (idempotent); True if this call started it, False if already on."""
        ...

    async def stop(self) -> None:
        """Stop serving; runs still executing here are failed as interrupted."""
        ...


def new_worker_id() -> str:
    """An id naming this process in `Run.worker_id` (host, pid, random suffix)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


RETRY_DELAYS_S = (1.0, 5.0, 30.0)  # before resubmitting a run whose execution crashed


def reaper_interval_s() -> float:
    """How often expired leases are looked for: well within one lease."""
    settings = get_settings()
    return max(0.2, min(settings.run_heartbeat_seconds, settings.run_lease_seconds / 2))


class EmbeddedDispatcher:
    """Runs as asyncio tasks of this process under a semaphore; a periodic lease reaper."""

    def __init__(self, concurrency: int | None = None, worker_id: str | None = None) -> None:
        self.concurrency = concurrency or get_settings().run_concurrency
        self.worker_id = worker_id or new_worker_id()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._waiting = 0

    def _bind(self) -> asyncio.Semaphore:
        """State belongs to the running loop (a new loop, e.g. in tests, starts afresh)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._semaphore is None:
            self._loop = loop
            self._semaphore = asyncio.Semaphore(self.concurrency)
            self._tasks = set()
            self._reaper = None
            self._set_waiting(0)
        return self._semaphore

    def _set_waiting(self, count: int) -> None:
        """Runs submitted here and waiting for a slot (the `runs_queued` gauge)."""
        self._waiting = count
        metrics.set_runs_queued(count)

    @property
    def running(self) -> bool:
        return self._reaper is not None and not self._reaper.done()

    async def submit(self, run_id: uuid.UUID) -> None:
        self._submit(run_id, attempt=0)

    def _submit(self, run_id: uuid.UUID, *, attempt: int) -> None:
        semaphore = self._bind()
        task = asyncio.create_task(self._execute(semaphore, run_id, attempt), name=f"run:{run_id}")
        self._set_waiting(self._waiting + 1)
        self._track(task)

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _execute(self, semaphore: asyncio.Semaphore, run_id: uuid.UUID, attempt: int) -> None:
        try:
            await semaphore.acquire()
        finally:
            self._set_waiting(self._waiting - 1)
        try:
            await execute_run(run_id, self.worker_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # one run's crash must not take the dispatcher down
            log.exception("run %s: the executor crashed", run_id)
            if attempt < len(RETRY_DELAYS_S):
                self._track(asyncio.create_task(self._retry(run_id, attempt)))
        finally:
            semaphore.release()

    async def _retry(self, run_id: uuid.UUID, attempt: int) -> None:
        """Submit again a run whose execution crashed (e.g. its claim met a locked SQLite
        file): a run still queued gets claimed then; one that was claimed is left alone (the
        claim only takes queued runs, and the reaper fails a run whose lease ran out)."""
        await asyncio.sleep(RETRY_DELAYS_S[attempt])
        self._submit(run_id, attempt=attempt + 1)

    async def start(self) -> bool:
        self._bind()
        if self.running:
            return False
        self._reaper = asyncio.create_task(self._reap_forever(), name="run-lease-reaper")
        await self._reap_once()
        async with session_scope() as session:
            query = select(Run.id).where(Run.status == "queued").order_by(col(Run.created_at))
            waiting = list((await session.exec(query)).all())
        for run_id in waiting:
            await self.submit(run_id)
        if waiting:
            log.info("picked up %d queued run(s)", len(waiting))
        return True

    async def _reap_once(self) -> None:
        try:
            await reap_expired_leases()
        except Exception:  # the database may be briefly away; try again next round
            log.exception("lease reaper failed")
        queue_metrics.set_workers(1)  # this process executes the queued runs itself
        await queue_metrics.sample_queue_age()

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(reaper_interval_s())
            await self._reap_once()

    async def stop(self) -> None:
        tasks = [t for t in (self._reaper, *self._tasks) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
        self._reaper = None

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until every submitted run has finished, retries included (tests, graceful
        drains), or `timeout` seconds passed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while pending := [t for t in self._tasks if not t.done()]:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return
            await asyncio.wait(pending, timeout=remaining)


_dispatcher: RunDispatcher | None = None


def get_dispatcher() -> RunDispatcher:
    """The process-wide dispatcher, chosen from Settings on first use."""
    global _dispatcher
    if _dispatcher is None:
        if get_settings().redis_url:
            from agentplatform.services.run_queue import RedisDispatcher

            _dispatcher = RedisDispatcher()
        else:
            _dispatcher = EmbeddedDispatcher()
    return _dispatcher


def set_dispatcher(dispatcher: RunDispatcher | None) -> None:
    """Install a dispatcher (tests, other back ends); None re-chooses from Settings."""
    global _dispatcher
    _dispatcher = dispatcher


@contextlib.asynccontextmanager
async def dispatcher_lifespan() -> AsyncIterator[None]:
    """Start the dispatcher for an app's lifetime; a second app in the process shares it."""
    dispatcher = get_dispatcher()
    started = await dispatcher.start()
    freeze_startup_heap()
    try:
        yield
    finally:
        if started:
            await dispatcher.stop()
