"""The dashboard: runs, success, latency, tokens and cost, ordered for the reader's persona."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import loading_state, page_header
from agentplatform.ui.layout import private_page
from agentplatform.ui.state.dashboard import DashboardState
from agentplatform.ui.views.dashboard_cards import headline_cards, period_control
from agentplatform.ui.views.dashboard_sections import dashboard_sections


@private_page(routes.DASHBOARD, "Dashboard", on_load=DashboardState.load)
def dashboard_page() -> rx.Component:
    return rx.vstack(
        page_header("Dashboard", "How your runs perform and what they cost.", period_control()),
        rx.cond(
            DashboardState.loading & (DashboardState.cards.length() == 0),
            loading_state("Loading metrics…"),
            rx.vstack(headline_cards(), dashboard_sections(), spacing="4", width="100%"),
        ),
        width="100%",
    )
