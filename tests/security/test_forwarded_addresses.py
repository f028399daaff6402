"""Forwarded client addresses: believed only from a trusted proxy (TRUSTED_PROXIES).

Found: behind an ingress the per-address limit saw one address for everyone, and nothing
said which proxy may name the client. Now a spoofed X-Forwarded-For from an untrusted peer
is ignored (the attacker stays one address however many it invents), a trusted proxy's
header is read from the right (the rightmost address that is not a trusted proxy), and that
address is what the sign-in throttle, the rate limits and the logs see.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from agentplatform.api.app import build_api
from agentplatform.core.client_address import resolve_client_address
from agentplatform.core.config import get_settings
from agentplatform.core.logging import ContextFilter
from tests.factories import make_user

INGRESS = "10.0.0.5"
ATTACKER = "203.0.113.9"

ClientFor = Callable[[str], httpx.AsyncClient]


@pytest.fixture
def trust_ingress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.0/8, 2001:db8:ffff::/48")


@pytest.fixture
async def client_from() -> AsyncIterator[ClientFor]:
    """HTTP clients on one app whose connections come from a given peer address."""
    app = build_api()
    clients: list[httpx.AsyncClient] = []

    def make(peer: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


def resolve(peer: str, **headers: str) -> str:
    return resolve_client_address(peer, [(k.replace("_", "-"), v) for k, v in headers.items()])


def test_nothing_is_trusted_by_default() -> None:
    assert get_settings().trusted_proxies == ""
    assert resolve(INGRESS, x_forwarded_for="198.51.100.7") == INGRESS
    assert resolve(ATTACKER, x_forwarded_for="198.51.100.7") == ATTACKER


def test_a_trusted_proxy_names_the_rightmost_untrusted_address(trust_ingress: None) -> None:
    assert resolve(INGRESS, x_forwarded_for="198.51.100.7") == "198.51.100.7"
    # A client's own X-Forwarded-For is kept by the proxy on the left: never believed.
    assert resolve(INGRESS, x_forwarded_for="1.1.1.1, 198.51.100.7") == "198.51.100.7"
    # Two trusted hops (an edge proxy, then the ingress) are both skipped.
    assert resolve(INGRESS, x_forwarded_for="198.51.100.7, 10.1.2.3") == "198.51.100.7"
    # Ports, IPv6 and headers split over several lines.
    assert resolve(INGRESS, x_forwarded_for="198.51.100.7:5555") == "198.51.100.7"
    assert resolve("2001:db8:ffff::1", x_forwarded_for="2001:db8::42") == "2001:db8::42"
    # Garbage where an address should be: the last proxy is all we know.
    assert resolve(INGRESS, x_forwarded_for="not-an-ip, 10.1.2.3") == "10.1.2.3"
    assert resolve(INGRESS) == INGRESS  # a trusted peer that forwards nothing is the client
    # An untrusted peer is the client whatever it claims.
    assert resolve(ATTACKER, x_forwarded_for="10.0.0.1") == ATTACKER


def test_the_forwarded_header_when_configured(
    trust_ingress: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "forwarded_header", "forwarded")
    header = 'for=1.1.1.1, for="[2001:db8::42]:4711";proto=https, for=10.1.2.3'
    assert resolve(INGRESS, forwarded=header) == "2001:db8::42"
    assert resolve(INGRESS, forwarded="for=_hidden, for=10.1.2.3") == "10.1.2.3"
    # With `forwarded` chosen, X-Forwarded-For (which the proxy may pass through) is ignored.
    assert resolve(INGRESS, x_forwarded_for="198.51.100.7") == INGRESS


async def sign_in(client: httpx.AsyncClient, email: str, forwarded_for: str) -> int:
    response = await client.post(
        "/api/auth/login",
        json={"email": email, "password": "wrong-password-1"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
    client_from: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "login_address_limit", 3)
    attacker = client_from(ATTACKER)
    statuses = [
        await sign_in(attacker, f"victim{n}@example.com", f"198.51.100.{n}") for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]  # one address, however many it invents


async def test_a_trusted_proxys_forwarded_for_names_each_client(
    client_from: ClientFor, monkeypatch: pytest.MonkeyPatch, trust_ingress: None
) -> None:
    monkeypatch.setattr(get_settings(), "login_address_limit", 3)
    ingress = client_from(INGRESS)
    first = [await sign_in(ingress, f"a{n}@example.com", "198.51.100.1") for n in range(4)]
    assert first == [401, 401, 401, 429]  # that client is throttled ...
    assert await sign_in(ingress, "b@example.com", "198.51.100.2") == 401  # ... not the next
    # Spoofing a new address to the left of what the ingress appended gains nothing.
    assert await sign_in(ingress, "c@example.com", "9.9.9.9, 198.51.100.1") == 429
    # And an untrusted peer naming the ingress's clients is still itself.
    user = await make_user()
    login = {"email": user.email, "password": user.password}
    direct = await client_from(ATTACKER).post(
        "/api/auth/login", json=login, headers={"X-Forwarded-For": "198.51.100.2"}
    )
    assert direct.status_code == 200


async def test_rate_limits_count_per_forwarded_client(
    client_from: ClientFor, monkeypatch: pytest.MonkeyPatch, trust_ingress: None
) -> None:
    monkeypatch.setattr(get_settings(), "rate_limit_anonymous", "3/minute")
    ingress = client_from(INGRESS)

    async def docs(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return (await ingress.get("/api/openapi.json", headers=headers)).status_code

    assert [await docs("198.51.100.1") for _ in range(4)] == [200, 200, 200, 429]
    assert await docs("198.51.100.2") == 200
    attacker = client_from(ATTACKER)
    spoofed = [
        (await attacker.get("/api/openapi.json", headers={"X-Forwarded-For": f"192.0.2.{n}"}))
        for n in range(4)
    ]
    assert [r.status_code for r in spoofed] == [200, 200, 200, 429]


async def test_the_client_address_is_logged(
    client_from: ClientFor, caplog: pytest.LogCaptureFixture, trust_ingress: None
) -> None:
    caplog.handler.addFilter(ContextFilter())
    with caplog.at_level(logging.INFO, logger="agentplatform.access"):
        await client_from(INGRESS).get(
            "/api/health", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.7"}
        )
        await client_from(ATTACKER).get("/api/health", headers={"X-Forwarded-For": "1.2.3.4"})
    access = [r for r in caplog.records if r.name == "agentplatform.access"]
    assert [getattr(r, "client_address", None) for r in access] == ["198.51.100.7", ATTACKER]


def test_the_ui_reads_the_same_rule_from_the_websocket(trust_ingress: None) -> None:
    """Reflex hands a UI event the websocket's headers and its peer ("asgi-scope-client",
    which a browser cannot set): the UI's sign-in throttle sees the same address."""
    from types import SimpleNamespace

    from agentplatform.ui.client_address import browser_address

    def router(peer: str, forwarded_for: str) -> SimpleNamespace:
        raw = {"asgi-scope-client": peer, "x-forwarded-for": forwarded_for}
        return SimpleNamespace(
            headers=SimpleNamespace(raw_headers=raw), session=SimpleNamespace(client_ip=peer)
        )

    assert browser_address(router(INGRESS, "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    assert browser_address(router(ATTACKER, "198.51.100.7")) == ATTACKER
