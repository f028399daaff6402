"""The signed-in user's own account: profile, onboarding, default workspace, password."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agentplatform.core import security
from agentplatform.core.config import get_settings
from agentplatform.services import login_throttle
from tests.factories import PASSWORD, add_member, make_user


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users made here hash at bcrypt's lowest cost: the same code path, far less CPU."""
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


@pytest.fixture(autouse=True)
async def fresh_throttle() -> AsyncIterator[None]:
    await login_throttle.reset_throttle()
    yield
    await login_throttle.reset_throttle()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


async def test_get_me_shows_the_account_without_secrets(api: httpx.AsyncClient) -> None:
    user = await make_user(full_name="Grace Hopper")
    response = await api.get("/api/users/me", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == user.email
    assert body["full_name"] == "Grace Hopper"
    assert body["onboarded"] is False
    assert body["default_workspace_id"] == str(user.workspace_id)
    assert not {"hashed_password", "password"} & set(body)


async def test_me_needs_credentials(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/api/users/me"), 401, "unauthenticated")
    assert_error(await api.patch("/api/users/me", json={}), 401, "unauthenticated")


async def test_update_profile_and_onboarding(api: httpx.AsyncClient) -> None:
    user = await make_user()
    response = await api.patch(
        "/api/users/me",
        headers=user.headers,
        json={"full_name": "  Linus  ", "persona": "prompt_engineer", "onboarded": True},
    )
    assert response.status_code == 200, response.text
    me = (await api.get("/api/users/me", headers=user.headers)).json()
    assert (me["full_name"], me["persona"], me["onboarded"]) == ("Linus", "prompt_engineer", True)
    cleared = await api.patch("/api/users/me", headers=user.headers, json={"persona": None})
    assert cleared.json()["persona"] is None
    assert cleared.json()["full_name"] == "Linus"


BAD_UPDATES: list[dict[str, Any]] = [
    {"persona": "wizard"},
    {"full_name": "x" * 101},
    {"onboarded": "perhaps"},
    {"default_workspace_id": "not-a-uuid"},
    {"new_password": "x" * 257, "current_password": PASSWORD},
]


async def test_update_me_rejects_bad_input(api: httpx.AsyncClient) -> None:
    user = await make_user()
    for payload in BAD_UPDATES:
        response = await api.patch("/api/users/me", headers=user.headers, json=payload)
        assert_error(response, 422, "validation_failed")
    malformed = await api.patch(
        "/api/users/me",
        headers={**user.headers, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert_error(malformed, 422, "validation_failed")


async def test_default_workspace_must_be_one_of_mine(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    member = await add_member(owner.workspace_id, "viewer")
    stranger = await make_user()
    response = await api.patch(
        "/api/users/me",
        headers=member.headers,
        json={"default_workspace_id": str(stranger.workspace_id)},
    )
    assert_error(response, 404, "not_found")
    me = (await api.get("/api/users/me", headers=member.headers)).json()
    assert me["default_workspace_id"] == str(owner.workspace_id)
    # Switching to a workspace the member belongs to changes where requests act by default.
    own = (await api.get("/api/workspaces", headers=member.headers)).json()["data"]
    mine = next(w for w in own if w["role"] == "owner")
    response = await api.patch(
        "/api/users/me", headers=member.headers, json={"default_workspace_id": mine["id"]}
    )
    assert response.json()["default_workspace_id"] == mine["id"]


async def test_password_change_needs_the_current_password(api: httpx.AsyncClient) -> None:
    user = await make_user()
    missing = await api.patch(
        "/api/users/me", headers=user.headers, json={"new_password": "brand-new-secret-9"}
    )
    error = assert_error(missing, 422, "validation_failed")
    assert error["details"][0]["field"] == "current_password"
    wrong = await api.patch(
        "/api/users/me",
        headers=user.headers,
        json={"current_password": "not-my-password-1", "new_password": "brand-new-secret-9"},
    )
    assert assert_error(wrong, 422, "validation_failed")["message"] == (
        "The current password is incorrect."
    )


async def test_weak_new_password_lists_the_rules(api: httpx.AsyncClient) -> None:
    user = await make_user()
    response = await api.patch(
        "/api/users/me",
        headers=user.headers,
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    error = assert_error(response, 422, "validation_failed")
    assert {d["field"] for d in error["details"]} == {"new_password"}
    assert "use at least 10 characters" in [d["message"] for d in error["details"]]


async def test_password_change_signs_out_every_session(api: httpx.AsyncClient) -> None:
    user = await make_user()
    session = (
        await api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    ).json()
    new_password = "brand-new-secret-9"
    response = await api.patch(
        "/api/users/me",
        headers=user.headers,
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert response.status_code == 200, response.text
    refresh = await api.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert_error(refresh, 401, "unauthenticated")
    old = await api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert_error(old, 401, "unauthenticated")
    new = await api.post("/api/auth/login", json={"email": user.email, "password": new_password})
    assert new.status_code == 200


async def test_api_keys_cannot_change_account_settings(api: httpx.AsyncClient) -> None:
    user = await make_user()
    created = await api.post(
        "/api/api-keys", headers=user.headers, json={"name": "ci", "role": "admin"}
    )
    key = {"X-API-Key": created.json()["secret"]}
    assert (await api.get("/api/users/me", headers=key)).json()["email"] == user.email
    response = await api.patch("/api/users/me", headers=key, json={"full_name": "Mallory"})
    assert_error(response, 403, "permission_denied")


async def test_guessing_the_current_password_is_throttled(api: httpx.AsyncClient) -> None:
    user = await make_user()
    guess = {"current_password": "not-my-password-1", "new_password": "brand-new-secret-9"}
    for _ in range(get_settings().login_account_limit):
        response = await api.patch("/api/users/me", headers=user.headers, json=guess)
        assert_error(response, 422, "validation_failed")
    locked = await api.patch("/api/users/me", headers=user.headers, json=guess)
    assert_error(locked, 429, "rate_limited")
    assert int(locked.headers["Retry-After"]) > 0
