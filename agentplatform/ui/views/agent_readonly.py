"""An agent as roles without agents.write see it: every setting, no edit controls."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui.components.agent_card import offline_badge, tag_chip, tool_chip
from agentplatform.ui.state.agent_editor import AgentEditorState as S


def _row(label: str, value: rx.Component | rx.Var[str] | str) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label, min_width="9em"),
        rx.data_list.value(value),
        align="start",
    )


def _or_dash(value: rx.Var[str]) -> rx.Component:
    return rx.text(rx.cond(value != "", value, "—"))


def agent_readonly() -> rx.Component:
    form = S.form
    return rx.vstack(
        rx.callout(
            "You can view this agent. Changing it needs the builder, admin or owner role.",
            icon="eye", color_scheme="gray", width="100%",
        ),
        rx.card(
            rx.data_list.root(
                _row("Description", _or_dash(form["description"])),
                _row("Provider", S.provider_label),
                _row("Model", rx.hstack(rx.text(form["model"]),
                                        rx.cond(S.offline_selected, offline_badge()),
                                        spacing="2", align="center", wrap="wrap")),
                _row("Temperature", form["temperature"]),
                _row("Max tokens", rx.cond(form["max_tokens"] != "", form["max_tokens"],
                                           "Model default")),
                _row("Max iterations", form["max_iterations"]),
                _row("Timeout", form["timeout_s"] + " s"),
                _row("Tools", rx.cond(S.tools.length() > 0,
                                      rx.hstack(rx.foreach(S.tools, tool_chip), spacing="1",
                                                wrap="wrap"),
                                      rx.text("None", color_scheme="gray"))),
                _row("Tags", rx.cond(form["tags"] != "",
                                     rx.hstack(rx.foreach(form["tags"].split(", "), tag_chip),
                                               spacing="1", wrap="wrap"),
                                     rx.text("None", color_scheme="gray"))),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                size="2",
            ),
            size="2", width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.heading("Instructions", size="3", as_="h2"),
                rx.cond(
                    form["source"] == "prompt",
                    rx.text(S.prompt_text, size="2"),
                    rx.cond(
                        form["instructions"] == "",
                        rx.text("No instructions.", size="2", color_scheme="gray"),
                        rx.box(
                            form["instructions"],
                            white_space="pre-wrap", font_family="var(--code-font-family)",
                            font_size="13px", padding="0.75em", width="100%",
                            border_radius="var(--radius-3)", background=rx.color("gray", 2),
                            border=f"1px solid {rx.color('gray', 5)}",
                        ),
                    ),
                ),
                spacing="3", width="100%",
            ),
            size="2", width="100%",
        ),
        spacing="4", width="100%",
    )  # fmt: skip
