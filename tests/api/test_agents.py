"""Agents: CRUD, unique names, provider/model, prompt references, tools, ETags and audit."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlmodel import col, select

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


async def new_agent(
    api: httpx.AsyncClient, user: factories.TestUser, **fields: Any
) -> dict[str, Any]:
    body = {"name": f"agent-{uuid.uuid4().hex[:8]}", "instructions": "Be brief.", **fields}
    response = await api.post("/api/agents", headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def new_provider(
    api: httpx.AsyncClient, user: factories.TestUser, **fields: Any
) -> dict[str, Any]:
    body = {
        "name": f"prov-{uuid.uuid4().hex[:8]}",
        "kind": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        **fields,
    }
    response = await api.post("/api/providers", headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def new_prompt(
    api: httpx.AsyncClient, user: factories.TestUser, template: str = "Hi {{ name }}"
) -> str:
    body = {"name": f"prompt-{uuid.uuid4().hex[:8]}", "first_version": {"template": template}}
    response = await api.post("/api/prompts", headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def audit_actions(workspace_id: uuid.UUID) -> list[tuple[str, str | None]]:
    async with session_scope() as session:
        query = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
        events = (await session.exec(query.order_by(col(AuditEvent.at)))).all()
        return [(e.action, e.resource_id) for e in events]


async def test_create_defaults_to_the_offline_model(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    response = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={"name": "Helper", "instructions": "Help.", "tags": ["Demo", "demo"]},
    )
    assert response.status_code == 201, response.text
    agent = response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/agents/{agent['id']}"
    assert (agent["model"], agent["provider_id"], agent["version"]) == ("offline-demo", None, 1)
    assert agent["tags"] == ["demo"]
    got = await api.get(f"/api/agents/{agent['id']}", headers=owner.headers)
    assert got.json() == agent and got.headers["ETag"] == '"1"'
    listed = (await api.get("/api/agents", headers=owner.headers)).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == agent["id"]


async def test_offline_accepts_any_model_name(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    agent = await new_agent(api, owner, model="offline-large")
    assert agent["model"] == "offline-large"


async def test_duplicate_name_is_409_with_a_helpful_message(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    await new_agent(api, owner, name="Writer")
    again = await api.post("/api/agents", headers=owner.headers, json={"name": "Writer"})
    error = assert_error(again, 409, "conflict")
    assert "Writer" in error["message"] and "already exists" in error["message"]
    other = await new_agent(api, owner, name="Editor")
    rename = await api.patch(
        f"/api/agents/{other['id']}", headers=owner.headers, json={"name": "Writer"}
    )
    assert_error(rename, 409, "conflict")
    elsewhere = await make_user()
    await new_agent(api, elsewhere, name="Writer")  # names are unique per workspace only


async def test_model_must_be_one_of_the_providers_models(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    provider = await new_provider(api, owner, models=["gpt-small", "gpt-large"])
    bad = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={"name": "A", "provider_id": provider["id"], "model": "gpt-huge"},
    )
    error = assert_error(bad, 422, "validation_failed")
    assert "gpt-small" in error["message"] and "gpt-large" in error["message"]
    assert error["details"][0]["field"] == "model"
    default = await new_agent(api, owner, provider_id=provider["id"])
    assert default["model"] == "gpt-small"
    chosen = await new_agent(api, owner, provider_id=provider["id"], model="gpt-large")
    assert chosen["model"] == "gpt-large"


async def test_provider_without_model_list_needs_a_model_name(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    provider = await new_provider(api, owner)
    missing = await api.post(
        "/api/agents", headers=owner.headers, json={"name": "A", "provider_id": provider["id"]}
    )
    assert_error(missing, 422, "validation_failed")
    agent = await new_agent(api, owner, provider_id=provider["id"], model="llama3")
    assert agent["model"] == "llama3"


async def test_provider_of_another_workspace_is_refused(api: httpx.AsyncClient) -> None:
    owner, stranger = await make_user(), await make_user()
    theirs = await new_provider(api, stranger, models=["m"])
    response = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={"name": "A", "provider_id": theirs["id"], "model": "m"},
    )
    error = assert_error(response, 422, "validation_failed")
    assert error["details"][0]["field"] == "provider_id"


async def test_unknown_tools_are_named(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    response = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={"name": "A", "tools": ["calculator", "rm_rf", "teleport"]},
    )
    error = assert_error(response, 422, "validation_failed")
    assert "rm_rf" in error["message"] and "teleport" in error["message"]
    assert "calculator" in error["message"]  # the available ones are listed
    agent = await new_agent(api, owner, tools=["calculator", "clock", "calculator"])
    assert agent["tools"] == ["calculator", "clock"]


async def test_prompt_reference_is_checked(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner)
    agent = await new_agent(api, owner, instructions="", prompt_id=prompt_id)
    assert (agent["prompt_label"], agent["prompt_version"]) == ("latest", None)
    pinned = await new_agent(api, owner, instructions="", prompt_id=prompt_id, prompt_version=1)
    assert (pinned["prompt_label"], pinned["prompt_version"]) == (None, 1)

    cases: list[tuple[dict[str, Any], str]] = [
        ({"prompt_id": prompt_id, "prompt_version": 7}, "prompt_version"),
        ({"prompt_id": prompt_id, "prompt_label": "production"}, "prompt_label"),
        ({"prompt_id": str(uuid.uuid4())}, "prompt_id"),
        ({"prompt_id": prompt_id, "instructions": "inline too"}, "instructions"),
        ({"prompt_label": "production"}, "prompt_id"),
    ]
    for fields, field in cases:
        response = await api.post(
            "/api/agents", headers=owner.headers, json={"name": "X", "instructions": "", **fields}
        )
        error = assert_error(response, 422, "validation_failed")
        assert error["details"][0]["field"] == field, (fields, error)

    both = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={"name": "X", "prompt_id": prompt_id, "prompt_label": "latest", "prompt_version": 1},
    )
    assert_error(both, 422, "validation_failed")

    moved = await api.put(
        f"/api/prompts/{prompt_id}/labels/production", headers=owner.headers, json={"version": 1}
    )
    assert moved.status_code == 200, moved.text
    labelled = await new_agent(
        api, owner, instructions="", prompt_id=prompt_id, prompt_label="production"
    )
    assert labelled["prompt_label"] == "production"


async def test_prompt_of_another_workspace_is_refused(api: httpx.AsyncClient) -> None:
    owner, stranger = await make_user(), await make_user()
    theirs = await new_prompt(api, stranger)
    response = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={"name": "A", "instructions": "", "prompt_id": theirs},
    )
    assert_error(response, 422, "validation_failed")


async def test_switching_instruction_source(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner)
    agent = await new_agent(api, owner, instructions="inline")
    url = f"/api/agents/{agent['id']}"
    to_prompt = (await api.patch(url, headers=owner.headers, json={"prompt_id": prompt_id})).json()
    assert (to_prompt["instructions"], to_prompt["prompt_id"]) == ("", prompt_id)
    assert to_prompt["prompt_label"] == "latest"
    pin = (await api.patch(url, headers=owner.headers, json={"prompt_version": 1})).json()
    assert (pin["prompt_label"], pin["prompt_version"]) == (None, 1)
    back = (await api.patch(url, headers=owner.headers, json={"instructions": "again"})).json()
    assert (back["instructions"], back["prompt_id"], back["prompt_version"]) == (
        "again",
        None,
        None,
    )
    assert back["version"] == 4


async def test_update_bumps_version_and_honours_if_match(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    agent = await new_agent(api, owner)
    url = f"/api/agents/{agent['id']}"
    first = await api.patch(
        url, headers={**owner.headers, "If-Match": '"1"'}, json={"temperature": 0.1}
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2 and first.headers["ETag"] == '"2"'
    assert first.json()["temperature"] == 0.1
    stale = await api.patch(url, headers={**owner.headers, "If-Match": '"1"'}, json={"tags": []})
    error = assert_error(stale, 412, "precondition_failed")
    assert error["details"] == {"current_version": 2}
    assert stale.headers["ETag"] == '"2"'
    bare = await api.patch(url, headers={**owner.headers, "If-Match": "2"}, json={"tags": ["x"]})
    assert bare.status_code == 200 and bare.json()["version"] == 3
    weak = await api.patch(url, headers={**owner.headers, "If-Match": 'W/"3"'}, json={})
    assert weak.status_code == 200 and weak.json()["version"] == 4
    anything = await api.patch(url, headers={**owner.headers, "If-Match": "*"}, json={})
    assert anything.status_code == 200
    garbage = await api.patch(url, headers={**owner.headers, "If-Match": "abc"}, json={})
    assert_error(garbage, 412, "precondition_failed")


async def test_patch_null_on_a_required_field_is_422(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    agent = await new_agent(api, owner)
    response = await api.patch(
        f"/api/agents/{agent['id']}", headers=owner.headers, json={"name": None, "tools": None}
    )
    error = assert_error(response, 422, "validation_failed")
    assert "name" in error["message"] and "tools" in error["message"]
    cleared = await api.patch(
        f"/api/agents/{agent['id']}", headers=owner.headers, json={"max_tokens": None}
    )
    assert cleared.status_code == 200 and cleared.json()["max_tokens"] is None


async def test_delete_with_if_match_and_audit_trail(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    agent = await new_agent(api, owner)
    url = f"/api/agents/{agent['id']}"
    await api.patch(url, headers=owner.headers, json={"description": "v2"})
    stale = await api.delete(url, headers={**owner.headers, "If-Match": '"1"'})
    assert_error(stale, 412, "precondition_failed")
    deleted = await api.delete(url, headers={**owner.headers, "If-Match": '"2"'})
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(await api.get(url, headers=owner.headers), 404, "not_found")
    assert await audit_actions(owner.workspace_id) == [
        ("agent.create", agent["id"]),
        ("agent.update", agent["id"]),
        ("agent.delete", agent["id"]),
    ]
    async with session_scope() as session:
        query = select(AuditEvent).where(AuditEvent.action == "agent.update")
        update = (await session.exec(query)).one()
    assert update.before is not None and update.after is not None
    assert (update.before["description"], update.after["description"]) == ("", "v2")
    assert (update.before["version"], update.after["version"]) == (1, 2)


async def test_delete_of_an_agent_used_by_teams_names_them(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    agent = await new_agent(api, owner)
    judge = await new_agent(api, owner)
    for name, body in (
        ("Alpha", {"strategy": "sequential", "member_ids": [agent["id"]]}),
        (
            "Beta",
            {"strategy": "selector", "member_ids": [judge["id"]], "selector_agent_id": agent["id"]},
        ),
    ):
        created = await api.post("/api/teams", headers=owner.headers, json={"name": name, **body})
        assert created.status_code == 201, created.text
    response = await api.delete(f"/api/agents/{agent['id']}", headers=owner.headers)
    error = assert_error(response, 409, "conflict")
    assert "Alpha" in error["message"] and "Beta" in error["message"]
    assert error["details"] == {"teams": ["Alpha", "Beta"]}


async def test_list_paginates_searches_and_filters_by_tag(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    names = ["Omega%2", "beta", "Gamma_1", "Alpha", "Delta"]
    tags = [[], ["abc"], ["prod"], ["prod", "ab"], ['we"ird']]
    for name, tag_list in zip(names, tags, strict=True):
        await new_agent(api, owner, name=name, tags=tag_list)
    await new_agent(api, await make_user(), name="Alphabet", tags=["prod"])  # another workspace

    async def listed(**params: Any) -> tuple[list[str], int]:
        response = await api.get("/api/agents", headers=owner.headers, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        return [a["name"] for a in body["data"]], body["count"]

    assert await listed() == (["Alpha", "beta", "Delta", "Gamma_1", "Omega%2"], 5)
    assert await listed(limit=2) == (["Alpha", "beta"], 5)
    assert await listed(limit=2, offset=4) == (["Omega%2"], 5)
    assert await listed(q="GA") == (["Gamma_1", "Omega%2"], 2)
    assert await listed(q="_") == (["Gamma_1"], 1)  # `_` is literal, not a wildcard
    assert await listed(q="%") == (["Omega%2"], 1)
    assert await listed(q="a%2") == (["Omega%2"], 1)
    assert await listed(tag="prod") == (["Alpha", "Gamma_1"], 2)
    assert await listed(tag="ab") == (["Alpha"], 1)  # exact element, not substring of "abc"
    assert await listed(tag="PROD", q="gam") == (["Gamma_1"], 1)
    assert await listed(tag='we"ird') == (["Delta"], 1)
    assert await listed(tag="nope") == ([], 0)
