"""The members table with inline role changes, the add-by-email form and the remove dialog."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui.components.common import empty_state, field, loading_state
from agentplatform.ui.state.admin_members import AdminMembersState as S
from agentplatform.ui.views.admin_common import error_callout, header_cell, table_frame


def add_member_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Add a member", size="3", as_="h2"),
            rx.text("They need an account first: ask them to register, then add their email.",
                    size="2", color_scheme="gray"),
            rx.flex(
                rx.box(
                    field("Email address", rx.input(
                        id="member-email", value=S.add_email, on_change=S.set_add_email,
                        type="email", placeholder="colleague@example.com", width="100%"),
                        field_id="member-email"),
                    flex="1 1 280px",
                ),
                rx.box(
                    field("Role for the new member", rx.select.root(
                        rx.select.trigger(id="member-role", width="100%"),
                        rx.select.content(rx.foreach(
                            S.role_choices, lambda r: rx.select.item(r, value=r))),
                        value=S.add_role, on_change=S.set_add_role),
                        field_id="member-role"),
                    flex="0 1 200px", min_width="160px",
                ),
                rx.button(rx.icon("user-plus", size=16), "Add member", on_click=S.add,
                          loading=S.adding),
                gap="1em", wrap="wrap", align="end", width="100%",
            ),
            error_callout(S.add_error),
            spacing="3", width="100%",
        ),
        size="3", width="100%",
    )  # fmt: skip


def _role_cell(row: Any) -> rx.Component:
    badge = rx.badge(
        row["role"],
        variant="soft",
        color_scheme=rx.cond(row["role"] == "owner", "amber", "gray"),
        radius="full",
    )
    editable = rx.select.root(
        rx.select.trigger(aria_label=f"Role of {row['email']}", variant="soft", min_width="9em"),
        rx.select.content(rx.foreach(S.role_choices, lambda r: rx.select.item(r, value=r))),
        value=row["role"],
        on_change=lambda value: S.change_role(row["email"], value),
    )
    locked = (row["role"] == "owner") & (S.role != "owner")
    return rx.cond(S.can_manage & ~locked, editable, badge)


def _member_row(row: Any) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row["name"], weight="medium")),
        rx.table.cell(row["email"]),
        rx.table.cell(_role_cell(row)),
        rx.table.cell(rx.text(row["joined"], color_scheme="gray", white_space="nowrap")),
        rx.cond(
            S.can_manage,
            rx.table.cell(
                rx.icon_button(rx.icon("user-minus", size=16), variant="ghost", color_scheme="red",
                               aria_label=f"Remove {row['email']}",
                               on_click=S.ask_remove(row["email"])),
                text_align="right",
            ),
        ),
        align="center",
    )  # fmt: skip


def members_table() -> rx.Component:
    return rx.cond(
        S.loading,
        loading_state("Loading members…"),
        rx.cond(
            S.members.length() > 0,
            table_frame(
                rx.table.header(rx.table.row(
                    header_cell("Name"), header_cell("Email"), header_cell("Role"),
                    header_cell("Joined"),
                    rx.cond(S.can_manage, header_cell("", aria_label="Actions")),
                )),
                rx.table.body(rx.foreach(S.members, _member_row)),
                label="Members",
            ),
            empty_state("users", "No members", "This workspace has no members to show."),
        ),
    )  # fmt: skip


def remove_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove this member?"),
            rx.alert_dialog.description(
                S.remove_email, " loses access to this workspace, and the API keys they "
                "created here are revoked.", size="2"),
            rx.box(error_callout(S.remove_error), margin_top="1em"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep them", variant="soft", color_scheme="gray")),
                rx.button("Remove member", color_scheme="red", on_click=S.remove),
                spacing="3", justify="end", margin_top="1.25em",
            ),
            max_width="480px",
        ),
        open=S.remove_open,
        on_open_change=S.set_remove_open,
    )  # fmt: skip
