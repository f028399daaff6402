"""The signed-in session: tokens kept in the browser, the acting user and workspace.

Feature states subclass `SessionState`, so every handler can call `await self.actor(db)`
and get the same `Actor` the REST API would build from the same token.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.services import auth, users, workspaces
from agentplatform.services.identity import actor_from_access_token
from agentplatform.services.permissions import MATRIX, Actor
from agentplatform.ui import routes
from agentplatform.ui.state.toasts import toast

PERSONA_LANDING = {
    "builder": routes.AGENTS,
    "prompt_engineer": routes.PROMPTS,
    "operator": routes.RUNS,
    "admin": routes.DASHBOARD,
}


def toast_error(error: AppError) -> EventSpec:
    """The one way a service error reaches the user in the UI."""
    return toast.error(error.message, duration=6000, close_button=True)


class SessionState(rx.State):
    """Who is signed in, in which workspace, with which permissions."""

    access_token: str = rx.LocalStorage("", name="ap_access", sync=True)
    refresh_token: str = rx.LocalStorage("", name="ap_refresh", sync=True)
    workspace_ref: str = rx.LocalStorage("", name="ap_workspace", sync=True)

    user_id: str = ""
    email: str = ""
    full_name: str = ""
    persona: str = ""
    onboarded: bool = True
    role: str = ""
    workspace_id: str = ""
    workspace_name: str = ""
    workspaces: list[dict[str, str]] = []
    permissions: list[str] = []

    @rx.var
    def signed_in(self) -> bool:
        return self.user_id != ""

    @rx.var
    def display_name(self) -> str:
        return self.full_name or self.email

    @rx.var
    def initials(self) -> str:
        source = self.full_name or self.email or "?"
        parts = [p for p in source.replace("@", " ").split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    @rx.var
    def landing_route(self) -> str:
        return PERSONA_LANDING.get(self.persona, routes.DASHBOARD)

    async def actor(self, db: AsyncSession) -> Actor:
        """The acting user; an expired access token is renewed with the refresh token."""
        if not self.access_token:
            raise Unauthenticated("Sign in to continue.")
        workspace_ref = self.workspace_ref or None
        try:
            return await actor_from_access_token(
                session=db, token=self.access_token, workspace_ref=workspace_ref
            )
        except Unauthenticated:
            if not self.refresh_token:
                raise
        tokens = await auth.refresh(session=db, refresh_token=self.refresh_token)
        self.access_token = tokens.access_token
        self.refresh_token = tokens.refresh_token
        return await actor_from_access_token(
            session=db, token=self.access_token, workspace_ref=workspace_ref
        )

    async def _load_profile(self, db: AsyncSession) -> Actor:
        actor = await self.actor(db)
        me = await users.get_me(session=db, actor=actor)
        mine = await workspaces.list_my_workspaces(session=db, actor=actor)
        self.user_id = str(me.id)
        self.email = me.email
        self.full_name = me.full_name
        self.persona = me.persona or ""
        self.onboarded = me.onboarded
        self.role = actor.role
        self.workspace_id = str(actor.workspace_id)
        self.workspaces = [
            {"id": str(w.id), "name": w.name, "slug": w.slug, "role": w.role or ""}
            for w in mine.data
        ]
        self.workspace_name = next(
            (w["name"] for w in self.workspaces if w["id"] == self.workspace_id), ""
        )
        self.permissions = sorted(MATRIX.get(actor.role, frozenset()))
        return actor

    def _clear(self) -> None:
        self.access_token = ""
        self.refresh_token = ""
        self.user_id = ""
        self.email = ""
        self.full_name = ""
        self.persona = ""
        self.role = ""
        self.workspace_id = ""
        self.workspace_name = ""
        self.workspaces = []
        self.permissions = []

    def _login_redirect(self) -> EventSpec:
        target = self.router.url.path or "/"
        query = self.router.url.query
        if query:
            target = f"{target}?{query}"
        return rx.redirect(f"{routes.LOGIN}?next={quote(target, safe='')}")

    @rx.event
    async def guard(self) -> EventSpec | None:
        """`on_load` of every private page: signed out → login, then back here."""
        try:
            async with session_scope() as db:
                await self._load_profile(db)
        except Unauthenticated:
            self._clear()
            return self._login_redirect()
        except AppError as error:
            if self.workspace_ref:
                self.workspace_ref = ""
                return rx.redirect(self.router.url.path or routes.DASHBOARD)
            return toast_error(error)
        if not self.onboarded and self.router.url.path != routes.ONBOARDING:
            return rx.redirect(routes.ONBOARDING)
        return None

    @rx.event
    async def switch_workspace(self, workspace_id: str) -> EventSpec:
        """Act in another of my workspaces from now on."""
        try:
            uuid.UUID(workspace_id)
        except ValueError:
            return toast.error("Choose one of your workspaces.")
        self.workspace_ref = workspace_id
        return rx.redirect(self.router.url.path or routes.DASHBOARD)

    @rx.event
    async def logout(self) -> EventSpec:
        """Revoke the refresh token on the server and forget both tokens here."""
        if self.refresh_token:
            async with session_scope() as db:
                await auth.logout(session=db, refresh_token=self.refresh_token)
        self._clear()
        self.workspace_ref = ""
        return rx.redirect(f"{routes.LOGIN}?signed_out=1")

    @rx.event
    async def redirect_if_signed_in(self) -> EventSpec | None:
        """Public pages send a signed-in visitor straight to their landing page."""
        if not self.access_token and not self.refresh_token:
            return None
        try:
            async with session_scope() as db:
                await self._load_profile(db)
        except AppError:
            return None
        return rx.redirect(self.landing_route if self.onboarded else routes.ONBOARDING)
