"""Dashboard metrics of the workspace's runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.models.metrics import MetricsSummary
from agentplatform.services.run_metrics import metrics_summary

router = APIRouter(prefix="/metrics", tags=["metrics"])


@router.get(
    "/summary",
    response_model=MetricsSummary,
    summary="Runs in a time range: counts, success rate, p50/p95 latency, tokens, cost",
    description=(
        "Over runs created in [since, until) (default: the 7 days before the current minute, "
        "until now; at most 366 days): totals, then the same per UTC day, per agent, per "
        "team and per prompt version. Summaries are cached and refreshed by every run write."
    ),
    responses=errors_for(401, 403, 404),
)
async def get_summary(
    actor: ActorDep,
    session: SessionDep,
    since: Annotated[datetime | None, Query(description="Start (ISO 8601, inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="End (ISO 8601, exclusive).")] = None,
) -> MetricsSummary:
    return await metrics_summary(session=session, actor=actor, since=since, until=until)
