"""The run history: filter bar, table and pager."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state, loading_state, status_badge
from agentplatform.ui.state.runs_list import ALL, STATUSES
from agentplatform.ui.state.runs_list import RunsListState as S
from agentplatform.ui.state.session import SessionState

PERIOD_LABELS = (("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"),
                 ("30d", "Last 30 days"), (ALL, "Any time"))  # fmt: skip


def _filter(label: str, name: str, value: rx.Var[str], all_label: str, items: Any) -> rx.Component:
    control_id = f"runs-filter-{name}"
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", weight="medium", color_scheme="gray"),
                    html_for=control_id),
        rx.select.root(
            rx.select.trigger(id=control_id, width="100%"),
            rx.select.content(rx.select.item(all_label, value=ALL), items),
            value=value,
            on_change=lambda v: S.set_filter(name, v),
        ),
        spacing="1", width="100%",
    )  # fmt: skip


def _option(option: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.select.item(option["name"], value=option["id"])


def run_filters() -> rx.Component:
    """Status, agent, team, who and when."""
    return rx.grid(
        _filter("Status", "status", S.status, "Any status",
                rx.fragment(*[rx.select.item(s.replace("_", " "), value=s) for s in STATUSES])),
        _filter("Agent", "agent", S.agent, "Any agent", rx.foreach(S.agent_options, _option)),
        _filter("Team", "team", S.team, "Any team", rx.foreach(S.team_options, _option)),
        _filter("Started by", "who", S.who, "Anyone", rx.foreach(S.people, _option)),
        _filter("Time", "period", S.period, "Any time",
                rx.fragment(*[rx.select.item(t, value=v) for v, t in PERIOD_LABELS if v != ALL])),
        rx.cond(
            S.filtered,
            rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost",
                      color_scheme="gray", on_click=S.clear_filters, justify_self="start",
                      align_self="end", margin_bottom="0.25em"),
        ),
        columns="repeat(auto-fill, minmax(150px, 1fr))",
        spacing="3", width="100%", padding_bottom="1em",
    )  # fmt: skip


def _row(run: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(status_badge(run["status"].to(str))),
        rx.table.row_header_cell(
            rx.link(
                rx.hstack(
                    rx.icon(rx.cond(run["kind"] == "team", "users", "bot"), size=14),
                    rx.text(run["target_name"], weight="medium"),
                    spacing="2", align="center",
                ),
                href=run["href"].to(str),
                aria_label="Open run of " + run["target_name"].to(str) + " at "
                + run["created"].to(str),
            ),
        ),
        rx.table.cell(rx.text(run["preview"], size="1", color_scheme="gray", trim="both"),
                      max_width="22em", white_space="nowrap", overflow="hidden",
                      text_overflow="ellipsis"),
        rx.table.cell(run["who"]),
        rx.table.cell(run["created"], white_space="nowrap"),
        rx.table.cell(run["latency"], white_space="nowrap"),
        rx.table.cell(run["tokens"]),
        rx.table.cell(run["cost"]),
        align="center",
    )  # fmt: skip


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(S.page_label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.icon_button(rx.icon("chevron-left", size=16), variant="soft", color_scheme="gray",
                       aria_label="Previous page", on_click=S.prev_page, disabled=~S.has_prev),
        rx.icon_button(rx.icon("chevron-right", size=16), variant="soft", color_scheme="gray",
                       aria_label="Next page", on_click=S.next_page, disabled=~S.has_next),
        width="100%", align="center", padding_top="0.75em",
    )  # fmt: skip


def runs_table() -> rx.Component:
    """The table, or why it is empty."""
    headers = ("Status", "Target", "Input", "Started by", "Created (UTC)", "Latency", "Tokens",
               "Cost")  # fmt: skip
    return rx.cond(
        S.loading & (S.rows.length() == 0),
        loading_state("Loading runs…"),
        rx.cond(
        (S.count == 0) & ~S.loading,
        rx.cond(
            S.filtered,
            empty_state("filter-x", "No runs match these filters",
                        "Widen the time range or clear the filters.",
                        rx.button("Clear filters", variant="soft", on_click=S.clear_filters)),
            empty_state("list-checks", "No runs yet",
                        "Runs of agents and teams appear here with their status, cost and trace.",
                        rx.cond(SessionState.permissions.contains("runs.create"),
                                rx.link(rx.button(rx.icon("play", size=14), "Open the playground"),
                                        href=routes.PLAYGROUND))),
        ),
        rx.box(
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(h, white_space="nowrap") for h in headers])),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    variant="surface", size="2", width="100%",
                ),
                overflow_x="auto", width="100%",
                opacity=rx.cond(S.loading, "0.6", "1"), transition="opacity 0.15s",
            ),
            _pager(),
            width="100%",
        ),
        ),
    )  # fmt: skip
