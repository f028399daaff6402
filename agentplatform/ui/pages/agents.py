"""Agents: the grid, a new agent, and one agent's editor with its "Try it" panel."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state, loading_state, page_header
from agentplatform.ui.layout import private_page
from agentplatform.ui.state.agent_editor import STALE
from agentplatform.ui.state.agent_editor import AgentEditorState as S
from agentplatform.ui.state.agent_try import AgentTryState
from agentplatform.ui.state.agents_list import AgentsListState
from agentplatform.ui.views.agent_form import basics_card, limits_card, model_card
from agentplatform.ui.views.agent_grid import agents_grid, new_agent_button
from agentplatform.ui.views.agent_readonly import agent_readonly
from agentplatform.ui.views.agent_sources import instructions_card, tools_card
from agentplatform.ui.views.agent_try import try_panel


@private_page(routes.AGENTS, "Agents", on_load=AgentsListState.load)
def agents_page() -> rx.Component:
    return rx.vstack(
        page_header("Agents", "Models with instructions and tools. Open one to edit or try it.",
                    new_agent_button()),
        agents_grid(),
        width="100%",
    )  # fmt: skip


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("trash-2", size=14), "Delete", variant="soft", color_scheme="red",
                      aria_label="Delete agent"),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this agent?"),
            rx.alert_dialog.description(
                "'", S.saved_name, "' will be removed. Its past runs keep their trace.", size="2"),
            rx.cond(S.delete_error != "",
                    rx.callout(S.delete_error, icon="circle-alert", color_scheme="red",
                               role="alert", margin_top="1em")),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.button("Delete agent", color_scheme="red", on_click=S.delete,
                          loading=S.deleting),
                spacing="3", justify="end", margin_top="1.25em",
            ),
            max_width="460px",
        ),
        open=S.delete_open,
        on_open_change=S.set_delete_open,
    )  # fmt: skip


def _header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Agents"), spacing="1",
                          align="center"),
                href=routes.AGENTS, size="2", color_scheme="gray", underline="hover"),
        rx.hstack(
            rx.heading(rx.cond(S.is_saved, S.saved_name, "New agent"), size="6", as_="h1",
                       style={"overflow_wrap": "anywhere"}),
            rx.cond(~S.can_write & S.is_saved, rx.badge("Read only", color_scheme="gray")),
            rx.spacer(),
            rx.cond(
                S.can_write & ~S.missing,
                rx.hstack(
                    rx.cond(S.is_saved, _delete_dialog()),
                    rx.button(rx.icon("save", size=14), rx.cond(S.is_saved, "Save", "Create agent"),
                              on_click=S.save, loading=S.saving),
                    spacing="3",
                ),
            ),
            width="100%", align="center", wrap="wrap", spacing="3",
        ),
        spacing="2", width="100%", padding_bottom="1em",
    )  # fmt: skip


def _notices() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.stale,
            rx.callout(
                rx.hstack(rx.text(STALE), rx.spacer(),
                          rx.button("Reload", size="1", variant="soft", on_click=S.load),
                          width="100%", align="center", wrap="wrap"),
                icon="triangle-alert", color_scheme="amber", role="alert", width="100%",
            ),
        ),
        rx.cond(
            S.errors.get("form", "") != "",
            rx.callout(S.errors.get("form", ""), icon="circle-alert", color_scheme="red",
                       role="alert", width="100%"),
        ),
    )  # fmt: skip


def _form() -> rx.Component:
    return rx.cond(
        S.can_write,
        rx.vstack(basics_card(), model_card(), instructions_card(), tools_card(), limits_card(),
                  spacing="4", width="100%"),
        agent_readonly(),
    )  # fmt: skip


def _columns(left: rx.Component, right: rx.Component) -> rx.Component:
    return rx.box(
        left,
        rx.box(right, position=rx.breakpoints(initial="static", lg="sticky"), top="72px"),
        display="grid", gap="1.25em", width="100%", align_items="start",
        grid_template_columns=rx.breakpoints(initial="minmax(0, 1fr)",
                                             lg="minmax(0, 3fr) minmax(0, 2fr)"),
    )  # fmt: skip


def _save_first() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("play", size=16, color=rx.color("gray", 9)),
                      rx.heading("Try it", size="3", as_="h2"), spacing="2", align="center"),
            rx.text("Create the agent first, then run it here and watch its answer stream in.",
                    size="2", color_scheme="gray"),
            spacing="2",
        ),
        size="2", width="100%",
    )  # fmt: skip


def _editor(right: rx.Component, *, saved: bool) -> rx.Component:
    body = _columns(_form(), right)
    if saved:
        body = rx.cond(AgentTryState.can_run, body, _form())
    else:
        body = rx.cond(
            S.can_write,
            body,
            empty_state(
                "lock",
                "You cannot create agents",
                "Your role in this workspace can view agents but not create them.",
                rx.link(rx.button("Back to agents", variant="soft"), href=routes.AGENTS),
            ),
        )
    return rx.vstack(
        _header(),
        rx.cond(
            S.loading,
            loading_state("Loading agent…"),
            rx.cond(
                S.missing,
                empty_state("bot", "Agent not found",
                            "It may have been deleted, or it belongs to another workspace.",
                            rx.link(rx.button("Back to agents", variant="soft"),
                                    href=routes.AGENTS)),
                rx.vstack(_notices(), body, spacing="4", width="100%"),
            ),
        ),
        width="100%",
    )  # fmt: skip


@private_page(routes.AGENT_NEW, "New agent", on_load=S.load)
def agent_new_page() -> rx.Component:
    return _editor(_save_first(), saved=False)


@private_page(routes.AGENT_EDIT, "Agent", on_load=[S.load, AgentTryState.reset_panel])
def agent_edit_page() -> rx.Component:
    return _editor(try_panel(), saved=True)
