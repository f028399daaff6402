"""Reading runs and their steps: list with filters, one run, its trace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import NotFound, ValidationFailed
from agentplatform.models.common import as_utc
from agentplatform.models.run import (
    Run,
    RunPublic,
    RunsPublic,
    RunStep,
    RunStepPublic,
    RunStepsPublic,
)
from agentplatform.services.pagination import Page, paginate
from agentplatform.services.permissions import Actor, require

MAX_STEPS_PAGE = 2000


def run_public(run: Run) -> RunPublic:
    """The public shape of a run (config snapshot and lease bookkeeping stay inside)."""
    public = RunPublic.model_validate(run, from_attributes=True)
    public.per_agent = dict(run.per_agent or {})
    return public


def step_public(step: RunStep) -> RunStepPublic:
    """The public shape of one trace step."""
    return RunStepPublic.model_validate(step, from_attributes=True)


@dataclass(frozen=True)
class RunFilters:
    """Filters of the run list; every one optional."""

    status: str | None = None
    agent_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    created_by: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


async def load_run(session: AsyncSession, actor: Actor, run_id: uuid.UUID) -> Run:
    """The run if it is in the actor's workspace, else NotFound."""
    run = await session.get(Run, run_id)
    if run is None or run.workspace_id != actor.workspace_id:
        raise NotFound(f"No run {run_id} in this workspace.")
    return run


async def get_run(*, session: AsyncSession, actor: Actor, run_id: uuid.UUID) -> RunPublic:
    """One run of the actor's workspace."""
    require(actor, "runs.read")
    return run_public(await load_run(session, actor, run_id))


async def list_runs(
    *,
    session: AsyncSession,
    actor: Actor,
    filters: RunFilters | None = None,
    limit: int = 50,
    offset: int = 0,
) -> RunsPublic:
    """Runs of the actor's workspace, newest first, filtered and paginated."""
    require(actor, "runs.read")
    f = filters or RunFilters()
    if f.since and f.until and as_utc(f.since) > as_utc(f.until):
        raise ValidationFailed("since must not be after until.")
    query = select(Run).where(Run.workspace_id == actor.workspace_id)
    if f.status:
        query = query.where(Run.status == f.status)
    if f.agent_id:
        query = query.where(Run.agent_id == f.agent_id)
    if f.team_id:
        query = query.where(Run.team_id == f.team_id)
    if f.created_by:
        query = query.where(Run.created_by == f.created_by)
    if f.since:
        query = query.where(col(Run.created_at) >= as_utc(f.since))
    if f.until:
        query = query.where(col(Run.created_at) < as_utc(f.until))
    rows, total = await paginate(
        session,
        query,
        page=Page(limit=limit, offset=offset),
        order_by=[col(Run.created_at).desc(), col(Run.id).desc()],
    )
    return RunsPublic(data=[run_public(r) for r in rows], count=total)


async def list_steps(
    *,
    session: AsyncSession,
    actor: Actor,
    run_id: uuid.UUID,
    after_seq: int = 0,
    limit: int = 500,
) -> RunStepsPublic:
    """The run's trace in `seq` order, from after `after_seq`; `count` is all such steps."""
    require(actor, "runs.read")
    await load_run(session, actor, run_id)
    limit = max(1, min(limit, MAX_STEPS_PAGE))
    where = (col(RunStep.run_id) == run_id, col(RunStep.seq) > after_seq)
    total = (await session.exec(select(func.count()).select_from(RunStep).where(*where))).one()
    query = select(RunStep).where(*where).order_by(col(RunStep.seq)).limit(limit)
    steps = (await session.exec(query)).all()
    return RunStepsPublic(data=[step_public(s) for s in steps], count=int(total))
