"""The audit log: who changed what, filtered by action, resource type and time, paged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.audit import AuditEventPublic
from agentplatform.services import audit_log
from agentplatform.ui.state.admin_members import when_text
from agentplatform.ui.state.session import SessionState, toast_error

ANY = "__any__"  # a select item cannot be empty
PAGE_SIZE = 25
ACTIONS = [
    "member.add", "member.role_change", "member.remove", "api_key.create", "api_key.revoke",
    "provider.create", "provider.update", "provider.delete", "agent.create", "agent.update",
    "agent.delete", "team.create", "team.update", "team.delete", "prompt.create",
    "prompt.update", "prompt.delete", "prompt.version_create", "prompt.label_move",
    "prompt.label_delete", "run.cancel", "workspace.create", "workspace.update",
]  # fmt: skip
RESOURCE_TYPES = [
    "membership", "api_key", "provider", "agent", "team", "prompt", "run", "workspace",
]  # fmt: skip
RANGES = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7),
          "30d": timedelta(days=30)}  # fmt: skip


def _json(value: dict[str, Any] | None) -> str:
    return "—" if value is None else json.dumps(value, indent=2, sort_keys=True, default=str)


def _row(event: AuditEventPublic) -> dict[str, Any]:
    return {
        "at": when_text(event.at),
        "actor": event.actor_label or "system",
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id or "",
        "before": _json(event.before),
        "after": _json(event.after),
    }


class AdminAuditState(SessionState):
    """One page of events and the filters that chose it."""

    events: list[dict[str, Any]] = []
    total: int = 0
    offset: int = 0
    loading: bool = True
    action: str = ANY
    resource_type: str = ANY
    time_range: str = ANY
    detail: dict[str, Any] = {}
    detail_open: bool = False

    @rx.var
    def can_read(self) -> bool:
        return "audit.read" in self.permissions

    @rx.var
    def filtered(self) -> bool:
        return self.action != ANY or self.resource_type != ANY or self.time_range != ANY

    @rx.var
    def range_text(self) -> str:
        if self.total == 0:
            return "No events"
        last = min(self.offset + PAGE_SIZE, self.total)
        return f"{self.offset + 1}-{last} of {self.total}"

    @rx.var
    def has_previous(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        return self.offset + PAGE_SIZE < self.total

    async def _fetch(self) -> EventSpec | None:
        since = None
        if self.time_range in RANGES:
            since = datetime.now(UTC) - RANGES[self.time_range]
        try:
            async with session_scope() as db:
                found = await audit_log.list_audit_events(
                    session=db, actor=await self.actor(db), limit=PAGE_SIZE, offset=self.offset,
                    action=None if self.action == ANY else self.action,
                    resource_type=None if self.resource_type == ANY else self.resource_type,
                    since=since,
                )  # fmt: skip
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        self.events = [_row(e) for e in found.data]
        self.total = found.count
        return None

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: the newest events, if this role may read them."""
        if not self.can_read:
            self.loading = False
            return None
        self.loading, self.offset = True, 0
        return await self._fetch()

    @rx.event
    async def set_action(self, value: str) -> EventSpec | None:
        self.action, self.offset = value, 0
        return await self._fetch()

    @rx.event
    async def set_resource_type(self, value: str) -> EventSpec | None:
        self.resource_type, self.offset = value, 0
        return await self._fetch()

    @rx.event
    async def set_time_range(self, value: str) -> EventSpec | None:
        self.time_range, self.offset = value, 0
        return await self._fetch()

    @rx.event
    async def clear_filters(self) -> EventSpec | None:
        self.action = self.resource_type = self.time_range = ANY
        self.offset = 0
        return await self._fetch()

    @rx.event
    async def next_page(self) -> EventSpec | None:
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
        return await self._fetch()

    @rx.event
    async def previous_page(self) -> EventSpec | None:
        self.offset = max(0, self.offset - PAGE_SIZE)
        return await self._fetch()

    @rx.event
    def show(self, index: int) -> None:
        """Open one event's before/after side by side."""
        if 0 <= index < len(self.events):
            self.detail, self.detail_open = self.events[index], True

    @rx.event
    def set_detail_open(self, value: bool) -> None:
        self.detail_open = value
