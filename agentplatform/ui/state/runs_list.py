"""The run history: a filtered, paginated table of the workspace's runs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.common import utcnow
from agentplatform.models.run import RunPublic
from agentplatform.services import agents, runs, teams, workspaces
from agentplatform.services.pagination import Page
from agentplatform.services.run_queries import RunFilters
from agentplatform.ui import routes
from agentplatform.ui.components.run_step import format_cost, format_ms, format_time
from agentplatform.ui.state.session import SessionState, toast_error

ALL = "all"
PAGE_SIZE = 20
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "timed_out")
RANGES: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    ALL: None,
}
FILTERS = ("status", "agent", "team", "who", "period")


def _row(run: RunPublic, people: dict[str, str]) -> dict[str, Any]:
    data = run.model_dump(mode="json")
    data.update(
        href=routes.run(str(run.id)),
        created=format_time(run.created_at),
        latency=format_ms(run.latency_ms),
        cost=format_cost(run.cost_usd),
        tokens=f"{run.input_tokens + run.output_tokens:,}",
        who=people.get(str(run.created_by), "—") if run.created_by else "API",
        preview=" ".join(run.input.split())[:90],
    )
    return data


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value and value != ALL else None
    except ValueError:
        return None


class RunsListState(SessionState):
    """Filters, one page of runs, and the options of the filter menus."""

    status: str = ALL
    agent: str = ALL
    team: str = ALL
    who: str = ALL
    period: str = ALL
    offset: int = 0
    rows: list[dict[str, Any]] = []
    count: int = 0
    loading: bool = True
    agent_options: list[dict[str, str]] = []
    team_options: list[dict[str, str]] = []
    people: list[dict[str, str]] = []

    @rx.var
    def page_label(self) -> str:
        if not self.count:
            return "No runs"
        return f"{self.offset + 1}\u2013{min(self.offset + PAGE_SIZE, self.count)} of {self.count}"

    @rx.var
    def has_prev(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        return self.offset + PAGE_SIZE < self.count

    @rx.var
    def filtered(self) -> bool:
        chosen = (self.status, self.agent, self.team, self.who, self.period)
        return any(value != ALL for value in chosen)

    @rx.event
    async def load(self) -> EventSpec | None:
        """Filter menus, filters from the query string (`?status=failed`), the first page."""
        query = self.router.url.query_parameters
        for name in FILTERS:
            self._set_filter(name, str(query.get(name, ALL)))
        self.offset = 0
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                page = Page(limit=200)
                found_agents = await agents.list_agents(session=db, actor=actor, page=page)
                found_teams = await teams.list_teams(session=db, actor=actor, page=page)
                members = await workspaces.list_members(session=db, actor=actor)
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        self.agent_options = [{"id": str(a.id), "name": a.name} for a in found_agents.data]
        self.team_options = [{"id": str(t.id), "name": t.name} for t in found_teams.data]
        self.people = [{"id": str(m.user_id), "name": m.full_name or m.email} for m in members.data]
        return await self._fetch()

    def _set_filter(self, name: str, value: str) -> None:
        valid = {"status": STATUSES, "period": tuple(RANGES)}.get(name)
        if valid is not None and value not in valid:
            value = ALL
        if name in ("agent", "team", "who") and _uuid(value) is None:
            value = ALL
        setattr(self, name, value)

    async def _fetch(self) -> EventSpec | None:
        self.loading = True
        span = RANGES.get(self.period)
        filters = RunFilters(
            status=None if self.status == ALL else self.status,
            agent_id=_uuid(self.agent),
            team_id=_uuid(self.team),
            created_by=_uuid(self.who),
            since=utcnow() - span if span else None,
        )
        try:
            async with session_scope() as db:
                found = await runs.list_runs(
                    session=db,
                    actor=await self.actor(db),
                    filters=filters,
                    limit=PAGE_SIZE,
                    offset=self.offset,
                )
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        names = {p["id"]: p["name"] for p in self.people}
        self.rows = [_row(r, names) for r in found.data]
        self.count = found.count
        return None

    @rx.event
    async def set_filter(self, name: str, value: str) -> EventSpec | None:
        """Change one filter and show its first page."""
        if name not in FILTERS:
            return None
        self._set_filter(name, value)
        if name == "agent" and self.agent != ALL:
            self.team = ALL
        if name == "team" and self.team != ALL:
            self.agent = ALL
        self.offset = 0
        return await self._fetch()

    @rx.event
    async def clear_filters(self) -> EventSpec | None:
        for name in FILTERS:
            setattr(self, name, ALL)
        self.offset = 0
        return await self._fetch()

    @rx.event
    async def next_page(self) -> EventSpec | None:
        if self.offset + PAGE_SIZE < self.count:
            self.offset += PAGE_SIZE
        return await self._fetch()

    @rx.event
    async def prev_page(self) -> EventSpec | None:
        self.offset = max(0, self.offset - PAGE_SIZE)
        return await self._fetch()

    @rx.event
    async def refresh(self) -> EventSpec | None:
        return await self._fetch()
