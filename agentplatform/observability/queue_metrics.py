"""Run-queue health for dashboards and alerts: how long the oldest queued run has waited, and
how many processes consume the queue.

Both are global facts, sampled by every dispatcher's maintenance round (embedded and Redis),
so every app replica and worker reports the same value: read them with `max()` across
instances, never `sum()`.
"""

from __future__ import annotations

import logging

from prometheus_client import Gauge
from sqlmodel import col, func, select

from agentplatform.core.db import session_scope
from agentplatform.models.common import as_utc, utcnow
from agentplatform.models.run import Run
from agentplatform.observability.metrics import NAMESPACE, REGISTRY

log = logging.getLogger(__name__)

QUEUE_OLDEST_AGE = Gauge(
    "run_queue_oldest_age_seconds",
    "Seconds the oldest run still `queued` has waited since it was created (0 when none is).",
    namespace=NAMESPACE,
    registry=REGISTRY,
)
RUN_WORKERS = Gauge(
    "run_workers",
    "Processes consuming the run queue: live workers announced in Redis (apps with "
    "RUN_IN_APP_WORKER included), or 1 for an app executing runs itself (no Redis).",
    namespace=NAMESPACE,
    registry=REGISTRY,
)


def set_workers(count: int) -> None:
    """How many processes execute queued runs right now."""
    RUN_WORKERS.set(max(count, 0))


def set_oldest_queued_age(seconds: float) -> None:
    QUEUE_OLDEST_AGE.set(max(seconds, 0.0))


async def oldest_queued_age_s() -> float:
    """Seconds since the oldest `queued` run was created; 0 when nothing waits."""
    async with session_scope() as session:
        oldest = (
            await session.exec(select(func.min(Run.created_at)).where(col(Run.status) == "queued"))
        ).one()
    if oldest is None:
        return 0.0
    return max((utcnow() - as_utc(oldest)).total_seconds(), 0.0)


async def sample_queue_age() -> None:
    """Refresh the oldest-queued-run gauge; a database that is briefly away leaves it as is."""
    try:
        set_oldest_queued_age(await oldest_queued_age_s())
    except Exception as error:  # the next maintenance round tries again
        log.debug("could not sample the run queue's age (%s)", error)
