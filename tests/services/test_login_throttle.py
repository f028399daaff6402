"""Sign-in throttling: the policy, the database store, and the Redis store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from agentplatform.core import security
from agentplatform.core.config import get_settings
from agentplatform.core.errors import RateLimited
from agentplatform.services import login_throttle
from agentplatform.services.attempt_counters import (
    AttemptStore,
    Count,
    DatabaseAttemptStore,
    RedisAttemptStore,
)
from agentplatform.services.login_throttle import LoginThrottle
from tests.factories import make_user
from tests.services import REDIS_URL
from tests.services.redis_support import redis_namespace

ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_S = 5, 20, 900


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users made here hash at bcrypt's lowest cost: the same code path, far less CPU."""
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


class Clock:
    """A hand-driven wall clock."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["database", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[AttemptStore]:
    """Each store backend, isolated (Redis: a fresh key prefix, removed afterwards)."""
    if request.param == "database":
        yield DatabaseAttemptStore()
        return
    with redis_namespace() as prefix:
        yield RedisAttemptStore(REDIS_URL, prefix, fallback=DatabaseAttemptStore())


def throttle_on(store: AttemptStore, **limits: int) -> LoginThrottle:
    values = {"account_limit": ACCOUNT_LIMIT, "address_limit": ADDRESS_LIMIT, "window_s": WINDOW_S}
    return LoginThrottle(store=store, **{**values, **limits})


async def test_store_counts_gives_back_and_resets(store: AttemptStore) -> None:
    [first] = await store.hit(["k"], 60)
    assert first.count == 1 and 0 < first.remaining_s <= 60
    assert [c.count for c in await store.hit(["k", "other"], 60)] == [2, 1]
    await store.give_back("k")
    assert (await store.hit(["k"], 60))[0].count == 2
    await store.reset("k")
    assert (await store.hit(["k"], 60))[0].count == 1
    await store.give_back("never-seen")  # no key is made by giving back
    assert (await store.hit(["never-seen"], 60))[0].count == 1
    await store.clear()
    assert [c.count for c in await store.hit(["k", "other"], 60)] == [1, 1]


async def test_concurrent_hits_each_see_their_own_count(store: AttemptStore) -> None:
    counts = await asyncio.gather(*(store.hit(["k"], 60) for _ in range(30)))
    assert sorted(c.count for [c] in counts) == list(range(1, 31))


async def test_redis_window_is_set_once_and_expires() -> None:
    with redis_namespace() as prefix:
        store = RedisAttemptStore(REDIS_URL, prefix, fallback=DatabaseAttemptStore())
        await store.hit(["k"], 1)
        [count] = await store.hit(["k"], 100)  # a later attempt does not extend the window
        assert count.count == 2 and count.remaining_s <= 1
        await asyncio.sleep(1.1)
        assert (await store.hit(["k"], 100))[0] == Count(1, 100.0)


async def test_database_window_closes_with_time(clock: Clock) -> None:
    store = DatabaseAttemptStore(clock=clock)
    await store.hit(["k"], 60)
    clock.now += 30
    assert await store.hit(["k"], 60) == [Count(2, 30.0)]
    clock.now += 30
    assert await store.hit(["k"], 60) == [Count(1, 60.0)]  # the old window ended


async def test_account_limit_raises_with_retry_after(store: AttemptStore) -> None:
    throttle = throttle_on(store)
    for _ in range(ACCOUNT_LIMIT):
        await throttle.attempt(email="a@example.com", address="10.0.0.1")
    with pytest.raises(RateLimited) as raised:
        await throttle.attempt(email="A@example.com ", address="10.0.0.2")
    assert 0 < raised.value.retry_after <= WINDOW_S
    assert "15 minutes" in raised.value.message
    await throttle.attempt(email="b@example.com", address="10.0.0.1")  # others are unaffected


async def test_address_limit_spans_accounts(store: AttemptStore) -> None:
    throttle = throttle_on(store)
    for n in range(ADDRESS_LIMIT):
        await throttle.attempt(email=f"u{n}@example.com", address="10.0.0.9")
    with pytest.raises(RateLimited):
        await throttle.attempt(email="new@example.com", address="10.0.0.9")
    await throttle.attempt(email="new@example.com", address="10.0.0.10")
    # The refused attempt never reached the account: it still has all its tries.
    for _ in range(ACCOUNT_LIMIT - 1):
        await throttle.attempt(email="new@example.com", address=f"10.0.1.{_}")


async def test_success_clears_the_account_and_refunds_the_address(store: AttemptStore) -> None:
    throttle = throttle_on(store, account_limit=2, address_limit=3)
    for _ in range(2):  # a failure, then the right password
        await throttle.attempt(email="a@example.com", address="10.0.0.1")
    await throttle.succeeded(email="a@example.com", address="10.0.0.1")
    await throttle.attempt(email="a@example.com", address="10.0.0.2")  # the account is clear
    for other in ("c", "d"):  # the address counts its failures only: 1 + 2 of 3
        await throttle.attempt(email=f"{other}@example.com", address="10.0.0.1")
    with pytest.raises(RateLimited):
        await throttle.attempt(email="a@example.com", address="10.0.0.1")


async def test_successes_never_use_up_an_address(store: AttemptStore) -> None:
    throttle = throttle_on(store, address_limit=3)
    for n in range(10):  # an office behind one address, everyone signing in right
        await throttle.attempt(email=f"u{n}@example.com", address="10.0.0.1")
        await throttle.succeeded(email=f"u{n}@example.com", address="10.0.0.1")


async def test_retry_after_shrinks_as_the_window_passes(clock: Clock) -> None:
    throttle = throttle_on(DatabaseAttemptStore(clock=clock), account_limit=1)
    await throttle.attempt(email="a@example.com", address="x")
    clock.now += WINDOW_S - 30
    with pytest.raises(RateLimited) as raised:
        await throttle.attempt(email="a@example.com", address="x")
    assert raised.value.retry_after == 30
    assert "1 minute " in raised.value.message
    clock.now += 30
    await throttle.attempt(email="a@example.com", address="x")


async def test_redis_url_selects_the_redis_store_under_its_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(login_throttle.get_throttle().store, DatabaseAttemptStore)
    monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
    monkeypatch.setattr(get_settings(), "redis_prefix", "tenant-a")
    store = login_throttle.get_throttle().store
    assert isinstance(store, RedisAttemptStore) and store.prefix == "tenant-a:login:"


async def test_sign_in_is_throttled_through_redis(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counters shared by replicas: a 429 from the API, counted in the real Redis."""
    with redis_namespace() as prefix:
        monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
        monkeypatch.setattr(get_settings(), "redis_prefix", prefix)
        monkeypatch.setattr(get_settings(), "login_account_limit", 2)
        user = await make_user()
        for _ in range(2):
            response = await api.post(
                "/api/auth/login", json={"email": user.email, "password": "wrong-password-1"}
            )
            assert response.status_code == 401
        response = await api.post(
            "/api/auth/login", json={"email": user.email, "password": user.password}
        )
        assert response.status_code == 429
        assert 0 < int(response.headers["Retry-After"]) <= WINDOW_S
        assert response.json()["error"]["code"] == "rate_limited"
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        try:
            assert client.keys(f"{prefix}:login:*")  # the counters live under REDIS_PREFIX
            assert not client.keys("agentplatform:login-failures:*")
        finally:
            client.close()
