"""The playground's two blocks: the run form and the run it started, streaming."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state, field, loading_state, status_badge
from agentplatform.ui.components.run_step import run_totals, run_trace
from agentplatform.ui.state.playground import PlaygroundState as S
from agentplatform.ui.state.session import SessionState


def _error(key: str) -> rx.Var[str]:
    return S.errors.get(key, "").to(str)


def _target_select() -> rx.Component:
    is_agent = S.target_kind == "agent"
    return rx.vstack(
        rx.el.label(
            rx.text(rx.cond(is_agent, "Agent", "Team"), size="2", weight="medium"),
            html_for="pg-target",
        ),
        rx.cond(
            S.targets.length() > 0,
            rx.select.root(
                rx.select.trigger(id="pg-target", width="100%"),
                rx.select.content(
                    rx.foreach(S.targets, lambda t: rx.select.item(t["name"], value=t["id"]))
                ),
                value=S.target_id,
                on_change=S.set_target,
            ),
            rx.callout.root(
                rx.callout.icon(rx.icon("info")),
                rx.callout.text(
                    rx.cond(is_agent, "No agents yet. ", "No teams yet. "),
                    rx.link(rx.cond(is_agent, "Create an agent", "Create a team"),
                            href=rx.cond(is_agent, routes.AGENT_NEW, routes.TEAM_NEW)),
                ),
                size="1", width="100%",
            ),
        ),
        rx.cond(_error("target") != "",
                rx.text(_error("target"), size="1", color_scheme="red", role="alert")),
        spacing="1", width="100%", align="stretch",
    )  # fmt: skip


def _prompt_variable(name: rx.Var[str]) -> rx.Component:
    control_id = "pg-var-" + name
    return rx.vstack(
        rx.el.label(rx.code(name, size="2", variant="ghost"), html_for=control_id),
        rx.input(
            id=control_id,
            value=S.var_values[name].to(str),
            on_change=lambda value: S.set_var(name, value),
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _kv_row(row: rx.Var[dict[str, str]], index: rx.Var[int]) -> rx.Component:
    number = (index + 1).to_string()
    return rx.hstack(
        rx.input(
            value=row["key"], placeholder="name", aria_label="Variable " + number + " name",
            on_change=lambda value: S.set_kv(index, "key", value), flex="1",
        ),
        rx.input(
            value=row["value"], placeholder="value", aria_label="Variable " + number + " value",
            on_change=lambda value: S.set_kv(index, "value", value), flex="2",
        ),
        rx.icon_button(
            rx.icon("x", size=14), variant="ghost", color_scheme="gray",
            aria_label="Remove variable " + number, on_click=S.remove_kv(index),
        ),
        width="100%", spacing="2", align="center",
    )  # fmt: skip


def _variables() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Template variables", size="2", weight="medium"),
            rx.foreach(S.prompt_sources,
                       lambda s: rx.badge(s, variant="soft", color_scheme="gray")),
            spacing="2", align="center", wrap="wrap",
        ),
        rx.cond(
            S.variable_names.length() > 0,
            rx.grid(rx.foreach(S.variable_names, _prompt_variable),
                    columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"),
            rx.vstack(
                rx.text("These instructions read no variables. Add any your prompt expects:",
                        size="1", color_scheme="gray"),
                rx.foreach(S.kv_rows, _kv_row),
                rx.button(rx.icon("plus", size=14), "Add variable", variant="soft",
                          color_scheme="gray", size="1", on_click=S.add_kv),
                spacing="2", width="100%", align="start",
            ),
        ),
        rx.cond(_error("variables") != "",
                rx.text(_error("variables"), size="1", color_scheme="red", role="alert")),
        spacing="2", width="100%", align="start",
    )  # fmt: skip


def playground_form() -> rx.Component:
    """Target, variables, the task and the Run button."""
    return rx.card(
        rx.cond(
            S.loading,
            loading_state("Loading agents and teams…"),
            rx.vstack(
                rx.segmented_control.root(
                    rx.segmented_control.item("Agent", value="agent"),
                    rx.segmented_control.item("Team", value="team"),
                    value=S.target_kind, on_change=S.set_target_kind,
                    aria_label="Run an agent or a team", width="100%",
                ),
                _target_select(),
                field(
                    "Input",
                    rx.text_area(
                        id="pg-input", value=S.input_text, on_change=S.set_input,
                        placeholder="What should it do? e.g. What is 6*7?",
                        rows="5", width="100%", resize="vertical",
                    ),
                    field_id="pg-input", error=_error("input"),
                ),
                _variables(),
                rx.cond(_error("run") != "",
                        rx.callout(_error("run"), icon="circle-alert", color_scheme="red",
                                   size="1", width="100%", role="alert")),
                rx.button(
                    rx.icon("play", size=16), "Run", size="3", width="100%",
                    on_click=S.start, loading=S.starting,
                    disabled=S.run_active | (S.target_id == ""),
                ),
                spacing="4", width="100%", align="stretch",
            ),
        ),
        size="3", width="100%",
    )  # fmt: skip


def _run_header() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.heading(S.run["target_name"].to(str), size="4"),
                status_badge(S.run_status),
                spacing="3", align="center",
            ),
            rx.text(
                "Started " + S.run["created"].to(str) + " UTC",
                size="1", color_scheme="gray",
            ),
            spacing="1", align="start",
        ),
        rx.spacer(),
        rx.cond(
            S.run_active & SessionState.permissions.contains("runs.cancel"),
            rx.button(rx.icon("square", size=14), "Cancel", color_scheme="red", variant="soft",
                      on_click=S.cancel),
        ),
        rx.link(
            rx.button(rx.icon("external-link", size=14), "Open run page", variant="soft"),
            href=S.run["href"].to(str),
        ),
        width="100%", align="center", wrap="wrap", spacing="3",
    )  # fmt: skip


def playground_result() -> rx.Component:
    """The run just started: status, totals, and its trace as it streams."""
    return rx.card(
        rx.cond(
            S.run_status == "",
            empty_state("play", "Nothing run yet",
                        "Choose an agent or team, write a task and press Run: every message "
                        "and tool call will appear here as it happens."),
            rx.vstack(
                _run_header(),
                run_totals(S.totals),
                rx.cond(
                    S.run["error_text"].to(str) != "",
                    rx.callout(S.run["error_text"].to(str), icon="circle-x", color_scheme="red",
                               width="100%", role="alert"),
                ),
                rx.separator(size="4"),
                run_trace(S.steps, S.live, S.run_active),
                spacing="4", width="100%", align="stretch",
            ),
        ),
        size="3", width="100%", min_height="420px",
    )  # fmt: skip
