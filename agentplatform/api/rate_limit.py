"""API rate limits: per API key or user for identified callers, per client address for
anonymous ones; over the limit, 429 in the API's error shape with Retry-After.

The caller is told apart without the database: a bearer token whose signature checks out
names its user; an API key (`apk_…`) is counted under its digest. A key cannot be checked
here, so inventing keys must not buy fresh limits: a request whose credentials turn out
invalid (401) counts against its address as an anonymous one does, and an address over its
limit may not try API keys either. Limits come from Settings (RATE_LIMIT_ANONYMOUS,
RATE_LIMIT_AUTHENTICATED); the client address from CorrelationIdMiddleware (TRUSTED_PROXIES).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentplatform.api.errors import error_body
from agentplatform.core.client_address import UNKNOWN, scope_client_address
from agentplatform.core.config import get_settings
from agentplatform.core.errors import Unauthenticated
from agentplatform.core.rate_limits import ALLOWED, Verdict, get_rate_limits
from agentplatform.core.security import decode_access_token, hash_secret
from agentplatform.services.identity import API_KEY_PREFIX

EXEMPT_PATHS = frozenset({"/api/health", "/api/ready"})  # probes must never be refused


def _credential(scope: Scope) -> str | None:
    """The bearer token or X-API-Key the request carries, if any."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
    return None


def caller_identity(scope: Scope) -> tuple[str, str] | None:
    """("user", id) for a valid access token, ("key", digest) for an API key, else None."""
    credential = _credential(scope)
    if not credential:
        return None
    if credential.startswith(f"{API_KEY_PREFIX}_"):
        return "key", hash_secret(credential)[:32]
    try:
        subject = decode_access_token(credential).get("sub")
    except Unauthenticated:
        return None  # an invalid token is an anonymous request (and answered 401)
    return ("user", str(subject)) if subject else None


async def _refuse(send: Send, verdict: Verdict, identified: bool) -> None:
    who = "this API key or user" if identified else "your address"
    body = error_body(
        "rate_limited",
        f"Too many requests from {who}: retry in {verdict.retry_after} s.",
        {"retry_after": verdict.retry_after},
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(verdict.retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


class RateLimitMiddleware:
    """Counts every /api request (but the probes) against its caller's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/") or path in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        anonymous, authenticated = settings.rate_limit_anonymous, settings.rate_limit_authenticated
        state = scope.get("state") or {}
        address = state.get("client_address") or scope_client_address(scope) or UNKNOWN
        limits = get_rate_limits()
        caller = caller_identity(scope)
        if caller is None:
            verdict = await limits.hit(anonymous, "address", address)
        else:
            verdict = ALLOWED
            if caller[0] == "key":  # unverified here: an address over its limit may not try
                verdict = await limits.test(anonymous, "address", address)
            if verdict.allowed:
                verdict = await limits.hit(authenticated, *caller)
        if not verdict.allowed:
            await _refuse(send, verdict, identified=caller is not None)
            return
        status = 0

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, noting_status)
        if caller is not None and status == 401:  # invalid credentials: an anonymous request
            await limits.hit(anonymous, "address", address)
