"""The audit log: owners and admins read who changed what, newest first, filtered, paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from agentplatform.core import security
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


async def test_audit_lists_changes_newest_first_with_filters(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    admin = await add_member(owner.workspace_id, "admin")
    members = f"/api/workspaces/{owner.workspace_id}/members"
    await api.patch(f"{members}/{admin.id}", headers=owner.headers, json={"role": "builder"})
    await api.patch(f"{members}/{admin.id}", headers=owner.headers, json={"role": "admin"})
    await api.post("/api/api-keys", headers=admin.headers, json={"name": "ci", "role": "viewer"})

    body = (await api.get("/api/audit", headers=owner.headers)).json()
    assert body["count"] == 3
    assert [e["action"] for e in body["data"]] == [
        "api_key.create",
        "member.role_change",
        "member.role_change",
    ]
    assert [e["after"]["role"] for e in body["data"][1:]] == ["admin", "builder"]

    async def actions(**params: Any) -> list[str]:
        response = await api.get("/api/audit", headers=admin.headers, params=params)
        assert response.status_code == 200, response.text
        return [e["action"] for e in response.json()["data"]]

    assert await actions(action="api_key.create") == ["api_key.create"]
    assert await actions(resource_type="membership") == ["member.role_change"] * 2
    assert await actions(actor_id=str(admin.id)) == ["api_key.create"]
    assert await actions(actor_id=str(owner.id), action="api_key.create") == []


async def test_audit_pages_and_time_ranges(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    for n in range(5):
        await api.post("/api/api-keys", headers=owner.headers, json={"name": f"key-{n}"})
    page = (await api.get("/api/audit", headers=owner.headers, params={"limit": 2})).json()
    assert page["count"] == 5
    assert [e["after"]["name"] for e in page["data"]] == ["key-4", "key-3"]
    last = await api.get("/api/audit", headers=owner.headers, params={"limit": 2, "offset": 4})
    assert [e["after"]["name"] for e in last.json()["data"]] == ["key-0"]

    now = datetime.now(UTC)
    hour = timedelta(hours=1)

    async def count(**params: str) -> int:
        response = await api.get("/api/audit", headers=owner.headers, params=params)
        assert response.status_code == 200, response.text
        return int(response.json()["count"])

    assert await count(since=(now - hour).isoformat(), until=(now + hour).isoformat()) == 5
    assert await count(since=(now + hour).isoformat()) == 0
    assert await count(until=(now - hour).isoformat()) == 0
    # An offset other than UTC names the same instant.
    local = (now - hour).astimezone(timezone(timedelta(hours=5)))
    assert await count(since=local.isoformat()) == 5


BAD_FILTERS: list[dict[str, Any]] = [
    {"limit": 0},
    {"limit": 1000},
    {"offset": -1},
    {"limit": "many"},
    {"since": "yesterday"},
    {"actor_id": "someone"},
    {"action": "x" * 41},
    {"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"},
]


async def test_bad_filters_are_422(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    for params in BAD_FILTERS:
        response = await api.get("/api/audit", headers=owner.headers, params=params)
        assert_error(response, 422, "validation_failed")


@pytest.mark.parametrize("role", ["builder", "operator", "viewer"])
async def test_only_owners_and_admins_read_the_audit_log(api: httpx.AsyncClient, role: str) -> None:
    owner = await make_user()
    member = await add_member(owner.workspace_id, role)
    error = assert_error(
        await api.get("/api/audit", headers=member.headers), 403, "permission_denied"
    )
    assert "audit.read" in error["message"]


async def test_audit_shows_only_my_workspace(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    stranger = await make_user()
    await api.post("/api/api-keys", headers=owner.headers, json={"name": "private"})
    assert (await api.get("/api/audit", headers=stranger.headers)).json() == {
        "data": [],
        "count": 0,
    }
    other = stranger.in_workspace(owner.workspace_id)
    assert_error(await api.get("/api/audit", headers=other), 404, "not_found")
