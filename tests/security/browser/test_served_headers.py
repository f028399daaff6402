"""The served app (pages, static files, websocket, API on one port): security headers on every
response, CORS off but for the configured origin, and cross-site websockets refused
(issue 15, finding 7). HTTP-level, against the real server the browser tests use."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import ServedApp
from tests.e2e.fixtures import TRUSTED_ORIGIN
from tests.fakes.sentry_ingest import FakeIngest
from tests.security.browser.attack_support import PASSWORD, register

pytestmark = pytest.mark.browser
EVIL = "https://evil.example"
EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert "camera=()" in response.headers["permissions-policy"]
    parts = (p.split() for p in response.headers["content-security-policy"].split(";"))
    policy = {p[0]: p[1:] for p in parts if p}
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    return policy


def _inline_hashes(html: str) -> set[str]:
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.DOTALL)
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    }


def test_every_kind_of_response_carries_the_security_headers(
    served_app: ServedApp, sentry_ingest: FakeIngest
) -> None:
    url = served_app.url
    host = urlsplit(url).netloc
    with httpx.Client(base_url=url, timeout=30) as client:
        for path in ("/", "/agents", "/runs/7d1c2a55-0000-4000-8000-000000000000", "/nowhere"):
            for encoding in ("gzip", "identity"):  # the pre-compressed page and the plain one
                page = client.get(path, headers={"Accept-Encoding": encoding})
                assert page.headers["content-type"].startswith("text/html")
                policy = _policy(page)
                scripts = _inline_hashes(page.text)
                assert scripts, "the built page has inline scripts"
                assert set(policy["script-src"]) == {"'self'", *scripts}, (path, encoding)
                assert {f"ws://{host}", f"wss://{host}"} <= set(policy["connect-src"])
        sentry = urlsplit(sentry_ingest.dsn())
        assert f"{sentry.scheme}://{sentry.hostname}:{sentry.port}" in policy["connect-src"]
        asset = re.search(r'href="(/assets/[^"]+\.js)"', client.get("/").text)
        assert asset, "the page links its scripts"
        for path in (asset.group(1), "/favicon.svg", "/api/health", "/api/openapi.json"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert _policy(response)["script-src"] == ["'self'"], path
        docs = client.get("/api/docs")
        assert set(_policy(docs)["script-src"]) == {"'self'", *_inline_hashes(docs.text)}
        assert "strict-transport-security" not in docs.headers  # development over http
        https = client.get("/api/health", headers={"X-Forwarded-Proto": "https"})
        assert https.headers["strict-transport-security"] == "max-age=31536000"


def test_cors_answers_only_the_configured_origin(served_app: ServedApp) -> None:
    with httpx.Client(base_url=served_app.url, timeout=30) as client:
        foreign = client.get("/api/health", headers={"Origin": EVIL, "Cookie": "a=b"})
        assert "access-control-allow-origin" not in foreign.headers
        preflight = client.options(
            "/api/agents", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in preflight.headers
        trusted = client.get("/api/health", headers={"Origin": TRUSTED_ORIGIN})
        assert trusted.headers["access-control-allow-origin"] == TRUSTED_ORIGIN
        assert trusted.headers["access-control-allow-credentials"] == "true"
        trusted_preflight = client.options(
            "/api/agents",
            headers={
                "Origin": TRUSTED_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-csrf-token",
            },
        )
        assert trusted_preflight.status_code == 200
        assert trusted_preflight.headers["access-control-allow-origin"] == TRUSTED_ORIGIN


def _handshake_status(url: str, origin: str) -> int:
    """The HTTP status of a websocket handshake on the UI's event channel."""
    parts = urlsplit(url)
    request = (
        f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_a_websocket_from_another_site_is_refused(served_app: ServedApp) -> None:
    assert _handshake_status(served_app.url, served_app.url) == 101
    assert _handshake_status(served_app.url, EVIL) == 403


def test_a_real_sign_in_sets_the_session_as_an_httponly_strict_cookie(
    served_app: ServedApp,
) -> None:
    email, _, _ = register(served_app.url, "cookie")
    response = httpx.post(
        f"{served_app.url}/api/auth/session", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    cookies: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            cookies[name] = header
            if name == "ap_session":
                assert morsel["httponly"] and morsel["samesite"].lower() == "strict"
                assert morsel.value not in response.text
    assert set(cookies) == {"ap_session", "ap_csrf"}
    assert "HttpOnly" not in cookies["ap_csrf"]
