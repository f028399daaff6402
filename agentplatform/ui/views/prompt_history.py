"""The version history: number, commit message, author, time, labels, and what to do with it."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui.components.common import empty_state
from agentplatform.ui.components.diff_view import MONO
from agentplatform.ui.state.prompt_detail import PromptDetailState
from agentplatform.ui.state.prompt_diff import PromptDiffState
from agentplatform.ui.state.prompt_labels import PromptLabelsState
from agentplatform.ui.state.session import SessionState

State = PromptDetailState


def code_box(text: rx.Var[str], **props: Any) -> rx.Component:
    """Read-only monospace text that keeps its line breaks."""
    return rx.el.pre(
        text,
        font_family=MONO, font_size="13px", line_height="1.6", white_space="pre-wrap",
        word_break="break-word", padding="0.75em 1em", margin="0", width="100%",
        overflow_y="auto", border_radius="var(--radius-3)",
        background=rx.color("gray", 2), border=f"1px solid {rx.color('gray', 5)}",
        color=rx.color("gray", 12),
        **props,
    )  # fmt: skip


def version_label(name: rx.Var[str] | str) -> rx.Component:
    production = name == "production"
    return rx.badge(
        rx.cond(production, rx.icon("rocket", size=12)),
        name,
        color_scheme=rx.cond(production, "green", "blue"),
        variant=rx.cond(production, "solid", "soft"),
        radius="full",
    )


def latest_badge() -> rx.Component:
    return rx.badge(
        "latest", variant="outline", color_scheme="gray", radius="full",
        title="Automatic: always the highest version",
    )  # fmt: skip


def _deploy_actions(number: rx.Var[int]) -> rx.Component:
    production = State.production_version
    label = "v" + number.to(str)
    return rx.hstack(
        rx.cond(
            number != production,
            rx.button(
                rx.cond(
                    number < production, rx.icon("undo-2", size=14), rx.icon("rocket", size=14)
                ),
                rx.cond(number < production, "Roll back", "Promote"),
                size="1",
                variant="soft",
                color_scheme=rx.cond(number < production, "orange", "green"),
                aria_label=rx.cond(
                    number < production,
                    "Roll back production to " + label,
                    "Promote " + label + " to production",
                ),
                on_click=PromptLabelsState.open_production(number),
            ),
        ),
        rx.tooltip(
            rx.icon_button(
                rx.icon("tag", size=14), size="1", variant="ghost", color_scheme="gray",
                aria_label="Set a label on " + label,
                on_click=PromptLabelsState.open_any_label(number),
            ),
            content="Set another label (staging…)",
        ),
        spacing="2",
        align="center",
    )  # fmt: skip


def _row(version: rx.Var[dict[str, Any]]) -> rx.Component:
    number = version["number"].to(int)
    label = "v" + number.to(str)
    message = version["commit_message"].to(str)
    return rx.hstack(
        rx.center(
            rx.text(label, weight="bold", size="2", font_family=MONO),
            min_width="3.2em", height="2em", border_radius="var(--radius-2)",
            background=rx.color("accent", 3), color=rx.color("accent", 11),
        ),
        rx.vstack(
            rx.hstack(
                rx.cond(message != "", rx.text(message, weight="medium", size="2"),
                        rx.text("No commit message", size="2", color_scheme="gray",
                                font_style="italic")),
                rx.foreach(version["labels"].to(list[str]), version_label),
                rx.cond(version["is_latest"].to(bool), latest_badge()),
                spacing="2", align="center", wrap="wrap",
            ),
            rx.text(
                "by ", version["author"].to(str), " · ",
                rx.el.span(version["created"].to(str), title=version["created_full"].to(str)),
                size="1", color_scheme="gray",
            ),
            spacing="1", align="start", min_width="0", flex="1",
        ),
        rx.hstack(
            rx.button(rx.icon("eye", size=14), "View", size="1", variant="ghost",
                      color_scheme="gray", aria_label="View " + label,
                      on_click=State.view_version(number)),
            rx.cond(
                number > 1,
                rx.button(rx.icon("git-compare", size=14), "Diff", size="1", variant="ghost",
                          color_scheme="gray", aria_label="Compare " + label + " with the previous",
                          on_click=PromptDiffState.compare_with_previous(number)),
            ),
            rx.cond(SessionState.permissions.contains("prompts.deploy"), _deploy_actions(number)),
            spacing="2", align="center", wrap="wrap", justify="end",
        ),
        align="center", spacing="4", width="100%", padding="0.75em 1em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        role="listitem", aria_label="Version " + number.to(str),
        _hover={"background": rx.color("gray", 2)},
        wrap="wrap",
    )  # fmt: skip


def _view_dialog() -> rx.Component:
    viewing = State.viewing
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Version ", viewing["number"].to(str)),
            rx.dialog.description(
                rx.cond(viewing["commit_message"].to(str) != "",
                        viewing["commit_message"].to(str), "No commit message"),
                " · by ", viewing["author"].to(str), " · ", viewing["created_full"].to(str),
                size="2", color_scheme="gray",
            ),
            rx.vstack(
                rx.text("Template", size="2", weight="medium"),
                code_box(viewing["template"].to(str), max_height="45vh"),
                rx.hstack(
                    rx.text("Variables", size="2", weight="medium"),
                    rx.foreach(viewing["variables"].to(list[str]),
                               lambda n: rx.badge(n, variant="soft", font_family=MONO)),
                    spacing="2", wrap="wrap", align="center",
                ),
                rx.cond(
                    viewing["config_json"].to(str) != "",
                    rx.vstack(
                        rx.text("Config", size="2", weight="medium"),
                        code_box(viewing["config_json"].to(str), max_height="25vh"),
                        width="100%", spacing="1",
                    ),
                ),
                spacing="3", width="100%", padding_top="1em",
            ),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                      justify="end", padding_top="1em"),
            max_width="760px",
        ),
        open=State.view_open,
        on_open_change=State.set_view_open,
    )  # fmt: skip


def prompt_history() -> rx.Component:
    return rx.fragment(
        rx.cond(
            State.versions.length() > 0,
            rx.box(
                rx.foreach(State.versions, _row),
                role="list",
                aria_label="Versions",
                border=f"1px solid {rx.color('gray', 5)}",
                border_radius="var(--radius-3)",
                overflow="hidden",
                width="100%",
            ),
            empty_state(
                "history",
                "No versions yet",
                "Write the first version in the editor: it becomes v1.",
                rx.cond(
                    SessionState.permissions.contains("prompts.write"),
                    rx.button("Open the editor", on_click=State.set_tab("edit")),
                ),
            ),
        ),
        _view_dialog(),
    )
