"""Pure ASGI middleware: one size limit for every request body, enforced before it is read.

A declared `Content-Length` over the limit is answered 413 at once, without reading a byte of
the body; a body without one (chunked) is counted as it streams in, and the read stops with a
413 the moment the count passes the limit, so no route parses or buffers more than that.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentplatform.core.config import get_settings


def describe_limit(limit: int) -> str:
    """`1 MB`, `512 KB` or `1500 bytes`: the limit as people read it."""
    for unit, size in (("MB", 1024**2), ("KB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


class BodyTooLarge(HTTPException):
    """The request body passed the limit while it was being read (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))
        self.details = {"limit_bytes": limit}


def too_large_message(limit: int) -> str:
    return (
        f"The request body is larger than this server accepts ({describe_limit(limit)}, "
        "REQUEST_MAX_BYTES): send less, e.g. split it over several requests."
    )


def _declared_length(scope: Scope) -> int | None:
    """The `Content-Length` header as a number; -1 when it is not one."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


async def _answer(send: Send, status: int, code: str, message: str, limit: int) -> None:
    """An error in the API's shape, closing the connection (its body is left unread)."""
    body = json.dumps(
        {"error": {"code": code, "message": message, "details": {"limit_bytes": limit}}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodySizeLimitMiddleware:
    """Refuses request bodies over `REQUEST_MAX_BYTES` with 413, before anyone reads them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes or get_settings().request_max_bytes
        declared = _declared_length(scope)
        if declared is not None and declared < 0:
            message = "The Content-Length header is not a number of bytes."
            await _answer(send, 400, "bad_request", message, limit)
            return
        if declared is not None and declared > limit:
            await _answer(send, 413, "payload_too_large", too_large_message(limit), limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            # Raised where no exception handler answered it (a route reading the stream
            # itself, or the mounted UI app); handled routes answered 413 already.
            if started:
                raise
            await _answer(send, 413, "payload_too_large", too_large_message(limit), limit)
