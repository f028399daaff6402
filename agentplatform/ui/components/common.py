"""Stateless building blocks shared by every page: headers, fields, empty and loading states."""

from __future__ import annotations

from typing import Any

import reflex as rx


def page_header(title: str, subtitle: str = "", *actions: rx.Component) -> rx.Component:
    """The title row of a page, with its primary actions on the right."""
    return rx.hstack(
        rx.vstack(
            rx.heading(title, size="6", as_="h1"),
            rx.cond(subtitle != "", rx.text(subtitle, size="2", color_scheme="gray")),
            spacing="1",
            align="start",
        ),
        rx.spacer(),
        *actions,
        width="100%",
        align="center",
        padding_bottom="1em",
        wrap="wrap",
        spacing="3",
    )


def field(
    label: str,
    control: rx.Component,
    *,
    field_id: str,
    error: rx.Var[str] | str = "",
    hint: str = "",
) -> rx.Component:
    """A labelled form control with its hint and its validation message underneath."""
    return rx.vstack(
        rx.el.label(
            rx.text(label, size="2", weight="medium"),
            html_for=field_id,
        ),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="1", color_scheme="red", role="alert", id=f"{field_id}-error"),
            rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        ),
        spacing="1",
        width="100%",
        align="stretch",
    )


def empty_state(
    icon: str, title: str, text: str, *actions: rx.Component, **props: Any
) -> rx.Component:
    """What a list shows when it has nothing yet, with the next step to take."""
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=28, color=rx.color("accent", 10)),
                width="56px",
                height="56px",
                border_radius="50%",
                background=rx.color("accent", 3),
            ),
            rx.heading(title, size="4", as_="h2"),
            rx.text(text, size="2", color_scheme="gray", text_align="center", max_width="28em"),
            rx.hstack(*actions, spacing="3"),
            align="center",
            spacing="3",
        ),
        padding_y="4em",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="var(--radius-4)",
        **props,
    )


def loading_state(text: str = "Loading…") -> rx.Component:
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(text, color_scheme="gray"), spacing="3"),
        padding_y="4em",
        width="100%",
    )


def stat_card(
    label: str, value: rx.Var | str, hint: rx.Var | str = "", icon: str = ""
) -> rx.Component:
    """One number on the dashboard with what it means."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.cond(icon != "", rx.icon(icon, size=16, color=rx.color("gray", 10))),
                rx.text(label, size="2", color_scheme="gray", weight="medium"),
                spacing="2",
                align="center",
            ),
            rx.heading(value, size="7"),
            rx.text(hint, size="1", color_scheme="gray"),
            spacing="1",
            align="start",
        ),
        size="2",
        width="100%",
    )


def status_badge(status: rx.Var[str] | str) -> rx.Component:
    """A run status as a coloured badge."""
    return rx.badge(
        status,
        color_scheme=rx.match(
            status,
            ("succeeded", "green"),
            ("failed", "red"),
            ("timed_out", "orange"),
            ("cancelled", "gray"),
            ("running", "blue"),
            "amber",
        ),
        variant="soft",
        radius="full",
    )
