"""The agents grid with its search box and tag filter, bound to AgentsListState."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.agent_card import agent_card
from agentplatform.ui.components.common import empty_state, field, loading_state
from agentplatform.ui.state.agents_list import ALL_TAGS
from agentplatform.ui.state.agents_list import AgentsListState as L


def new_agent_button(label: str = "New agent") -> rx.Component:
    """Shown only to roles that may create agents."""
    return rx.cond(
        L.can_write,
        rx.link(rx.button(rx.icon("plus", size=16), label), href=routes.AGENT_NEW),
    )


def toolbar() -> rx.Component:
    return rx.flex(
        rx.box(
            field(
                "Search by name",
                rx.input(
                    rx.input.slot(rx.icon("search", size=14)),
                    id="agents-search", value=L.search, on_change=L.set_search,
                    debounce_timeout=250, placeholder="Agent name", type="search", width="100%",
                ),
                field_id="agents-search",
            ),
            flex="1 1 260px", max_width="420px",
        ),
        rx.box(
            field(
                "Tag",
                rx.select.root(
                    rx.select.trigger(id="agents-tag", width="100%"),
                    rx.select.content(
                        rx.select.item("All tags", value=ALL_TAGS),
                        rx.foreach(L.tag_options, lambda t: rx.select.item(t, value=t)),
                    ),
                    value=L.tag, on_change=L.set_tag,
                ),
                field_id="agents-tag",
            ),
            flex="0 1 200px", min_width="160px",
        ),
        rx.spacer(),
        rx.cond(
            ~L.loading,
            rx.text(L.total, rx.cond(L.total == 1, " agent", " agents"), size="2",
                    color_scheme="gray", align_self="end", padding_bottom="0.4em"),
        ),
        gap="1em", wrap="wrap", width="100%", align="end",
    )  # fmt: skip


def _empty() -> rx.Component:
    return rx.cond(
        L.filtered,
        empty_state(
            "search-x", "No agents match",
            "Nothing in this workspace has that name and tag. Try another search.",
            rx.button("Clear filters", variant="soft", on_click=L.clear_filters),
        ),
        empty_state(
            "bot", "No agents yet",
            rx.cond(L.can_write,
                    "An agent is a model with instructions and tools. Create your first one "
                    "and try it right away on the offline demo model.",
                    "No one has created an agent in this workspace yet."),
            new_agent_button("Create agent"),
        ),
    )  # fmt: skip


def agents_grid() -> rx.Component:
    return rx.vstack(
        toolbar(),
        rx.cond(
            L.loading,
            loading_state("Loading agents…"),
            rx.cond(
                L.agents.length() > 0,
                rx.box(
                    rx.foreach(L.agents, lambda a: rx.box(agent_card(a), role="listitem")),
                    display="grid", width="100%", gap="1em",
                    grid_template_columns="repeat(auto-fill, minmax(260px, 1fr))",
                    role="list", aria_label="Agents",
                ),
                _empty(),
            ),
        ),
        spacing="4", width="100%",
    )  # fmt: skip
