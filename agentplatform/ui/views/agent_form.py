"""The agent editor's form cards (basics, model, limits), bound to AgentEditorState."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui.components.agent_card import offline_badge
from agentplatform.ui.components.common import field
from agentplatform.ui.state.agent_editor import AgentEditorState as S
from agentplatform.ui.state.agent_form import BUILTIN, BUILTIN_LABEL


def error_of(name: str) -> rx.Var[str]:
    return S.errors.get(name, "")


def setter(name: str) -> Any:
    return lambda value: S.set_field(name, value)


def text_input(name: str, label: str, *, hint: str = "", **props: Any) -> rx.Component:
    """A labelled input bound to `S.form[name]`, with its message underneath."""
    control_id = f"agent-{name.replace('_', '-')}"
    control = rx.input(
        id=control_id, value=S.form[name], on_change=setter(name), width="100%",
        aria_invalid=rx.cond(error_of(name) != "", "true", "false"),
        aria_describedby=f"{control_id}-error", **props,
    )  # fmt: skip
    return field(label, control, field_id=control_id, error=error_of(name), hint=hint)


def section(title: str, description: str, *children: rx.Component) -> rx.Component:
    """One card of the form, titled."""
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.heading(title, size="3", as_="h2"),
                rx.cond(description != "", rx.text(description, size="1", color_scheme="gray")),
                spacing="1",
            ),
            *children,
            spacing="4", width="100%",
        ),
        size="2", width="100%",
    )  # fmt: skip


def basics_card() -> rx.Component:
    return section(
        "Basics", "",
        text_input("name", "Name", placeholder="e.g. Support triage", max_length=100),
        field(
            "Description",
            rx.text_area(id="agent-description", value=S.form["description"],
                         on_change=setter("description"), rows="2", width="100%",
                         placeholder="What the agent is for, in a sentence."),
            field_id="agent-description", error=error_of("description"),
        ),
        text_input("tags", "Tags", placeholder="support, triage",
                   hint="Separate tags with commas; they filter the agents list."),
    )  # fmt: skip


def _provider_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id="agent-provider", width="100%"),
        rx.select.content(
            rx.select.item(BUILTIN_LABEL, value=BUILTIN),
            rx.foreach(
                S.providers,
                lambda p: rx.select.item(p["name"].to(str) + " · " + p["kind"].to(str),
                                         value=p["id"].to(str)),
            ),
        ),
        value=S.form["provider"],
        on_change=S.set_provider,
    )  # fmt: skip


def _model_control() -> rx.Component:
    return rx.cond(
        S.model_choices.length() > 0,
        rx.select.root(
            rx.select.trigger(id="agent-model", width="100%"),
            rx.select.content(rx.foreach(S.model_choices, lambda m: rx.select.item(m, value=m))),
            value=S.form["model"],
            on_change=setter("model"),
        ),
        rx.input(id="agent-model", value=S.form["model"], on_change=setter("model"),
                 placeholder="Type a model, e.g. gpt-4o-mini",
                 width="100%"),
    )  # fmt: skip


def model_card() -> rx.Component:
    return section(
        "Model", "Which LLM answers, and how.",
        rx.box(
            field("Provider", _provider_select(), field_id="agent-provider",
                  error=error_of("provider")),
            field("Model", _model_control(), field_id="agent-model", error=error_of("model")),
            display="grid", gap="var(--space-4)", width="100%",
            grid_template_columns=rx.breakpoints(initial="minmax(0, 1fr)",
                                                 sm="minmax(0, 2fr) minmax(0, 1fr)"),
        ),
        rx.cond(
            S.offline_selected,
            rx.hstack(
                offline_badge(),
                rx.text("Deterministic and local: good for trying tools, not a real LLM.",
                        size="1", color_scheme="gray"),
                spacing="2", align="center", wrap="wrap",
            ),
        ),
        rx.grid(
            text_input("temperature", "Temperature", type="number", step="0.1", min="0",
                       max="2", input_mode="decimal", hint="0 (focused) to 2 (creative)."),
            text_input("max_tokens", "Max tokens", type="number", min="1", input_mode="numeric",
                       placeholder="Model default", hint="Per reply; empty for the default."),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
        ),
    )  # fmt: skip


def limits_card() -> rx.Component:
    return section(
        "Limits", "When a run of this agent stops.",
        rx.grid(
            text_input("max_iterations", "Max iterations", type="number", min="1", max="50",
                       input_mode="numeric", hint="Model calls per run, 1 to 50."),
            text_input("timeout_s", "Timeout (seconds)", type="number", min="1", max="3600",
                       input_mode="decimal", hint="Wall time per run, up to 3600."),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
        ),
    )  # fmt: skip
