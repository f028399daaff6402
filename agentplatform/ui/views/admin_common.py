"""Pieces every admin page shares: the no-access state, the table frame, error callouts."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state


def no_access(what: str) -> rx.Component:
    """A friendly dead end for a role that may not open this page."""
    return empty_state(
        "lock",
        "You don't have access to this page",
        f"Your role in this workspace cannot see {what}. Ask an owner or admin of the "
        "workspace if you need it.",
        rx.link(rx.button("Back to the dashboard", variant="soft"), href=routes.DASHBOARD),
    )


def error_callout(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle-alert", color_scheme="red", role="alert", width="100%"),
    )


def table_frame(*children: Any, label: str) -> rx.Component:
    """A full-width table that scrolls sideways on narrow screens instead of squeezing."""
    return rx.box(
        rx.table.root(*children, variant="surface", size="2", width="100%"),
        width="100%",
        overflow_x="auto",
        role="region",
        aria_label=label,
    )


def header_cell(text: str, **props: Any) -> rx.Component:
    return rx.table.column_header_cell(text, white_space="nowrap", **props)
