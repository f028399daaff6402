"""`agentplatform worker`: a process that executes runs from the Redis queue until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from agentplatform.core.db import dispose_engine
from agentplatform.core.heap import freeze_startup_heap
from agentplatform.services.run_events import get_notifier, set_notifier
from agentplatform.services.run_notifier_redis import RedisNotifier
from agentplatform.services.run_queue import STOP_GRACE_S, RedisDispatcher

log = logging.getLogger(__name__)


async def run_worker(concurrency: int | None = None, grace_s: float = STOP_GRACE_S) -> int:
    """Consume the run queue; on SIGTERM/SIGINT stop popping, let running runs finish within
    `grace_s` and interrupt the rest (a second signal interrupts them at once)."""
    dispatcher = RedisDispatcher(consume=True, concurrency=concurrency)
    stop = asyncio.Event()
    signals = 0

    def _on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            log.info("%s received: stopping after the running runs", signal.Signals(signum).name)
            stop.set()
        else:
            log.warning("second signal: interrupting the running runs now")
            if dispatcher.consumer is not None:
                dispatcher.consumer.interrupt()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _on_signal, signum)
    try:
        await dispatcher.start()
        freeze_startup_heap()
        await stop.wait()
        await dispatcher.stop(grace_s)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        notifier = get_notifier()
        if isinstance(notifier, RedisNotifier):
            await notifier.aclose()
        set_notifier(None)
        await dispose_engine()
    log.info("worker %s stopped", dispatcher.worker_id)
    return 0
