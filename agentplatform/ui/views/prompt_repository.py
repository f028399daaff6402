"""The prompt repository: search and tag filter, the grid of PromptCards, the empty states."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui.components.common import empty_state, loading_state
from agentplatform.ui.components.prompt_card import prompt_card
from agentplatform.ui.state.prompts_list import ALL_TAGS, PromptsListState
from agentplatform.ui.state.session import SessionState
from agentplatform.ui.views.prompt_new_dialog import new_prompt_button

State = PromptsListState


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.el.label(rx.text("Search", size="1", weight="medium", color_scheme="gray"),
                        html_for="prompt-search"),
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                id="prompt-search",
                placeholder="Prompt name…",
                value=State.search,
                on_change=State.set_search,
                type="search",
                width="100%",
            ),
            spacing="1",
            flex="1",
            min_width="14em",
        ),
        rx.vstack(
            rx.el.label(rx.text("Tag", size="1", weight="medium", color_scheme="gray"),
                        html_for="prompt-tag-filter"),
            rx.select.root(
                rx.select.trigger(id="prompt-tag-filter", min_width="12em",
                                  aria_label="Tag"),
                rx.select.content(
                    rx.select.item("All tags", value=ALL_TAGS),
                    rx.foreach(State.known_tags, lambda t: rx.select.item(t, value=t)),
                ),
                value=State.tag_filter,
                on_change=State.set_tag_filter,
            ),
            spacing="1",
        ),
        rx.cond(
            State.filtered,
            rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost",
                      color_scheme="gray", on_click=State.clear_filters, align_self="end"),
        ),
        align="end",
        spacing="3",
        width="100%",
        wrap="wrap",
        padding_bottom="1em",
    )  # fmt: skip


def _empty() -> rx.Component:
    return rx.cond(
        State.filtered,
        empty_state(
            "search-x",
            "No prompts match",
            "Try another name or tag, or clear the filters to see every prompt.",
            rx.button("Clear filters", variant="soft", on_click=State.clear_filters),
        ),
        empty_state(
            "file-text",
            "No prompts yet",
            "Keep your instructions here as versioned prompts: compare versions, promote one "
            "to production and roll back in a click.",
            rx.cond(SessionState.permissions.contains("prompts.write"), new_prompt_button()),
        ),
    )


def prompt_repository() -> rx.Component:
    """Toolbar, then cards (or a loading or empty state)."""
    return rx.vstack(
        _toolbar(),
        rx.cond(
            State.loading,
            loading_state("Loading prompts…"),
            rx.cond(
                State.cards.length() > 0,
                rx.vstack(
                    rx.grid(
                        rx.foreach(State.cards, prompt_card),
                        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                        spacing="4",
                        width="100%",
                    ),
                    rx.cond(
                        State.more_than_shown,
                        rx.text(
                            "Showing ", State.cards.length(), " of ", State.total,
                            " prompts: search to narrow them down.",
                            size="1", color_scheme="gray",
                        ),
                    ),
                    width="100%",
                    spacing="3",
                ),
                _empty(),
            ),
        ),
        width="100%",
        spacing="0",
    )  # fmt: skip
