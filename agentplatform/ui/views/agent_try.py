"""The "Try it" panel: a message, Run/Cancel, the live answer, compact steps and usage."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui.components.common import field, status_badge
from agentplatform.ui.state.agent_try import AgentTryState as T

STEP_ICONS = (
    ("message", rx.icon("message-square", size=14)),
    ("tool_call", rx.icon("wrench", size=14)),
    ("tool_result", rx.icon("corner-down-right", size=14)),
    ("error", rx.icon("circle-alert", size=14, color=rx.color("red", 10))),
)


def _step(step: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.hstack(
        rx.center(
            rx.match(step["kind"], *STEP_ICONS, rx.icon("arrow-right-left", size=14)),
            width="24px", height="24px", flex_shrink="0", border_radius="50%",
            background=rx.color("gray", 3), color=rx.color("gray", 11),
        ),
        rx.vstack(
            rx.hstack(
                rx.text(step["title"], size="1", weight="bold"),
                rx.spacer(),
                rx.text(step["meta"], size="1", color_scheme="gray"),
                width="100%", wrap="wrap", spacing="2",
            ),
            rx.text(step["text"], size="1", white_space="pre-wrap",
                    style={"overflow_wrap": "anywhere"},
                    font_family=rx.cond(step["kind"] == "message", "inherit",
                                        "var(--code-font-family)")),
            spacing="1", width="100%", min_width="0",
        ),
        spacing="2", align="start", width="100%",
        data_step_kind=step["kind"],
    )  # fmt: skip


def _answer() -> rx.Component:
    return rx.box(
        rx.cond(
            T.answer != "",
            rx.text(T.answer, size="2", white_space="pre-wrap",
                    style={"overflow_wrap": "anywhere"}),
            rx.cond(
                T.running,
                rx.hstack(rx.spinner(size="1"), rx.text("Thinking…", size="2", color_scheme="gray"),
                          spacing="2", align="center"),
                rx.text("No answer.", size="2", color_scheme="gray"),
            ),
        ),
        padding="0.75em", width="100%", border_radius="var(--radius-3)",
        background=rx.color("accent", 2), border=f"1px solid {rx.color('accent', 5)}",
        aria_live="polite", aria_label="Answer", role="status",
    )  # fmt: skip


def _usage(icon: str, text: rx.Var[str]) -> rx.Component:
    return rx.badge(rx.icon(icon, size=12), text, variant="soft", color_scheme="gray")


def _result() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            status_badge(T.status),
            rx.spacer(),
            rx.cond(T.run_link != "",
                    rx.link(rx.hstack(rx.text("Open full run"), rx.icon("arrow-up-right", size=14),
                                      spacing="1", align="center"),
                            href=T.run_link, size="2")),
            width="100%", align="center",
        ),
        _answer(),
        rx.cond(T.error != "", rx.callout(T.error, icon="circle-alert", color_scheme="red",
                                          size="1", width="100%")),
        rx.cond(
            T.usage.length() > 0,
            rx.hstack(
                _usage("coins", T.usage[0]),
                _usage("dollar-sign", T.usage[1]),
                _usage("timer", T.usage[2]),
                spacing="2", wrap="wrap", aria_label="Usage",
            ),
        ),
        rx.cond(
            T.steps.length() > 0,
            rx.vstack(
                rx.text("Steps", size="1", weight="bold", color_scheme="gray"),
                rx.vstack(rx.foreach(T.steps, _step), spacing="3", width="100%",
                          max_height="45vh", overflow_y="auto", padding_right="0.25em"),
                spacing="2", width="100%",
            ),
        ),
        spacing="3", width="100%",
    )  # fmt: skip


def try_panel() -> rx.Component:
    """Only shown to roles that may create runs, on a saved agent."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("play", size=16, color=rx.color("accent", 10)),
                rx.heading("Try it", size="3", as_="h2"),
                spacing="2", align="center",
            ),
            rx.text("Runs the saved version of this agent.", size="1", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    field("Message",
                          rx.text_area(id="try-message", name="message", rows="3", width="100%",
                                       placeholder="What is 12*7?"),
                          field_id="try-message", error=T.input_error),
                    rx.hstack(
                        rx.button(rx.icon("play", size=14), "Run", type="submit",
                                  loading=T.running, disabled=T.running),
                        rx.cond(T.running & T.can_cancel,
                                rx.button(rx.icon("square", size=14), "Cancel", type="button",
                                          variant="soft", color_scheme="red",
                                          on_click=T.cancel)),
                        spacing="2",
                    ),
                    spacing="3", width="100%",
                ),
                on_submit=T.run,
                width="100%",
            ),
            rx.cond(T.status != "", _result()),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
    )  # fmt: skip
