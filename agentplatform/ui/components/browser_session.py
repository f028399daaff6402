"""The browser session's React side (``assets/browser_session.jsx``), wrapped for Reflex.

Sign-in, sign-up and sign-out go through the API (``/api/auth/session``), which keeps the
session in HttpOnly cookies; the page never sees a token. Python states read the session from
the cookie their websocket connected with (see ``ui/state/session.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import reflex as rx
from reflex.event import EventType, passthrough_event_spec
from reflex.vars.base import Var

BROWSER_SESSION_MODULE = "$/public/browser_session.jsx"


class SessionFailure(TypedDict):
    """Payload of ``on_failure``: the API's error (status 0: the server was not reached)."""

    status: int
    code: str
    message: str
    details: Any


class SessionForm(rx.Component):
    """A form that signs in or up through the API; use :func:`session_form`."""

    library = BROWSER_SESSION_MODULE
    tag = "SessionForm"

    action: Var[str]  # the API endpoint the fields are posted to, as JSON
    redirect_to: Var[str]  # where the page reloads after success (default: the same URL)
    on_failure: Annotated[rx.EventHandler, passthrough_event_spec(SessionFailure)]
    on_busy: Annotated[rx.EventHandler, passthrough_event_spec(bool)]


class SessionEnd(rx.Component):
    """Revokes the session and clears its cookies when rendered, then leaves the page."""

    library = BROWSER_SESSION_MODULE
    tag = "SessionEnd"

    redirect_to: Var[str]


class LegacyTokenSweep(rx.Component):
    """Removes (and revokes) tokens that earlier versions kept in localStorage."""

    library = BROWSER_SESSION_MODULE
    tag = "LegacyTokenSweep"


def session_form(
    *children: rx.Component,
    action: str,
    on_failure: EventType[SessionFailure],
    on_busy: EventType[bool],
    redirect_to: str | Var[str] | None = None,
    **props: Any,
) -> rx.Component:
    """A form posted to the session API; the page reloads when it succeeds."""
    if redirect_to is not None:
        props["redirect_to"] = redirect_to
    return SessionForm.create(
        *children, action=action, on_failure=on_failure, on_busy=on_busy, **props
    )


def session_end(redirect_to: str | Var[str]) -> rx.Component:
    """Render to sign the browser out (e.g. behind ``rx.cond(state.signing_out, …)``)."""
    return SessionEnd.create(redirect_to=redirect_to)


def legacy_token_sweep() -> rx.Component:
    """The app wrap for `rx.App(extra_app_wraps=...)`."""
    return LegacyTokenSweep.create()
