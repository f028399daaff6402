"""API keys: the list, creating one (its secret shown once) and revoking."""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.workspace import ApiKeyCreate, ApiKeyPublic
from agentplatform.services import api_keys
from agentplatform.services.permissions import ROLE_RANK
from agentplatform.ui.state.admin_members import when_text
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast


def _row(key: ApiKeyPublic) -> dict[str, Any]:
    return {
        "name": key.name,
        "prefix": f"{key.prefix}…",
        "role": key.role,
        "created": when_text(key.created_at),
        "last_used": when_text(key.last_used_at) or "Never",
        "revoked": when_text(key.revoked_at),
    }


class AdminApiKeysState(SessionState):
    """Keys of the workspace; the new secret lives here only until its dialog closes."""

    keys: list[dict[str, Any]] = []
    loading: bool = True
    create_open: bool = False
    new_name: str = ""
    new_role: str = "builder"
    name_error: str = ""
    creating: bool = False
    secret: str = ""
    secret_name: str = ""
    revoke_open: bool = False
    revoke_name: str = ""
    _key_ids: dict[str, str] = {}

    @rx.var
    def can_manage(self) -> bool:
        return "api_keys.manage" in self.permissions

    @rx.var
    def role_choices(self) -> list[str]:
        """A key's role cannot exceed its creator's."""
        mine = ROLE_RANK.get(self.role, -1)
        return [r for r, rank in sorted(ROLE_RANK.items(), key=lambda x: -x[1]) if rank <= mine]

    @rx.var
    def secret_open(self) -> bool:
        return self.secret != ""

    async def _fetch(self) -> EventSpec | None:
        try:
            async with session_scope() as db:
                found = await api_keys.list_api_keys(session=db, actor=await self.actor(db))
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        self.keys = [_row(k) for k in found.data]
        self._key_ids = {k.name: str(k.id) for k in found.data}
        return None

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: the keys, if this role may manage them."""
        self.secret = ""
        if not self.can_manage:
            self.loading = False
            return None
        self.loading = True
        return await self._fetch()

    @rx.event
    def set_create_open(self, value: bool) -> None:
        self.create_open = value
        if value:
            self.new_name, self.new_role, self.name_error = "", "builder", ""

    @rx.event
    def set_new_name(self, value: str) -> None:
        self.new_name, self.name_error = value, ""

    @rx.event
    def set_new_role(self, value: str) -> None:
        self.new_role = value

    @rx.event
    async def create(self) -> EventSpec | None:
        """Create the key, then show its secret once."""
        try:
            data = ApiKeyCreate(name=self.new_name, role=self.new_role)
        except ValidationError as error:
            locs = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            self.name_error = (
                "Give the key a name (up to 100 characters)." if "name" in locs else "Pick a role."
            )
            return None
        self.creating = True
        try:
            async with session_scope() as db:
                created = await api_keys.create_api_key(
                    session=db, actor=await self.actor(db), data=data
                )
        except Unauthenticated:
            return None
        except AppError as error:
            self.name_error = error.message
            return None
        finally:
            self.creating = False
        self.create_open = False
        self.secret, self.secret_name = created.secret, created.name
        await self._fetch()
        return toast.success(f"API key '{created.name}' created.")

    @rx.event
    def secret_copied(self) -> EventSpec:
        """The page copied the secret (`rx.set_clipboard` runs in the page, not from here)."""
        return toast.success("Secret copied to the clipboard.")

    @rx.event
    def close_secret(self, value: bool = False) -> None:
        """Closing the dialog forgets the secret for good."""
        if not value:
            self.secret, self.secret_name = "", ""

    @rx.event
    def ask_revoke(self, name: str) -> None:
        self.revoke_name, self.revoke_open = name, True

    @rx.event
    def set_revoke_open(self, value: bool) -> None:
        self.revoke_open = value

    @rx.event
    async def revoke(self) -> EventSpec | None:
        """Revoke the key asked about: it stops working on its next request."""
        key_id = self._key_ids.get(self.revoke_name)
        self.revoke_open = False
        if key_id is None:
            return None
        try:
            async with session_scope() as db:
                await api_keys.revoke_api_key(
                    session=db, actor=await self.actor(db), key_id=uuid.UUID(key_id)
                )
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        await self._fetch()
        return toast.success(f"API key '{self.revoke_name}' revoked.")
