"""HTTP GET limited to an allow-list of hosts; off unless hosts are configured."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from agentplatform.core.errors import ToolError
from agentplatform.engine.tools.base import Tool

MAX_REDIRECTS = 3
_REDIRECT_CODES = {301, 302, 303, 307, 308}


def normalise_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """Lower-case host names; `*.example.com` allows example.com and its sub-domains."""
    return frozenset(h.strip().lower().rstrip(".") for h in hosts if h and h.strip())


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Exact host match, or a `*.domain` entry that covers a sub-domain."""
    host = host.lower().rstrip(".")
    if host in allowed:
        return True
    return any(e.startswith("*.") and (host == e[2:] or host.endswith(e[1:])) for e in allowed)


def check_url(url: str, allowed: frozenset[str]) -> str:
    """Refuse non-http(s) URLs and hosts outside the allow-list; return the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ToolError(f"http_get: only http and https URLs are allowed, got {url!r}")
    host = parts.hostname or ""
    if not host:
        raise ToolError(f"http_get: the URL {url!r} has no host")
    if not host_allowed(host, allowed):
        raise ToolError(f"http_get: host '{host}' is not in the allow-list")
    return url


class HttpGet:
    """The callable behind the `http_get` tool; `transport` is injectable for tests."""

    def __init__(
        self,
        allowed_hosts: Iterable[str],
        *,
        max_bytes: int = 200_000,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allowed = normalise_hosts(allowed_hosts)
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.transport = transport

    async def __call__(self, args: dict[str, Any]) -> str:
        """Fetch the URL, following only redirects that stay inside the allow-list."""
        if not self.allowed:
            raise ToolError("http_get is disabled: no hosts are allowed (configure the allow-list)")
        url = check_url(str(args["url"]).strip(), self.allowed)
        try:
            return await self._fetch(url)
        except httpx.HTTPError as exc:
            raise ToolError(f"http_get: {type(exc).__name__}: {exc}") from None

    async def _fetch(self, url: str) -> str:
        """GET with manual redirects, each target checked against the allow-list."""
        async with httpx.AsyncClient(
            timeout=self.timeout_s, follow_redirects=False, transport=self.transport
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                async with client.stream("GET", url) as response:
                    if response.status_code in _REDIRECT_CODES:
                        target = response.headers.get("location", "")
                        url = check_url(urljoin(url, target), self.allowed)
                        continue
                    return await self._read(response)
        raise ToolError(f"http_get: more than {MAX_REDIRECTS} redirects")

    async def _read(self, response: httpx.Response) -> str:
        """Read at most `max_bytes` of the body and describe the response."""
        body = bytearray()
        truncated = False
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > self.max_bytes:
                truncated = True
                del body[self.max_bytes :]
                break
        content_type = response.headers.get("content-type", "")
        head = f"HTTP {response.status_code} {content_type}".rstrip()
        if content_type and not (
            content_type.startswith("text/") or "json" in content_type or "xml" in content_type
        ):
            return f"{head}\n\n[{len(body)} bytes of non-text content not shown]"
        try:
            text = body.decode(response.charset_encoding or "utf-8", errors="replace")
        except LookupError:
            text = body.decode("utf-8", errors="replace")
        note = f"\n[truncated at {self.max_bytes} bytes]" if truncated else ""
        return f"{head}\n\n{text}{note}"


def make_http_get_tool(
    allowed_hosts: Iterable[str] = (),
    *,
    max_bytes: int = 200_000,
    timeout_s: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Tool:
    """The built-in `http_get` tool; unavailable until the allow-list has hosts."""
    fetch = HttpGet(allowed_hosts, max_bytes=max_bytes, timeout_s=timeout_s, transport=transport)
    hosts = ", ".join(sorted(fetch.allowed))
    return Tool(
        name="http_get",
        description=f"Fetch a web page with HTTP GET. Allowed hosts: {hosts or 'none'}.",
        parameters={
            "type": "object",
            "properties": {"url": {"type": "string", "description": "http(s) URL"}},
            "required": ["url"],
            "additionalProperties": False,
        },
        run=fetch,
        timeout_s=timeout_s + 1.0,
        requires_permission=True,
        enabled_by_default=False,
        available=bool(fetch.allowed),
        unavailable_reason="" if fetch.allowed else "no hosts are in the http_get allow-list",
    )
