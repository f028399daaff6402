"""Onboarding: who you are, which model to use, and a first agent (all skippable)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import field
from agentplatform.ui.state.onboarding import OnboardingState
from agentplatform.ui.state.session import SessionState

PERSONAS = [
    ("builder", "hammer", "Builder", "I create agents and teams."),
    (
        "prompt_engineer",
        "file-pen",
        "Prompt engineer",
        "I iterate on prompts and compare versions.",
    ),
    ("operator", "activity", "Operator", "I run things and watch how they perform."),
    ("admin", "shield", "Admin", "I manage people, providers and keys."),
]


def _choice(value: str, icon: str, title: str, text: str) -> rx.Component:
    return rx.radio_cards.item(
        rx.hstack(
            rx.icon(icon, size=20, color=rx.color("accent", 10)),
            rx.vstack(
                rx.text(title, weight="bold", size="2"),
                rx.text(text, size="1", color_scheme="gray"),
                spacing="0",
                align="start",
            ),
            spacing="3",
            align="center",
            width="100%",
        ),
        value=value,
        aria_label=title,
    )


def _steps() -> rx.Component:
    def dot(number: int, label: str) -> rx.Component:
        done = OnboardingState.step >= number
        return rx.hstack(
            rx.center(
                rx.text(str(number), size="1", weight="bold"),
                width="24px",
                height="24px",
                border_radius="50%",
                background=rx.cond(done, rx.color("accent", 9), rx.color("gray", 4)),
                color=rx.cond(done, "white", rx.color("gray", 11)),
            ),
            rx.text(label, size="2", color_scheme=rx.cond(done, "accent", "gray")),
            spacing="2",
            align="center",
        )

    return rx.hstack(
        dot(1, "About you"), rx.separator(size="2"), dot(2, "Model"),
        rx.separator(size="2"), dot(3, "First agent"),
        align="center", spacing="3",
    )  # fmt: skip


def _persona_step() -> rx.Component:
    return rx.vstack(
        rx.heading("What brings you here?", size="5"),
        rx.text("We order your dashboard and landing page around it. You can change it later "
                "in settings.", size="2", color_scheme="gray"),
        rx.radio_cards.root(
            *[_choice(*p) for p in PERSONAS],
            value=OnboardingState.chosen_persona,
            on_value_change=OnboardingState.set_chosen_persona,
            columns=rx.breakpoints(initial="1", sm="2"),
            width="100%",
            aria_label="Persona",
        ),
        rx.hstack(rx.spacer(), rx.button("Continue", on_click=OnboardingState.next_step),
                  width="100%"),
        spacing="4", width="100%",
    )  # fmt: skip


def _setter(name: str) -> Any:
    return lambda value: OnboardingState.set_provider_field(name, value)


def _provider_step() -> rx.Component:
    custom = OnboardingState.provider_choice == "openai"
    return rx.vstack(
        rx.heading("Which model should your agents use?", size="5"),
        rx.radio_cards.root(
            _choice("offline", "cpu", "Use the offline model",
                    "Built in, no network, deterministic: a demo model for trying things out."),
            rx.cond(
                OnboardingState.ollama_models.length() > 0,
                _choice("ollama", "server", "Local Ollama", "An Ollama server answers here."),
            ),
            _choice("openai", "plug", "OpenAI-compatible endpoint",
                    "OpenAI, Azure, vLLM, LM Studio, llama.cpp, OpenRouter…"),
            value=OnboardingState.provider_choice,
            on_value_change=OnboardingState.set_provider_choice,
            columns="1", width="100%", aria_label="Model provider",
        ),
        rx.cond(
            custom,
            rx.vstack(
                field("Name", rx.input(id="onb-provider-name", value=OnboardingState.provider_name,
                      on_change=_setter("provider_name")),
                      field_id="onb-provider-name"),
                field("Base URL", rx.input(id="onb-base-url", placeholder="https://api.openai.com/v1",
                      value=OnboardingState.provider_base_url,
                      on_change=_setter("provider_base_url")),
                      field_id="onb-base-url"),
                field("API key", rx.input(id="onb-api-key", type="password",
                      value=OnboardingState.provider_api_key,
                      on_change=_setter("provider_api_key")),
                      field_id="onb-api-key", hint="Stored encrypted; never shown again."),
                field("Model", rx.input(id="onb-model", placeholder="gpt-4o-mini",
                      value=OnboardingState.provider_model,
                      on_change=_setter("provider_model")),
                      field_id="onb-model"),
                width="100%", spacing="3",
            ),
        ),
        rx.cond(OnboardingState.step_error != "",
                rx.callout(OnboardingState.step_error, icon="circle-alert", color_scheme="red",
                           role="alert", width="100%")),
        rx.hstack(rx.button("Back", variant="soft", color_scheme="gray",
                            on_click=OnboardingState.back),
                  rx.spacer(), rx.button("Continue", on_click=OnboardingState.next_step),
                  width="100%"),
        spacing="4", width="100%",
    )  # fmt: skip


def _agent_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Start with an agent?", size="5"),
        rx.text("Pick a starter to see a run end to end. You can edit or delete it later.",
                size="2", color_scheme="gray"),
        rx.radio_cards.root(
            _choice("math", "calculator", "Math helper", "Uses the calculator tool."),
            _choice("writer", "pen-line", "Writing assistant", "Drafts and tightens short texts."),
            value=OnboardingState.starter, on_value_change=OnboardingState.set_starter,
            columns=rx.breakpoints(initial="1", sm="2"), width="100%", aria_label="Starter agent",
        ),
        rx.hstack(
            rx.button("Back", variant="soft", color_scheme="gray", on_click=OnboardingState.back),
            rx.spacer(),
            rx.button("Finish without an agent", variant="soft",
                      on_click=OnboardingState.finish(False), loading=OnboardingState.busy),
            rx.button("Create agent and finish", on_click=OnboardingState.finish(True),
                      loading=OnboardingState.busy),
            width="100%", spacing="3",
        ),
        spacing="4", width="100%",
    )  # fmt: skip


@rx.page(
    route=routes.ONBOARDING,
    title="Welcome · AgentPlatform",
    on_load=[SessionState.guard, OnboardingState.detect_ollama],
)
def onboarding_page() -> rx.Component:
    return rx.center(
        rx.cond(
            SessionState.signed_in,
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Welcome to AgentPlatform", size="6", as_="h1"),
                        rx.spacer(),
                        rx.button("Skip for now", variant="ghost", on_click=OnboardingState.skip),
                        width="100%", align="center",
                    ),
                    _steps(),
                    rx.separator(size="4"),
                    rx.match(OnboardingState.step, (1, _persona_step()), (2, _provider_step()),
                             _agent_step()),
                    spacing="5", width="100%",
                ),
                size="4", width="100%", max_width="720px",
            ),
            rx.spinner(size="3"),
        ),
        min_height="100vh", padding="1em", background=rx.color("gray", 2),
    )  # fmt: skip
