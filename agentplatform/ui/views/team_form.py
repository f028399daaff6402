"""The builder's form cards: details, strategy (with selector/aggregator), termination."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui.components.common import field
from agentplatform.ui.components.team_panel import STRATEGIES, Strategy
from agentplatform.ui.state.session import SessionState
from agentplatform.ui.state.team_builder import NO_AGGREGATOR, TeamBuilderState

S = TeamBuilderState
READ_ONLY = ~SessionState.permissions.contains("teams.write")


def section(
    title: str, text: str | rx.Var[str], *children: rx.Component, **props: object
) -> rx.Component:
    """A titled card of the builder."""
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.heading(title, size="4", as_="h2"),
                rx.text(text, size="2", color_scheme="gray"),
                spacing="1",
            ),
            *children,
            spacing="4", width="100%",
        ),
        size="3", width="100%", **props,
    )  # fmt: skip


def _error(key: str) -> rx.Var[str]:
    return S.errors.get(key, "").to(str)


def _text_input(key: str, field_id: str, **props: object) -> rx.Component:
    return rx.input(
        id=field_id, value=getattr(S, key), on_change=lambda v: S.set_text(key, v),
        read_only=READ_ONLY, aria_invalid=rx.cond(_error(key) != "", "true", "false"),
        aria_describedby=f"{field_id}-error", width="100%", **props,
    )  # fmt: skip


def details_card() -> rx.Component:
    return section(
        "Details", "What the team is for, and how to find it.",
        field("Name", _text_input("name", "team-name", max_length=100,
                                  placeholder="Research and write"),
              field_id="team-name", error=_error("name")),
        field("Description", rx.text_area(
                  id="team-description", value=S.description, read_only=READ_ONLY,
                  on_change=lambda v: S.set_text("description", v), max_length=2000, rows="2",
                  placeholder="What the team does, in a sentence or two.", width="100%"),
              field_id="team-description", error=_error("description")),
        field("Tags", _text_input("tags_text", "team-tags", placeholder="research, writing"),
              field_id="team-tags", error=_error("tags_text"),
              hint="Separate tags with commas."),
    )  # fmt: skip


def _strategy_card(key: str, meta: Strategy) -> rx.Component:
    return rx.radio_cards.item(
        rx.hstack(
            rx.center(rx.icon(meta.icon, size=18), width="32px", height="32px", flex_shrink="0",
                      border_radius="var(--radius-2)", color=rx.color(meta.color, 11),
                      background=rx.color(meta.color, 3)),
            rx.vstack(
                rx.text(meta.label, weight="bold", size="2"),
                rx.text(meta.explanation, size="1", color_scheme="gray"),
                spacing="0", align="start",
            ),
            spacing="3", align="start", width="100%",
        ),
        value=key, aria_label=meta.label, justify="start", padding="0.75em",
    )  # fmt: skip


def _agent_picker(label: str, hint: str, *, optional: bool) -> rx.Component:
    return field(
        label,
        rx.select.root(
            rx.select.trigger(id="team-selector", width="100%",
                              placeholder="Choose an agent…"),
            rx.select.content(
                *([rx.select.item("No aggregator: the selector or first member",
                                  value=NO_AGGREGATOR)] if optional else []),
                rx.foreach(S.agents, lambda a: rx.select.item(a["name"], value=a["id"])),
            ),
            value=S.selector_value, on_change=S.set_selector, disabled=READ_ONLY,
        ),
        field_id="team-selector", error=_error("selector"), hint=hint,
    )  # fmt: skip


def strategy_card() -> rx.Component:
    return section(
        "Strategy", "How the members take turns.",
        rx.radio_cards.root(
            *[_strategy_card(key, meta) for key, meta in STRATEGIES.items()],
            value=S.strategy, on_value_change=S.set_strategy, disabled=READ_ONLY,
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
            aria_label="Strategy",
        ),
        rx.match(
            S.strategy,
            ("selector", _agent_picker(
                "Selector agent", "It reads the conversation and names who speaks next.",
                optional=False)),
            ("parallel", _agent_picker(
                "Aggregator agent", "Combines the members' answers into one. Optional.",
                optional=True)),
            rx.fragment(),
        ),
    )  # fmt: skip


def _limit(label: str, key: str, hint: str, **props: object) -> rx.Component:
    field_id = f"team-{key.replace('_', '-')}"
    return field(
        label,
        rx.input(
            id=field_id, value=S.limits.get(key, "").to(str), read_only=READ_ONLY,
            on_change=lambda v: S.set_limit(key, v), width="100%",
            aria_invalid=rx.cond(_error(key) != "", "true", "false"),
            aria_describedby=f"{field_id}-error", **props,
        ),
        field_id=field_id, error=_error(key), hint=hint,
    )  # fmt: skip


def termination_card() -> rx.Component:
    numeric = {"input_mode": "decimal", "auto_complete": "off"}
    return section(
        "Termination", "When a run stops, whichever rule comes first. Empty budgets mean no limit.",
        rx.grid(
            rx.box(
                _limit("Stop phrase", "stop_phrase", "Ends the run when an answer contains it.",
                       placeholder="No stop phrase", max_length=200),
                grid_column="1 / -1",
            ),
            _limit("Max turns", "max_turns", "1 to 200 answers in all.",
                   input_mode="numeric", auto_complete="off"),
            _limit("Time budget (seconds)", "max_seconds", "Wall time of the whole run.",
                   placeholder="No limit", **numeric),
            _limit("Token budget", "max_total_tokens", "Tokens across all members.",
                   placeholder="No limit", **numeric),
            _limit("Cost budget (USD)", "max_cost_usd", "From the model price table.",
                   placeholder="No limit", **numeric),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
        ),
    )  # fmt: skip
