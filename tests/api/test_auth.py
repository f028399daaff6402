"""Sign-up, sign-in, refresh rotation, sign-out, throttling and token expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from agentplatform.api.app import build_api
from agentplatform.core import security
from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.core.security import JWT_ALGORITHM, hash_secret
from agentplatform.models import RefreshToken, User
from agentplatform.services import login_throttle
from tests.factories import PASSWORD, make_user


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users made here hash at bcrypt's lowest cost: the same code path, far less CPU."""
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


@pytest.fixture(autouse=True)
async def fresh_throttle() -> AsyncIterator[None]:
    """Failed sign-ins of other tests must not count against this one."""
    await login_throttle.reset_throttle()
    yield
    await login_throttle.reset_throttle()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


async def login(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await api.post("/api/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- register ---------------------------------------------------------------------------


async def test_register_signs_in_and_creates_an_owned_workspace(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/auth/register",
        json={
            "email": " Ada@Example.com",
            "password": "analytical-engine-1843",
            "full_name": "Ada",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().access_token_minutes * 60
    assert body["user"]["email"] == "ada@example.com"
    assert "hashed_password" not in body["user"]
    workspaces = (await api.get("/api/workspaces", headers=bearer(body["access_token"]))).json()
    assert workspaces["count"] == 1
    assert workspaces["data"][0]["role"] == "owner"
    assert workspaces["data"][0]["id"] == body["user"]["default_workspace_id"]


async def test_register_twice_with_one_email_is_409(api: httpx.AsyncClient) -> None:
    user = await make_user()
    response = await api.post(
        "/api/auth/register", json={"email": user.email.upper(), "password": PASSWORD}
    )
    error = assert_error(response, 409, "conflict")
    assert "already exists" in error["message"]


async def test_weak_password_lists_every_broken_rule(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/auth/register", json={"email": "weak@example.com", "password": "abc"}
    )
    error = assert_error(response, 422, "validation_failed")
    problems = [d["message"] for d in error["details"]]
    assert "use at least 10 characters" in problems
    assert "include at least one digit or symbol" in problems
    assert all(d["field"] == "password" for d in error["details"])
    assert error["message"].startswith("Password is too weak")


async def test_closed_signup_answers_403(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "allow_signup", False)
    response = await api.post(
        "/api/auth/register", json={"email": "late@example.com", "password": PASSWORD}
    )
    error = assert_error(response, 403, "permission_denied")
    assert "Sign-up is closed" in error["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": 42, "password": PASSWORD},
        {"email": "a@example.com", "password": ["list"]},
        {"email": "a@example.com", "password": PASSWORD, "full_name": "x" * 101},
        {"email": "a@example.com", "password": "p4" * 129},
        {"email": "a@example.com", "password": PASSWORD, "persona": "wizard"},
        {"password": PASSWORD},
    ],
)
async def test_register_rejects_bad_input_with_422(
    api: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    assert_error(await api.post("/api/auth/register", json=payload), 422, "validation_failed")


async def test_malformed_json_is_422_not_500(api: httpx.AsyncClient) -> None:
    for path in ("/api/auth/register", "/api/auth/login", "/api/auth/refresh"):
        response = await api.post(
            path, content=b'{"email": ', headers={"Content-Type": "application/json"}
        )
        error = assert_error(response, 422, "validation_failed")
        assert "not valid JSON" in error["message"]


# --- login ------------------------------------------------------------------------------


async def test_login_returns_working_tokens(api: httpx.AsyncClient) -> None:
    user = await make_user()
    response = await login(api, f"  {user.email.upper()} ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["refresh_token"].startswith("rt_")
    assert body["refresh_expires_in"] == get_settings().refresh_token_days * 86400
    me = await api.get("/api/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == user.email


async def test_unknown_email_and_wrong_password_answer_alike(api: httpx.AsyncClient) -> None:
    user = await make_user()
    wrong = assert_error(await login(api, user.email, "wrong-password-1"), 401, "unauthenticated")
    unknown = assert_error(await login(api, "nobody@example.com"), 401, "unauthenticated")
    assert wrong == unknown
    assert wrong["message"] == "Incorrect email or password."


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "a@example.com"},
        {"email": 1, "password": "x"},
        {"email": "a@example.com", "password": "x" * 257},
        {"email": "x" * 255, "password": "x"},
        {"email": "", "password": "x"},
    ],
)
async def test_login_rejects_bad_input_with_422(
    api: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    assert_error(await api.post("/api/auth/login", json=payload), 422, "validation_failed")


async def test_disabled_account_cannot_sign_in(api: httpx.AsyncClient) -> None:
    user = await make_user()
    async with session_scope() as session:
        await session.exec(update(User).where(User.id == user.id).values(is_active=False))
        await session.commit()
    error = assert_error(await login(api, user.email), 401, "unauthenticated")
    assert "disabled" in error["message"]


# --- refresh and logout -----------------------------------------------------------------


async def test_refresh_rotates_and_the_old_token_stops_working(api: httpx.AsyncClient) -> None:
    user = await make_user()
    first = (await login(api, user.email)).json()
    response = await api.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        await api.get("/api/users/me", headers=bearer(second["access_token"]))
    ).status_code == 200
    third = await api.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    api: httpx.AsyncClient,
) -> None:
    user = await make_user()
    stolen = (await login(api, user.email)).json()["refresh_token"]
    rotated = (await api.post("/api/auth/refresh", json={"refresh_token": stolen})).json()
    replay = await api.post("/api/auth/refresh", json={"refresh_token": stolen})
    error = assert_error(replay, 401, "unauthenticated")
    assert "already used" in error["message"]
    legit = await api.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert_error(legit, 401, "unauthenticated")


async def test_other_sessions_survive_a_family_revocation(api: httpx.AsyncClient) -> None:
    user = await make_user()
    laptop = (await login(api, user.email)).json()["refresh_token"]
    phone = (await login(api, user.email)).json()["refresh_token"]
    await api.post("/api/auth/refresh", json={"refresh_token": laptop})
    await api.post("/api/auth/refresh", json={"refresh_token": laptop})  # replay
    assert (await api.post("/api/auth/refresh", json={"refresh_token": phone})).status_code == 200


async def test_unknown_or_expired_refresh_token_is_401(api: httpx.AsyncClient) -> None:
    unknown = await api.post("/api/auth/refresh", json={"refresh_token": "rt_nonsense"})
    assert_error(unknown, 401, "unauthenticated")
    user = await make_user()
    token = (await login(api, user.email)).json()["refresh_token"]
    async with session_scope() as session:
        await session.exec(
            update(RefreshToken)
            .where(RefreshToken.token_hash == hash_secret(token))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    expired = await api.post("/api/auth/refresh", json={"refresh_token": token})
    assert "expired" in assert_error(expired, 401, "unauthenticated")["message"]


async def test_logout_revokes_the_refresh_token(api: httpx.AsyncClient) -> None:
    user = await make_user()
    token = (await login(api, user.email)).json()["refresh_token"]
    response = await api.post("/api/auth/logout", json={"refresh_token": token})
    assert response.status_code == 204
    assert response.content == b""
    refreshed = await api.post("/api/auth/refresh", json={"refresh_token": token})
    error = assert_error(refreshed, 401, "unauthenticated")
    assert error["message"] == "This session is invalid or has expired: sign in again."
    again = await api.post("/api/auth/logout", json={"refresh_token": token})
    assert again.status_code == 204


# --- access tokens ----------------------------------------------------------------------


def _token(**claims: Any) -> str:
    return jwt.encode(claims, get_settings().secret_key, algorithm=JWT_ALGORITHM)


async def test_expired_access_token_is_401(api: httpx.AsyncClient) -> None:
    user = await make_user()
    past = datetime.now(UTC) - timedelta(minutes=5)
    token = _token(sub=str(user.id), type="access", iat=past - timedelta(minutes=20), exp=past)
    error = assert_error(
        await api.get("/api/users/me", headers=bearer(token)), 401, "unauthenticated"
    )
    assert "expired" in error["message"]


async def test_forged_or_missing_credentials_are_401(api: httpx.AsyncClient) -> None:
    user = await make_user()
    exp = datetime.now(UTC) + timedelta(minutes=5)
    forged = jwt.encode(
        {"sub": str(user.id), "type": "access", "exp": exp}, "x" * 40, algorithm=JWT_ALGORITHM
    )
    wrong_type = _token(sub=str(user.id), type="refresh", exp=exp)
    for headers in (bearer(forged), bearer(wrong_type), bearer("garbage"), {}):
        assert_error(await api.get("/api/users/me", headers=headers), 401, "unauthenticated")


# --- throttling -------------------------------------------------------------------------


async def test_five_failures_lock_the_account_with_429_and_retry_after(
    api: httpx.AsyncClient,
) -> None:
    user = await make_user()
    for _ in range(get_settings().login_account_limit):
        assert_error(await login(api, user.email, "wrong-password-1"), 401, "unauthenticated")
    locked = await login(api, user.email)  # even the right password waits
    error = assert_error(locked, 429, "rate_limited")
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= get_settings().login_window_seconds
    assert "Too many failed sign-in attempts" in error["message"]
    # The lock follows the account, whatever the address.
    transport = httpx.ASGITransport(app=build_api(), client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        assert (await login(other, user.email)).status_code == 429


async def test_success_resets_the_account_counter(api: httpx.AsyncClient) -> None:
    user = await make_user()
    for _ in range(get_settings().login_account_limit - 1):
        await login(api, user.email, "wrong-password-1")
    assert (await login(api, user.email)).status_code == 200
    for _ in range(get_settings().login_account_limit - 1):
        assert (await login(api, user.email, "wrong-password-1")).status_code == 401
    assert (await login(api, user.email)).status_code == 200


async def test_many_failures_from_one_address_lock_that_address(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A smaller address limit keeps the test fast; the default (20) is tested in services.
    monkeypatch.setattr(get_settings(), "login_address_limit", 3)
    user = await make_user()
    for n in range(3):
        assert (await login(api, f"guess{n}@example.com")).status_code == 401
    assert_error(await login(api, user.email), 429, "rate_limited")
    transport = httpx.ASGITransport(app=build_api(), client=("198.51.100.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        assert (await login(other, user.email)).status_code == 200
