"""Workspace members: the table, adding by email, changing roles inline, removing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.workspace import MemberAdd, MemberPublic, MemberUpdate
from agentplatform.services import workspaces
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast


def when_text(moment: datetime | None) -> str:
    """A timestamp as the admin tables show it (UTC, minute precision)."""
    return "" if moment is None else f"{moment:%d %b %Y, %H:%M} UTC"


def _row(member: MemberPublic) -> dict[str, Any]:
    return {
        "email": member.email,
        "name": member.full_name or member.email.split("@")[0],
        "role": member.role,
        "joined": f"{member.created_at:%d %b %Y}",
    }


class AdminMembersState(SessionState):
    """Who is in the workspace and with which role."""

    members: list[dict[str, Any]] = []
    loading: bool = True
    add_email: str = ""
    add_role: str = "viewer"
    add_error: str = ""
    adding: bool = False
    remove_open: bool = False
    remove_email: str = ""
    remove_error: str = ""
    _user_ids: dict[str, str] = {}

    @rx.var
    def can_read(self) -> bool:
        return "members.read" in self.permissions

    @rx.var
    def can_manage(self) -> bool:
        return "members.manage" in self.permissions

    @rx.var
    def role_choices(self) -> list[str]:
        """Only an owner may grant the owner role."""
        roles = ["admin", "builder", "operator", "viewer"]
        return ["owner", *roles] if self.role == "owner" else roles

    async def _fetch(self) -> EventSpec | None:
        try:
            async with session_scope() as db:
                found = await workspaces.list_members(session=db, actor=await self.actor(db))
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        self.members = [_row(m) for m in found.data]
        self._user_ids = {m.email: str(m.user_id) for m in found.data}
        return None

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: the members, if this role may see them."""
        if not self.can_read:
            self.loading = False
            return None
        self.loading = True
        return await self._fetch()

    @rx.event
    def set_add_email(self, value: str) -> None:
        self.add_email = value
        self.add_error = ""

    @rx.event
    def set_add_role(self, value: str) -> None:
        self.add_role = value

    @rx.event
    async def add(self) -> EventSpec | None:
        """Give a registered account a role here."""
        try:
            data = MemberAdd(email=self.add_email.strip(), role=self.add_role)
        except ValidationError as error:
            fields = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            self.add_error = (
                "Enter a valid email address." if "email" in fields else "Choose a role."
            )
            return None
        self.adding = True
        try:
            async with session_scope() as db:
                added = await workspaces.add_member(
                    session=db, actor=await self.actor(db), data=data
                )
        except Unauthenticated:
            return None
        except AppError as error:
            self.add_error = error.message
            return None
        finally:
            self.adding = False
        self.add_email, self.add_error = "", ""
        await self._fetch()
        return toast.success(f"{added.email} joined as {added.role}.")

    @rx.event
    async def change_role(self, email: str, role: str) -> EventSpec | None:
        """Inline role select: applied at once; the service guards the owner rules."""
        user_id = self._user_ids.get(email)
        if user_id is None:
            return toast.error("That member is no longer here: reload the page.")
        try:
            data = MemberUpdate(role=role)
            async with session_scope() as db:
                await workspaces.change_role(
                    session=db, actor=await self.actor(db), user_id=uuid.UUID(user_id), data=data
                )
        except Unauthenticated:
            return None
        except ValidationError:
            return toast.error("Choose one of the listed roles.")
        except AppError as error:
            await self._fetch()  # put the select back to the real role
            return toast_error(error)
        await self._fetch()
        return toast.success(f"{email} is now {role}.")

    @rx.event
    def ask_remove(self, email: str) -> None:
        self.remove_email, self.remove_error, self.remove_open = email, "", True

    @rx.event
    def set_remove_open(self, value: bool) -> None:
        self.remove_open = value
        if not value:
            self.remove_error = ""

    @rx.event
    async def remove(self) -> EventSpec | None:
        """Remove the member asked about; their API keys here are revoked."""
        user_id = self._user_ids.get(self.remove_email)
        if user_id is None:
            self.remove_open = False
            return None
        try:
            async with session_scope() as db:
                await workspaces.remove_member(
                    session=db, actor=await self.actor(db), user_id=uuid.UUID(user_id)
                )
        except Unauthenticated:
            return None
        except AppError as error:
            self.remove_error = error.message
            return None
        self.remove_open = False
        await self._fetch()
        return toast.success(f"{self.remove_email} was removed from the workspace.")
