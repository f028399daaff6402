"""The browser session on HTTP: setting and clearing its cookies, refusing forged requests."""

from __future__ import annotations

from fastapi import Request, Response

from agentplatform.api.origins import request_origin_allowed
from agentplatform.api.security_headers import is_https
from agentplatform.core.errors import PermissionDenied
from agentplatform.core.session_cookies import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    cookie_name,
    csrf_token,
    csrf_valid,
    session_token,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE = (
    "Refused: this request comes from a page on another site ({origin}). Use the app itself, "
    "or list that origin in CORS_ALLOWED_ORIGINS if it is yours."
)
CSRF_MISSING = (
    f"Refused: a request authenticated by the browser's session cookie must carry the "
    f"{CSRF_HEADER} header (the value of the {CSRF_COOKIE} cookie), so that other sites cannot "
    "send it on your behalf. Programs should authenticate with 'Authorization: Bearer …' or "
    "'X-API-Key' instead."
)


def cookies_secure(request: Request) -> bool:
    """Secure (and `__Host-`) cookies whenever the browser reached the app over https."""
    return is_https(request.scope)


def session_token_of(request: Request) -> str | None:
    """The session token the browser sent, if any."""
    return session_token(request.cookies, secure=cookies_secure(request))


def set_session_cookies(response: Response, request: Request, *, token: str, max_age: int) -> None:
    """The session (HttpOnly: out of reach of page scripts) and its CSRF proof (readable)."""
    secure = cookies_secure(request)
    for base, value, httponly in (
        (SESSION_COOKIE, token, True),
        (CSRF_COOKIE, csrf_token(token), False),
    ):
        response.set_cookie(
            cookie_name(base, secure=secure),
            value,
            max_age=max_age,
            path="/",
            secure=secure,
            httponly=httponly,
            samesite="strict",
        )


def clear_session_cookies(response: Response, request: Request) -> None:
    """Expire both cookies, under either name."""
    for base in (SESSION_COOKIE, CSRF_COOKIE):
        for secure in (True, False):
            if secure or not cookies_secure(request):
                response.delete_cookie(
                    cookie_name(base, secure=secure),
                    path="/",
                    secure=secure,
                    httponly=base == SESSION_COOKIE,
                    samesite="strict",
                )


def require_same_origin(request: Request) -> None:
    """403 when a browser sends this from a page of another site (sign-in forgery and CSRF)."""
    if not request_origin_allowed(request.headers):
        raise PermissionDenied(CROSS_SITE.format(origin=request.headers.get("origin")))


def require_csrf(request: Request, token: str) -> None:
    """403 unless a cookie-authenticated, state-changing request proves it comes from the app."""
    if request.method in SAFE_METHODS:
        return
    require_same_origin(request)
    if not csrf_valid(token, request.headers.get(CSRF_HEADER)):
        raise PermissionDenied(CSRF_MISSING)
