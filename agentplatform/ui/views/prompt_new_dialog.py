"""The "New prompt" dialog: name, description, tags and an optional first version."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui.components.common import field
from agentplatform.ui.components.diff_view import MONO
from agentplatform.ui.state.prompts_list import PromptsListState

State = PromptsListState


def new_prompt_button() -> rx.Component:
    return rx.button(rx.icon("plus", size=16), "New prompt", on_click=State.set_new_open(True))


def _form() -> rx.Component:
    errors = State.new_errors
    return rx.form(
        rx.vstack(
            field("Name", rx.input(id="new-prompt-name", name="name", required=True,
                                   max_length=100, auto_focus=True,
                                   placeholder="support-triage"),
                  field_id="new-prompt-name", error=errors.get("name", "")),
            field("Description", rx.text_area(id="new-prompt-description", name="description",
                                              rows="2", max_length=2000,
                                              placeholder="What this prompt is for."),
                  field_id="new-prompt-description", error=errors.get("description", "")),
            field("Tags", rx.input(id="new-prompt-tags", name="tags",
                                   placeholder="support, triage"),
                  field_id="new-prompt-tags", error=errors.get("tags", ""),
                  hint="Comma-separated, e.g. support, triage."),
            field("First version template",
                  rx.text_area(id="new-prompt-template", name="template", rows="7",
                               placeholder="You are a helpful assistant for {{ product }}.",
                               style={"font_family": MONO, "font_size": "13px"}),
                  field_id="new-prompt-template", error=errors.get("template", ""),
                  hint="Optional: saved as v1. Use {{ variable }} for values given at run time."),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                          type="button")),
                rx.button("Create prompt", type="submit", loading=State.creating),
                justify="end",
                spacing="3",
                width="100%",
                padding_top="0.5em",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=State.create,
        width="100%",
    )  # fmt: skip


def new_prompt_dialog() -> rx.Component:
    """Mounted once on the page; opened by `new_prompt_button`."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New prompt"),
            rx.dialog.description(
                "Prompts keep immutable, numbered versions. Labels such as production point "
                "at one of them.",
                size="2",
                color_scheme="gray",
                margin_bottom="1em",
            ),
            _form(),
            max_width="560px",
        ),
        open=State.new_open,
        on_open_change=State.set_new_open,
    )
