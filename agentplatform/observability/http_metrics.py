"""Pure ASGI middleware: count and time every HTTP request by its route template.

API routes give their template (`/api/agents/{agent_id}`); the Reflex frontend mounted under
the API app gives `/{path}`; a path nothing serves gives `unmatched`. Never the raw path.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentplatform.observability import metrics

UNMATCHED = "unmatched"
_cache: dict[int, tuple[int, list[Any]]] = {}


def _flat_routes(app: Any) -> list[Any]:
    """Every route of `app` with its full path, nested routers flattened (cached per app)."""
    routes = getattr(app, "routes", None)
    if not routes:
        return []
    cached = _cache.get(id(app))
    if cached is not None and cached[0] == len(routes):
        return cached[1]
    try:  # FastAPI >= 0.160 keeps included routers nested; this yields their full paths.
        from fastapi.routing import iter_route_contexts

        flat: list[Any] = list(iter_route_contexts(routes))
    except ImportError:
        flat = list(routes)
    _cache[id(app)] = (len(routes), flat)
    return flat


def route_template(scope: Scope) -> str:
    """The template of the route that serves `scope` (`/api/agents/{agent_id}`), or `unmatched`."""
    partial = None
    for route in _flat_routes(scope.get("app")):
        try:
            match, _ = route.matches(scope)
        except Exception:  # a route that cannot judge this scope does not serve it
            continue
        if match == Match.FULL:
            return str(getattr(route, "path_format", None) or UNMATCHED)
        if match == Match.PARTIAL and partial is None:
            partial = route
    return str(getattr(partial, "path_format", None) or UNMATCHED)


class HttpMetricsMiddleware:
    """Records `agentplatform_http_requests_total` and the request duration histogram."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        original = dict(scope)  # routers rewrite root_path and params as they descend
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            metrics.http_request(
                method=str(scope.get("method", "GET")),
                route=route_template(original),
                status=status,
                duration_s=time.perf_counter() - started,
            )
