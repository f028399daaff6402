"""Where an agent's instructions come from (inline or a prompt) and its tools palette."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import field
from agentplatform.ui.components.dnd import dnd_board
from agentplatform.ui.state.agent_editor import AgentEditorState as S
from agentplatform.ui.views.agent_form import error_of, section, setter


def _option(option: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.select.item(option["text"], value=option["value"])


def _prompt_fields() -> rx.Component:
    return rx.cond(
        S.prompts.length() > 0,
        rx.grid(
            field(
                "Prompt",
                rx.select.root(
                    rx.select.trigger(id="agent-prompt", width="100%",
                                      placeholder="Choose a prompt"),
                    rx.select.content(rx.foreach(
                        S.prompts,
                        lambda p: rx.select.item(p["name"].to(str), value=p["id"].to(str)),
                    )),
                    value=S.form["prompt_id"],
                    on_change=S.set_prompt,
                ),
                field_id="agent-prompt", error=error_of("prompt_id"),
            ),
            field(
                "Label or version",
                rx.select.root(
                    rx.select.trigger(id="agent-prompt-ref", width="100%"),
                    rx.select.content(
                        rx.select.group(rx.select.label("Labels"),
                                        rx.foreach(S.label_options, _option)),
                        rx.select.separator(),
                        rx.select.group(rx.select.label("A specific version"),
                                        rx.foreach(S.version_options, _option)),
                    ),
                    value=S.form["prompt_ref"],
                    on_change=setter("prompt_ref"),
                    disabled=S.form["prompt_id"] == "",
                ),
                field_id="agent-prompt-ref", error=error_of("prompt_ref"),
                hint="A label follows the version it points to (e.g. production).",
            ),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
        ),
        rx.callout(
            rx.text("No prompts in this workspace yet. ",
                    rx.link("Create one in Prompts", href=routes.PROMPTS),
                    ", or write the instructions inline."),
            icon="info", color_scheme="gray", width="100%",
        ),
    )  # fmt: skip


def instructions_card() -> rx.Component:
    return section(
        "Instructions", "",
        rx.segmented_control.root(
            rx.segmented_control.item("Inline", value="inline"),
            rx.segmented_control.item("From a prompt", value="prompt"),
            value=S.form["source"],
            on_change=setter("source"),
            aria_label="Source",
        ),
        rx.cond(
            S.form["source"] == "inline",
            field(
                "System instructions",
                rx.text_area(id="agent-instructions", value=S.form["instructions"],
                             on_change=setter("instructions"), rows="7", width="100%",
                             placeholder="You are a careful assistant. Use the calculator "
                                         "for arithmetic…",
                             style={"font_family": "var(--code-font-family)",
                                    "font_size": "13px"}),
                field_id="agent-instructions", error=error_of("instructions"),
                hint="Jinja variables such as {{ customer }} are filled from the run.",
            ),
            _prompt_fields(),
        ),
    )  # fmt: skip


def tools_card() -> rx.Component:
    return section(
        "Tool access", "What the agent may call. Nothing outside this list ever runs.",
        dnd_board(
            S.tool_board,
            on_move=S.move_tool,
            on_remove=S.remove_tool,
            id="agent-tool-board",
        ),
        rx.cond(
            error_of("tools") != "",
            rx.text(error_of("tools"), size="1", color_scheme="red", role="alert"),
        ),
    )  # fmt: skip
