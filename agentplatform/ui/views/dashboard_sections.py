"""The dashboard's blocks (charts, failures, top tables), in the persona's order."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.charts import cost_per_day_chart, runs_per_day_chart
from agentplatform.ui.components.common import empty_state, status_badge
from agentplatform.ui.state.dashboard import DashboardState as S
from agentplatform.ui.state.session import SessionState


def _panel(title: str, subtitle: str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.heading(title, size="3", as_="h2"),
                rx.text(subtitle, size="1", color_scheme="gray"),
                spacing="0",
            ),
            *children,
            spacing="3", width="100%",
        ),
        size="2", width="100%", role="region", aria_label=title, **props,
    )  # fmt: skip


def _table(
    rows: rx.Var[list[dict[str, str]]],
    first: str,
    empty: str,
    extra: tuple[str, ...] = (),
) -> rx.Component:
    """Name (linked), any extra columns, then runs, success, p50 and cost."""
    columns = (*extra, "runs", "success", "p50", "cost")
    titles = {"version": "Version", "runs": "Runs", "success": "Success", "p50": "p50",
              "cost": "Cost"}  # fmt: skip

    def row(r: rx.Var[dict[str, str]]) -> rx.Component:
        name = rx.cond(r["href"] != "", rx.link(r["name"], href=r["href"]), rx.text(r["name"]))
        return rx.table.row(
            rx.table.row_header_cell(name),
            *[rx.table.cell(r[c], white_space="nowrap") for c in columns],
        )

    return rx.cond(
        rows.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell(first),
                    *[rx.table.column_header_cell(titles[c]) for c in columns])),
                rx.table.body(rx.foreach(rows, row)),
                size="1", width="100%",
            ),
            overflow_x="auto", width="100%",
        ),
        rx.text(empty, size="2", color_scheme="gray", padding_y="1em"),
    )  # fmt: skip


def _failure(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("circle-x", size=16, color=rx.color("red", 10), flex_shrink="0"),
            rx.vstack(
                rx.hstack(rx.text(item["target"], weight="medium", size="2"),
                          status_badge(item["status"]), spacing="2", align="center"),
                rx.text(item["error"], size="1", color_scheme="gray", trim="both"),
                spacing="1", min_width="0",
            ),
            rx.spacer(),
            rx.text(item["when"], size="1", color_scheme="gray", white_space="nowrap"),
            width="100%", spacing="3", align="start", padding="0.5em",
            border_radius="var(--radius-3)", _hover={"background": rx.color("gray", 3)},
        ),
        href=item["href"], underline="none", color=rx.color("gray", 12), width="100%",
        aria_label="Failed run of " + item["target"] + " at " + item["when"],
    )  # fmt: skip


def _failures() -> rx.Component:
    return _panel(
        "Recent failures", "Failed and timed-out runs; open one to see its trace.",
        rx.cond(
            S.failures.length() > 0,
            rx.vstack(rx.foreach(S.failures, _failure), spacing="1", width="100%"),
            rx.hstack(rx.icon("circle-check", size=16, color=rx.color("grass", 10)),
                      rx.text("No failures in this period.", size="2", color_scheme="gray"),
                      spacing="2", align="center", padding_y="1em"),
        ),
        rx.link("All failed runs →", href=f"{routes.RUNS}?status=failed", size="2"),
    )  # fmt: skip


def _section(name: rx.Var[str]) -> rx.Component:
    return rx.match(
        name,
        ("activity", _panel("Runs per day", "By outcome, per UTC day.",
                            runs_per_day_chart(S.per_day))),
        ("cost", _panel("Cost per day", "In US dollars, from the model price table.",
                        cost_per_day_chart(S.per_day))),
        ("failures", _failures()),
        ("agents", _panel("Top agents", "By number of runs.",
                          _table(S.top_agents, "Agent",
                                 "No agent runs in this period."))),
        ("teams", _panel("Top teams", "By number of runs.",
                         _table(S.top_teams, "Team",
                                "No team runs in this period."))),
        ("prompts", _panel("Prompt versions", "How each prompt version performs in runs.",
                           _table(S.prompt_rows, "Prompt",
                                  "No runs used a prompt from the repository in this period.",
                                  ("version",)))),
        rx.fragment(),
    )  # fmt: skip


def _no_runs() -> rx.Component:
    playground = rx.cond(
        SessionState.permissions.contains("runs.create"),
        rx.link(
            rx.button(rx.icon("play", size=14), "Run something in the playground"),
            href=routes.PLAYGROUND,
        ),
    )
    return rx.cond(
        S.runs_ever == 0,
        empty_state("chart-no-axes-combined", "No runs yet",
                    "Run an agent or a team and this page fills with counts, latency, tokens "
                    "and cost.", playground),
        empty_state("calendar-x", "No runs in this period",
                    "Choose a longer period above, or start a run.", playground),
    )  # fmt: skip


def dashboard_sections() -> rx.Component:
    """Charts and tables in the persona's order, or what to do when there is nothing yet."""
    return rx.cond(
        S.runs_in_period == 0,
        _no_runs(),
        rx.grid(
            rx.foreach(S.sections, _section),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4", width="100%",
        ),
    )  # fmt: skip
