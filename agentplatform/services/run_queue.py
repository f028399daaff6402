"""Runs through a Redis job queue (taskiq + taskiq-redis), consumed by worker processes.

A submitted run becomes one message (task id = run id) on the Redis list
`<REDIS_PREFIX>:runs`. Workers (`agentplatform worker`, or the app itself with
RUN_IN_APP_WORKER) pop messages, at most RUN_CONCURRENCY at a time, and call `execute_run`.
Delivery is at least once, execution exactly once: the atomic claim in the database turns
a duplicate message into a no-op. A message that was lost (Redis restarted without
persistence, a worker died between popping and claiming, Redis was down at submit) is
found by a periodic sweep: a run still `queued` after RUN_LEASE_SECONDS whose id is no
longer on the list is queued again. After Redis was away, the process that noticed queues
what it could not at once, and sweeps every queued run whose message is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import timedelta

from sqlmodel import col, select

from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.models.common import utcnow
from agentplatform.models.run import Run
from agentplatform.observability import metrics, queue_metrics
from agentplatform.services.run_broker import (
    CANCEL_WAIT_S,
    STOP_GRACE_S,
    RunBroker,
    RunConsumer,
    queue_name,
)
from agentplatform.services.run_dispatch import new_worker_id, reaper_interval_s
from agentplatform.services.run_lease import reap_expired_leases

log = logging.getLogger(__name__)

SWEEP_LIMIT = 1000
CATCH_UP_PROBE_S = 0.5  # while Redis is away or runs wait to be queued, look this often
CATCH_UP_LOCK_S = 3.0  # after an outage, one process sweeps; others skip for this long


class RedisDispatcher:
    """RunDispatcher over the Redis queue; consumes too when `consume` (workers, or the app
    with RUN_IN_APP_WORKER). Every instance reaps expired leases and sweeps lost runs.

    Submitting never waits on a Redis that is away: the run is already `queued` in the
    database, so it is noted here and queued as soon as Redis answers again, when a sweep of
    every queued run whose message is missing also runs (no waiting a lease)."""

    def __init__(
        self,
        url: str | None = None,
        prefix: str | None = None,
        *,
        consume: bool | None = None,
        concurrency: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        settings = get_settings()
        self.url = url or settings.redis_url
        self.prefix = prefix or settings.redis_prefix
        self.consume = settings.run_in_app_worker if consume is None else consume
        self.concurrency = concurrency or settings.run_concurrency
        self.worker_id = worker_id or new_worker_id()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: RunBroker | None = None
        self._consumer: RunConsumer | None = None
        self._maintainer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._unsent: dict[uuid.UUID, None] = {}  # submitted while Redis was away, in order
        self._next_reap = 0.0
        self._next_sweep = 0.0
        self._warned_idle = False

    def broker(self) -> RunBroker:
        """The broker of the running event loop (a new loop, e.g. in tests, starts afresh)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._broker is None:
            self._loop = loop
            self._broker = RunBroker(self.url, self.prefix)
            self._consumer = None
            self._maintainer = None
            self._wake = self._broker.wake = asyncio.Event()
        return self._broker

    @property
    def consumer(self) -> RunConsumer | None:
        return self._consumer

    @property
    def running(self) -> bool:
        return self._maintainer is not None and not self._maintainer.done()

    @property
    def unsent(self) -> list[uuid.UUID]:
        """Runs this process could not put on the queue yet (Redis away)."""
        return list(self._unsent)

    async def submit(self, run_id: uuid.UUID) -> None:
        broker = self.broker()
        if broker.outage.available():
            try:
                await broker.submit(run_id)
                broker.outage.answered()
                return
            except Exception as error:  # the run stays queued; it is queued again below
                broker.failed(error)  # wakes the maintainer: it probes Redis until it answers
        self._unsent[run_id] = None

    async def start(self) -> bool:
        broker = self.broker()
        if self.running:
            return False
        await self._maintain_once()
        if self.consume:
            self._consumer = RunConsumer(
                broker, concurrency=self.concurrency, worker_id=self.worker_id
            )
            await self._consumer.start()
            log.info(
                "worker %s consuming %s (concurrency %d)",
                self.worker_id,
                broker.queue_name,
                self.concurrency,
            )
        self._maintainer = asyncio.create_task(self._maintain_forever(), name="run-maintainer")
        return True

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        if self._maintainer is not None:
            self._maintainer.cancel()
            await asyncio.gather(self._maintainer, return_exceptions=True)
            self._maintainer = None
        broker, self._broker = self._broker, None
        if self._consumer is not None:
            await self._consumer.stop(grace_s)
            self._consumer = None
        if broker is not None:
            if self.consume:
                await _quietly(broker.redis.zrem(self._workers_key, self.worker_id))
            await _quietly(broker.shutdown())

    # --- maintenance: lease reaper, catching up after outages, lost-run sweep, presence ---
    @property
    def _workers_key(self) -> str:
        return f"{self.prefix}:workers"

    def _catching_up(self) -> bool:
        broker = self._broker
        return bool(self._unsent) or (broker is not None and broker.lost_contact)

    async def _maintain_forever(self) -> None:
        while True:
            interval = CATCH_UP_PROBE_S if self._catching_up() else reaper_interval_s()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            await self._maintain_once()

    async def _maintain_once(self) -> None:
        if time.monotonic() >= self._next_reap:
            self._next_reap = time.monotonic() + reaper_interval_s()
            try:
                await reap_expired_leases()
            except Exception:  # the database may be briefly away; try again next round
                log.exception("lease reaper failed")
            await queue_metrics.sample_queue_age()
        broker = self.broker()
        if not broker.outage.available():
            return
        try:
            metrics.set_runs_queued(await broker.redis.llen(broker.queue_name))  # type: ignore[misc]
            broker.outage.answered()
            if self.consume:
                await self._announce()
            live = await broker.redis.zcount(self._workers_key, time.time(), "+inf")
            queue_metrics.set_workers(live)
            await self._catch_up(broker)
            if time.monotonic() >= self._next_sweep:
                self._next_sweep = time.monotonic() + get_settings().run_lease_seconds
                await self.requeue_lost_runs()
        except Exception as error:
            broker.failed(error)

    async def _catch_up(self, broker: RunBroker) -> None:
        """After Redis was away: queue what this process could not, then sweep every run
        whose message is missing (it may have been lost with Redis), whatever its age."""
        while self._unsent:
            run_id = next(iter(self._unsent))
            await broker.submit(run_id)  # raises while Redis is still away: retried later
            del self._unsent[run_id]
        if broker.lost_contact:
            broker.lost_contact = False
            await self.requeue_lost_runs(min_age_s=0.0, lock_s=CATCH_UP_LOCK_S)

    async def _announce(self) -> None:
        """Mark this worker alive for one lease (apps warn when no worker is)."""
        until = time.time() + get_settings().run_lease_seconds
        await self.broker().redis.zadd(self._workers_key, {self.worker_id: until})

    async def requeue_lost_runs(
        self, *, min_age_s: float | None = None, lock_s: float | None = None
    ) -> list[uuid.UUID]:
        """Queue again every run `queued` for over `min_age_s` (default: a lease) whose
        message is gone; one process at a time sweeps, for `lock_s` (default: 0.9 lease)."""
        lease = get_settings().run_lease_seconds
        age = lease if min_age_s is None else min_age_s
        cutoff = utcnow() - timedelta(seconds=age)
        async with session_scope() as session:
            query = (
                select(Run.id)
                .where(col(Run.status) == "queued", col(Run.created_at) <= cutoff)
                .order_by(col(Run.created_at))
                .limit(SWEEP_LIMIT)
            )
            stale = list((await session.exec(query)).all())
        broker = self.broker()
        if not stale:
            return []
        lock = f"{self.prefix}:sweep-lock" + ("" if lock_s is None else ":catch-up")
        hold_ms = int((lease * 0.9 if lock_s is None else lock_s) * 1000)
        if not await broker.redis.set(lock, self.worker_id, nx=True, px=hold_ms):
            return []
        waiting = await broker.queued_ids()
        lost = [run_id for run_id in stale if str(run_id) not in waiting]
        for run_id in lost:
            log.warning("run %s: queued, but its message is missing; queueing it again", run_id)
            await broker.submit(run_id)
        if min_age_s is None:
            await self._warn_if_no_worker(broker, len(stale))
        return lost

    async def _warn_if_no_worker(self, broker: RunBroker, waiting: int) -> None:
        if self.consume:
            return
        await broker.redis.zremrangebyscore(self._workers_key, "-inf", time.time())
        idle = await broker.redis.zcard(self._workers_key) == 0
        if idle and not self._warned_idle:
            log.warning(
                "%d run(s) have waited over a lease and no worker is consuming %s: start "
                "`agentplatform worker` (or set RUN_IN_APP_WORKER=true)",
                waiting,
                broker.queue_name,
            )
        self._warned_idle = idle


async def _quietly(awaitable: object) -> None:
    try:
        await asyncio.wait_for(awaitable, CANCEL_WAIT_S)  # type: ignore[arg-type]
    except Exception:
        log.debug("Redis clean-up failed", exc_info=True)


__all__ = ["STOP_GRACE_S", "RedisDispatcher", "RunBroker", "RunConsumer", "queue_name"]
