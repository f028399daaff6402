"""The browser session's cookies: their names, reading them back, and the CSRF proof.

A signed-in browser keeps its session token in an HttpOnly cookie that page scripts cannot
read. Next to it sits a CSRF token, an HMAC of the session token that is readable on purpose:
the app's own pages copy it into the `X-CSRF-Token` header of state-changing API calls, which
a page on another site cannot do. Over https both are Secure and their names carry the
`__Host-` prefix, and only such a cookie counts there, so a sibling sub-domain cannot plant
one that is taken for the session.
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


def session_token(cookies: Mapping[str, str], *, secure: bool) -> str | None:
    """The session token a browser sent, if well-formed: over https only the `__Host-`
    cookie counts (a plain one could have been planted by a sibling sub-domain)."""
    value = cookies.get(f"{HOST_PREFIX}{SESSION_COOKIE}")
    if value is None and not secure:
        value = cookies.get(SESSION_COOKIE)
    return value if value and _TOKEN_SHAPE.match(value) else None


def handshake_secure(*, origin: str, forwarded_proto: str) -> bool:
    """Whether the page that opened a websocket was served over https (its `Origin`), or a
    TLS-terminating proxy says the connection was (`X-Forwarded-Proto`)."""
    proto = forwarded_proto.split(",")[0].strip().lower()
    return origin.lower().startswith("https://") or proto == "https"


def session_token_from_handshake(headers: Mapping[str, str]) -> str | None:
    """The session token in a websocket handshake's headers (lower-case names)."""
    secure = handshake_secure(
        origin=headers.get("origin", ""), forwarded_proto=headers.get("x-forwarded-proto", "")
    )
    return session_token(parse_cookie_header(headers.get("cookie", "")), secure=secure)


def csrf_token(session: str) -> str:
    """The CSRF proof that belongs to a session token (HMAC with the server's secret key)."""
    key = hashlib.sha256(f"csrf:{get_settings().secret_key}".encode()).digest()
    return hmac.new(key, session.encode(), hashlib.sha256).hexdigest()


def csrf_valid(session: str, presented: str | None) -> bool:
    """Whether `presented` is this session's CSRF proof (constant-time comparison)."""
    return bool(presented) and hmac.compare_digest(csrf_token(session), str(presented))
