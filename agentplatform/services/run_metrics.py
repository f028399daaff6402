"""The metrics summary of a workspace's runs over a time range.

Percentiles are not portable SQL (SQLite has none), so the needed columns of the runs in
the range are pulled and aggregated here. That is fine up to a few hundred thousand runs
per range; the range is capped at MAX_RANGE_DAYS to keep it bounded. Summaries are cached
per workspace (core.cache); every write that changes a run's figures calls `runs_changed`.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core import cache
from agentplatform.core.errors import ValidationFailed
from agentplatform.models import Prompt, Run
from agentplatform.models.common import as_utc, utcnow
from agentplatform.models.metrics import (
    AgentMetrics,
    DayMetrics,
    MetricsSummary,
    PromptVersionMetrics,
    RunMetrics,
    TeamMetrics,
)
from agentplatform.services.permissions import Actor, require

DEFAULT_RANGE = timedelta(days=7)
MAX_RANGE_DAYS = 366
_LATENCY_STATUSES = frozenset({"succeeded", "failed", "timed_out"})
SUMMARY_CACHE_TTL_S = 60.0


def _scope(workspace_id: uuid.UUID) -> str:
    return f"runs:{workspace_id}"


async def runs_changed(workspace_id: uuid.UUID) -> None:
    """A run of the workspace was created, finished or renamed something it reports on."""
    await cache.invalidate(_scope(workspace_id))


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 1)


@dataclass
class _Bucket:
    """Accumulates runs into one RunMetrics."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    latencies: list[float] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, row: Any) -> None:
        self.counts[row.status] += 1
        if row.status in _LATENCY_STATUSES and row.latency_ms is not None:
            self.latencies.append(float(row.latency_ms))
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.cost_usd += row.cost_usd

    def fields(self) -> dict[str, Any]:
        c = self.counts
        decided = c["succeeded"] + c["failed"] + c["timed_out"]
        return {
            "runs": sum(c.values()),
            "succeeded": c["succeeded"],
            "failed": c["failed"],
            "cancelled": c["cancelled"],
            "timed_out": c["timed_out"],
            "active": c["queued"] + c["running"],
            "success_rate": round(c["succeeded"] / decided, 4) if decided else None,
            "latency_p50_ms": percentile(self.latencies, 50),
            "latency_p95_ms": percentile(self.latencies, 95),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The range asked for; an open start is the default range back from the current
    minute (so that repeated dashboard reads share one cache entry)."""
    end = as_utc(until) if until else utcnow()
    start = as_utc(since) if since else end.replace(second=0, microsecond=0) - DEFAULT_RANGE
    if start >= end:
        raise ValidationFailed("since must be before until.")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ValidationFailed(f"The range is too long: at most {MAX_RANGE_DAYS} days.")
    return start, end


async def _prompt_names(session: AsyncSession, ids: Iterable[str]) -> dict[str, str]:
    wanted = [uuid.UUID(i) for i in ids]
    if not wanted:
        return {}
    rows = await session.exec(select(Prompt.id, Prompt.name).where(col(Prompt.id).in_(wanted)))
    return {str(pid): name for pid, name in rows.all()}


async def metrics_summary(
    *,
    session: AsyncSession,
    actor: Actor,
    since: datetime | None = None,
    until: datetime | None = None,
) -> MetricsSummary:
    """Counts, success rate, p50/p95 latency, tokens and cost of runs created in the range."""
    require(actor, "metrics.read")
    start, end = _range(since, until)
    open_ended = until is None  # "until now": valid until the next run write
    key = f"{start.isoformat()}:{'now' if open_ended else end.isoformat()}"
    return await cache.cached(
        _scope(actor.workspace_id),
        key,
        ttl_s=SUMMARY_CACHE_TTL_S,
        load=lambda: _summarise(session, actor.workspace_id, start, end),
        encode=lambda summary: summary.model_dump_json().encode(),
        decode=MetricsSummary.model_validate_json,
    )


async def _summarise(
    session: AsyncSession, workspace_id: uuid.UUID, start: datetime, end: datetime
) -> MetricsSummary:
    """Aggregate the runs of one workspace created in [start, end)."""
    columns = (
        Run.status, Run.created_at, Run.latency_ms, Run.input_tokens, Run.output_tokens,
        Run.cost_usd, Run.kind, Run.agent_id, Run.team_id, Run.target_name, Run.prompt_versions,
    )  # fmt: skip
    query = select_columns(*(col(c) for c in columns)).where(
        col(Run.workspace_id) == workspace_id,
        col(Run.created_at) >= start,
        col(Run.created_at) < end,
    )
    connection = await session.connection()
    rows = (await connection.execute(query)).all()
    total = _Bucket()
    days: dict[date, _Bucket] = defaultdict(_Bucket)
    agents: dict[Any, _Bucket] = defaultdict(_Bucket)
    teams: dict[Any, _Bucket] = defaultdict(_Bucket)
    prompts: dict[tuple[str, int], _Bucket] = defaultdict(_Bucket)
    names: dict[Any, str] = {}
    for row in rows:
        total.add(row)
        days[row.created_at.date()].add(row)
        target = ("agent", row.agent_id) if row.kind == "agent" else ("team", row.team_id)
        (agents if row.kind == "agent" else teams)[target[1]].add(row)
        names[target] = row.target_name
        for prompt_id, version in (row.prompt_versions or {}).items():
            if isinstance(version, int):
                prompts[(str(prompt_id), version)].add(row)
    prompt_names = await _prompt_names(session, {p for p, _ in prompts})
    by_cost = sorted(agents.items(), key=lambda kv: -kv[1].cost_usd)
    return MetricsSummary(
        since=start,
        until=end,
        **total.fields(),
        per_day=[DayMetrics(day=d, **b.fields()) for d, b in sorted(days.items())],
        per_agent=[
            AgentMetrics(agent_id=k, name=names.get(("agent", k), "?"), **b.fields())
            for k, b in by_cost
        ],
        per_team=[
            TeamMetrics(team_id=k, name=names.get(("team", k), "?"), **b.fields())
            for k, b in sorted(teams.items(), key=lambda kv: -kv[1].cost_usd)
        ],
        per_prompt_version=[
            PromptVersionMetrics(
                prompt_id=uuid.UUID(p), prompt_name=prompt_names.get(p, p), version=v, **b.fields()
            )
            for (p, v), b in sorted(prompts.items())
        ],
    )


__all__ = ["RunMetrics", "metrics_summary", "percentile", "runs_changed"]
