"""The run page's blocks: header with actions, input and output, facts, per-agent totals."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state, loading_state, status_badge
from agentplatform.ui.components.run_step import markdown_box, run_totals, run_trace
from agentplatform.ui.state.run_detail import RunDetailState as S
from agentplatform.ui.state.session import SessionState


def _field(key: str) -> rx.Var[str]:
    return S.run[key].to(str)


def _header() -> rx.Component:
    can = SessionState.permissions.contains
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.icon(rx.cond(_field("kind") == "team", "users", "bot"), size=22,
                        color=rx.color("accent", 10)),
                rx.heading(_field("target_name"), size="6", as_="h1"),
                status_badge(S.run_status),
                spacing="3", align="center", wrap="wrap",
            ),
            rx.hstack(
                rx.text(rx.cond(_field("kind") == "team", "Team run", "Agent run"), size="2",
                        color_scheme="gray"),
                rx.cond(_field("target_href") != "",
                        rx.link("Open " + _field("kind"), href=_field("target_href"), size="2")),
                rx.text("·", color_scheme="gray"),
                rx.code(_field("id"), size="1", variant="ghost", color_scheme="gray"),
                spacing="2", align="center", wrap="wrap",
            ),
            spacing="1", align="start",
        ),
        rx.spacer(),
        rx.cond(
            S.run_active & can("runs.cancel"),
            rx.button(rx.icon("square", size=14), "Cancel run", color_scheme="red",
                      variant="soft", on_click=S.cancel),
        ),
        rx.cond(
            can("runs.create") & ~S.run_active,
            rx.button(rx.icon("rotate-ccw", size=14), "Run again", on_click=S.run_again,
                      loading=S.again_busy),
        ),
        width="100%", align="center", wrap="wrap", spacing="3", padding_bottom="1em",
    )  # fmt: skip


def _error_callout() -> rx.Component:
    return rx.cond(
        _field("error_text") != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-x")),
            rx.vstack(
                rx.text(
                    rx.match(S.run_status, ("timed_out", "This run timed out"),
                             ("cancelled", "This run was cancelled"), "This run failed"),
                    weight="bold",
                ),
                rx.text(_field("error_text"), size="2", white_space="pre-wrap"),
                spacing="1",
            ),
            color_scheme="red", role="alert", width="100%",
        ),
    )  # fmt: skip


def _section(title: str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="1", weight="bold", color_scheme="gray", letter_spacing="0.05em",
                text_transform="uppercase"),
        *children,
        spacing="2", width="100%", align="start", **props,
    )  # fmt: skip


def _io_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            _section("Input", rx.text(_field("input"), size="2", white_space="pre-wrap")),
            rx.separator(size="4"),
            _section(
                "Output",
                rx.cond(
                    _field("output_text") != "",
                    markdown_box(_field("output_text")),
                    rx.text(rx.cond(S.run_active, "Not finished yet…", "No output."),
                            size="2", color_scheme="gray"),
                ),
            ),
            spacing="4", width="100%",
        ),
        size="3", width="100%",
    )  # fmt: skip


def _fact(label: str, value: rx.Var[Any] | rx.Component) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label, min_width="7em"),
        rx.data_list.value(value),
    )


def _facts_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            run_totals(S.totals),
            rx.separator(size="4"),
            rx.data_list.root(
                _fact("Created", _field("created") + " UTC"),
                _fact("Started", _field("started")),
                _fact("Finished", _field("finished")),
                _fact("Stopped", rx.cond(_field("stopped") != "", _field("stopped"), "—")),
                _fact("Prompts", rx.cond(
                    S.prompt_rows.length() > 0,
                    rx.hstack(rx.foreach(S.prompt_rows, lambda p: rx.link(
                        rx.badge(p["name"] + " " + p["version"], variant="soft"), href=p["href"])),
                        spacing="2", wrap="wrap"),
                    rx.text("inline instructions", color_scheme="gray"),
                )),
                _fact("Variables", rx.cond(
                    S.run["variables_list"].to(list[dict[str, str]]).length() > 0,
                    rx.vstack(rx.foreach(
                        S.run["variables_list"].to(list[dict[str, str]]),
                        lambda v: rx.text(rx.code(v["name"]), " = ", v["value"], size="2"),
                    ), spacing="1"),
                    rx.text("none", color_scheme="gray"),
                )),
                size="2", orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            spacing="4", width="100%",
        ),
        size="3", width="100%",
    )  # fmt: skip


def _agents_table() -> rx.Component:
    def row(r: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(r["agent"]), rx.table.cell(r["turns"]),
            rx.table.cell(r["steps"]), rx.table.cell(r["tokens"]), rx.table.cell(r["cost"]),
        )  # fmt: skip

    return rx.cond(
        (_field("kind") == "team") & (S.agent_rows.length() > 0),
        rx.card(
            _section(
                "Per agent",
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Agent", "Turns", "Steps", "Tokens", "Cost")])),
                    rx.table.body(rx.foreach(S.agent_rows, row)),
                    size="1", width="100%",
                ),
            ),
            size="3", width="100%",
        ),
    )  # fmt: skip


def run_detail() -> rx.Component:
    """The whole run page under its loading and not-found states."""
    return rx.cond(
        S.loading,
        loading_state("Loading the run…"),
        rx.cond(
            S.missing != "",
            empty_state("search-x", "Run not found", S.missing,
                        rx.link(rx.button("All runs", variant="soft"), href=routes.RUNS)),
            rx.vstack(
                _header(),
                _error_callout(),
                rx.grid(_io_card(), _facts_card(), columns=rx.breakpoints(initial="1", lg="2"),
                        spacing="4", width="100%"),
                _agents_table(),
                rx.card(
                    _section("Trace", run_trace(S.steps, S.live, S.run_active)),
                    size="3", width="100%",
                ),
                spacing="4", width="100%",
            ),
        ),
    )  # fmt: skip
