"""Runs: the playground, the run history and one run's page."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state, page_header
from agentplatform.ui.layout import private_page
from agentplatform.ui.state.playground import PlaygroundState
from agentplatform.ui.state.run_detail import RunDetailState
from agentplatform.ui.state.runs_list import RunsListState
from agentplatform.ui.state.session import SessionState
from agentplatform.ui.views.run_detail import run_detail
from agentplatform.ui.views.run_list import run_filters, runs_table
from agentplatform.ui.views.run_playground import playground_form, playground_result


@private_page(routes.PLAYGROUND, "Playground", on_load=PlaygroundState.load)
def playground_page() -> rx.Component:
    return rx.vstack(
        page_header("Playground", "Run an agent or a team on a task and watch every step."),
        rx.cond(
            SessionState.permissions.contains("runs.create"),
            rx.grid(
                rx.box(playground_form(), width="100%"),
                playground_result(),
                columns=rx.breakpoints(initial="1", lg="minmax(320px, 2fr) 3fr"),
                spacing="5",
                width="100%",
                align_items="start",
            ),
            empty_state(
                "lock",
                "Your role can't start runs",
                "Ask an owner or admin for the operator role or higher.",
                rx.link(rx.button("See past runs", variant="soft"), href=routes.RUNS),
            ),
        ),
        width="100%",
    )


@private_page(routes.RUNS, "Runs", on_load=RunsListState.load)
def runs_page() -> rx.Component:
    return rx.vstack(
        page_header(
            "Runs",
            "Every run in this workspace, newest first.",
            rx.icon_button(
                rx.icon("refresh-cw", size=16),
                variant="soft",
                color_scheme="gray",
                aria_label="Refresh",
                on_click=RunsListState.refresh,
            ),
            rx.cond(
                SessionState.permissions.contains("runs.create"),
                rx.link(rx.button(rx.icon("play", size=14), "New run"), href=routes.PLAYGROUND),
            ),
        ),
        run_filters(),
        runs_table(),
        width="100%",
    )


@private_page(routes.RUN, "Run", on_load=RunDetailState.load)
def run_page() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), rx.text("All runs"), spacing="1"),
            href=routes.RUNS,
            size="2",
            color_scheme="gray",
        ),
        run_detail(),
        width="100%",
        spacing="3",
    )
