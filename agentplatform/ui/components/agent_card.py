"""AgentCard: an agent at a glance (name, description, model, tools, tags, last change)."""

from __future__ import annotations

from typing import Any

import reflex as rx

CLAMP_2 = {
    "display": "-webkit-box",
    "-webkit-line-clamp": "2",
    "-webkit-box-orient": "vertical",
    "overflow": "hidden",
}


def tool_chip(name: rx.Var[str] | str) -> rx.Component:
    """A tool the agent may call."""
    return rx.badge(
        rx.icon("wrench", size=12), name, variant="surface", radius="full", color_scheme="violet"
    )


def tag_chip(tag: rx.Var[str] | str) -> rx.Component:
    return rx.badge(tag, variant="soft", radius="full", color_scheme="gray")


def offline_badge() -> rx.Component:
    """Says plainly that answers come from the built-in demo model, not a real LLM."""
    return rx.badge(
        rx.icon("cpu", size=12), "Offline demo model", color_scheme="amber", variant="soft",
        radius="full",
    )  # fmt: skip


def model_line(model: rx.Var[str], provider: rx.Var[str], offline: rx.Var[bool]) -> rx.Component:
    return rx.hstack(
        rx.icon("brain-circuit", size=14, color=rx.color("gray", 10), flex_shrink="0"),
        rx.text(model, size="2", weight="medium", min_width="0",
                style={"overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap"}),
        rx.cond(provider != "", rx.text("· ", provider, size="1", color_scheme="gray",
                                        white_space="nowrap")),
        rx.cond(offline, offline_badge()),
        spacing="2", align="center", wrap="wrap", width="100%",
    )  # fmt: skip


def agent_card(agent: rx.Var[dict[str, Any]]) -> rx.Component:
    """The whole card links to the agent's editor; `agent` is a dict from AgentsListState."""
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.center(
                        rx.icon("bot", size=18, color=rx.color("accent", 11)),
                        width="34px", height="34px", flex_shrink="0",
                        border_radius="var(--radius-3)", background=rx.color("accent", 3),
                    ),
                    rx.heading(agent["name"], size="4", as_="h2", trim="both",
                               style={"overflow_wrap": "anywhere"}),
                    spacing="3", align="center", width="100%",
                ),
                rx.text(
                    rx.cond(agent["description"] != "", agent["description"], "No description."),
                    size="2", color_scheme="gray", style=CLAMP_2, min_height="2.6em",
                ),
                model_line(agent["model"], agent["provider"], agent["offline"].to(bool)),
                rx.cond(
                    agent["tools"].to(list).length() > 0,
                    rx.hstack(rx.foreach(agent["tools"].to(list[str]), tool_chip),
                              spacing="1", wrap="wrap", aria_label="Tools"),
                    rx.text("No tools", size="1", color_scheme="gray"),
                ),
                rx.cond(
                    agent["tags"].to(list).length() > 0,
                    rx.hstack(rx.foreach(agent["tags"].to(list[str]), tag_chip),
                              spacing="1", wrap="wrap", aria_label="Tags"),
                ),
                rx.spacer(),
                rx.hstack(
                    rx.icon("clock", size=12, color=rx.color("gray", 9)),
                    rx.text(agent["updated"], size="1", color_scheme="gray"),
                    spacing="1", align="center",
                ),
                spacing="3", align="start", height="100%",
            ),
            size="2", height="100%", width="100%",
            style={"transition": "box-shadow 120ms ease, transform 120ms ease"},
            _hover={"box_shadow": f"0 0 0 1px {rx.color('accent', 8)}, 0 4px 14px -6px "
                                  f"{rx.color('accent', 6)}", "transform": "translateY(-1px)"},
        ),
        href="/agents/" + agent["id"].to(str),
        underline="none",
        color="inherit",
        aria_label="Open agent " + agent["name"].to(str),
        height="100%",
        display="block",
    )  # fmt: skip
