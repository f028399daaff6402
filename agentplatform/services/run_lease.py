"""Run ownership: the atomic claim, the heartbeat that renews the lease and watches for a
cancel request, and the reaper that fails runs whose process died."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.models.common import utcnow
from agentplatform.models.run import Run, RunStep
from agentplatform.services.run_events import RunNotifier, publish
from agentplatform.services.run_metrics import runs_changed

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the process executing this run stopped"
CANCEL_POLL_S = 0.5


def lease_until(now: datetime | None = None) -> datetime:
    """When a lease taken or renewed now runs out."""
    return (now or utcnow()) + timedelta(seconds=get_settings().run_lease_seconds)


async def claim_run(run_id: uuid.UUID, worker_id: str) -> bool:
    """Take a queued run for `worker_id`; False if another worker has it or it was cancelled."""
    now = utcnow()
    statement = (
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status) == "queued")
        .values(
            status="running", worker_id=worker_id, started_at=now, lease_expires_at=lease_until(now)
        )
        .execution_options(synchronize_session=False)
    )
    async with session_scope() as session:
        result = await session.exec(statement)
        await session.commit()
    return result.rowcount == 1


async def renew_lease(run_id: uuid.UUID, worker_id: str) -> bool:
    """Extend the lease of a run this worker still owns; False once it lost the run."""
    statement = (
        update(Run)
        .where(col(Run.id) == run_id, col(Run.worker_id) == worker_id, col(Run.status) == "running")
        .values(lease_expires_at=lease_until())
        .execution_options(synchronize_session=False)
    )
    async with session_scope() as session:
        result = await session.exec(statement)
        await session.commit()
    return result.rowcount == 1


@dataclass
class WatchOutcome:
    """Why the watcher stopped the execution (if it did)."""

    cancelled: bool = False
    lease_lost: bool = False


async def _cancel_requested(run_id: uuid.UUID) -> bool:
    async with session_scope() as session:
        row = (await session.exec(select(Run.cancel_requested).where(Run.id == run_id))).first()
    return bool(row)


async def watch_run(
    run_id: uuid.UUID,
    worker_id: str,
    work: asyncio.Task[object],
    outcome: WatchOutcome,
    notifier: RunNotifier,
) -> None:
    """Renew the lease every heartbeat and cancel `work` when a cancel is requested.

    A cancel is seen at once when signalled (in this process, or through Redis). The
    database flag is read when a signal arrives and at every heartbeat, so a lost signal
    costs at most one heartbeat; while the notifier cannot push cancels (Redis is away) the
    flag is polled every CANCEL_POLL_S. (Polling it always would cost one query per running
    run every 0.5 s however slowly the run progresses: see docs/benchmarks.md.)
    """
    heartbeat_s = get_settings().run_heartbeat_seconds
    next_beat = time.monotonic() + heartbeat_s
    async with notifier.subscribe(str(run_id), kinds=("cancel",)) as signals:
        while not work.done():
            pushed = notifier.pushes_cancels
            until_beat = max(next_beat - time.monotonic(), 0)
            signal = await signals.next(until_beat if pushed else min(CANCEL_POLL_S, until_beat))
            beat = time.monotonic() >= next_beat
            if (signal is not None or beat or not pushed) and await _cancel_requested(run_id):
                outcome.cancelled = True
                work.cancel()
                return
            if beat:
                next_beat = time.monotonic() + heartbeat_s
                if not await renew_lease(run_id, worker_id):
                    log.warning("run %s: lease lost; stopping its execution here", run_id)
                    outcome.lease_lost = True
                    work.cancel()
                    return


async def _add_final_step(run_id: uuid.UUID, content: str) -> None:
    """An error step at the end of a reaped run's trace (best effort)."""
    try:
        async with session_scope() as session:
            query = select(func.max(RunStep.seq)).where(RunStep.run_id == run_id)
            last = (await session.exec(query)).one() or 0
            session.add(RunStep(run_id=run_id, seq=int(last) + 1, kind="error", content=content))
            await session.commit()
    except IntegrityError:
        log.warning("run %s: could not append the interruption step", run_id)


async def reap_expired_leases() -> list[uuid.UUID]:
    """Fail every `running` run whose lease has expired; never one whose lease is fresh."""
    now = utcnow()
    expired = (col(Run.status) == "running", col(Run.lease_expires_at) < now)
    async with session_scope() as session:
        query = select(Run.id, Run.workspace_id).where(*expired)
        candidates = list((await session.exec(query)).all())
    reaped: list[uuid.UUID] = []
    for run_id, workspace_id in candidates:
        statement = (
            update(Run)
            .where(col(Run.id) == run_id, *expired)
            .values(
                status="failed",
                error=INTERRUPTED,
                stopped_reason="interrupted",
                finished_at=now,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        async with session_scope() as session:
            result = await session.exec(statement)
            await session.commit()
        if result.rowcount == 1:
            await runs_changed(workspace_id)
            await _add_final_step(run_id, INTERRUPTED)
            reaped.append(run_id)
            log.warning("run %s: %s (lease expired)", run_id, INTERRUPTED)
            await publish(run_id, "status")
    return reaped
