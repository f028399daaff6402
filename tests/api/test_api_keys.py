"""API keys: shown once, stored hashed, capped at the creator's role, revocable at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import select

from agentplatform.core import security
from agentplatform.core.db import session_scope
from agentplatform.core.security import hash_secret
from agentplatform.models import ApiKey
from tests.factories import add_member, make_user


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users made here hash at bcrypt's lowest cost: the same code path, far less CPU."""
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def instant(text: str) -> datetime:
    """A UTC instant from an ISO string (SQLite gives naive UTC, PostgreSQL an offset)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def create_key(
    api: httpx.AsyncClient, headers: dict[str, str], name: str = "ci", role: str = "builder"
) -> dict[str, Any]:
    response = await api.post("/api/api-keys", headers=headers, json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    return response.json()


async def test_secret_is_shown_once_and_stored_hashed(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    created = await create_key(api, owner.headers)
    secret = created["secret"]
    assert secret.startswith("apk_") and len(secret) > 40
    assert created["prefix"] == secret[:12]
    assert (created["role"], created["last_used_at"], created["revoked_at"]) == (
        "builder",
        None,
        None,
    )
    listed = (await api.get("/api/api-keys", headers=owner.headers)).json()
    assert listed["count"] == 1
    assert "secret" not in listed["data"][0] and "key_hash" not in listed["data"][0]
    assert secret not in str(listed)
    async with session_scope() as session:
        stored = (await session.exec(select(ApiKey))).one()
    assert stored.key_hash == hash_secret(secret) and secret not in stored.key_hash


async def test_key_works_as_bearer_and_as_x_api_key(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    secret = (await create_key(api, owner.headers, role="viewer"))["secret"]
    for headers in ({"Authorization": f"Bearer {secret}"}, {"X-API-Key": secret}):
        response = await api.get(f"/api/workspaces/{owner.workspace_id}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "viewer"
    listed = (await api.get("/api/api-keys", headers=owner.headers)).json()["data"][0]
    assert listed["last_used_at"] is not None


async def test_key_acts_with_its_own_role(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    key = {"X-API-Key": (await create_key(api, owner.headers, role="viewer"))["secret"]}
    assert_error(await api.get("/api/api-keys", headers=key), 403, "permission_denied")
    assert_error(await api.get("/api/audit", headers=key), 403, "permission_denied")
    body = (await api.get("/api/workspaces", headers=key)).json()
    assert [(w["id"], w["role"]) for w in body["data"]] == [(str(owner.workspace_id), "viewer")]
    new = await api.post("/api/workspaces", headers=key, json={"name": "From a script"})
    assert (
        "API keys cannot create workspaces"
        in assert_error(new, 403, "permission_denied")["message"]
    )


async def test_revoked_key_stops_working_at_once(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    created = await create_key(api, owner.headers)
    key = {"X-API-Key": created["secret"]}
    assert (await api.get("/api/users/me", headers=key)).status_code == 200
    response = await api.delete(f"/api/api-keys/{created['id']}", headers=owner.headers)
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    error = assert_error(await api.get("/api/users/me", headers=key), 401, "unauthenticated")
    assert "revoked" in error["message"]
    again = await api.delete(f"/api/api-keys/{created['id']}", headers=owner.headers)
    assert instant(again.json()["revoked_at"]) == instant(response.json()["revoked_at"])


async def test_unknown_key_is_401(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/users/me", headers={"X-API-Key": "apk_not-a-real-key"})
    assert_error(response, 401, "unauthenticated")


async def test_key_role_cannot_exceed_the_creators(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    admin = await add_member(owner.workspace_id, "admin")
    response = await api.post(
        "/api/api-keys", headers=admin.headers, json={"name": "root", "role": "owner"}
    )
    assert "cannot exceed your own" in assert_error(response, 403, "permission_denied")["message"]
    assert (await create_key(api, admin.headers, role="admin"))["role"] == "admin"
    assert (await create_key(api, owner.headers, name="owner-key", role="owner"))["role"] == "owner"


@pytest.mark.parametrize("role", ["builder", "operator", "viewer"])
async def test_non_admins_cannot_manage_keys(api: httpx.AsyncClient, role: str) -> None:
    owner = await make_user()
    member = await add_member(owner.workspace_id, role)
    key_id = (await create_key(api, owner.headers))["id"]
    for call in (
        api.get("/api/api-keys", headers=member.headers),
        api.post("/api/api-keys", headers=member.headers, json={"name": "x", "role": "viewer"}),
        api.delete(f"/api/api-keys/{key_id}", headers=member.headers),
    ):
        assert_error(await call, 403, "permission_denied")


async def test_duplicate_name_is_409_and_bad_input_422(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    await create_key(api, owner.headers, name="deploy")
    dup = await api.post("/api/api-keys", headers=owner.headers, json={"name": "deploy"})
    assert "already exists" in assert_error(dup, 409, "conflict")["message"]
    for payload in ({"name": ""}, {"name": "x" * 101}, {"name": "k", "role": "root"}, {"name": 5}):
        response = await api.post("/api/api-keys", headers=owner.headers, json=payload)
        assert_error(response, 422, "validation_failed")
    assert_error(
        await api.delete("/api/api-keys/not-a-uuid", headers=owner.headers),
        422,
        "validation_failed",
    )


async def test_keys_of_other_workspaces_are_404(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    stranger = await make_user()
    created = await create_key(api, owner.headers)
    revoke = await api.delete(f"/api/api-keys/{created['id']}", headers=stranger.headers)
    assert_error(revoke, 404, "not_found")
    assert_error(
        await api.delete(f"/api/api-keys/{uuid.uuid4()}", headers=owner.headers), 404, "not_found"
    )
    assert (await api.get("/api/api-keys", headers=stranger.headers)).json()["count"] == 0
    elsewhere = {"X-API-Key": created["secret"], "X-Workspace": str(stranger.workspace_id)}
    assert_error(await api.get("/api/users/me", headers=elsewhere), 404, "not_found")


async def test_creation_and_revocation_are_audited_without_the_secret(
    api: httpx.AsyncClient,
) -> None:
    owner = await make_user()
    created = await create_key(api, owner.headers, name="nightly")
    await api.delete(f"/api/api-keys/{created['id']}", headers=owner.headers)
    events = (await api.get("/api/audit", headers=owner.headers)).json()["data"]
    assert [e["action"] for e in events] == ["api_key.revoke", "api_key.create"]
    assert events[1]["after"]["name"] == "nightly"
    assert events[1]["resource_id"] == created["id"]
    assert created["secret"] not in str(events)


async def test_removing_or_demoting_a_member_revokes_their_stronger_keys(
    api: httpx.AsyncClient,
) -> None:
    owner = await make_user()
    admin = await add_member(owner.workspace_id, "admin")
    strong = await create_key(api, admin.headers, name="strong", role="admin")
    weak = await create_key(api, admin.headers, name="weak", role="viewer")
    await api.patch(
        f"/api/workspaces/{owner.workspace_id}/members/{admin.id}",
        headers=owner.headers,
        json={"role": "builder"},
    )
    assert (
        await api.get("/api/users/me", headers={"X-API-Key": strong["secret"]})
    ).status_code == 401
    assert (
        await api.get("/api/users/me", headers={"X-API-Key": weak["secret"]})
    ).status_code == 200
    await api.delete(
        f"/api/workspaces/{owner.workspace_id}/members/{admin.id}", headers=owner.headers
    )
    assert (
        await api.get("/api/users/me", headers={"X-API-Key": weak["secret"]})
    ).status_code == 401
