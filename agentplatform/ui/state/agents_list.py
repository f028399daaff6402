"""The agents grid: the workspace's agents as cards, searched by name and filtered by tag."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.agent import AgentPublic
from agentplatform.services import agent_catalog, agents, providers
from agentplatform.services.pagination import MAX_LIMIT, Page
from agentplatform.ui.state.session import SessionState, toast_error

ALL_TAGS = "__all__"  # the tag select's "every tag" value (a select item cannot be empty)


def updated_text(when: datetime, now: datetime | None = None) -> str:
    """'Updated 5 min ago' for recent changes, the date for older ones."""
    now = now or datetime.now(UTC)
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return "Updated just now"
    if seconds < 3600:
        return f"Updated {seconds // 60} min ago"
    if seconds < 86400:
        return f"Updated {seconds // 3600} h ago"
    if seconds < 7 * 86400:
        days = seconds // 86400
        return f"Updated {days} day{'s' if days > 1 else ''} ago"
    return f"Updated {when:%d %b %Y}"


def card_data(agent: AgentPublic, kinds: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """What an AgentCard shows; `kinds` maps provider ids to (name, kind)."""
    provider_name, kind = kinds.get(str(agent.provider_id), ("", "offline"))
    return {
        "id": str(agent.id),
        "name": agent.name,
        "description": agent.description,
        "model": agent.model,
        "provider": provider_name,
        "offline": agent.provider_id is None or kind == "offline",
        "tools": list(agent.tools),
        "tags": list(agent.tags),
        "updated": updated_text(agent.updated_at),
    }


class AgentsListState(SessionState):
    """Cards, the name search and the tag filter."""

    agents: list[dict[str, Any]] = []
    total: int = 0
    tag_options: list[str] = []
    search: str = ""
    tag: str = ALL_TAGS
    loading: bool = True

    @rx.var
    def can_write(self) -> bool:
        return "agents.write" in self.permissions

    @rx.var
    def filtered(self) -> bool:
        return self.search.strip() != "" or self.tag != ALL_TAGS

    async def _fetch(self) -> EventSpec | None:
        page = Page(
            limit=MAX_LIMIT,
            q=self.search.strip()[:100] or None,
            tag=None if self.tag == ALL_TAGS else self.tag,
        )
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                found = await agents.list_agents(session=db, actor=actor, page=page)
                known = await providers.list_providers(
                    session=db, actor=actor, page=Page(limit=MAX_LIMIT)
                )
                tags = await agent_catalog.agent_tags(session=db, actor=actor)
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        kinds = {str(p.id): (p.name, p.kind) for p in known.data}
        self.agents = [card_data(a, kinds) for a in found.data]
        self.total = found.count
        self.tag_options = tags
        if self.tag != ALL_TAGS and self.tag not in tags:
            self.tag = ALL_TAGS
        return None

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: the cards (the filters are kept from the last visit)."""
        return await self._fetch()

    @rx.event
    async def set_search(self, value: str) -> EventSpec | None:
        self.search = value
        return await self._fetch()

    @rx.event
    async def set_tag(self, value: str) -> EventSpec | None:
        self.tag = value
        return await self._fetch()

    @rx.event
    async def clear_filters(self) -> EventSpec | None:
        self.search, self.tag = "", ALL_TAGS
        return await self._fetch()
