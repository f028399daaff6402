"""Who may talk to the app from a browser: its own origin, plus CORS_ALLOWED_ORIGINS.

Browsers say where a request comes from in the `Origin` header. A state-changing request
authenticated by the session cookie, a sign-in, and the UI's websocket handshake are refused
when it names another site (cross-site request forgery, cross-site websocket hijacking).
Requests without `Origin` come from programs, not from a page on another site.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from agentplatform.core.config import get_settings

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _netloc(scheme: str, host: str) -> str:
    """`host[:port]` without the scheme's default port, lower-cased."""
    host = host.strip().lower()
    name, sep, port = host.rpartition(":")
    if sep and not name.endswith("]") and ":" in name:
        return host  # a bare IPv6 address without brackets: leave it as it is
    if sep and port == _DEFAULT_PORTS.get(scheme):
        return name
    return host


def is_own_origin(origin: str, host: str) -> bool:
    """Whether `origin` is this server as the browser reached it (`Host`), in any scheme."""
    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc or not host:
        return False
    own_http, own_https = _netloc("http", host), _netloc("https", host)
    return _netloc(parts.scheme, parts.netloc) in {own_http, own_https}


def origin_allowed(origin: str | None, host: str, allowed: Iterable[str] | None = None) -> bool:
    """No `Origin` (a program), the app's own origin, or one of CORS_ALLOWED_ORIGINS."""
    if origin is None:
        return True
    trusted = get_settings().cors_origins if allowed is None else list(allowed)
    return is_own_origin(origin, host) or origin.rstrip("/").lower() in trusted


def request_origin_allowed(headers: Headers) -> bool:
    """The check for one request's headers. Behind a proxy that rewrites `Host`, the host the
    browser reached is in `X-Forwarded-Host`, which a page on another site cannot set (a custom
    header needs a CORS preflight, which is refused, and a websocket sets no headers at all)."""
    origin = headers.get("origin")
    forwarded = headers.get("x-forwarded-host", "").split(",")[0].strip()
    hosts = [headers.get("host", ""), *([forwarded] if forwarded else [])]
    return any(origin_allowed(origin, host) for host in hosts)


class WebSocketOriginGuard:
    """Refuses websocket handshakes from pages of other sites (the UI's event channel)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not request_origin_allowed(Headers(scope=scope)):
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)
