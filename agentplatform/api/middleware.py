"""ASGI middleware: a correlation id for every HTTP request, and an access log line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentplatform.core import logging as log_context
from agentplatform.core.client_address import scope_client_address

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = logging.getLogger("agentplatform.access")


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1").strip()
            if _SAFE_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


class CorrelationIdMiddleware:
    """Takes `X-Request-ID` (or makes one), binds it and the client's address to logs, and
    echoes the id in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        token = log_context.correlation_id.set(request_id)
        client = scope_client_address(scope)  # TRUSTED_PROXIES decides whose word counts
        client_token = log_context.client_address.set(client)
        scope.setdefault("state", {}).update(correlation_id=request_id, client_address=client)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if path.startswith("/api"):
                access_log.info(
                    "%s %s %s",
                    scope.get("method"),
                    path,
                    status,
                    extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)},
                )
            log_context.client_address.reset(client_token)
            log_context.correlation_id.reset(token)
