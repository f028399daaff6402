"""The landing page: what AgentPlatform is, whether it is healthy, where to go next."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes


def _feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(icon, size=20, color=rx.color("accent", 10)),
                rx.heading(title, size="3"),
                align="center",
                spacing="2",
            ),
            rx.text(text, size="2", color_scheme="gray"),
            spacing="2",
        ),
        size="2",
    )


def home() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.hstack(
                rx.icon("bot", size=24, color=rx.color("accent", 10)),
                rx.heading("AgentPlatform", size="5"),
                align="center",
                spacing="2",
            ),
            rx.spacer(),
            rx.link(rx.button("Sign in", variant="ghost"), href=routes.LOGIN),
            rx.link(rx.button("Create account"), href=routes.REGISTER),
            rx.color_mode.button(aria_label="Toggle light and dark mode"),
            padding_x="2em",
            padding_y="1em",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
            width="100%",
            align="center",
        ),
        rx.container(
            rx.vstack(
                rx.badge("Self-hosted", variant="soft", size="2"),
                rx.heading("Build, run and operate AI agents", size="8"),
                rx.text(
                    "Define agents, compose them into teams, version your prompts, and watch "
                    "every run stream step by step with tokens, cost and latency.",
                    size="4",
                    color_scheme="gray",
                ),
                rx.hstack(
                    rx.link(
                        rx.button(rx.icon("log-in", size=16), "Get started", size="3"),
                        href=routes.REGISTER,
                    ),
                    rx.link(
                        rx.button(
                            rx.icon("book-open", size=16),
                            "REST API docs",
                            size="3",
                            variant="outline",
                        ),
                        href=routes.API_DOCS,
                        is_external=True,
                    ),
                    spacing="3",
                ),
                rx.grid(
                    _feature("bot", "Agents", "A model, instructions, tools and parameters."),
                    _feature("users", "Teams", "Sequential, round-robin, selector or parallel."),
                    _feature("git-branch", "Prompts", "Immutable versions, labels and rollback."),
                    _feature("chart-line", "Runs", "Live traces with tokens, cost and latency."),
                    columns=rx.breakpoints(initial="1", sm="2", lg="4"),
                    spacing="4",
                    width="100%",
                    padding_top="1.5em",
                ),
                spacing="5",
                align="start",
                padding_y="4em",
            ),
            size="4",
        ),
        min_height="100vh",
    )
