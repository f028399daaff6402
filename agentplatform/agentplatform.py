"""The Reflex app: pages, the REST API (api_transformer) and start-up wiring only."""

from __future__ import annotations

import reflex as rx

from agentplatform.api.app import build_api
from agentplatform.core.config import get_settings
from agentplatform.core.logging import configure_logging
from agentplatform.observability.sentry import init_sentry
from agentplatform.services.run_dispatch import dispatcher_lifespan
from agentplatform.ui import pages
from agentplatform.ui.components.sentry_browser import sentry_browser
from agentplatform.ui.state.session import SessionState

_settings = get_settings()
configure_logging(_settings.log_level, str(_settings.log_format))
init_sentry(_settings)

app = rx.App(
    api_transformer=build_api(),
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
    extra_app_wraps={(1, "SentryBrowser"): lambda _stateful: sentry_browser()},
)
app.register_lifespan_task(dispatcher_lifespan)  # run execution, lease reaper
app.add_page(
    pages.home.home,
    route="/",
    title="AgentPlatform",
    on_load=SessionState.redirect_if_signed_in,
)
