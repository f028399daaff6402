"""The signed-in session: the acting user and workspace, from the browser's session cookie.

The session lives in an HttpOnly cookie that the API sets at sign-in (page scripts never see
it); the browser sends it with the handshake of this page's websocket, and every handler reads
it from there. Feature states subclass `SessionState`, so every handler can call
`await self.actor(db)` and get the same `Actor` the REST API builds from the same cookie.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.core.session_cookies import session_token_from_handshake
from agentplatform.services import auth, users, workspaces
from agentplatform.services.identity import actor_from_session
from agentplatform.services.permissions import MATRIX, Actor
from agentplatform.ui import routes
from agentplatform.ui.state.toasts import toast

PERSONA_LANDING = {
    "builder": routes.AGENTS,
    "prompt_engineer": routes.PROMPTS,
    "operator": routes.RUNS,
    "admin": routes.DASHBOARD,
}


SIGNED_OUT = f"{routes.LOGIN}?signed_out=1"


def toast_error(error: AppError) -> EventSpec:
    """The one way a service error reaches the user in the UI."""
    return toast.error(error.message, duration=6000, close_button=True)


def safe_next(target: str) -> str:
    """Only same-site paths: never redirect to another origin after sign-in."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


class SessionState(rx.State):
    """Who is signed in, in which workspace, with which permissions."""

    workspace_ref: str = rx.LocalStorage("", name="ap_workspace", sync=True)
    signing_out: bool = False  # renders the component that clears the session cookies
    sign_out_target: str = SIGNED_OUT

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

    def _session_token(self) -> str | None:
        """The session cookie this page's websocket connected with (never sent to the page)."""
        headers = self.router.headers
        return session_token_from_handshake(
            {**headers.raw_headers, "cookie": headers.cookie, "origin": headers.origin}
        )

    async def actor(self, db: AsyncSession) -> Actor:
        """The acting user, checked against the database on every call (a revoked session
        stops working at once)."""
        token = self._session_token()
        if token is None:
            raise Unauthenticated("Sign in to continue.")
        return await actor_from_session(
            session=db, token=token, workspace_ref=self.workspace_ref or None
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
        self.signing_out = False
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

    async def _end_session(self, target: str) -> None:
        """Revoke the session here; the page then clears its cookies (`session_end`)."""
        token = self._session_token()
        if token is not None:
            async with session_scope() as db:
                await auth.logout(session=db, refresh_token=token)
        self._clear()
        self.workspace_ref = ""
        self.sign_out_target = target
        self.signing_out = True

    @rx.event
    async def logout(self) -> None:
        """Sign out: revoke the session on the server and clear its cookies in the browser."""
        await self._end_session(SIGNED_OUT)

    @rx.event
    async def redirect_if_signed_in(self) -> EventSpec | None:
        """Public pages send a signed-in visitor on: to `next` (sign-in page) or their landing."""
        return await self._redirect_if_signed_in()

    async def _redirect_if_signed_in(self) -> EventSpec | None:
        self.signing_out = False
        if self._session_token() is None:
            return None
        try:
            async with session_scope() as db:
                await self._load_profile(db)
        except AppError:
            return None
        if not self.onboarded:
            return rx.redirect(routes.ONBOARDING)
        target = safe_next(self.router.url.query_parameters.get("next", ""))
        return rx.redirect(target or self.landing_route)
