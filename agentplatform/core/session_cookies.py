"""The browser session's cookies: their names, reading them back, and the CSRF proof.

A signed-in browser keeps its session token in an HttpOnly cookie that page scripts cannot
read. Next to it sits a CSRF token, an HMAC of the session token that is readable on purpose:
the app's own pages copy it into the `X-CSRF-Token` header of state-changing API calls, which
a page on another site cannot do. Over https (and always in production) both names carry the
`__Host-` prefix, so a sibling sub-domain cannot plant a cookie of the same name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from agentplatform.core.config import get_settings

SESSION_COOKIE = "ap_session"
CSRF_COOKIE = "ap_csrf"
CSRF_HEADER = "X-CSRF-Token"
HOST_PREFIX = "__Host-"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def cookie_name(base: str, *, secure: bool) -> str:
    """`__Host-<base>` for a Secure cookie, else `<base>`."""
    return f"{HOST_PREFIX}{base}" if secure else base


def parse_cookie_header(header: str) -> dict[str, str]:
    """Name → value of a `Cookie` header; the first of two same-named cookies wins."""
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies


def _read(cookies: Mapping[str, str], base: str) -> str | None:
    """The `__Host-` cookie, else (outside production, where http is allowed) the plain one."""
    value = cookies.get(f"{HOST_PREFIX}{base}")
    if value is None and not get_settings().is_production:
        value = cookies.get(base)
    return value if value and _TOKEN_SHAPE.match(value) else None


def session_token(cookies: Mapping[str, str]) -> str | None:
    """The session token a browser sent, if it has a well-formed one."""
    return _read(cookies, SESSION_COOKIE)


def session_token_from_header(header: str) -> str | None:
    """The session token in a raw `Cookie` header (the UI's websocket handshake)."""
    return session_token(parse_cookie_header(header or ""))


def csrf_token(session: str) -> str:
    """The CSRF proof that belongs to a session token (HMAC with the server's secret key)."""
    key = hashlib.sha256(f"csrf:{get_settings().secret_key}".encode()).digest()
    return hmac.new(key, session.encode(), hashlib.sha256).hexdigest()


def csrf_valid(session: str, presented: str | None) -> bool:
    """Whether `presented` is this session's CSRF proof (constant-time comparison)."""
    return bool(presented) and hmac.compare_digest(csrf_token(session), str(presented))
