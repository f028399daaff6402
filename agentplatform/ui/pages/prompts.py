"""The prompt repository and one prompt's page (history, compare, edit, render)."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state, loading_state, page_header
from agentplatform.ui.layout import private_page
from agentplatform.ui.state.prompt_detail import PromptDetailState
from agentplatform.ui.state.prompt_diff import PromptDiffState
from agentplatform.ui.state.prompt_editor import PromptEditorState
from agentplatform.ui.state.prompt_render import PromptRenderState
from agentplatform.ui.state.prompts_list import PromptsListState
from agentplatform.ui.state.session import SessionState
from agentplatform.ui.views.prompt_compare import prompt_compare
from agentplatform.ui.views.prompt_editor import prompt_editor
from agentplatform.ui.views.prompt_header import back_link, prompt_header
from agentplatform.ui.views.prompt_history import prompt_history
from agentplatform.ui.views.prompt_labels import label_dialog
from agentplatform.ui.views.prompt_new_dialog import new_prompt_button, new_prompt_dialog
from agentplatform.ui.views.prompt_render import prompt_render
from agentplatform.ui.views.prompt_repository import prompt_repository

CAN_WRITE = SessionState.permissions.contains("prompts.write")


@private_page(routes.PROMPTS, "Prompts", on_load=PromptsListState.load)
def prompts_page() -> rx.Component:
    return rx.vstack(
        page_header(
            "Prompts",
            "Versioned instructions for your agents: compare, promote and roll back.",
            rx.cond(CAN_WRITE, new_prompt_button()),
        ),
        prompt_repository(),
        new_prompt_dialog(),
        width="100%",
        spacing="0",
    )


def _tab(value: str, icon: str, text: str) -> rx.Component:
    return rx.tabs.trigger(
        rx.hstack(rx.icon(icon, size=14), rx.text(text), spacing="2", align="center"),
        value=value,
    )


def _tabs() -> rx.Component:
    content = {"padding_top": "1.25em", "width": "100%"}
    return rx.tabs.root(
        rx.tabs.list(
            _tab("history", "history", "History"),
            _tab("compare", "git-compare", "Compare"),
            rx.cond(CAN_WRITE, _tab("edit", "pencil", "New version")),
            _tab("render", "play", "Render preview"),
        ),
        rx.tabs.content(prompt_history(), value="history", **content),
        rx.tabs.content(prompt_compare(), value="compare", **content),
        rx.cond(CAN_WRITE, rx.tabs.content(prompt_editor(), value="edit", **content)),
        rx.tabs.content(prompt_render(), value="render", **content),
        value=PromptDetailState.tab,
        on_change=PromptDetailState.set_tab,
        width="100%",
    )


@private_page(
    routes.PROMPT,
    "Prompt",
    on_load=[
        PromptDetailState.load,
        PromptDiffState.start,
        PromptEditorState.start,
        PromptRenderState.start,
    ],
)
def prompt_page() -> rx.Component:
    return rx.cond(
        PromptDetailState.loading,
        loading_state("Loading prompt…"),
        rx.cond(
            PromptDetailState.missing != "",
            rx.vstack(
                back_link(),
                empty_state("file-question", "Prompt not found", PromptDetailState.missing,
                            rx.link(rx.button("Back to prompts", variant="soft"),
                                    href=routes.PROMPTS)),
                spacing="4",
                width="100%",
            ),
            rx.vstack(prompt_header(), _tabs(), label_dialog(), width="100%", spacing="0"),
        ),
    )  # fmt: skip
