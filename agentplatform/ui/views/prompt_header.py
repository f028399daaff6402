"""The top of a prompt's page: name, description, tags, and where each label points."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.prompt_card import tag_badge
from agentplatform.ui.state.prompt_detail import PromptDetailState

State = PromptDetailState


def back_link() -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=14), rx.text("All prompts", size="2"),
                  spacing="1", align="center"),
        href=routes.PROMPTS,
        color_scheme="gray",
        underline="hover",
    )  # fmt: skip


def _label_pointer(label: rx.Var[dict[str, Any]]) -> rx.Component:
    name = label["name"].to(str)
    production = name == "production"
    return rx.hstack(
        rx.cond(
            production,
            rx.icon("rocket", size=14),
            rx.cond(name == "latest", rx.icon("sparkles", size=14), rx.icon("tag", size=14)),
        ),
        rx.text(name, size="2", weight="medium"),
        rx.icon("arrow-right", size=12),
        rx.text("v", label["version"].to(str), size="2", weight="bold"),
        rx.cond(label["automatic"].to(bool), rx.text("automatic", size="1", color_scheme="gray")),
        spacing="1",
        align="center",
        padding_x="0.6em",
        padding_y="0.2em",
        border_radius="var(--radius-3)",
        color=rx.cond(production, rx.color("green", 11), rx.color("gray", 11)),
        background=rx.cond(production, rx.color("green", 3), rx.color("gray", 3)),
        border=rx.cond(
            production, f"1px solid {rx.color('green', 6)}", f"1px solid {rx.color('gray', 5)}"
        ),
        aria_label=name + " points at v" + label["version"].to(str),
    )


def prompt_header() -> rx.Component:
    prompt = State.prompt
    return rx.vstack(
        back_link(),
        rx.hstack(
            rx.heading(prompt["name"].to(str), size="6", as_="h1"),
            rx.foreach(prompt["tags"].to(list[str]), tag_badge),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            prompt["description"].to(str) != "",
            rx.text(prompt["description"].to(str), size="2", color_scheme="gray"),
        ),
        rx.hstack(
            rx.cond(
                State.labels.length() > 0,
                rx.foreach(State.labels, _label_pointer),
                rx.text("No versions yet: save the first one in the editor.", size="2",
                        color_scheme="gray"),
            ),
            rx.spacer(),
            rx.text("Updated ", prompt["updated"].to(str), size="1", color_scheme="gray",
                    title=prompt["updated_full"].to(str)),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
            aria_label="Labels",
            role="group",
        ),
        spacing="2",
        width="100%",
        padding_bottom="1em",
    )  # fmt: skip
