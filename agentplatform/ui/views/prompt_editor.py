"""The editor for the next version: template with live variables, commit message, config JSON."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui.components.common import field
from agentplatform.ui.components.diff_view import MONO
from agentplatform.ui.state.prompt_editor import PromptEditorState

State = PromptEditorState


def variable_chip(name: rx.Var[str]) -> rx.Component:
    return rx.badge(
        rx.icon("braces", size=12), name, variant="soft", color_scheme="violet", radius="full",
        font_family=MONO, role="listitem",
    )  # fmt: skip


def _variables() -> rx.Component:
    return rx.hstack(
        rx.text("Variables", size="1", weight="medium", color_scheme="gray"),
        rx.cond(
            State.draft_variables.length() > 0,
            rx.hstack(rx.foreach(State.draft_variables, variable_chip), spacing="1", wrap="wrap",
                      role="list", aria_label="Detected variables"),
            rx.text("none detected: write {{ name }} to add one", size="1", color_scheme="gray"),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
    )  # fmt: skip


def prompt_editor() -> rx.Component:
    errors = State.editor_errors
    next_label = "v" + (State.latest_number + 1).to(str)
    return rx.grid(
        rx.vstack(
            field(
                "Template",
                rx.text_area(id="editor-template", value=State.draft_template,
                             on_change=State.set_draft_template, rows="12", resize="vertical",
                             style={"font_family": MONO, "font_size": "13px",
                                    "line_height": "1.6"},
                             spell_check=False),
                field_id="editor-template",
                error=errors.get("template", ""),
                hint="Jinja syntax: {{ variable }}, {% if … %}, filters. Variables are "
                     "detected as you type.",
            ),
            _variables(),
            spacing="3",
            width="100%",
        ),
        rx.vstack(
            field(
                "Commit message",
                rx.input(id="editor-message", value=State.draft_message,
                         on_change=State.set_draft_message, max_length=500,
                         placeholder="What changed and why"),
                field_id="editor-message",
                error=errors.get("message", ""),
            ),
            field(
                "Config (JSON)",
                rx.text_area(id="editor-config", value=State.draft_config,
                             on_change=State.set_draft_config, rows="8",
                             placeholder='{"temperature": 0.2}',
                             style={"font_family": MONO, "font_size": "13px"},
                             spell_check=False),
                field_id="editor-config",
                error=errors.get("config", ""),
                hint="Optional: model settings kept with the version.",
            ),
            rx.callout.root(
                rx.callout.icon(rx.icon("info", size=16)),
                rx.callout.text("Saving creates ", rx.text.strong(next_label), ". Earlier "
                                "versions never change; labels stay where they are until you "
                                "promote."),
                color_scheme="gray", variant="surface", width="100%",
            ),
            rx.hstack(
                rx.button("Reset to latest", variant="soft", color_scheme="gray",
                          on_click=State.start),
                rx.button(rx.icon("save", size=16), "Save as ", next_label,
                          on_click=State.save, loading=State.saving,
                          disabled=errors.contains("config") | errors.contains("template")),
                justify="end",
                spacing="3",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        columns=rx.breakpoints(initial="1", lg="2"),
        spacing="5",
        width="100%",
    )  # fmt: skip
