"""The browser-facing defences in one place: security headers, CORS, websocket origins.

`harden` wraps the whole app Reflex serves (pages, static files, websocket, API), outside
Reflex's own CORS layers; `install` puts the same HTTP layers on the FastAPI app, for when the
API is served on its own. The header layer only adds what is missing, so nesting is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from agentplatform.api.origins import WebSocketOriginGuard
from agentplatform.api.security_headers import SecurityHeadersMiddleware
from agentplatform.core.config import get_settings
from agentplatform.core.session_cookies import CSRF_HEADER

LOOPBACK_NAMES = frozenset({"localhost", "0.0.0.0", "::", "127.0.0.1"})
CORS_OPTIONS = {
    "allow_credentials": True,
    "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    "allow_headers": [
        "Authorization",
        "Content-Type",
        "If-Match",
        "X-API-Key",
        "X-Workspace",
        "X-Request-ID",
        CSRF_HEADER,
    ],
    "expose_headers": ["ETag", "Retry-After", "X-Request-ID"],
    "max_age": 600,
}


def backend_origins(api_url: str) -> list[str]:
    """Where the built frontend opens its websocket when that is not the page's own host
    (Reflex's `api_url`, set by REFLEX_API_URL behind a proxy)."""
    parts = urlsplit(api_url)
    if not parts.hostname or parts.hostname in LOOPBACK_NAMES or not parts.scheme:
        return []
    secure = parts.scheme in ("https", "wss")
    return [f"{'wss' if secure else 'ws'}://{parts.netloc}", f"{parts.scheme}://{parts.netloc}"]


def harden(app: ASGIApp, *, connect_sources: Sequence[str] = ()) -> ASGIApp:
    """Everything Reflex serves, behind the headers, CORS (off unless configured) and the
    websocket origin check."""
    guarded: ASGIApp = WebSocketOriginGuard(app)
    origins = get_settings().cors_origins
    if origins:
        guarded = CORSMiddleware(guarded, allow_origins=origins, **CORS_OPTIONS)  # type: ignore[arg-type]
    return SecurityHeadersMiddleware(guarded, connect_sources=connect_sources)


def install(app: FastAPI) -> None:
    """The same HTTP layers on the API app (last added runs first)."""
    origins = get_settings().cors_origins
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, **CORS_OPTIONS)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeadersMiddleware)
