"""API rate limits: per API key or user, per address for anonymous callers, with Retry-After.

Found: no API rate limit at all. Now every /api request but the probes counts against its
caller (RATE_LIMIT_AUTHENTICATED per API key or user, RATE_LIMIT_ANONYMOUS per client
address), over the limit the answer is a 429 in the API's error shape with Retry-After, the
counts are shared through Redis when it is configured, and a Redis outage falls back to
in-process limits instead of failing requests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from agentplatform.api.app import build_api
from agentplatform.core.config import get_settings
from agentplatform.core.rate_limits import RateLimits
from tests.factories import make_user
from tests.security.redis_proxy import redis_proxy
from tests.services import REDIS_URL
from tests.services.redis_support import redis_namespace

ClientFor = Callable[[str], httpx.AsyncClient]


@pytest.fixture(params=["in-process", "redis"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Where requests are counted: this process (no REDIS_URL) or the real Redis."""
    if request.param == "in-process":
        yield request.param
        return
    with redis_namespace() as prefix:
        monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
        monkeypatch.setattr(get_settings(), "redis_prefix", prefix)
        yield request.param


@pytest.fixture
async def client_from() -> AsyncIterator[ClientFor]:
    """HTTP clients on one app whose connections come from a given address."""
    app = build_api()
    clients: list[httpx.AsyncClient] = []

    def make(peer: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


def limits(monkeypatch: pytest.MonkeyPatch, anonymous: str, authenticated: str) -> None:
    monkeypatch.setattr(get_settings(), "rate_limit_anonymous", anonymous)
    monkeypatch.setattr(get_settings(), "rate_limit_authenticated", authenticated)


def assert_limited(response: httpx.Response, window_s: int = 60) -> int:
    """A 429 in the API's error shape whose Retry-After says when to come back."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= window_s
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"] == {"retry_after": retry_after}
    assert f"retry in {retry_after} s" in error["message"]
    assert response.headers["X-Request-ID"]
    return retry_after


async def test_anonymous_callers_are_limited_per_address(
    client_from: ClientFor, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, "5/minute", "100/minute")
    caller = client_from("198.51.100.1")
    statuses = [(await caller.get("/api/openapi.json")).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert_limited(await caller.get("/api/openapi.json"))
    assert_limited(await caller.post("/api/auth/login", json={"email": "a@b.c", "password": "x"}))
    assert (await caller.get("/api/health")).status_code == 200  # probes are never refused
    assert (await caller.get("/api/ready")).status_code == 200
    other = client_from("198.51.100.2")
    assert (await other.get("/api/openapi.json")).status_code == 200


async def test_each_user_and_api_key_has_its_own_limit(
    client_from: ClientFor, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, "3/minute", "5/minute")
    office = client_from("198.51.100.1")  # everyone behind one address
    alice, bob = await make_user(), await make_user()
    key = await office.post("/api/api-keys", headers=bob.headers, json={"name": "ci"})
    assert key.status_code == 201, key.text
    key_headers = {"X-API-Key": key.json()["secret"]}
    for _ in range(5):
        assert (await office.get("/api/users/me", headers=alice.headers)).status_code == 200
    assert_limited(await office.get("/api/users/me", headers=alice.headers))
    assert (await office.get("/api/users/me", headers=bob.headers)).status_code == 200
    for _ in range(5):
        assert (await office.get("/api/users/me", headers=key_headers)).status_code == 200
    assert_limited(await office.get("/api/users/me", headers=key_headers))
    # Authenticated requests do not use up the address's anonymous budget.
    assert (await office.get("/api/openapi.json")).status_code == 200


async def test_invented_api_keys_spend_the_address_budget(
    client_from: ClientFor, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, "3/minute", "100/minute")
    attacker = client_from("203.0.113.9")
    statuses = [
        (await attacker.get("/api/agents", headers={"X-API-Key": f"apk_invented{n}"})).status_code
        for n in range(3)
    ]
    assert statuses == [401] * 3
    assert_limited(await attacker.get("/api/agents", headers={"X-API-Key": "apk_invented99"}))
    forged = {"Authorization": "Bearer not-a-token"}  # an invalid token is an anonymous call
    assert_limited(await attacker.get("/api/agents", headers=forged))
    user = await make_user()  # elsewhere, real credentials are unaffected
    assert (await client_from("198.51.100.1").get("/api/agents", headers=user.headers)).is_success


@pytest.mark.parametrize("shared", ["in-process", "redis"])
async def test_retry_after_is_when_a_request_is_allowed_again(shared: str) -> None:
    with redis_namespace() as prefix:
        rate_limits = RateLimits(REDIS_URL if shared == "redis" else "", prefix)
        assert [(await rate_limits.hit("2/2 seconds", "k")).allowed for _ in range(3)] == [
            True,
            True,
            False,
        ]
        refused = await rate_limits.hit("2/2 seconds", "k")
        assert 1 <= refused.retry_after <= 2
        await asyncio.sleep(refused.retry_after)
        assert (await rate_limits.hit("2/2 seconds", "k")).allowed


async def test_replicas_share_the_counts_through_redis() -> None:
    with redis_namespace() as prefix:
        replica_a, replica_b = RateLimits(REDIS_URL, prefix), RateLimits(REDIS_URL, prefix)
        for replica in (replica_a, replica_b, replica_a):
            assert (await replica.hit("3/minute", "key", "k1")).allowed
        assert not (await replica_b.hit("3/minute", "key", "k1")).allowed
        assert (await replica_b.hit("3/minute", "key", "k2")).allowed


async def test_redis_down_or_black_holed_falls_back_to_in_process_limits(
    client_from: ClientFor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    limits(monkeypatch, "3/minute", "100/minute")
    with redis_proxy() as proxy, redis_namespace() as prefix:
        monkeypatch.setattr(get_settings(), "redis_url", proxy.url)
        monkeypatch.setattr(get_settings(), "redis_prefix", prefix)
        for n, cut in enumerate((proxy.down, proxy.black_hole)):
            cut()
            caller = client_from(f"198.51.100.{n}")
            with caplog.at_level(logging.WARNING, logger="agentplatform.core.rate_limits"):
                statuses = [(await caller.get("/api/openapi.json")).status_code for _ in range(3)]
                assert statuses == [200] * 3  # never a 500 ...
                assert_limited(await caller.get("/api/openapi.json"))  # ... and still limited
            proxy.forward()
        outage_warnings = [r for r in caplog.records if "API rate limits" in r.getMessage()]
        assert len(outage_warnings) == 1  # one per outage: Redis never answered in between


async def test_every_route_documents_its_429(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/api/openapi.json")).json()
    for path in ("/api/agents", "/api/runs", "/api/auth/login"):
        for operation in spec["paths"][path].values():
            limited = operation["responses"]["429"]
            assert "Retry-After" in limited["headers"]
