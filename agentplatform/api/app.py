"""The FastAPI application that Reflex serves in the same process (api_transformer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline

from agentplatform.api import browser_security
from agentplatform.api.body_limit import BodySizeLimitMiddleware
from agentplatform.api.errors import install_error_handlers
from agentplatform.api.middleware import CorrelationIdMiddleware
from agentplatform.api.rate_limit import RateLimitMiddleware
from agentplatform.api.routes import ROUTERS, prometheus
from agentplatform.observability.http_metrics import HttpMetricsMiddleware
from agentplatform.observability.sentry import SentryContextMiddleware
from agentplatform.services.health import app_version
from agentplatform.services.run_dispatch import dispatcher_lifespan

API_PREFIX = "/api"


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Run execution when the API is served on its own; under Reflex, Reflex's lifespan task
    starts the same (idempotent) dispatcher and a mounted app's lifespan does not run."""
    async with dispatcher_lifespan():
        yield


def build_api() -> FastAPI:
    """Create the REST API: routers under /api, docs at /api/docs."""
    app = FastAPIOffline(
        title="AgentPlatform API",
        version=app_version(),
        description="Build, run and operate AI agents. Every UI action is available here.",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=f"{API_PREFIX}/redoc",
        openapi_url=f"{API_PREFIX}/openapi.json",
        swagger_ui_oauth2_redirect_url=f"{API_PREFIX}/docs/oauth2-redirect",
        static_url=f"{API_PREFIX}/static-docs",
        swagger_ui_parameters={"validatorUrl": None},  # no call to validator.swagger.io
        lifespan=_lifespan,
    )
    api = APIRouter(prefix=API_PREFIX)
    for router in ROUTERS:
        api.include_router(router)
    app.include_router(api)
    app.include_router(prometheus.router)  # /metrics: outside /api, where scrapers look
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware)  # REQUEST_MAX_BYTES, before any body is read
    # --- rate limits: inside metrics and the request id (a 429 is counted and carries one),
    # outside the body limit (a refused caller's body is never read) ---
    app.add_middleware(RateLimitMiddleware)
    # --- end of rate limits ---
    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(SentryContextMiddleware)  # inside the correlation id middleware
    app.add_middleware(CorrelationIdMiddleware)
    browser_security.install(app)  # headers and CORS when the API is served on its own
    return app
