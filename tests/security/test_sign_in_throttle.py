"""Sign-in throttling under attack: attempts are counted before bcrypt, atomically.

Found: 40 parallel wrong passwords for one account were all checked (limits: 5 per account,
20 per address), and sign-in answered 500 while Redis was down. Now exactly the limit is
checked and the rest answer 429 with Retry-After before any bcrypt work, with the counters
in the database (no Redis) or in Redis, and sign-in carries on when Redis is away.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from agentplatform.core.config import get_settings
from agentplatform.core.redis_clients import OUTAGE_RETRY_S
from agentplatform.services import auth
from tests.factories import make_user
from tests.security.redis_proxy import redis_proxy
from tests.services import REDIS_URL
from tests.services.redis_support import redis_namespace

ATTACKS = 40


@pytest.fixture(params=["database", "redis"])
def counters(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Where the attempts are counted: the database (no REDIS_URL) or the real Redis."""
    if request.param == "database":
        yield "database"
        return
    with redis_namespace() as prefix:
        monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
        monkeypatch.setattr(get_settings(), "redis_prefix", prefix)
        yield "redis"


@pytest.fixture
def bcrypt_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check sign-in makes (the expensive bcrypt work), in order."""
    checks: list[str] = []
    verify, burn = auth.verify_password, auth.burn_password_check

    def counted_verify(password: str, hashed: str) -> bool:
        checks.append(password)
        return verify(password, hashed)

    def counted_burn(password: str) -> None:
        checks.append(password)
        burn(password)

    monkeypatch.setattr(auth, "verify_password", counted_verify)
    monkeypatch.setattr(auth, "burn_password_check", counted_burn)
    return checks


async def login(api: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await api.post("/api/auth/login", json={"email": email, "password": password})


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "rate_limited"


async def test_parallel_wrong_passwords_check_exactly_the_account_limit(
    api: httpx.AsyncClient, counters: str, bcrypt_checks: list[str]
) -> None:
    user = await make_user()
    limit = get_settings().login_account_limit
    responses = await asyncio.gather(
        *(login(api, user.email, f"wrong-password-{n}") for n in range(ATTACKS))
    )
    assert Counter(r.status_code for r in responses) == {401: limit, 429: ATTACKS - limit}
    for response in responses:
        if response.status_code == 429:
            assert_throttled(response)
    assert len(bcrypt_checks) == limit  # the refused ones never reached bcrypt
    assert_throttled(await login(api, user.email, user.password))  # locked for the window
    assert len(bcrypt_checks) == limit


async def test_parallel_guesses_across_accounts_check_exactly_the_address_limit(
    api: httpx.AsyncClient, counters: str, bcrypt_checks: list[str]
) -> None:
    limit = get_settings().login_address_limit
    responses = await asyncio.gather(
        *(login(api, f"victim{n}@example.com", "guess-password-1") for n in range(ATTACKS))
    )
    assert Counter(r.status_code for r in responses) == {401: limit, 429: ATTACKS - limit}
    assert len(bcrypt_checks) == limit


async def test_sign_in_works_while_redis_is_down_or_black_holed(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis away: sign-in answers as usual, counted in the database, one warning."""
    limit = get_settings().login_account_limit
    with redis_proxy() as proxy, redis_namespace() as prefix:
        monkeypatch.setattr(get_settings(), "redis_url", proxy.url)
        monkeypatch.setattr(get_settings(), "redis_prefix", prefix)
        for cut in (proxy.down, proxy.black_hole):
            user = await make_user()
            assert (await login(api, user.email, user.password)).status_code == 200
            cut()
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="agentplatform.services"):
                assert (await login(api, user.email, user.password)).status_code == 200
                for _ in range(limit):
                    assert (await login(api, user.email, "wrong-password-1")).status_code == 401
                assert_throttled(await login(api, user.email, user.password))
            warnings = [r for r in caplog.records if "sign-in throttling" in r.getMessage()]
            assert len(warnings) == 1  # one per outage, not one per request
            proxy.forward()
            await asyncio.sleep(OUTAGE_RETRY_S)  # Redis is tried again after this
            other = await make_user()
            with caplog.at_level(logging.INFO, logger="agentplatform.services"):
                assert (await login(api, other.email, other.password)).status_code == 200
            assert "Redis answers again for sign-in throttling" in caplog.text
