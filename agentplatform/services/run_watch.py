"""Watching an executing run: cancel requests, and the worker's heartbeat, where one
statement renews the leases of every run the worker executes.

Renewing each run on its own would cost one query per running run per heartbeat (200 runs
at a 5 s heartbeat: 40 queries a second doing nothing else). The keeper renews them all in
one UPDATE ... RETURNING that also reads their cancel flags, so a cancel whose signal was
lost is still seen within one heartbeat, and a run this worker no longer owns (the reaper
failed it after a stall) is stopped here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.core.loop_local import LoopLocal
from agentplatform.models.run import Run
from agentplatform.services.run_events import RunNotifier
from agentplatform.services.run_lease import lease_until

log = logging.getLogger(__name__)

CHUNK = 500  # runs per statement (bound parameters stay far below every driver's limit)
CANCEL_POLL_S = 0.5


@dataclass
class WatchOutcome:
    """Why the execution of a run was stopped (if it was)."""

    cancelled: bool = False
    lease_lost: bool = False


@dataclass
class _Tracked:
    work: asyncio.Future[Any]
    outcome: WatchOutcome


async def renew_leases(worker_id: str, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """Extend the leases of those runs `worker_id` still executes; their cancel flags by id
    (a run missing from the answer is no longer this worker's)."""
    statement = (
        update(Run)
        .where(
            col(Run.id).in_(run_ids),
            col(Run.worker_id) == worker_id,
            col(Run.status) == "running",
        )
        .values(lease_expires_at=lease_until())
        .returning(col(Run.id), col(Run.cancel_requested))
        .execution_options(synchronize_session=False)
    )
    async with session_scope() as session:
        rows = (await session.exec(statement)).all()
        await session.commit()
    return {run_id: bool(flag) for run_id, flag in rows}


class LeaseKeeper:
    """Keeps the leases of one worker's runs (in one event loop) fresh while they execute."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._runs: dict[uuid.UUID, _Tracked] = {}
        self._task: asyncio.Task[None] | None = None

    def track(self, run_id: uuid.UUID, work: asyncio.Future[Any], outcome: WatchOutcome) -> None:
        """Renew this run's lease until `untrack`; cancel `work` if the run is cancelled or
        lost (and say which in `outcome`)."""
        self._runs[run_id] = _Tracked(work, outcome)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._beat(), name=f"leases:{self.worker_id}")

    def untrack(self, run_id: uuid.UUID) -> None:
        self._runs.pop(run_id, None)

    async def _beat(self) -> None:
        while self._runs:
            await asyncio.sleep(get_settings().run_heartbeat_seconds)
            ids = list(self._runs)
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                try:
                    flags = await asyncio.shield(renew_leases(self.worker_id, chunk))
                except Exception:  # the database may be briefly away: try again next beat
                    log.exception("could not renew %d run lease(s)", len(chunk))
                    continue
                for run_id in chunk:
                    self._settle(run_id, flags.get(run_id))

    def _settle(self, run_id: uuid.UUID, cancel_flag: bool | None) -> None:
        tracked = self._runs.get(run_id)
        if tracked is None or tracked.work.done() or cancel_flag is False:
            return
        if cancel_flag is None:
            log.warning("run %s: lease lost; stopping its execution here", run_id)
            tracked.outcome.lease_lost = True
        else:
            tracked.outcome.cancelled = True
        self._runs.pop(run_id, None)
        tracked.work.cancel()


_keepers: LoopLocal[dict[str, LeaseKeeper]] = LoopLocal(dict)


def lease_keeper(worker_id: str) -> LeaseKeeper:
    """The keeper of `worker_id` in the running event loop."""
    keepers = _keepers.get()
    keeper = keepers.get(worker_id)
    if keeper is None:
        keeper = keepers[worker_id] = LeaseKeeper(worker_id)
    return keeper


async def _cancel_requested(run_id: uuid.UUID) -> bool:
    async with session_scope() as session:
        row = (await session.exec(select(Run.cancel_requested).where(Run.id == run_id))).first()
    return bool(row)


async def watch_run(
    run_id: uuid.UUID,
    work: asyncio.Future[Any],
    outcome: WatchOutcome,
    notifier: RunNotifier,
) -> None:
    """Cancel `work` when a cancel is requested (the worker's LeaseKeeper, which the
    executor tracks the run with, keeps its lease fresh).

    A cancel is seen at once when signalled (in this process, or through Redis): the
    database flag is read when a signal arrives. The worker's heartbeat reads every flag
    with the lease renewal, so a lost signal costs at most one heartbeat. While the notifier
    cannot push cancels (Redis is away) the flag is polled every CANCEL_POLL_S. (Polling it
    always would cost one query per running run every 0.5 s however slowly the run
    progresses: see docs/benchmarks.md.) Queries are shielded: stopping the watcher
    mid-query lets the query finish and its connection go back to the pool cleanly.
    """
    async with notifier.subscribe(str(run_id), kinds=("cancel",)) as signals:
        while not work.done():
            pushed = notifier.pushes_cancels
            wait_s = get_settings().run_heartbeat_seconds if pushed else CANCEL_POLL_S
            signal = await signals.next(wait_s)
            if signal is None and pushed:
                continue
            if await asyncio.shield(_cancel_requested(run_id)) and not work.done():
                outcome.cancelled = True
                work.cancel()
                return
