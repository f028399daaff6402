"""One refresh token, exchanged several times at once: exactly one exchange wins.

Reproduces finding 5 of issue 15: five parallel refreshes of one token gave 500s and in 2 of
4 trials did not revoke the family. Now the exchange is one guarded statement: one caller
gets new tokens, every other gets a 401 saying the token was already used, and that reuse
signs out the whole family (the winner's new token included). Races run as concurrent
requests and as separate processes, on SQLite and PostgreSQL, over many trials.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import col, select

from agentplatform.core.db import session_scope
from agentplatform.models import RefreshToken
from agentplatform.services import auth
from tests import factories
from tests.security.rivals import Rivals, rivals

TRIALS = 10
PARALLEL = 5


async def signed_in(api: httpx.AsyncClient) -> tuple[factories.TestUser, str]:
    user = await factories.make_user()
    login = await api.post("/api/auth/login", json={"email": user.email, "password": user.password})
    assert login.status_code == 200, login.text
    return user, str(login.json()["refresh_token"])


async def family_rows(user_id: uuid.UUID) -> list[RefreshToken]:
    async with session_scope() as session:
        query = select(RefreshToken).where(RefreshToken.user_id == user_id)
        return list((await session.exec(query.order_by(col(RefreshToken.created_at)))).all())


async def assert_family_signed_out(
    api: httpx.AsyncClient, user_id: uuid.UUID, new_tokens: list[str]
) -> None:
    rows = await family_rows(user_id)
    assert len(rows) == 2, "the original token and exactly one successor"
    assert len({row.family_id for row in rows}) == 1
    assert all(row.revoked_at is not None for row in rows), "reuse revokes the whole family"
    for token in new_tokens:  # the winner's fresh token no longer works either
        again = await api.post("/api/auth/refresh", json={"refresh_token": token})
        assert again.status_code == 401, again.text


async def test_parallel_refreshes_of_one_token_one_wins_reuse_signs_out_the_family(
    api: httpx.AsyncClient,
) -> None:
    for _ in range(TRIALS):
        user, token = await signed_in(api)
        responses = await asyncio.gather(
            *(api.post("/api/auth/refresh", json={"refresh_token": token}) for _ in range(PARALLEL))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [401] * (PARALLEL - 1), [r.text for r in responses]
        for refused in (r for r in responses if r.status_code == 401):
            error = refused.json()["error"]
            assert (error["code"], error["message"]) == ("unauthenticated", auth.REUSED_REFRESH)
        winner = next(r for r in responses if r.status_code == 200).json()["refresh_token"]
        await assert_family_signed_out(api, user.id, [winner])


async def test_a_single_refresh_still_rotates(api: httpx.AsyncClient) -> None:
    user, token = await signed_in(api)
    first = await api.post("/api/auth/refresh", json={"refresh_token": token})
    assert first.status_code == 200
    second = await api.post(
        "/api/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert second.status_code == 200, "a rotated token's successor keeps the session going"
    rows = await family_rows(user.id)
    assert [row.revoked_at is None for row in rows] == [False, False, True]


# --- several processes, one database ---------------------------------------------------------


async def exchange(*, refresh_token: str) -> None:
    async with session_scope() as session:
        await auth.refresh(session=session, refresh_token=refresh_token)


@pytest.fixture(scope="module")
def three_processes() -> Iterator[Rivals]:
    with rivals(3) as pool:
        yield pool


async def test_refreshes_in_several_processes_one_wins(
    api: httpx.AsyncClient, three_processes: Rivals
) -> None:
    for _ in range(TRIALS):
        user, token = await signed_in(api)
        calls = [(exchange, {"refresh_token": token})] * three_processes.n
        results = await asyncio.to_thread(three_processes.race, calls)
        assert sorted(results) == ["ok", "unauthenticated", "unauthenticated"], results
        rows = await family_rows(user.id)
        assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)
