"""The Redis side of the run queue: taskiq's list broker, and a consumer that executes runs.

`RunBroker` puts one message per run (task id = run id) on `<REDIS_PREFIX>:runs` and pops
them; `RunConsumer` is a taskiq receiver run in this process that executes popped runs,
`concurrency` at once, popping only when a slot is free. `run_queue.RedisDispatcher`
drives both.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncGenerator

from redis.asyncio import Redis
from taskiq.kicker import AsyncKicker
from taskiq.receiver import Receiver
from taskiq_redis import ListQueueBroker

from agentplatform.core.config import get_settings
from agentplatform.core.redis_clients import RedisOutage, client_options, make_client
from agentplatform.services.run_executor import execute_run

log = logging.getLogger(__name__)

TASK_NAME = "agentplatform.execute_run"
POP_TIMEOUT_S = 2
RETRY_S = 1.0
STOP_GRACE_S = 10.0
CANCEL_WAIT_S = 5.0


def queue_name(prefix: str) -> str:
    """The Redis list holding queued runs (what KEDA's redis-lists scaler watches)."""
    return f"{prefix}:runs"


class RunBroker(ListQueueBroker):
    """taskiq's Redis list broker with short timeouts; popping survives Redis outages (warn
    once, wait, retry), and every failure is noted so the dispatcher catches up afterwards."""

    def __init__(self, url: str, prefix: str) -> None:
        settings = get_settings()
        wait_s = settings.redis_connect_timeout_seconds + settings.redis_timeout_seconds
        super().__init__(
            url,
            queue_name=queue_name(prefix),
            timeout=wait_s,  # the longest a command waits for a free pooled connection
            **client_options(name=f"{prefix}:runs"),
        )
        self.prefix = prefix
        self.redis = Redis(connection_pool=self.connection_pool)
        # BRPOP blocks POP_TIMEOUT_S on purpose: its own connection, with a longer read timeout.
        self._pop_redis = make_client(
            url, name=f"{prefix}:runs-pop", read_timeout_s=POP_TIMEOUT_S + wait_s
        )
        self.outage = RedisOutage("the run queue", "runs wait in the database (queued)", logger=log)
        self.lost_contact = False  # set by any failure; cleared by the catch-up that follows
        self.wake: asyncio.Event | None = None  # set on failures (the dispatcher's maintainer)

    def failed(self, error: BaseException) -> None:
        self.lost_contact = True
        self.outage.failed(error)
        if self.wake is not None:
            self.wake.set()

    async def listen(self) -> AsyncGenerator[bytes, None]:
        while True:
            try:
                item = await self._pop_redis.brpop([self.queue_name], timeout=POP_TIMEOUT_S)  # type: ignore[misc]
            except Exception as error:  # Redis away: keep trying, never take the worker down
                self.failed(error)
                await asyncio.sleep(RETRY_S)
                continue
            self.outage.answered()
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

    async def shutdown(self) -> None:
        await super().shutdown()
        await self._pop_redis.aclose()


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
