"""The prompt repository: versions, variables, labels (deploy/rollback), diffs and deletion."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from agentplatform.core.db import session_scope
from agentplatform.core.errors import NotFound
from agentplatform.models import AuditEvent
from agentplatform.services.prompts import resolve_prompt
from tests import factories
from tests.factories import make_user


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


async def new_prompt(
    api: httpx.AsyncClient, user: factories.TestUser, *templates: str, name: str = "Greeting"
) -> str:
    response = await api.post("/api/prompts", headers=user.headers, json={"name": name})
    assert response.status_code == 201, response.text
    prompt_id = str(response.json()["id"])
    for template in templates:
        await add_version(api, user, prompt_id, template=template)
    return prompt_id


async def add_version(
    api: httpx.AsyncClient, user: factories.TestUser, prompt_id: str, **body: Any
) -> dict[str, Any]:
    response = await api.post(f"/api/prompts/{prompt_id}/versions", headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def move(
    api: httpx.AsyncClient, user: factories.TestUser, prompt_id: str, label: str, version: int
) -> httpx.Response:
    return await api.put(
        f"/api/prompts/{prompt_id}/labels/{label}", headers=user.headers, json={"version": version}
    )


async def test_create_with_a_first_version(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    response = await api.post(
        "/api/prompts",
        headers=owner.headers,
        json={
            "name": "Support reply",
            "tags": ["support"],
            "first_version": {
                "template": "Dear {{ customer }}, about {{ topic }}: {% for s in steps %}{{ s }}"
                "{% endfor %}",
                "config": {"temperature": 0.2},
                "commit_message": "first draft",
            },
        },
    )
    assert response.status_code == 201, response.text
    prompt = response.json()
    assert response.headers["Location"] == f"/api/prompts/{prompt['id']}"
    assert response.headers["ETag"] == f'"{prompt["version"]}"'
    assert prompt["labels"] == {"latest": 1} and prompt["latest_version"] == 1
    version = (
        await api.get(f"/api/prompts/{prompt['id']}/versions/1", headers=owner.headers)
    ).json()
    assert version["variables"] == ["customer", "steps", "topic"]
    assert version["config"] == {"temperature": 0.2}
    assert version["commit_message"] == "first draft" and version["labels"] == ["latest"]
    assert version["author_id"] == str(owner.id)


async def test_versions_are_numbered_and_latest_follows(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner)
    empty = (await api.get(f"/api/prompts/{prompt_id}", headers=owner.headers)).json()
    assert empty["labels"] == {} and empty["latest_version"] is None
    for n in (1, 2, 3):
        created = await add_version(api, owner, prompt_id, template=f"v{n} {{{{ x }}}}")
        assert created["number"] == n and created["labels"] == ["latest"]
    response = await api.post(
        f"/api/prompts/{prompt_id}/versions", headers=owner.headers, json={"template": "v4"}
    )
    assert response.headers["Location"] == f"/api/prompts/{prompt_id}/versions/4"
    assert response.headers["ETag"] == f'"{response.json()["number"] + 1}"'
    listed = (await api.get(f"/api/prompts/{prompt_id}/versions", headers=owner.headers)).json()
    assert [v["number"] for v in listed["data"]] == [4, 3, 2, 1] and listed["count"] == 4
    assert [v["labels"] for v in listed["data"]] == [["latest"], [], [], []]
    page = await api.get(
        f"/api/prompts/{prompt_id}/versions", headers=owner.headers, params={"limit": 1}
    )
    assert [v["number"] for v in page.json()["data"]] == [4]
    prompt = (await api.get(f"/api/prompts/{prompt_id}", headers=owner.headers)).json()
    assert prompt["latest_version"] == 4 and prompt["labels"] == {"latest": 4}
    missing = await api.get(f"/api/prompts/{prompt_id}/versions/9", headers=owner.headers)
    assert_error(missing, 404, "not_found")


async def test_versions_are_immutable(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner, "one")
    url = f"/api/prompts/{prompt_id}/versions/1"
    for method in ("PATCH", "PUT", "DELETE"):
        response = await api.request(method, url, headers=owner.headers, json={"template": "x"})
        assert_error(response, 405, "method_not_allowed")


async def test_explicit_variables_win_over_detection(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner)
    version = await add_version(
        api, owner, prompt_id, template="{{ a }} {{ b }}", variables=["a", "b", "extra"]
    )
    assert version["variables"] == ["a", "b", "extra"]
    bad = await api.post(
        f"/api/prompts/{prompt_id}/versions",
        headers=owner.headers,
        json={"template": "x", "variables": ["not a name"]},
    )
    assert_error(bad, 422, "validation_failed")


async def test_syntax_error_names_the_line(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner)
    response = await api.post(
        f"/api/prompts/{prompt_id}/versions",
        headers=owner.headers,
        json={"template": "line one\nline two\n{% if x %}never closed"},
    )
    error = assert_error(response, 422, "validation_failed")
    assert "line 3" in error["message"]
    assert error["details"][0]["line"] == 3
    first = await api.post(
        "/api/prompts",
        headers=owner.headers,
        json={"name": "Broken", "first_version": {"template": "{{ oops"}},
    )
    assert "line 1" in assert_error(first, 422, "validation_failed")["message"]
    listed = (await api.get("/api/prompts", headers=owner.headers)).json()
    assert [p["name"] for p in listed["data"]] == ["Greeting"]  # nothing half-created


async def test_config_is_bounded(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner)
    big = {"blob": "x" * (33 * 1024)}
    response = await api.post(
        f"/api/prompts/{prompt_id}/versions",
        headers=owner.headers,
        json={"template": "hi", "config": big},
    )
    assert "limit" in assert_error(response, 422, "validation_failed")["message"]
    nan = await api.post(
        f"/api/prompts/{prompt_id}/versions",
        headers={**owner.headers, "Content-Type": "application/json"},
        content=b'{"template": "hi", "config": {"t": NaN}}',
    )
    assert nan.status_code == 422, nan.text
    ok = await add_version(api, owner, prompt_id, template="hi", config={"blob": "x" * 1000})
    assert ok["number"] == 1


async def test_label_moves_deploy_and_roll_back_with_audit(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner, "v1", "v2", "v3")
    deployed = await move(api, owner, prompt_id, "production", 3)
    assert deployed.status_code == 200, deployed.text
    assert deployed.json()["labels"] == {"latest": 3, "production": 3}
    assert deployed.headers["ETag"] == f'"{deployed.json()["version"]}"'
    rolled = await move(api, owner, prompt_id, "production", 1)
    assert rolled.json()["labels"] == {"latest": 3, "production": 1}
    staging = await move(api, owner, prompt_id, "staging", 2)
    assert staging.json()["labels"] == {"latest": 3, "production": 1, "staging": 2}
    version_one = (
        await api.get(f"/api/prompts/{prompt_id}/versions/1", headers=owner.headers)
    ).json()
    assert version_one["labels"] == ["production"]
    assert_error(await move(api, owner, prompt_id, "production", 9), 404, "not_found")

    async with session_scope() as session:
        query = select(AuditEvent).where(AuditEvent.action == "prompt.label_move")
        events = (await session.exec(query.order_by(col(AuditEvent.at)))).all()
    moves = [
        (e.before["label"], e.before["version"], e.after["version"], e.after["kind"])
        for e in events
        if e.before is not None and e.after is not None
    ]
    assert moves == [
        ("production", None, 3, "deploy"),
        ("production", 3, 1, "rollback"),
        ("staging", None, 2, "deploy"),
    ]


async def test_latest_cannot_be_set_or_deleted(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner, "v1", "v2")
    moved = await move(api, owner, prompt_id, "latest", 1)
    assert "automatic" in assert_error(moved, 422, "validation_failed")["message"]
    deleted = await api.delete(f"/api/prompts/{prompt_id}/labels/latest", headers=owner.headers)
    assert "automatic" in assert_error(deleted, 422, "validation_failed")["message"]
    bad_name = await move(api, owner, prompt_id, "Not A Label", 1)
    assert_error(bad_name, 422, "validation_failed")


async def test_delete_label(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner, "v1")
    await move(api, owner, prompt_id, "staging", 1)
    url = f"/api/prompts/{prompt_id}/labels/staging"
    deleted = await api.delete(url, headers=owner.headers)
    assert deleted.status_code == 204 and "ETag" in deleted.headers
    prompt = (await api.get(f"/api/prompts/{prompt_id}", headers=owner.headers)).json()
    assert prompt["labels"] == {"latest": 1}
    assert_error(await api.delete(url, headers=owner.headers), 404, "not_found")


async def test_label_used_by_an_agent_cannot_be_deleted(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner, "v1")
    await move(api, owner, prompt_id, "production", 1)
    agent = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={"name": "Bot", "prompt_id": prompt_id, "prompt_label": "production"},
    )
    assert agent.status_code == 201, agent.text
    response = await api.delete(
        f"/api/prompts/{prompt_id}/labels/production", headers=owner.headers
    )
    assert "Bot" in assert_error(response, 409, "conflict")["message"]


async def test_diff_between_versions(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner)
    await add_version(
        api, owner, prompt_id, template="Hello\nBe kind.\nBye", config={"t": 0.1, "old": 1}
    )
    await add_version(
        api, owner, prompt_id, template="Hello\nBe brief.\nBye", config={"t": 0.5, "new": 2}
    )
    response = await api.get(
        f"/api/prompts/{prompt_id}/diff", headers=owner.headers, params={"from": 1, "to": 2}
    )
    assert response.status_code == 200, response.text
    diff = response.json()
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    assert "-Be kind." in diff["unified"] and "+Be brief." in diff["unified"]
    assert diff["unified"].startswith("--- v1\n+++ v2")
    assert [(line["op"], line["text"]) for line in diff["lines"]] == [
        (" ", "Hello"),
        ("-", "Be kind."),
        ("+", "Be brief."),
        (" ", "Bye"),
    ]
    assert diff["config_changes"] == {
        "added": {"new": 2},
        "removed": {"old": 1},
        "changed": {"t": {"from": 0.1, "to": 0.5}},
    }
    default = await api.get(f"/api/prompts/{prompt_id}/diff", headers=owner.headers)
    assert (default.json()["from_version"], default.json()["to_version"]) == (1, 2)
    missing = await api.get(
        f"/api/prompts/{prompt_id}/diff", headers=owner.headers, params={"from": 1, "to": 5}
    )
    assert_error(missing, 404, "not_found")
    bad = await api.get(
        f"/api/prompts/{prompt_id}/diff", headers=owner.headers, params={"from": "x"}
    )
    assert_error(bad, 422, "validation_failed")


async def test_prompt_used_by_agents_cannot_be_deleted(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner, "v1")
    for name in ("Beta bot", "Alpha bot"):
        created = await api.post(
            "/api/agents", headers=owner.headers, json={"name": name, "prompt_id": prompt_id}
        )
        assert created.status_code == 201, created.text
    response = await api.delete(f"/api/prompts/{prompt_id}", headers=owner.headers)
    error = assert_error(response, 409, "conflict")
    assert "Alpha bot" in error["message"] and "Beta bot" in error["message"]
    assert error["details"] == {"agents": ["Alpha bot", "Beta bot"]}


async def test_update_and_delete_with_if_match(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner, "v1")
    url = f"/api/prompts/{prompt_id}"
    current = await api.get(url, headers=owner.headers)
    etag = current.headers["ETag"]
    await add_version(api, owner, prompt_id, template="v2")  # a new version changes the ETag
    stale = await api.patch(url, headers={**owner.headers, "If-Match": etag}, json={"name": "N"})
    assert_error(stale, 412, "precondition_failed")
    fresh = (await api.get(url, headers=owner.headers)).headers["ETag"]
    renamed = await api.patch(
        url, headers={**owner.headers, "If-Match": fresh}, json={"name": "Renamed", "tags": ["a"]}
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["tags"]) == ("Renamed", ["a"])
    deleted = await api.delete(url, headers={**owner.headers, "If-Match": renamed.headers["ETag"]})
    assert deleted.status_code == 204
    assert_error(await api.get(f"{url}/versions", headers=owner.headers), 404, "not_found")


async def test_resolve_prompt_for_the_engine(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    prompt_id = await new_prompt(api, owner, "one", "two", "three")
    await move(api, owner, prompt_id, "production", 2)
    async with session_scope() as session:

        async def resolve(**kwargs: Any) -> tuple[int, str]:
            return await resolve_prompt(
                session=session,
                workspace_id=owner.workspace_id,
                prompt_id=uuid.UUID(prompt_id),
                **kwargs,
            )

        assert await resolve() == (3, "three")
        assert await resolve(label="latest") == (3, "three")
        assert await resolve(label="production") == (2, "two")
        assert await resolve(version=1) == (1, "one")
        with pytest.raises(NotFound):
            await resolve(label="staging")
        with pytest.raises(NotFound):
            await resolve_prompt(
                session=session,
                workspace_id=(await make_user()).workspace_id,
                prompt_id=uuid.UUID(prompt_id),
            )
