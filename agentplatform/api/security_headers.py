"""Security headers on every HTTP response: a strict Content-Security-Policy and friends.

Scripts: only the app's own files and the inline scripts of the HTML the server itself sends
(the frontend build's index.html, the API docs pages), allowed by their SHA-256 hashes, which
are computed from each HTML response as it goes out. Nothing else runs: not an injected
`<script>`, not an event-handler attribute, not `javascript:` URLs, not `eval`. Styles allow
inline `style` (Reflex's CSS-in-JS inserts `<style>` elements at run time, without a nonce).
Frames, plugins and `<base>` are off, and no other site may frame the app.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import re
import zlib
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urlsplit

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentplatform.core.config import get_settings

logger = logging.getLogger("agentplatform.security")

_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_HAS_SRC = re.compile(rb"\ssrc\s*=", re.IGNORECASE)
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
HSTS = "max-age=31536000"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), clipboard-read=(), clipboard-write=(self)"
)
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """CSP hash sources (`'sha256-…'`) of the inline scripts in an HTML document."""
    found = []
    for match in _INLINE_SCRIPT.finditer(html):
        if _HAS_SRC.search(b" " + match.group(1)):
            continue
        digest = base64.b64encode(hashlib.sha256(match.group(2)).digest()).decode()
        found.append(f"'sha256-{digest}'")
    return tuple(dict.fromkeys(found))


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL (e.g. the Sentry DSN), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


@lru_cache(maxsize=256)
def content_security_policy(
    *, script_hashes: tuple[str, ...], connect_sources: tuple[str, ...], https: bool
) -> str:
    """The policy for one response."""
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", ["'self'", *script_hashes]),
        ("style-src", ["'self'", "'unsafe-inline'"]),
        ("img-src", ["'self'", "data:", "blob:"]),
        ("font-src", ["'self'", "data:"]),
        ("connect-src", ["'self'", *connect_sources]),
        ("worker-src", ["'self'", "blob:"]),
        ("frame-src", ["'none'"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'none'"]),
        ("form-action", ["'self'"]),
        ("frame-ancestors", ["'none'"]),
    ]
    policy = "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives)
    return policy + ("; upgrade-insecure-requests" if https else "")


def is_https(scope: Scope) -> bool:
    """Served over https: directly, or by a TLS-terminating proxy that says so."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def _own_websocket_sources(headers: Headers) -> list[str]:
    """`ws://` and `wss://` for the host the browser reached (the UI's event channel)."""
    hosts = [headers.get("host", ""), headers.get("x-forwarded-host", "").split(",")[0].strip()]
    return [f"{scheme}://{host}" for host in hosts if _HOST.match(host) for scheme in ("ws", "wss")]


def _decoded(body: bytes, encoding: str) -> bytes | None:
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            return None
    return None


class SecurityHeadersMiddleware:
    """Adds the headers to every response that does not carry them yet (layers may nest)."""

    def __init__(self, app: ASGIApp, *, connect_sources: Sequence[str] = ()) -> None:
        self.app = app
        sentry = origin_of(get_settings().sentry_dsn)  # the browser reports errors there
        extra = [*connect_sources, *([sentry] if sentry else [])]
        self.connect_sources = tuple(dict.fromkeys(extra))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = bytearray()

        async def send_secured(message: Message) -> None:
            nonlocal held
            kind = message["type"]
            if kind == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" in headers:
                    await send(message)  # an inner layer secured it already
                elif headers.get("content-type", "").startswith("text/html"):
                    held = message  # its inline scripts decide the policy: wait for the body
                else:
                    self._secure(scope, message, html=None)
                    await send(message)
                return
            if held is None:
                await send(message)
                return
            if kind == "http.response.pathsend":
                raw = await anyio.Path(message["path"]).read_bytes()
            else:
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                raw = bytes(body)
            start, held = held, None
            self._secure(scope, start, html=raw)
            await send(start)
            await send(message if kind != "http.response.body" else {**message, "body": raw})

        await self.app(scope, receive, send_secured)

    def _secure(self, scope: Scope, start: Message, *, html: bytes | None) -> None:
        """Add the headers to a response's start message (`html`: its body, if HTML)."""
        headers = MutableHeaders(scope=start)
        https = is_https(scope)
        for name, value in STATIC_HEADERS.items():
            headers.setdefault(name, value)
        if https or get_settings().is_production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        if start["status"] == 304:
            return  # a revalidation keeps the cached page's policy (a 304 would replace it)
        hashes: tuple[str, ...] = ()
        if html is not None:
            decoded = _decoded(html, headers.get("content-encoding", "").lower())
            if decoded is None:
                logger.error(
                    "cannot read an HTML response's inline scripts (encoding %r): they will be "
                    "blocked; serve HTML plain or gzip",
                    headers.get("content-encoding"),
                )
            hashes = inline_script_hashes(decoded or b"")
        sources = (*_own_websocket_sources(Headers(scope=scope)), *self.connect_sources)
        headers["Content-Security-Policy"] = content_security_policy(
            script_hashes=hashes, connect_sources=tuple(dict.fromkeys(sources)), https=https
        )
