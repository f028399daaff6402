"""The Reflex app: pages, the REST API (api_transformer) and start-up wiring only."""

from __future__ import annotations

import reflex as rx
from reflex.config import get_config
from starlette.types import ASGIApp

from agentplatform.api.app import build_api
from agentplatform.api.browser_security import backend_origins, harden
from agentplatform.core.config import get_settings
from agentplatform.core.logging import configure_logging
from agentplatform.observability.sentry import init_sentry
from agentplatform.services.run_dispatch import dispatcher_lifespan
from agentplatform.ui import pages
from agentplatform.ui.components.browser_session import legacy_token_sweep
from agentplatform.ui.components.sentry_browser import sentry_browser
from agentplatform.ui.components.server_toasts import server_toasts
from agentplatform.ui.state.session import SessionState
from agentplatform.ui.state.toasts import backend_exception_toast

_settings = get_settings()
configure_logging(_settings.log_level, str(_settings.log_format))
init_sentry(_settings)


class AgentPlatformApp(rx.App):
    """Reflex's app with the browser defences (security headers, CORS, websocket origin
    check) around everything it serves, outside Reflex's own CORS layers."""

    def __call__(self) -> ASGIApp:
        return harden(super().__call__(), connect_sources=backend_origins(get_config().api_url))


app = AgentPlatformApp(
    api_transformer=build_api(),
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
    extra_app_wraps={
        (1, "SentryBrowser"): lambda _stateful: sentry_browser(),
        (2, "LegacyTokenSweep"): lambda _stateful: legacy_token_sweep(),
        (6, "ServerToasts"): lambda stateful: server_toasts() if stateful else None,
    },
    backend_exception_handler=backend_exception_toast,
)
app.register_lifespan_task(dispatcher_lifespan)  # run execution, lease reaper
app.add_page(
    pages.home.home,
    route="/",
    title="AgentPlatform",
    on_load=SessionState.redirect_if_signed_in,
)
