"""Runs: start an agent or team on a task, list and read them, cancel them."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import Conflict
from agentplatform.models.common import utcnow
from agentplatform.models.run import TERMINAL_STATUSES, Run, RunCreate, RunPublic
from agentplatform.services import audit
from agentplatform.services.permissions import Actor, require
from agentplatform.services.run_dispatch import get_dispatcher
from agentplatform.services.run_events import publish
from agentplatform.services.run_metrics import runs_changed
from agentplatform.services.run_queries import (
    RunFilters,
    get_run,
    list_runs,
    list_steps,
    load_run,
    run_public,
)
from agentplatform.services.run_resolution import resolve_run

__all__ = ["RunFilters", "cancel_run", "create_run", "get_run", "list_runs", "list_steps"]


async def create_run(
    *, session: AsyncSession, actor: Actor, data: RunCreate, correlation_id: str | None = None
) -> RunPublic:
    """Resolve the exact configuration, queue the run and hand it to the dispatcher."""
    require(actor, "runs.create")
    resolved = await resolve_run(session=session, workspace_id=actor.workspace_id, data=data)
    run = Run(
        workspace_id=actor.workspace_id,
        kind=resolved.kind,
        agent_id=resolved.agent_id,
        team_id=resolved.team_id,
        target_name=resolved.target_name,
        input=data.input,
        variables=dict(data.variables),
        prompt_versions=resolved.prompt_versions,
        config=resolved.config,
        status="queued",
        correlation_id=correlation_id[:64] if correlation_id else None,
        created_by=actor.user_id,
    )
    session.add(run)
    await session.commit()
    await runs_changed(actor.workspace_id)
    public = run_public(run)
    await get_dispatcher().submit(run.id)
    return public


async def cancel_run(*, session: AsyncSession, actor: Actor, run_id: uuid.UUID) -> RunPublic:
    """Ask a run to stop: a queued one is cancelled at once, a running one at its next await."""
    require(actor, "runs.cancel")
    run = await load_run(session, actor, run_id)
    if run.status in TERMINAL_STATUSES:
        raise Conflict(
            f"This run already finished ({run.status}): there is nothing to cancel.",
            details={"status": run.status},
        )
    now = utcnow()
    queued = (
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status) == "queued")
        .values(
            status="cancelled",
            stopped_reason="cancelled",
            cancel_requested=True,
            finished_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(queued)
    if result.rowcount == 0:
        flag = (
            update(Run)
            .where(col(Run.id) == run_id, col(Run.status) == "running")
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        if (await session.exec(flag)).rowcount == 0:
            await session.rollback()
            raise Conflict("This run already finished: there is nothing to cancel.")
    audit.record(
        session,
        actor=actor,
        action="run.cancel",
        resource_type="run",
        resource_id=run_id,
        before={"status": run.status},
    )
    await session.commit()
    await runs_changed(actor.workspace_id)
    await publish(run_id, "cancel")
    await publish(run_id, "status")
    await session.refresh(run)
    return run_public(run)
