"""Workspaces and members: roles, owner rules, cross-workspace 404s and the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from agentplatform.core import security
from tests import factories
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


def ws(user: factories.TestUser, suffix: str = "") -> str:
    return f"/api/workspaces/{user.workspace_id}{suffix}"


async def audit_actions(api: httpx.AsyncClient, owner: factories.TestUser) -> list[dict[str, Any]]:
    response = await api.get("/api/audit", headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


# --- workspaces -------------------------------------------------------------------------


async def test_list_shows_each_workspace_with_my_role(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    member = await add_member(owner.workspace_id, "operator")
    body = (await api.get("/api/workspaces", headers=member.headers)).json()
    roles = {w["id"]: w["role"] for w in body["data"]}
    assert body["count"] == 2
    assert roles[str(owner.workspace_id)] == "operator"
    assert sorted(roles.values()) == ["operator", "owner"]


async def test_create_workspace_makes_me_owner(api: httpx.AsyncClient) -> None:
    user = await make_user()
    response = await api.post(
        "/api/workspaces", headers=user.headers, json={"name": "Research", "slug": "research"}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["name"], created["slug"], created["role"]) == ("Research", "research", "owner")
    by_slug = await api.get("/api/workspaces/research", headers=user.headers)
    assert by_slug.json()["id"] == created["id"]
    members = (await api.get("/api/workspaces/research/members", headers=user.headers)).json()
    assert [(m["email"], m["role"]) for m in members["data"]] == [(user.email, "owner")]
    events = (
        await api.get("/api/audit", headers={**user.headers, "X-Workspace": "research"})
    ).json()["data"]
    assert [e["action"] for e in events] == ["workspace.create"]
    auto = await api.post("/api/workspaces", headers=user.headers, json={"name": "Side Project"})
    assert auto.json()["slug"].startswith("side-project")


async def test_taken_slug_is_409(api: httpx.AsyncClient) -> None:
    user = await make_user()
    await api.post("/api/workspaces", headers=user.headers, json={"name": "A", "slug": "acme"})
    again = await api.post(
        "/api/workspaces", headers=user.headers, json={"name": "B", "slug": "acme"}
    )
    assert "taken" in assert_error(again, 409, "conflict")["message"]


async def test_create_workspace_rejects_bad_input(api: httpx.AsyncClient) -> None:
    user = await make_user()
    bad: list[dict[str, Any]] = [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "ok", "slug": "Bad Slug!"},
        {"name": 3},
    ]
    for payload in bad:
        response = await api.post("/api/workspaces", headers=user.headers, json=payload)
        assert_error(response, 422, "validation_failed")


async def test_admin_renames_builder_cannot(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    admin = await add_member(owner.workspace_id, "admin")
    builder = await add_member(owner.workspace_id, "builder")
    denied = await api.patch(ws(owner), headers=builder.headers, json={"name": "Nope"})
    assert (
        "does not allow workspace.update"
        in assert_error(denied, 403, "permission_denied")["message"]
    )
    response = await api.patch(
        ws(owner), headers=admin.headers, json={"name": "Renamed", "slug": "renamed"}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["slug"]) == ("Renamed", "renamed")
    event = (await audit_actions(api, owner))[0]
    assert event["action"] == "workspace.update"
    assert event["after"]["name"] == "Renamed"
    assert event["actor_id"] == str(admin.id)


async def test_other_workspaces_are_404_everywhere(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    stranger = await make_user()
    h = stranger.headers
    target = str(owner.id)
    calls = [
        api.get(ws(owner), headers=h),
        api.patch(ws(owner), headers=h, json={"name": "Mine now"}),
        api.get(ws(owner, "/members"), headers=h),
        api.post(ws(owner, "/members"), headers=h, json={"email": stranger.email, "role": "owner"}),
        api.patch(ws(owner, f"/members/{target}"), headers=h, json={"role": "viewer"}),
        api.delete(ws(owner, f"/members/{target}"), headers=h),
        api.get(f"/api/workspaces/{uuid.uuid4()}", headers=h),
        api.get("/api/workspaces/no-such-slug", headers=h),
        api.get("/api/users/me", headers=stranger.in_workspace(owner.workspace_id)),
    ]
    for call in calls:
        assert_error(await call, 404, "not_found")


# --- members ----------------------------------------------------------------------------


async def test_add_member_by_email(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    newcomer = await make_user()
    response = await api.post(
        ws(owner, "/members"),
        headers=owner.headers,
        json={"email": newcomer.email.upper(), "role": "builder"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["email"], response.json()["role"]) == (newcomer.email, "builder")
    seen = (await api.get(ws(owner), headers=newcomer.in_workspace(owner.workspace_id))).json()
    assert seen["role"] == "builder"
    again = await api.post(
        ws(owner, "/members"),
        headers=owner.headers,
        json={"email": newcomer.email, "role": "viewer"},
    )
    assert "already a member" in assert_error(again, 409, "conflict")["message"]
    event = (await audit_actions(api, owner))[0]
    assert (event["action"], event["resource_id"]) == ("member.add", str(newcomer.id))
    assert event["after"]["role"] == "builder"


async def test_adding_an_unknown_email_asks_them_to_register(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    response = await api.post(
        ws(owner, "/members"),
        headers=owner.headers,
        json={"email": "ghost@example.com", "role": "viewer"},
    )
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "No account with that email; ask them to register first."


async def test_add_member_rejects_bad_input(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    for payload in (
        {"email": "x@example.com", "role": "superuser"},
        {"email": "nope", "role": "viewer"},
    ):
        response = await api.post(ws(owner, "/members"), headers=owner.headers, json=payload)
        assert_error(response, 422, "validation_failed")


async def test_members_list_shows_roles_to_every_member(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    viewer = await add_member(owner.workspace_id, "viewer")
    body = (await api.get(ws(owner, "/members"), headers=viewer.headers)).json()
    assert body["count"] == 2
    assert {m["email"]: m["role"] for m in body["data"]} == {
        owner.email: "owner",
        viewer.email: "viewer",
    }


async def test_only_owners_grant_or_take_the_owner_role(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    admin = await add_member(owner.workspace_id, "admin")
    other = await make_user()
    grant = await api.post(
        ws(owner, "/members"), headers=admin.headers, json={"email": other.email, "role": "owner"}
    )
    assert "Only an owner" in assert_error(grant, 403, "permission_denied")["message"]
    demote = await api.patch(
        ws(owner, f"/members/{owner.id}"), headers=admin.headers, json={"role": "viewer"}
    )
    assert_error(demote, 403, "permission_denied")
    remove = await api.delete(ws(owner, f"/members/{owner.id}"), headers=admin.headers)
    assert_error(remove, 403, "permission_denied")
    promote = await api.patch(
        ws(owner, f"/members/{admin.id}"), headers=admin.headers, json={"role": "owner"}
    )
    assert_error(promote, 403, "permission_denied")
    by_owner = await api.patch(
        ws(owner, f"/members/{admin.id}"), headers=owner.headers, json={"role": "owner"}
    )
    assert by_owner.json()["role"] == "owner"


async def test_last_owner_cannot_be_demoted_or_removed(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    demote = await api.patch(
        ws(owner, f"/members/{owner.id}"), headers=owner.headers, json={"role": "admin"}
    )
    error = assert_error(demote, 409, "conflict")
    assert "last owner" in error["message"]
    leave = await api.delete(ws(owner, f"/members/{owner.id}"), headers=owner.headers)
    assert "last owner" in assert_error(leave, 409, "conflict")["message"]
    members = (await api.get(ws(owner, "/members"), headers=owner.headers)).json()["data"]
    assert [m["role"] for m in members] == ["owner"]


async def test_with_two_owners_one_may_step_down(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    second = await add_member(owner.workspace_id, "owner")
    response = await api.patch(
        ws(owner, f"/members/{owner.id}"), headers=owner.headers, json={"role": "admin"}
    )
    assert response.status_code == 200, response.text
    last = await api.patch(
        ws(owner, f"/members/{second.id}"), headers=second.headers, json={"role": "admin"}
    )
    assert_error(last, 409, "conflict")


async def test_role_change_is_audited_with_before_and_after(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    member = await add_member(owner.workspace_id, "builder")
    response = await api.patch(
        ws(owner, f"/members/{member.id}"), headers=owner.headers, json={"role": "operator"}
    )
    assert response.json()["role"] == "operator"
    event = (await audit_actions(api, owner))[0]
    assert event["action"] == "member.role_change"
    assert (event["before"]["role"], event["after"]["role"]) == ("builder", "operator")
    assert event["resource_id"] == str(member.id)
    assert event["actor_label"] == owner.email
    missing = await api.patch(
        ws(owner, f"/members/{uuid.uuid4()}"), headers=owner.headers, json={"role": "viewer"}
    )
    assert_error(missing, 404, "not_found")
    bad = await api.patch(
        ws(owner, f"/members/{member.id}"), headers=owner.headers, json={"role": "god"}
    )
    assert_error(bad, 422, "validation_failed")


async def test_removed_member_loses_access_and_it_is_audited(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    member = await add_member(owner.workspace_id, "viewer")
    response = await api.delete(ws(owner, f"/members/{member.id}"), headers=owner.headers)
    assert response.status_code == 204
    assert_error(await api.get(ws(owner), headers=member.headers), 404, "not_found")
    # Their default workspace is gone, so they land in their own one again.
    me = await api.get("/api/workspaces", headers=member.headers)
    assert [w["role"] for w in me.json()["data"]] == ["owner"]
    event = (await audit_actions(api, owner))[0]
    assert (event["action"], event["before"]["role"]) == ("member.remove", "viewer")
    again = await api.delete(ws(owner, f"/members/{member.id}"), headers=owner.headers)
    assert_error(again, 404, "not_found")


async def test_any_member_may_leave_but_not_remove_others(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    viewer = await add_member(owner.workspace_id, "viewer")
    other = await add_member(owner.workspace_id, "viewer")
    kick = await api.delete(ws(owner, f"/members/{other.id}"), headers=viewer.headers)
    assert_error(kick, 403, "permission_denied")
    leave = await api.delete(ws(owner, f"/members/{viewer.id}"), headers=viewer.headers)
    assert leave.status_code == 204
    assert_error(await api.get(ws(owner), headers=viewer.headers), 404, "not_found")
