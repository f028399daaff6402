"""The dashboard's top: the period switch and the headline numbers."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui.components.common import stat_card
from agentplatform.ui.state.dashboard import DashboardState as S


def period_control() -> rx.Component:
    """24 hours, 7 days or 30 days."""
    return rx.segmented_control.root(
        rx.segmented_control.item("24h", value="24h"),
        rx.segmented_control.item("7d", value="7d"),
        rx.segmented_control.item("30d", value="30d"),
        value=S.period,
        on_change=S.set_period,
        aria_label="Period",
    )


def _card(label: str, key: str, hint: rx.Var[str] | str, icon: str) -> rx.Component:
    return stat_card(label, S.cards.get(key, "—").to(str), hint, icon)


def headline_cards() -> rx.Component:
    """Runs, success rate, p50/p95 latency, tokens and cost of the period."""
    return rx.grid(
        _card("Runs", "runs", S.cards.get("outcome", "").to(str), "activity"),
        _card("Success rate", "success", "of finished runs", "circle-check"),
        _card("Latency p50", "p50", "median run", "timer"),
        _card("Latency p95", "p95", "slowest 5% above", "gauge"),
        _card("Tokens", "tokens", S.cards.get("tokens_split", "").to(str), "coins"),
        _card("Cost", "cost", S.cards.get("active", "").to(str), "dollar-sign"),
        columns=rx.breakpoints(initial="2", md="3", xl="6"),
        spacing="3",
        width="100%",
        aria_label="Headline numbers",
        role="group",
    )
