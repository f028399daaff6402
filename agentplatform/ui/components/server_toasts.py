"""Shows `ToastState`'s queued messages: a thin wrapper of ``assets/server_toasts.jsx``."""

from __future__ import annotations

from typing import Annotated, Any

import reflex as rx
from reflex.event import passthrough_event_spec
from reflex.vars.base import Var

from agentplatform.ui.state.toasts import ToastState


class ServerToasts(rx.Component):
    """Renders its children; shows each queued message once with the app's toaster."""

    library = "$/public/server_toasts.jsx"
    tag = "ServerToasts"

    items: Var[list[dict[str, Any]]]
    on_shown: Annotated[rx.EventHandler, passthrough_event_spec(list[str])]


def server_toasts() -> rx.Component:
    """The app wrap for `rx.App(extra_app_wraps=...)`."""
    return ServerToasts.create(items=ToastState.items, on_shown=ToastState.shown)
