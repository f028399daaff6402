"""Compare two versions: pick them, read the template diff side by side and the config changes."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui.components.common import empty_state, loading_state
from agentplatform.ui.components.diff_view import MONO, diff_view
from agentplatform.ui.state.prompt_diff import PromptDiffState

State = PromptDiffState


def _version_select(label: str, field_id: str, value: rx.Var[str], on_change: Any) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", weight="medium", color_scheme="gray"),
                    html_for=field_id),
        rx.select.root(
            rx.select.trigger(id=field_id, min_width="14em", aria_label=label),
            rx.select.content(
                rx.foreach(State.version_options,
                           lambda o: rx.select.item(o["label"], value=o["value"])),
            ),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )  # fmt: skip


def _value(text: rx.Var[str], color: str) -> rx.Component:
    return rx.cond(
        text != "",
        rx.text(text, font_family=MONO, size="1", color=rx.color(color, 11),
                word_break="break-all"),
        rx.text("\u2014", size="1", color_scheme="gray", aria_label="not set"),
    )  # fmt: skip


def _config_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    kind = row["kind"]
    return rx.table.row(
        rx.table.cell(rx.code(row["key"], variant="ghost")),
        rx.table.cell(
            rx.badge(kind, color_scheme=rx.match(kind, ("added", "green"), ("removed", "red"),
                                                 "amber"), variant="soft")
        ),
        rx.table.cell(_value(row["before"], "red")),
        rx.table.cell(_value(row["after"], "green")),
    )  # fmt: skip


def _config_changes() -> rx.Component:
    return rx.vstack(
        rx.heading("Config changes", size="3", as_="h3"),
        rx.cond(
            State.config_changes.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Key"), rx.table.column_header_cell("Change"),
                    rx.table.column_header_cell("v" + State.diff_from),
                    rx.table.column_header_cell("v" + State.diff_to),
                )),
                rx.table.body(rx.foreach(State.config_changes, _config_row)),
                variant="surface", size="1", width="100%",
            ),
            rx.text("The config is the same in both versions.", size="2", color_scheme="gray"),
        ),
        spacing="2",
        width="100%",
        padding_top="1em",
        role="region",
        aria_label="Config changes",
    )  # fmt: skip


def _diff() -> rx.Component:
    title_old = "v" + State.diff_from
    title_new = "v" + State.diff_to
    return rx.vstack(
        rx.hstack(
            rx.heading("Template", size="3", as_="h3"),
            rx.badge("+", State.added_count, color_scheme="green", variant="soft"),
            rx.badge("\u2212", State.removed_count, color_scheme="red", variant="soft"),
            rx.cond(
                (State.added_count == 0) & (State.removed_count == 0),
                rx.text("No changes to the template.", size="2", color_scheme="gray"),
            ),
            spacing="2",
            align="center",
        ),
        diff_view(
            State.diff_rows,
            old_title=title_old,
            new_title=title_new,
            label="Diff of " + title_old + " and " + title_new,
        ),
        _config_changes(),
        spacing="2",
        width="100%",
    )


def prompt_compare() -> rx.Component:
    return rx.cond(
        State.versions.length() < 2,
        empty_state(
            "git-compare",
            "Nothing to compare yet",
            "A diff needs two versions: save a second version in the editor.",
        ),
        rx.vstack(
            rx.hstack(
                _version_select("From version", "diff-from", State.diff_from,
                                State.set_diff_from),
                rx.icon_button(rx.icon("arrow-left-right", size=16), variant="soft",
                               color_scheme="gray", aria_label="Swap the versions",
                               on_click=State.swap),
                _version_select("To version", "diff-to", State.diff_to, State.set_diff_to),
                align="end",
                spacing="3",
                wrap="wrap",
            ),
            rx.cond(
                State.diff_error != "",
                rx.callout(State.diff_error, icon="circle-alert", color_scheme="red",
                           role="alert", width="100%"),
            ),
            rx.cond(State.diff_loading, loading_state("Comparing…"), _diff()),
            spacing="4",
            width="100%",
        ),
    )  # fmt: skip
