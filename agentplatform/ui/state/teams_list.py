"""The teams list: search over the workspace's teams."""

from __future__ import annotations

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.services import teams
from agentplatform.services.pagination import MAX_LIMIT, Page
from agentplatform.ui import routes
from agentplatform.ui.components.team_panel import TeamRow, team_row
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast


class TeamsListState(SessionState):
    """The teams shown on /teams and the search that narrows them."""

    team_rows: list[TeamRow] = []
    total: int = 0
    search: str = ""
    loading: bool = True
    searched: str = ""

    @rx.var
    def count_label(self) -> str:
        if self.searched:
            return f"{self.total} match{'' if self.total == 1 else 'es'} for “{self.searched}”"
        return f"{self.total} team{'' if self.total == 1 else 's'} in this workspace"

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: every team of the workspace (up to 200), by name; the search starts empty."""
        self.search = ""
        return await self._refresh()

    async def _refresh(self) -> EventSpec | None:
        query = self.search.strip()
        try:
            page = Page(limit=MAX_LIMIT, q=query or None)
        except ValidationError:
            self.loading = False
            return toast.error("Search with up to 100 printable characters.")
        try:
            async with session_scope() as db:
                result = await teams.list_teams(session=db, actor=await self.actor(db), page=page)
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        self.team_rows = [
            team_row(t.model_dump(mode="json"), routes.team(str(t.id))) for t in result.data
        ]
        self.total = result.count
        self.searched = query
        return None

    @rx.event
    async def set_search(self, value: str) -> EventSpec | None:
        self.search = value
        return await self._refresh()

    @rx.event
    async def clear_search(self) -> EventSpec | None:
        return await self.set_search("")
