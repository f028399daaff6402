"""Failed-login throttling: the policy, the bounded in-process store, and the Redis store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from agentplatform.core import security
from agentplatform.core.config import get_settings
from agentplatform.core.errors import RateLimited
from agentplatform.services import login_throttle
from agentplatform.services.login_throttle import (
    ACCOUNT_LIMIT,
    ADDRESS_LIMIT,
    WINDOW_S,
    AttemptStore,
    LoginThrottle,
    MemoryAttemptStore,
    RedisAttemptStore,
)
from tests.factories import make_user
from tests.services import REDIS_URL, ensure_redis


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users made here hash at bcrypt's lowest cost: the same code path, far less CPU."""
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[AttemptStore]:
    """Each store backend, isolated (Redis: a fresh key prefix, removed afterwards)."""
    if request.param == "memory":
        yield MemoryAttemptStore(clock=clock)
        return
    ensure_redis()
    redis_store = RedisAttemptStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        yield redis_store
    finally:
        await redis_store.clear()
        await redis_store.aclose()


async def test_store_counts_and_resets(store: AttemptStore) -> None:
    assert await store.failures("k") == (0, 0.0)
    assert await store.add_failure("k", 60) == 1
    assert await store.add_failure("k", 60) == 2
    count, remaining = await store.failures("k")
    assert count == 2 and 0 < remaining <= 60
    await store.reset("k")
    assert await store.failures("k") == (0, 0.0)
    await store.add_failure("a", 60)
    await store.add_failure("b", 60)
    await store.clear()
    assert (await store.failures("a"))[0] == (await store.failures("b"))[0] == 0


async def test_redis_window_is_set_once_and_expires() -> None:
    ensure_redis()
    store = RedisAttemptStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        await store.add_failure("k", 1)
        await store.add_failure("k", 100)  # a later failure does not extend the window
        count, remaining = await store.failures("k")
        assert count == 2 and remaining <= 1
        import asyncio

        await asyncio.sleep(1.1)
        assert await store.failures("k") == (0, 0.0)
    finally:
        await store.clear()
        await store.aclose()


async def test_memory_window_closes_with_time(clock: Clock) -> None:
    store = MemoryAttemptStore(clock=clock)
    await store.add_failure("k", 60)
    clock.now += 30
    await store.add_failure("k", 60)
    assert await store.failures("k") == (2, 30.0)
    clock.now += 30
    assert await store.failures("k") == (0, 0.0)
    assert await store.add_failure("k", 60) == 1


async def test_memory_store_is_bounded(clock: Clock) -> None:
    store = MemoryAttemptStore(max_keys=3, clock=clock)
    for n in range(5):
        clock.now += 1
        await store.add_failure(f"k{n}", 60)
    assert len(store) == 3
    assert (await store.failures("k0"))[0] == 0  # the oldest windows were evicted
    assert (await store.failures("k4"))[0] == 1
    clock.now += 120
    await store.add_failure("fresh", 60)
    assert len(store) == 1  # expired windows are purged


async def test_account_limit_raises_with_retry_after(store: AttemptStore, clock: Clock) -> None:
    throttle = LoginThrottle(store=store)
    for _ in range(ACCOUNT_LIMIT):
        await throttle.check(email="a@example.com", address="10.0.0.1")
        await throttle.failed(email="a@example.com", address="10.0.0.1")
    with pytest.raises(RateLimited) as raised:
        await throttle.check(email="A@example.com ", address="10.0.0.2")
    assert 0 < raised.value.retry_after <= WINDOW_S
    assert "15 minutes" in raised.value.message
    await throttle.check(email="b@example.com", address="10.0.0.1")  # others are unaffected


async def test_address_limit_spans_accounts(store: AttemptStore) -> None:
    throttle = LoginThrottle(store=store)
    for n in range(ADDRESS_LIMIT):
        await throttle.failed(email=f"u{n}@example.com", address="10.0.0.9")
    with pytest.raises(RateLimited):
        await throttle.check(email="new@example.com", address="10.0.0.9")
    await throttle.check(email="new@example.com", address="10.0.0.10")


async def test_success_clears_only_the_account(store: AttemptStore) -> None:
    throttle = LoginThrottle(store=store, account_limit=2, address_limit=3)
    await throttle.failed(email="a@example.com", address="10.0.0.1")
    await throttle.failed(email="a@example.com", address="10.0.0.1")
    await throttle.succeeded(email="a@example.com")
    await throttle.check(email="a@example.com", address="10.0.0.2")
    await throttle.failed(email="c@example.com", address="10.0.0.1")
    with pytest.raises(RateLimited):
        await throttle.check(email="a@example.com", address="10.0.0.1")


async def test_retry_after_shrinks_as_the_window_passes(clock: Clock) -> None:
    throttle = LoginThrottle(store=MemoryAttemptStore(clock=clock), account_limit=1)
    await throttle.failed(email="a@example.com", address="x")
    clock.now += WINDOW_S - 30
    with pytest.raises(RateLimited) as raised:
        await throttle.check(email="a@example.com", address="x")
    assert raised.value.retry_after == 30
    assert "1 minute " in raised.value.message
    clock.now += 30
    await throttle.check(email="a@example.com", address="x")


async def test_redis_url_selects_the_redis_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login_throttle, "_throttle", None)
    assert isinstance(login_throttle.get_throttle().store, MemoryAttemptStore)
    monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
    store = login_throttle.get_throttle().store
    assert isinstance(store, RedisAttemptStore)
    await store.aclose()


async def test_sign_in_is_throttled_through_redis(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counters shared by replicas: a 429 from the API, counted in the real Redis."""
    ensure_redis()
    store = RedisAttemptStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
    monkeypatch.setattr(login_throttle, "_throttle_url", REDIS_URL)
    monkeypatch.setattr(login_throttle, "_throttle", LoginThrottle(store=store, account_limit=2))
    try:
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
    finally:
        await store.clear()
        await store.aclose()
