"""Run ownership: the atomic claim and the reaper that fails runs whose process died (the
heartbeat that keeps leases fresh is in run_watch)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.models.common import utcnow
from agentplatform.models.run import Run, RunStep
from agentplatform.services.run_events import publish
from agentplatform.services.run_metrics import runs_changed
from agentplatform.services.run_writes import run_writes

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the process executing this run stopped"


def lease_until(now: datetime | None = None) -> datetime:
    """When a lease taken or renewed now runs out."""
    return (now or utcnow()) + timedelta(seconds=get_settings().run_lease_seconds)


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    """What the executor needs of the run it claimed (read by the claim itself)."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    kind: str
    agent_id: uuid.UUID | None
    team_id: uuid.UUID | None
    input: str
    config: dict[str, Any]


_RUNS = Run.__table__  # type: ignore[attr-defined]
# Built once: the claim runs for every run, and building the statement costs more than
# executing it on a fast database.
_CLAIM = (
    update(_RUNS)
    .where(_RUNS.c.id == bindparam("claim_id"), _RUNS.c.status == "queued")
    .values(
        status="running",
        worker_id=bindparam("claim_worker"),
        started_at=bindparam("claim_now"),
        lease_expires_at=bindparam("claim_lease"),
    )
    .returning(*(_RUNS.c[name] for name in ClaimedRun.__slots__))
)


async def claim_run(run_id: uuid.UUID, worker_id: str) -> ClaimedRun | None:
    """Take a queued run for `worker_id` and read it: one UPDATE ... RETURNING, committed
    (with the claims and steps of other runs made meanwhile: run_writes); None if another
    worker has it or it was cancelled."""
    now = utcnow()
    params = {
        "claim_id": run_id,
        "claim_worker": worker_id,
        "claim_now": now,
        "claim_lease": lease_until(now),
    }
    row = await run_writes().write(_CLAIM, params)
    return None if row is None else ClaimedRun(*row)


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
