"""The teams list: search, the panels, and what shows when there is nothing to show."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state, loading_state, page_header
from agentplatform.ui.components.team_panel import team_panel
from agentplatform.ui.state.session import SessionState
from agentplatform.ui.state.teams_list import TeamsListState

CAN_WRITE = SessionState.permissions.contains("teams.write")


def _create_button(label: str = "New team") -> rx.Component:
    return rx.cond(
        CAN_WRITE,
        rx.link(rx.button(rx.icon("plus", size=16), label), href=routes.TEAM_NEW,
                underline="none"),
    )  # fmt: skip


def _search() -> rx.Component:
    return rx.hstack(
        rx.el.label(rx.text("Search teams", size="2", weight="medium"), html_for="team-search"),
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            id="team-search", placeholder="Name contains…", value=TeamsListState.search,
            on_change=TeamsListState.set_search.debounce(300), type="search",
            width=rx.breakpoints(initial="100%", sm="20em"),
        ),
        rx.spacer(),
        rx.text(TeamsListState.count_label, size="2", color_scheme="gray", aria_live="polite"),
        align="center", spacing="3", width="100%", wrap="wrap", padding_bottom="1em",
    )  # fmt: skip


def _empty() -> rx.Component:
    return rx.cond(
        TeamsListState.searched != "",
        empty_state(
            "search", "No teams match",
            "No team's name contains “" + TeamsListState.searched + "”.",
            rx.button("Clear search", variant="soft", on_click=TeamsListState.clear_search),
        ),
        empty_state(
            "users", "No teams yet",
            "A team puts agents to work together: in order, taking turns, picked by a "
            "selector, or all at once.",
            rx.cond(CAN_WRITE, rx.link(rx.button(rx.icon("plus", size=16), "Create team"),
                                       href=routes.TEAM_NEW, underline="none")),
        ),
    )  # fmt: skip


def teams_list() -> rx.Component:
    return rx.vstack(
        page_header("Teams", "Agents that work together under a strategy.", _create_button()),
        _search(),
        rx.cond(
            TeamsListState.loading & (TeamsListState.team_rows.length() == 0),
            loading_state("Loading teams…"),
            rx.cond(
                TeamsListState.team_rows.length() == 0,
                _empty(),
                rx.grid(
                    rx.foreach(TeamsListState.team_rows, team_panel),
                    columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
                ),
            ),
        ),
        width="100%", spacing="0",
    )  # fmt: skip
