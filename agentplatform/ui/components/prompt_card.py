"""PromptCard: one prompt of the repository, with its labels, latest version, tags and age.

It takes a dict shaped by `ui.state.prompt_format.prompt_card` (`id`, `name`, `description`,
`tags`, `labels` as `[{name, version, automatic}]`, `latest`, `updated`, `updated_full`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui import routes


def label_badge(label: rx.Var[dict[str, Any]] | rx.Var[Any]) -> rx.Component:
    """`production v2` (highlighted), `staging v1`, `latest v3` (automatic, muted)."""
    name = label["name"].to(str)
    production = name == "production"
    return rx.badge(
        rx.cond(production, rx.icon("rocket", size=12)),
        name,
        rx.text.strong(" v", label["version"].to(str)),
        color_scheme=rx.match(name, ("production", "green"), ("latest", "gray"), "blue"),
        variant=rx.cond(production, "solid", rx.cond(name == "latest", "outline", "soft")),
        radius="full",
        title=rx.cond(
            label["automatic"].to(bool),
            "Automatic: always the highest version",
            name + " points at version " + label["version"].to(str),
        ),
    )


def tag_badge(tag: rx.Var[str] | rx.Var[Any]) -> rx.Component:
    return rx.badge(
        rx.icon("tag", size=11), tag, variant="surface", color_scheme="gray", radius="full"
    )


def prompt_card(prompt: rx.Var[dict[str, Any]] | rx.Var[Any]) -> rx.Component:
    """A card linking to the prompt's page."""
    href = routes.PROMPTS + "/" + prompt["id"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("file-text", size=18, color=rx.color("accent", 10)),
                rx.link(
                    rx.heading(prompt["name"].to(str), size="4", as_="h2", trim="both"),
                    href=href,
                    underline="hover",
                    color=rx.color("gray", 12),
                    min_width="0",
                ),
                rx.spacer(),
                rx.cond(
                    prompt["latest"].to(str) != "",
                    rx.badge("latest ", rx.text.strong(prompt["latest"].to(str)),
                             variant="outline", color_scheme="gray", radius="full",
                             title="Latest version (automatic)"),
                    rx.badge("No versions", variant="outline", color_scheme="amber"),
                ),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.text(
                rx.cond(prompt["description"].to(str) != "", prompt["description"].to(str),
                        "No description."),
                size="2",
                color_scheme="gray",
                style={"display": "-webkit-box", "-webkit-line-clamp": "2",
                       "-webkit-box-orient": "vertical", "overflow": "hidden"},
                min_height="2.8em",
            ),
            rx.hstack(
                rx.cond(
                    prompt["labels"].to(list[dict[str, Any]]).length() > 0,
                    rx.foreach(prompt["labels"].to(list[dict[str, Any]]), label_badge),
                    rx.text("No labels yet", size="1", color_scheme="gray"),
                ),
                wrap="wrap",
                spacing="2",
                aria_label="Labels",
                role="group",
                min_height="1.5em",
            ),
            rx.separator(size="4"),
            rx.hstack(
                rx.hstack(
                    rx.foreach(prompt["tags"].to(list[str]), tag_badge),
                    wrap="wrap",
                    spacing="1",
                    aria_label="Tags",
                    role="group",
                ),
                rx.spacer(),
                rx.text(
                    "Updated ", prompt["updated"].to(str),
                    size="1", color_scheme="gray", title=prompt["updated_full"].to(str),
                    white_space="nowrap",
                ),
                align="center",
                width="100%",
                spacing="2",
            ),
            spacing="3",
            width="100%",
            height="100%",
        ),
        size="2",
        width="100%",
        aria_label=prompt["name"].to(str),
        role="article",
        _hover={"box_shadow": "var(--shadow-3)"},
        style={"transition": "box-shadow 120ms ease"},
    )  # fmt: skip
