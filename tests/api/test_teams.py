"""Teams: ordered members with names, strategies and selectors, termination, ETags, audit."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlmodel import select

from agentplatform.core.db import session_scope
from agentplatform.models import AuditEvent
from tests import factories
from tests.factories import make_user


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


async def new_agents(api: httpx.AsyncClient, user: factories.TestUser, *names: str) -> list[str]:
    ids = []
    for name in names:
        response = await api.post("/api/agents", headers=user.headers, json={"name": name})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def new_team(api: httpx.AsyncClient, user: factories.TestUser, **body: Any) -> httpx.Response:
    return await api.post("/api/teams", headers=user.headers, json={"name": "Crew", **body})


async def test_create_keeps_member_order_with_names(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    writer, critic, editor = await new_agents(api, owner, "Writer", "Critic", "Editor")
    response = await new_team(
        api,
        owner,
        strategy="sequential",
        member_ids=[editor, writer, critic],
        termination={"max_turns": 4, "stop_phrase": "DONE", "max_cost_usd": 0.5},
        tags=["Demo"],
    )
    assert response.status_code == 201, response.text
    team = response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/teams/{team['id']}"
    assert [(m["name"], m["position"]) for m in team["members"]] == [
        ("Editor", 0),
        ("Writer", 1),
        ("Critic", 2),
    ]
    assert [m["agent_id"] for m in team["members"]] == [editor, writer, critic]
    assert team["termination"] == {
        "max_turns": 4,
        "stop_phrase": "DONE",
        "max_total_tokens": None,
        "max_cost_usd": 0.5,
        "max_seconds": None,
    }
    assert team["tags"] == ["demo"] and team["selector_agent_id"] is None
    got = await api.get(f"/api/teams/{team['id']}", headers=owner.headers)
    assert got.json() == team and got.headers["ETag"] == '"1"'
    listed = (await api.get("/api/teams", headers=owner.headers)).json()
    assert listed["count"] == 1 and listed["data"] == [team]


async def test_selector_strategy_needs_a_selector(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    a, b, judge = await new_agents(api, owner, "A", "B", "Judge")
    missing = await new_team(api, owner, strategy="selector", member_ids=[a, b])
    error = assert_error(missing, 422, "validation_failed")
    assert error["details"][0]["field"] == "selector_agent_id"
    ok = await new_team(api, owner, strategy="selector", member_ids=[a, b], selector_agent_id=judge)
    assert ok.status_code == 201 and ok.json()["selector_agent_id"] == judge


async def test_parallel_may_have_an_aggregator_sequential_may_not(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    a, b, judge = await new_agents(api, owner, "A", "B", "Judge")
    body = {"member_ids": [a, b], "selector_agent_id": judge}
    refused = await new_team(api, owner, strategy="round_robin", **body)
    assert_error(refused, 422, "validation_failed")
    parallel = await new_team(api, owner, strategy="parallel", **body)
    assert parallel.status_code == 201, parallel.text
    plain = await new_team(api, owner, name="Plain", strategy="parallel", member_ids=[a])
    assert plain.status_code == 201 and plain.json()["selector_agent_id"] is None


async def test_agents_must_be_in_the_workspace(api: httpx.AsyncClient) -> None:
    owner, stranger = await make_user(), await make_user()
    (mine,) = await new_agents(api, owner, "Mine")
    (theirs,) = await new_agents(api, stranger, "Theirs")
    ghost = str(uuid.uuid4())
    for body, field, named in (
        ({"strategy": "sequential", "member_ids": [mine, theirs]}, "member_ids", theirs),
        ({"strategy": "sequential", "member_ids": [ghost]}, "member_ids", ghost),
        (
            {"strategy": "selector", "member_ids": [mine], "selector_agent_id": theirs},
            "selector_agent_id",
            theirs,
        ),
    ):
        error = assert_error(await new_team(api, owner, **body), 422, "validation_failed")
        assert named in error["message"] and error["details"][0]["field"] == field


async def test_update_reorders_members_and_honours_if_match(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    a, b, c = await new_agents(api, owner, "A", "B", "C")
    team = (await new_team(api, owner, strategy="round_robin", member_ids=[a, b])).json()
    url = f"/api/teams/{team['id']}"
    changed = await api.patch(
        url,
        headers={**owner.headers, "If-Match": '"1"'},
        json={"member_ids": [c, a, b], "termination": {"max_turns": 20}},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert [m["name"] for m in body["members"]] == ["C", "A", "B"]
    assert body["termination"]["max_turns"] == 20 and body["version"] == 2
    assert changed.headers["ETag"] == '"2"'
    stale = await api.patch(url, headers={**owner.headers, "If-Match": '"1"'}, json={"name": "X"})
    assert_error(stale, 412, "precondition_failed")
    assert stale.json()["error"]["details"] == {"current_version": 2}
    renamed = await api.patch(url, headers=owner.headers, json={"description": "now"})
    assert [m["name"] for m in renamed.json()["members"]] == ["C", "A", "B"]


async def test_switching_strategy_handles_the_selector(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    a, judge = await new_agents(api, owner, "A", "Judge")
    team = (
        await new_team(api, owner, strategy="selector", member_ids=[a], selector_agent_id=judge)
    ).json()
    url = f"/api/teams/{team['id']}"
    to_sequential = await api.patch(url, headers=owner.headers, json={"strategy": "sequential"})
    assert to_sequential.status_code == 200, to_sequential.text
    assert to_sequential.json()["selector_agent_id"] is None
    back = await api.patch(url, headers=owner.headers, json={"strategy": "selector"})
    assert_error(back, 422, "validation_failed")
    both = await api.patch(
        url, headers=owner.headers, json={"strategy": "selector", "selector_agent_id": judge}
    )
    assert both.status_code == 200 and both.json()["selector_agent_id"] == judge
    cleared = await api.patch(url, headers=owner.headers, json={"selector_agent_id": None})
    assert_error(cleared, 422, "validation_failed")


async def test_delete_and_audit(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    (a,) = await new_agents(api, owner, "A")
    team = (await new_team(api, owner, strategy="sequential", member_ids=[a])).json()
    url = f"/api/teams/{team['id']}"
    assert_error(
        await api.delete(url, headers={**owner.headers, "If-Match": '"9"'}),
        412,
        "precondition_failed",
    )
    deleted = await api.delete(url, headers=owner.headers)
    assert deleted.status_code == 204
    assert_error(await api.get(url, headers=owner.headers), 404, "not_found")
    freed = await api.delete(f"/api/agents/{a}", headers=owner.headers)
    assert freed.status_code == 204  # the agent is no longer used by a team
    async with session_scope() as session:
        query = select(AuditEvent.action).where(AuditEvent.resource_id == team["id"])
        actions = sorted((await session.exec(query)).all())
    assert actions == ["team.create", "team.delete"]


async def test_list_filters_by_name_and_tag(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    (a,) = await new_agents(api, owner, "A")
    for name, tags in (("Research crew", ["r"]), ("Support", ["s", "r"]), ("Ops", [])):
        created = await new_team(
            api, owner, name=name, strategy="sequential", member_ids=[a], tags=tags
        )
        assert created.status_code == 201, created.text

    async def names(**params: Any) -> tuple[list[str], int]:
        body = (await api.get("/api/teams", headers=owner.headers, params=params)).json()
        return [t["name"] for t in body["data"]], body["count"]

    assert await names() == (["Ops", "Research crew", "Support"], 3)
    assert await names(tag="r") == (["Research crew", "Support"], 2)
    assert await names(q="CREW") == (["Research crew"], 1)
    assert await names(limit=1, offset=1) == (["Research crew"], 3)


async def test_duplicate_team_name_is_409(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    (a,) = await new_agents(api, owner, "A")
    assert (await new_team(api, owner, strategy="sequential", member_ids=[a])).status_code == 201
    again = await new_team(api, owner, strategy="sequential", member_ids=[a])
    assert "Crew" in assert_error(again, 409, "conflict")["message"]
