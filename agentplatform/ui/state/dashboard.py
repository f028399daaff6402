"""The dashboard: what runs cost and how they perform over 24 hours, 7 or 30 days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.common import utcnow
from agentplatform.models.metrics import MetricsSummary, RunMetrics
from agentplatform.services import runs
from agentplatform.services.run_metrics import metrics_summary
from agentplatform.services.run_queries import RunFilters
from agentplatform.ui import routes
from agentplatform.ui.components.run_step import format_cost, format_ms, format_time, format_tokens
from agentplatform.ui.state.session import SessionState, toast_error

PERIODS = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
SECTION_ORDER = {
    "operator": ["activity", "failures", "cost", "agents", "teams", "prompts"],
    "builder": ["agents", "teams", "activity", "failures", "cost", "prompts"],
    "prompt_engineer": ["prompts", "activity", "agents", "teams", "failures", "cost"],
    "admin": ["cost", "activity", "failures", "agents", "teams", "prompts"],
}
DEFAULT_ORDER = SECTION_ORDER["operator"]
TOP = 8


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _metrics(m: RunMetrics) -> dict[str, str]:
    return {
        "runs": str(m.runs),
        "success": _rate(m.success_rate),
        "p50": format_ms(m.latency_p50_ms),
        "p95": format_ms(m.latency_p95_ms),
        "tokens": format_tokens(m.input_tokens + m.output_tokens),
        "cost": format_cost(m.cost_usd),
    }


def _days(summary: MetricsSummary) -> list[dict[str, Any]]:
    """One entry per UTC day of the range, empty days included, for the charts."""
    found = {d.day: d for d in summary.per_day}
    first, last = summary.since.date(), summary.until.date()
    out = []
    for offset in range((last - first).days + 1):
        day: date = first + timedelta(days=offset)
        m = found.get(day)
        out.append(
            {
                "day": day.strftime("%b %d"),
                "succeeded": m.succeeded if m else 0,
                "failed": m.failed if m else 0,
                "timed_out": m.timed_out if m else 0,
                "cancelled": m.cancelled if m else 0,
                "active": m.active if m else 0,
                "cost": round(m.cost_usd, 6) if m else 0.0,
            }
        )
    return out


class DashboardState(SessionState):
    """The summary of one period, shaped for cards, charts and tables."""

    period: str = "7d"
    loading: bool = True
    cards: dict[str, str] = {}
    runs_in_period: int = 0
    runs_ever: int = 0
    per_day: list[dict[str, Any]] = []
    top_agents: list[dict[str, str]] = []
    top_teams: list[dict[str, str]] = []
    prompt_rows: list[dict[str, str]] = []
    failures: list[dict[str, str]] = []

    @rx.var
    def sections(self) -> list[str]:
        """The blocks below the cards, in the order this persona reads them."""
        return SECTION_ORDER.get(self.persona, DEFAULT_ORDER)

    @rx.event
    async def load(self) -> EventSpec | None:
        self.loading = True
        span = PERIODS.get(self.period, PERIODS["7d"])
        since = utcnow().replace(second=0, microsecond=0) - span  # one cache entry a minute
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                summary = await metrics_summary(session=db, actor=actor, since=since)
                ever = await runs.list_runs(session=db, actor=actor, limit=1)
                failed = [
                    run
                    for status in ("failed", "timed_out")
                    for run in (
                        await runs.list_runs(
                            session=db,
                            actor=actor,
                            filters=RunFilters(status=status, since=since),
                            limit=6,
                        )
                    ).data
                ]
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        cards = _metrics(summary)
        cards.update(
            tokens_split=f"{summary.input_tokens:,} in · {summary.output_tokens:,} out",
            outcome=f"{summary.succeeded} succeeded · {summary.failed + summary.timed_out} failed",
            active=f"{summary.active} in progress" if summary.active else "none in progress",
        )
        self.cards = cards
        self.runs_in_period, self.runs_ever = summary.runs, ever.count
        self.per_day = _days(summary)
        by_runs = sorted(summary.per_agent, key=lambda a: (-a.runs, a.name.lower()))[:TOP]
        self.top_agents = [
            {**_metrics(a), "name": a.name, "href": routes.agent(str(a.agent_id))}
            if a.agent_id
            else {**_metrics(a), "name": f"{a.name} (deleted)", "href": ""}
            for a in by_runs
        ]
        by_team = sorted(summary.per_team, key=lambda t: (-t.runs, t.name.lower()))[:TOP]
        self.top_teams = [
            {
                **_metrics(t),
                "name": t.name,
                "href": routes.team(str(t.team_id)) if t.team_id else "",
            }
            for t in by_team
        ]
        self.prompt_rows = [
            {
                **_metrics(p),
                "name": p.prompt_name,
                "version": f"v{p.version}",
                "href": routes.prompt(str(p.prompt_id)),
            }
            for p in summary.per_prompt_version
        ]
        failed.sort(key=lambda r: r.created_at, reverse=True)
        self.failures = [
            {
                "href": routes.run(str(r.id)),
                "target": r.target_name,
                "status": r.status,
                "when": format_time(r.created_at),
                "error": " ".join((r.error or r.stopped_reason or "").split())[:140],
            }
            for r in failed[:6]
        ]
        return None

    @rx.event
    async def set_period(self, value: str | list[str]) -> EventSpec | None:
        chosen = value if isinstance(value, str) else (value[0] if value else "7d")
        if chosen in PERIODS and chosen != self.period:
            self.period = chosen
            return await self.load()
        return None
