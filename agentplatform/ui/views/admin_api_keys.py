"""API keys: the table, the create dialog, the one-time secret dialog and revoke confirm."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui.components.common import empty_state, field, loading_state
from agentplatform.ui.state.admin_api_keys import AdminApiKeysState as S
from agentplatform.ui.views.admin_common import header_cell, table_frame


def create_button(label: str = "Create API key") -> rx.Component:
    return rx.button(rx.icon("plus", size=16), label, on_click=S.set_create_open(True))


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New API key"),
            rx.dialog.description(
                "A key acts in this workspace with the role you pick (at most your own).",
                size="2", color_scheme="gray"),
            rx.vstack(
                field("Key name", rx.input(id="key-name", value=S.new_name,
                                           on_change=S.set_new_name, placeholder="CI pipeline",
                                           width="100%"),
                      field_id="key-name", error=S.name_error),
                field("Key role", rx.select.root(
                    rx.select.trigger(id="key-role", width="100%"),
                    rx.select.content(rx.foreach(
                        S.role_choices, lambda r: rx.select.item(r, value=r))),
                    value=S.new_role, on_change=S.set_new_role),
                    field_id="key-role"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Create key", on_click=S.create, loading=S.creating),
                    spacing="3", justify="end", width="100%",
                ),
                spacing="4", margin_top="1em", width="100%",
            ),
            max_width="460px",
        ),
        open=S.create_open,
        on_open_change=S.set_create_open,
    )  # fmt: skip


def secret_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Copy your new API key"),
            rx.dialog.description("'", S.secret_name, "' is ready. Use it as a bearer token: ",
                                  rx.code("Authorization: Bearer <key>"), size="2"),
            rx.vstack(
                rx.callout(
                    "You won't see this secret again: copy it now and keep it somewhere safe. "
                    "If you lose it, revoke the key and create a new one.",
                    icon="triangle-alert", color_scheme="amber", width="100%"),
                field("Secret", rx.hstack(
                    rx.input(id="key-secret", value=S.secret, read_only=True, width="100%",
                             font_family="var(--code-font-family)"),
                    rx.button(rx.icon("copy", size=16), "Copy",
                              on_click=[rx.set_clipboard(S.secret), S.secret_copied],
                              aria_label="Copy secret"),
                    width="100%", spacing="2"),
                    field_id="key-secret"),
                rx.hstack(
                    rx.dialog.close(rx.button("I've copied it")),
                    justify="end", width="100%",
                ),
                spacing="4", margin_top="1em", width="100%",
            ),
            max_width="560px",
        ),
        open=S.secret_open,
        on_open_change=S.close_secret,
    )  # fmt: skip


def _status(row: Any) -> rx.Component:
    return rx.cond(
        row["revoked"] != "",
        rx.tooltip(rx.badge("Revoked", color_scheme="red", variant="soft", radius="full"),
                   content=row["revoked"]),
        rx.badge("Active", color_scheme="green", variant="soft", radius="full"),
    )  # fmt: skip


def _key_row(row: Any) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row["name"], weight="medium")),
        rx.table.cell(rx.code(row["prefix"], variant="ghost", white_space="nowrap")),
        rx.table.cell(rx.badge(row["role"], variant="surface", color_scheme="gray")),
        rx.table.cell(rx.text(row["created"], white_space="nowrap", color_scheme="gray")),
        rx.table.cell(rx.text(row["last_used"], white_space="nowrap", color_scheme="gray")),
        rx.table.cell(_status(row)),
        rx.table.cell(
            rx.cond(
                row["revoked"] == "",
                rx.button("Revoke", variant="soft", color_scheme="red", size="1",
                          aria_label=f"Revoke {row['name']}", on_click=S.ask_revoke(row["name"])),
            ),
            text_align="right",
        ),
        align="center",
    )  # fmt: skip


def keys_table() -> rx.Component:
    return rx.cond(
        S.loading,
        loading_state("Loading API keys…"),
        rx.cond(
            S.keys.length() > 0,
            table_frame(
                rx.table.header(rx.table.row(
                    header_cell("Name"), header_cell("Key"), header_cell("Role"),
                    header_cell("Created"), header_cell("Last used"), header_cell("Status"),
                    header_cell("", aria_label="Actions"),
                )),
                rx.table.body(rx.foreach(S.keys, _key_row)),
                label="API keys",
            ),
            empty_state("key-round", "No API keys yet",
                        "Scripts and CI jobs call the REST API with a key. Create one to start.",
                        create_button("Create your first key")),
        ),
    )  # fmt: skip


def revoke_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke this API key?"),
            rx.alert_dialog.description(
                "'", S.revoke_name, "' stops working on its next request. This cannot be undone.",
                size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.button("Revoke key", color_scheme="red", on_click=S.revoke),
                spacing="3", justify="end", margin_top="1.25em",
            ),
            max_width="460px",
        ),
        open=S.revoke_open,
        on_open_change=S.set_revoke_open,
    )  # fmt: skip
