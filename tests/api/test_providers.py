"""Providers: kinds and base URLs, an API key that is encrypted and never shown, deletion."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select

from agentplatform.core.db import session_scope
from agentplatform.core.errors import NotFound
from agentplatform.core.security import decrypt_field
from agentplatform.models import AuditEvent, Provider
from agentplatform.services.providers import provider_secret
from tests import factories
from tests.factories import add_member, make_user

SECRET = "sk-test-DO-NOT-SHOW-0123456789"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


async def create(api: httpx.AsyncClient, user: factories.TestUser, **body: Any) -> httpx.Response:
    return await api.post("/api/providers", headers=user.headers, json={"name": "LLM", **body})


async def test_openai_provider_keeps_its_key_secret(
    api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = await make_user()
    response = await create(
        api,
        owner,
        kind="openai",
        base_url="http://127.0.0.1:11434/v1",
        api_key=SECRET,
        models=["llama3", "llama3", "qwen"],
    )
    assert response.status_code == 201, response.text
    provider = response.json()
    assert response.headers["Location"] == f"/api/providers/{provider['id']}"
    assert provider["has_api_key"] is True and "api_key" not in provider
    assert provider["models"] == ["llama3", "qwen"]
    assert provider["base_url"] == "http://127.0.0.1:11434/v1"
    seen = [
        response.text,
        (await api.get(f"/api/providers/{provider['id']}", headers=owner.headers)).text,
        (await api.get("/api/providers", headers=owner.headers)).text,
        (
            await api.patch(
                f"/api/providers/{provider['id']}", headers=owner.headers, json={"name": "New"}
            )
        ).text,
        caplog.text,
    ]
    async with session_scope() as session:
        stored = (await session.exec(select(Provider))).one()
        events = (await session.exec(select(AuditEvent))).all()
    seen += [str(e.before) + str(e.after) for e in events]
    assert all(SECRET not in text for text in seen)
    assert stored.api_key_encrypted and SECRET not in stored.api_key_encrypted
    assert decrypt_field(stored.api_key_encrypted) == SECRET
    assert [e.action for e in events] == ["provider.create", "provider.update"]


async def test_provider_secret_is_for_the_engine(api: httpx.AsyncClient) -> None:
    owner, stranger = await make_user(), await make_user()
    created = await create(api, owner, kind="anthropic", api_key=SECRET)
    provider_id = uuid.UUID(created.json()["id"])
    async with session_scope() as session:
        row, key = await provider_secret(
            session=session, workspace_id=owner.workspace_id, provider_id=provider_id
        )
        assert (row.kind, key) == ("anthropic", SECRET)
        with pytest.raises(NotFound):
            await provider_secret(
                session=session, workspace_id=stranger.workspace_id, provider_id=provider_id
            )


async def test_base_url_rules_per_kind(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    no_url = await create(api, owner, kind="openai")
    assert "base_url" in assert_error(no_url, 422, "validation_failed")["message"]
    anthropic = await create(api, owner, kind="anthropic", api_key=SECRET)
    assert anthropic.json()["base_url"] == "https://api.anthropic.com"
    no_key = await create(api, owner, name="Other", kind="anthropic")
    assert "API key" in assert_error(no_key, 422, "validation_failed")["message"]
    offline_url = await create(api, owner, name="Off", kind="offline", base_url="http://x.test")
    assert_error(offline_url, 422, "validation_failed")
    offline = await create(api, owner, name="Off", kind="offline")
    assert offline.status_code == 201 and offline.json()["base_url"] is None
    bad_url = await create(api, owner, name="Bad", kind="openai", base_url="not a url")
    assert_error(bad_url, 422, "validation_failed")
    bad_kind = await create(api, owner, name="Bad", kind="mystery")
    assert_error(bad_kind, 422, "validation_failed")
    too_long = await create(
        api, owner, name="Long", kind="openai", base_url="http://h.test/" + "a" * 600
    )
    assert_error(too_long, 422, "validation_failed")


async def test_update_key_and_models(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    created = await create(
        api, owner, kind="openai", base_url="http://127.0.0.1:9/v1", api_key=SECRET, models=["a"]
    )
    url = f"/api/providers/{created.json()['id']}"
    cleared = await api.patch(
        url, headers={**owner.headers, "If-Match": '"1"'}, json={"api_key": None}
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["has_api_key"] is False and cleared.headers["ETag"] == '"2"'
    stale = await api.patch(url, headers={**owner.headers, "If-Match": '"1"'}, json={})
    assert_error(stale, 412, "precondition_failed")
    agent = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={"name": "Uses a", "provider_id": created.json()["id"], "model": "a"},
    )
    assert agent.status_code == 201, agent.text
    dropping = await api.patch(url, headers=owner.headers, json={"models": ["b"]})
    assert "Uses a" in assert_error(dropping, 409, "conflict")["message"]
    adding = await api.patch(url, headers=owner.headers, json={"models": ["a", "b"]})
    assert adding.json()["models"] == ["a", "b"]
    no_url = await api.patch(url, headers=owner.headers, json={"base_url": None})
    assert_error(no_url, 422, "validation_failed")


async def test_delete_refuses_when_agents_use_it(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    provider = (await create(api, owner, kind="offline")).json()
    url = f"/api/providers/{provider['id']}"
    agent = await api.post(
        "/api/agents", headers=owner.headers, json={"name": "Bot", "provider_id": provider["id"]}
    )
    assert agent.status_code == 201 and agent.json()["model"] == "offline-demo"
    error = assert_error(await api.delete(url, headers=owner.headers), 409, "conflict")
    assert "Bot" in error["message"] and error["details"] == {"agents": ["Bot"]}
    await api.delete(f"/api/agents/{agent.json()['id']}", headers=owner.headers)
    assert (await api.delete(url, headers=owner.headers)).status_code == 204
    assert_error(await api.get(url, headers=owner.headers), 404, "not_found")


async def test_duplicate_name_is_409(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    assert (await create(api, owner, kind="offline")).status_code == 201
    error = assert_error(await create(api, owner, kind="offline"), 409, "conflict")
    assert "LLM" in error["message"]


async def test_builders_read_but_cannot_manage(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    builder = await add_member(owner.workspace_id, "builder")
    created = await create(api, owner, kind="offline")
    listed = await api.get("/api/providers", headers=builder.headers)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert_error(await create(api, builder, name="Mine", kind="offline"), 403, "permission_denied")
    delete = await api.delete(f"/api/providers/{created.json()['id']}", headers=builder.headers)
    assert_error(delete, 403, "permission_denied")
