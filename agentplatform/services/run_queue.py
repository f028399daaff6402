"""Runs through a Redis job queue (taskiq + taskiq-redis), consumed by worker processes.

A submitted run becomes one message (task id = run id) on the Redis list
`<REDIS_PREFIX>:runs`. Workers (`agentplatform worker`, or the app itself with
RUN_IN_APP_WORKER) pop messages, at most RUN_CONCURRENCY at a time, and call `execute_run`.
Delivery is at least once, execution exactly once: the atomic claim in the database turns
a duplicate message into a no-op. A message that was lost (Redis restarted without
persistence, a worker died between popping and claiming, Redis was down at submit) is
found by a periodic sweep: a run still `queued` after RUN_LEASE_SECONDS whose id is no
longer on the list is queued again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from datetime import timedelta

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from sqlmodel import col, select
from taskiq.kicker import AsyncKicker
from taskiq.receiver import Receiver
from taskiq_redis import ListQueueBroker

from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.models.common import utcnow
from agentplatform.models.run import Run
from agentplatform.observability import metrics, queue_metrics
from agentplatform.services.run_dispatch import new_worker_id, reaper_interval_s
from agentplatform.services.run_executor import execute_run
from agentplatform.services.run_lease import reap_expired_leases

log = logging.getLogger(__name__)

TASK_NAME = "agentplatform.execute_run"
POP_TIMEOUT_S = 2
RETRY_S = 1.0
STOP_GRACE_S = 10.0
CANCEL_WAIT_S = 5.0
SWEEP_LIMIT = 1000


def queue_name(prefix: str) -> str:
    """The Redis list holding queued runs (what KEDA's redis-lists scaler watches)."""
    return f"{prefix}:runs"


class RunBroker(ListQueueBroker):
    """taskiq's Redis list broker; popping survives Redis outages (warn, wait, retry)."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(
            url,
            queue_name=queue_name(prefix),
            socket_connect_timeout=3,
            socket_timeout=POP_TIMEOUT_S + 5,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.1), 1),
            client_name=f"{prefix}:runs",
        )
        self.prefix = prefix
        self.redis = Redis(connection_pool=self.connection_pool)

    async def listen(self) -> AsyncGenerator[bytes, None]:
        failing = False
        while True:
            try:
                item = await self.redis.brpop([self.queue_name], timeout=POP_TIMEOUT_S)  # type: ignore[misc]
            except Exception as error:  # Redis away: keep trying, never take the worker down
                if not failing:
                    log.warning("run queue: Redis unavailable (%s); retrying", error)
                failing = True
                await asyncio.sleep(RETRY_S)
                continue
            if failing:
                log.info("run queue: Redis answers again")
                failing = False
            if item is not None:
                yield item[1]

    async def submit(self, run_id: uuid.UUID) -> None:
        """Put one run on the queue (raises when Redis cannot take it)."""
        kicker: AsyncKicker[..., bool] = AsyncKicker(TASK_NAME, self, {})
        await kicker.with_task_id(str(run_id)).kiq(str(run_id))

    async def queued_ids(self) -> set[str]:
        """Run ids currently waiting on the list."""
        ids: set[str] = set()
        for raw in await self.redis.lrange(self.queue_name, 0, -1):  # type: ignore[misc]
            try:
                ids.add(str(json.loads(raw)["task_id"]))
            except (ValueError, KeyError, TypeError):
                continue
        return ids


class RunConsumer:
    """A taskiq receiver in this process: pops runs and executes them, `concurrency` at once."""

    def __init__(self, broker: RunBroker, *, concurrency: int, worker_id: str) -> None:
        self.broker = broker
        self.concurrency = concurrency
        self.worker_id = worker_id
        self.broker.is_worker_process = True

        async def execute_queued_run(run_id: str) -> bool:  # a plain function, as taskiq wants
            return await self._run(run_id)

        self.broker.register_task(execute_queued_run, task_name=TASK_NAME)
        self._executions: set[asyncio.Task[object]] = set()
        self._finish = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._stopping = False

    async def _run(self, run_id: str) -> bool:
        task = asyncio.current_task()
        assert task is not None
        self._executions.add(task)
        try:
            return await execute_run(uuid.UUID(run_id), self.worker_id)
        except asyncio.CancelledError:
            if self._stopping:  # the executor has failed the run as interrupted
                return False
            raise
        except Exception:  # one run's crash must not take the worker down
            log.exception("run %s: the executor crashed", run_id)
            return False
        finally:
            self._executions.discard(task)

    @property
    def running(self) -> int:
        return sum(not task.done() for task in self._executions)

    async def start(self) -> None:
        receiver = Receiver(
            self.broker,
            max_async_tasks=self.concurrency,
            max_prefetch=0,  # pop a message only when a slot is free to execute it
            run_startup=False,
            propagate_exceptions=False,
        )
        await self.broker.startup()
        self._listener = asyncio.create_task(receiver.listen(self._finish), name="run-consumer")

    def interrupt(self) -> None:
        """Cancel every running execution now (each is failed as interrupted)."""
        self._stopping = True
        for task in self._executions:
            task.cancel()

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop popping; give running runs `grace_s` to finish, then interrupt the rest
        (the executor fails them as interrupted; if even that cannot finish, the lease
        reaper of another process does)."""
        self._finish.set()
        running = [task for task in self._executions if not task.done()]
        if running:
            log.info("waiting up to %g s for %d running run(s)", grace_s, len(running))
            _, late = await asyncio.wait(running, timeout=grace_s)
            if late:
                log.warning("interrupting %d run(s) still running after %g s", len(late), grace_s)
                self.interrupt()
                await asyncio.wait(late, timeout=CANCEL_WAIT_S)
        if self._listener is not None:
            try:
                await asyncio.wait_for(self._listener, CANCEL_WAIT_S)
            except Exception:
                log.warning("the run consumer did not stop cleanly", exc_info=True)
            self._listener = None


class RedisDispatcher:
    """RunDispatcher over the Redis queue; consumes too when `consume` (workers, or the app
    with RUN_IN_APP_WORKER). Every instance reaps expired leases and sweeps lost runs."""

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
        self._next_sweep = 0.0
        self._sweep_failing = False
        self._warned_idle = False

    def broker(self) -> RunBroker:
        """The broker of the running event loop (a new loop, e.g. in tests, starts afresh)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._broker is None:
            self._loop = loop
            self._broker = RunBroker(self.url, self.prefix)
            self._consumer = None
            self._maintainer = None
        return self._broker

    @property
    def consumer(self) -> RunConsumer | None:
        return self._consumer

    @property
    def running(self) -> bool:
        return self._maintainer is not None and not self._maintainer.done()

    async def submit(self, run_id: uuid.UUID) -> None:
        try:
            await self.broker().submit(run_id)
        except Exception as error:  # the run stays queued; the sweep queues it again later
            log.warning(
                "run %s: could not put it on the Redis queue (%s); it stays queued and is "
                "queued again once Redis answers",
                run_id,
                error,
            )

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

    # --- maintenance: lease reaper, lost-run sweep, worker presence -----------------------
    @property
    def _workers_key(self) -> str:
        return f"{self.prefix}:workers"

    async def _maintain_forever(self) -> None:
        while True:
            await asyncio.sleep(reaper_interval_s())
            await self._maintain_once()

    async def _maintain_once(self) -> None:
        try:
            await reap_expired_leases()
        except Exception:  # the database may be briefly away; try again next round
            log.exception("lease reaper failed")
        await queue_metrics.sample_queue_age()
        try:
            broker = self.broker()
            metrics.set_runs_queued(await broker.redis.llen(broker.queue_name))  # type: ignore[misc]
            if self.consume:
                await self._announce()
            live = await broker.redis.zcount(self._workers_key, time.time(), "+inf")
            queue_metrics.set_workers(live)
            if time.monotonic() >= self._next_sweep:
                self._next_sweep = time.monotonic() + get_settings().run_lease_seconds
                await self.requeue_lost_runs()
            if self._sweep_failing:
                log.info("run queue maintenance: Redis answers again")
            self._sweep_failing = False
        except Exception as error:
            if not self._sweep_failing:
                log.warning("run queue maintenance failed (%s); retrying", error)
            self._sweep_failing = True

    async def _announce(self) -> None:
        """Mark this worker alive for one lease (apps warn when no worker is)."""
        until = time.time() + get_settings().run_lease_seconds
        await self.broker().redis.zadd(self._workers_key, {self.worker_id: until})

    async def requeue_lost_runs(self) -> list[uuid.UUID]:
        """Queue again every run `queued` for over a lease whose message is gone."""
        lease = get_settings().run_lease_seconds
        cutoff = utcnow() - timedelta(seconds=lease)
        async with session_scope() as session:
            query = (
                select(Run.id)
                .where(col(Run.status) == "queued", col(Run.created_at) < cutoff)
                .order_by(col(Run.created_at))
                .limit(SWEEP_LIMIT)
            )
            stale = list((await session.exec(query)).all())
        broker = self.broker()
        if not stale:
            return []
        lock = f"{self.prefix}:sweep-lock"  # one sweeping process at a time
        if not await broker.redis.set(lock, self.worker_id, nx=True, px=int(lease * 900)):
            return []
        waiting = await broker.queued_ids()
        lost = [run_id for run_id in stale if str(run_id) not in waiting]
        for run_id in lost:
            log.warning("run %s: queued, but its message was lost; queueing it again", run_id)
            await broker.submit(run_id)
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
