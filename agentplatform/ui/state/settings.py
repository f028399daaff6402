"""The user's own settings: name, persona, password."""

from __future__ import annotations

from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.workspace import UserUpdateMe
from agentplatform.services import users
from agentplatform.ui import routes
from agentplatform.ui.client_address import browser_address
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast


class SettingsState(SessionState):
    """Profile and password forms."""

    profile_error: str = ""
    password_error: str = ""
    saving: bool = False

    @rx.event
    async def save_profile(self, form: dict[str, Any]) -> EventSpec | None:
        try:
            data = UserUpdateMe(full_name=form.get("full_name", ""), persona=form.get("persona"))
        except ValidationError as error:
            self.profile_error = str(error.errors()[0]["msg"])
            return None
        try:
            async with session_scope() as db:
                me = await users.update_me(session=db, actor=await self.actor(db), data=data)
        except Unauthenticated:
            return None
        except AppError as error:
            self.profile_error = error.message
            return toast_error(error)
        self.profile_error = ""
        self.full_name = me.full_name
        self.persona = me.persona or ""
        return toast.success("Profile saved.")

    @rx.event
    async def change_password(self, form: dict[str, Any]) -> EventSpec | None:
        if form.get("new_password") != form.get("confirm_password"):
            self.password_error = "The new passwords don't match."
            return None
        data = UserUpdateMe(
            current_password=form.get("current_password", ""),
            new_password=form.get("new_password", ""),
        )
        try:
            async with session_scope() as db:
                await users.update_me(
                    session=db,
                    actor=await self.actor(db),
                    data=data,
                    client_address=browser_address(self.router),
                )
        except Unauthenticated:
            return None
        except AppError as error:
            self.password_error = error.message
            return None
        self.password_error = ""
        # A new password signs out every session, this one included: sign in again.
        await self._end_session(f"{routes.LOGIN}?signed_out=password")
        return None
