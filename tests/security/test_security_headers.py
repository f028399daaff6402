"""Security headers, CORS and the websocket origin check, in-process (issue 15, finding 7).

The served app (pages, static files, websocket) is covered in tests/security/browser/.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket

from agentplatform.api.app import build_api
from agentplatform.api.browser_security import backend_origins, harden
from agentplatform.api.security_headers import inline_script_hashes
from agentplatform.core.config import get_settings, load_settings
from agentplatform.core.errors import ConfigError

PAGE = b"<!doctype html><script>window.boot = 1;</script><script src='/a.js'></script><p>hi</p>"
TRUSTED = "https://trusted.example"
EVIL = "https://evil.example"


def sha256_source(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


def directives(policy: str) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


def assert_hardened(response: httpx.Response) -> dict[str, list[str]]:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert headers["cross-origin-opener-policy"] == "same-origin"
    policy = directives(headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    return policy


@pytest.fixture
async def hardened_api() -> AsyncIterator[httpx.AsyncClient]:
    """The API behind the same outer layer Reflex's app gets (`harden`)."""
    transport = httpx.ASGITransport(app=harden(build_api()))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_api_responses_carry_the_security_headers(api: httpx.AsyncClient) -> None:
    for path in ("/api/health", "/api/nowhere", "/api/openapi.json"):
        response = await api.get(path)
        policy = assert_hardened(response)
        assert policy["script-src"] == ["'self'"]
        assert "ws://testserver" in policy["connect-src"]
        assert "strict-transport-security" not in response.headers  # plain http, development


async def test_https_adds_hsts_and_upgrades_insecure_requests(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/health", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert "upgrade-insecure-requests" in response.headers["content-security-policy"]


async def test_the_docs_pages_allow_exactly_their_own_inline_scripts(
    hardened_api: httpx.AsyncClient,
) -> None:
    for path in ("/api/docs", "/api/redoc", "/api/docs/oauth2-redirect"):
        response = await hardened_api.get(path)
        assert response.status_code == 200
        policy = assert_hardened(response)
        inline = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
        expected = {sha256_source(s.encode()) for s in inline}
        assert set(policy["script-src"]) == {"'self'", *expected}, path
        assert response.headers.get_list("content-security-policy") == [
            response.headers["content-security-policy"]
        ]  # one policy, even though two layers saw the response
    swagger = (await hardened_api.get("/api/docs")).text
    assert "validatorUrl" in swagger and "validator.swagger.io" not in swagger


def test_inline_script_hashes_cover_inline_scripts_only() -> None:
    assert inline_script_hashes(PAGE) == (sha256_source(b"window.boot = 1;"),)
    assert inline_script_hashes(b"<SCRIPT type=module>a</SCRIPT >") == (sha256_source(b"a"),)
    assert inline_script_hashes(b"<p>no scripts</p>") == ()


def _page_app() -> Starlette:
    async def plain(_request: object) -> Response:
        return HTMLResponse(PAGE)

    async def zipped(_request: object) -> Response:
        return Response(
            gzip.compress(PAGE),
            media_type="text/html",
            headers={"Content-Encoding": "gzip"},
        )

    async def not_modified(_request: object) -> Response:
        return Response(status_code=304, headers={"ETag": '"1"'})

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    return Starlette(
        routes=[
            Route("/page", plain),
            Route("/zipped", zipped),
            Route("/cached", not_modified),
            WebSocketRoute("/_event", echo),
        ]
    )


async def test_html_pages_plain_or_gzipped_get_the_hashes_of_their_scripts() -> None:
    transport = httpx.ASGITransport(app=harden(_page_app()))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for path in ("/page", "/zipped"):
            response = await client.get(path)
            assert response.content == PAGE  # the body passes through unchanged
            policy = assert_hardened(response)
            assert policy["script-src"] == ["'self'", sha256_source(b"window.boot = 1;")], path
        cached = await client.get("/cached")
        # A 304 would replace the cached page's policy: it carries none, the page keeps its own.
        assert cached.status_code == 304 and "content-security-policy" not in cached.headers
        assert cached.headers["x-frame-options"] == "DENY"


async def _handshake(headers: dict[str, str]) -> list[str]:
    """The message types the app sends to a websocket handshake with these headers."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/_event",
        "raw_path": b"/_event",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "subprotocols": [],
    }
    await harden(_page_app())(scope, receive, send)
    return [m["type"] + (f":{m['code']}" if "code" in m else "") for m in sent]


async def test_the_websocket_handshake_is_refused_from_another_site() -> None:
    accepted = ["websocket.accept", "websocket.send", "websocket.close:1000"]
    for headers in ({}, {"Origin": "http://testserver"}, {"Origin": "https://testserver"}):
        assert await _handshake(headers) == accepted, headers
    proxied = {"Origin": "https://app.example.com", "X-Forwarded-Host": "app.example.com"}
    assert await _handshake(proxied) == accepted
    for origin in (EVIL, "http://testserver.evil.example", "null"):
        assert await _handshake({"Origin": origin}) == ["websocket.close:1008"], origin


async def test_cors_is_off_unless_configured(
    hardened_api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    foreign = await hardened_api.get(
        "/api/health", headers={"Origin": EVIL, "Cookie": "ap_session=x"}
    )
    assert "access-control-allow-origin" not in foreign.headers
    monkeypatch.setattr(get_settings(), "cors_allowed_origins", TRUSTED)
    transport = httpx.ASGITransport(app=harden(build_api()))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        allowed = await client.get("/api/health", headers={"Origin": TRUSTED})
        assert allowed.headers["access-control-allow-origin"] == TRUSTED
        assert allowed.headers["access-control-allow-credentials"] == "true"
        preflight = await client.options(
            "/api/agents",
            headers={
                "Origin": TRUSTED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-csrf-token, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == TRUSTED
        assert preflight.headers["x-frame-options"] == "DENY"
        other = await client.get("/api/health", headers={"Origin": EVIL})
        assert "access-control-allow-origin" not in other.headers
        evil_preflight = await client.options(
            "/api/agents", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in evil_preflight.headers


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("*", "'*' is not allowed"),
        ("trusted.example", "is not an origin"),
        ("https://trusted.example/app", "is not an origin"),
        ("ftp://trusted.example", "is not an origin"),
        ("https://trusted.example:99999", "invalid port"),
    ],
)
def test_a_bad_cors_origin_stops_start_up_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", value)
    with pytest.raises(ConfigError, match=f"CORS_ALLOWED_ORIGINS is invalid.*{re.escape(problem)}"):
        load_settings()


def test_cors_origins_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", " https://App.Example.com/ , http://x.test:80,")
    assert load_settings().cors_origins == ["https://app.example.com", "http://x.test"]


def test_a_websocket_behind_a_proxy_is_allowed_in_connect_src() -> None:
    assert backend_origins("http://localhost:3000") == []
    assert backend_origins("https://api.example.com") == [
        "wss://api.example.com",
        "https://api.example.com",
    ]
