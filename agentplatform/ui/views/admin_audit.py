"""The audit table with its filters and pager, and the before/after dialog."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui.components.common import empty_state, field, loading_state
from agentplatform.ui.state.admin_audit import ACTIONS, ANY, RESOURCE_TYPES
from agentplatform.ui.state.admin_audit import AdminAuditState as S
from agentplatform.ui.views.admin_common import header_cell, table_frame

TIME_RANGES = [(ANY, "Any time"), ("1h", "Last hour"), ("24h", "Last 24 hours"),
               ("7d", "Last 7 days"), ("30d", "Last 30 days")]  # fmt: skip


def _select(
    label: str, field_id: str, options: list[tuple[str, str]], value: Any, on_change: Any
) -> rx.Component:
    return rx.box(
        field(label, rx.select.root(
            rx.select.trigger(id=field_id, width="100%"),
            rx.select.content(*[rx.select.item(text, value=v) for v, text in options]),
            value=value, on_change=on_change), field_id=field_id),
        flex="1 1 180px", max_width="260px",
    )  # fmt: skip


def filters() -> rx.Component:
    return rx.flex(
        _select("Action", "audit-action", [(ANY, "All actions")] + [(a, a) for a in ACTIONS],
                S.action, S.set_action),
        _select("Resource type", "audit-resource", [(ANY, "All resource types")]
                + [(r, r) for r in RESOURCE_TYPES], S.resource_type, S.set_resource_type),
        _select("Time range", "audit-range", TIME_RANGES, S.time_range, S.set_time_range),
        rx.cond(S.filtered, rx.button("Clear filters", variant="ghost", on_click=S.clear_filters,
                                      margin_bottom="0.2em")),
        gap="1em", wrap="wrap", align="end", width="100%",
    )  # fmt: skip


def _event_row(row: Any, index: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["at"], white_space="nowrap", color_scheme="gray")),
        rx.table.cell(row["actor"]),
        rx.table.cell(rx.code(row["action"], variant="soft", white_space="nowrap")),
        rx.table.cell(rx.vstack(
            rx.text(row["resource_type"], size="2"),
            rx.text(row["resource_id"], size="1", color_scheme="gray",
                    font_family="var(--code-font-family)"),
            spacing="0")),
        rx.table.cell(
            rx.button("Changes", rx.icon("chevron-right", size=14), size="1", variant="soft",
                      aria_label=f"Show changes of {row['action']} at {row['at']}",
                      on_click=S.show(index)),
            text_align="right"),
        align="center",
    )  # fmt: skip


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(S.range_text, size="2", color_scheme="gray", aria_live="polite"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=14), "Previous", variant="soft", size="2",
                  disabled=~S.has_previous, on_click=S.previous_page),
        rx.button("Next", rx.icon("chevron-right", size=14), variant="soft", size="2",
                  disabled=~S.has_next, on_click=S.next_page),
        width="100%", align="center", spacing="2",
    )  # fmt: skip


def audit_table() -> rx.Component:
    return rx.cond(
        S.loading,
        loading_state("Loading the audit log…"),
        rx.cond(
            S.events.length() > 0,
            rx.vstack(
                table_frame(
                    rx.table.header(rx.table.row(
                        header_cell("Time"), header_cell("Actor"), header_cell("Action"),
                        header_cell("Resource"), header_cell("", aria_label="Details"),
                    )),
                    rx.table.body(rx.foreach(S.events, _event_row)),
                    label="Audit events",
                ),
                _pager(),
                spacing="3", width="100%",
            ),
            empty_state("scroll-text", "No events",
                        rx.cond(S.filtered, "Nothing matches these filters: widen them.",
                                "Changes to members, keys, providers and resources appear here."),
                        rx.cond(S.filtered, rx.button("Clear filters", variant="soft",
                                                      on_click=S.clear_filters))),
        ),
    )  # fmt: skip


def _json_panel(title: str, text: Any) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="2", weight="bold"),
        rx.el.pre(text, style={
            "margin": "0", "padding": "0.75em", "width": "100%", "overflow": "auto",
            "max_height": "50vh", "font_size": "12px", "white_space": "pre-wrap",
            "word_break": "break-word", "font_family": "var(--code-font-family)",
            "background": rx.color("gray", 3), "border_radius": "var(--radius-3)",
            "border": f"1px solid {rx.color('gray', 5)}", "color": rx.color("gray", 12),
        }),
        spacing="1", width="100%", min_width="0",
    )  # fmt: skip


def detail_dialog() -> rx.Component:
    d = S.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.code(d["action"], variant="soft"), " on ", d["resource_type"]),
            rx.dialog.description(d["at"], " · by ", d["actor"], " · ", d["resource_id"],
                                  size="2", color_scheme="gray"),
            rx.grid(_json_panel("Before", d["before"]), _json_panel("After", d["after"]),
                    columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
                    margin_top="1em"),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                      justify="end", width="100%", margin_top="1em"),
            max_width="900px",
        ),
        open=S.detail_open,
        on_open_change=S.set_detail_open,
    )  # fmt: skip
