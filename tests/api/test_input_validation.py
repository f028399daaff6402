"""Bad input is always a 4xx in the error shape, never a 500: targeted cases, then sweeps."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from agentplatform.api.app import build_api
from tests import factories
from tests.factories import make_user

RESOURCES = ("/api/agents", "/api/teams", "/api/prompts", "/api/providers")


def assert_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A 4xx in the one error shape (status checked when given)."""
    label = f"{response.request.method} {response.request.url}: {response.text[:300]}"
    assert 400 <= response.status_code < 500, label
    if status is not None:
        assert response.status_code == status, label
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, label
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


async def seed(api: httpx.AsyncClient, owner: factories.TestUser) -> dict[str, str]:
    """One of each resource so sweeps reach the services, not just the 404 path."""

    async def post(path: str, body: dict[str, Any]) -> str:
        response = await api.post(path, headers=owner.headers, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    ids = {
        "provider_id": await post("/api/providers", {"name": "P", "kind": "offline"}),
        "prompt_id": await post(
            "/api/prompts", {"name": "R", "first_version": {"template": "Hi {{ name }}"}}
        ),
    }
    ids["agent_id"] = await post("/api/agents", {"name": "A", "provider_id": ids["provider_id"]})
    ids["team_id"] = await post(
        "/api/teams", {"name": "T", "strategy": "sequential", "member_ids": [ids["agent_id"]]}
    )
    return ids


@pytest.fixture
async def owner() -> factories.TestUser:
    return await make_user()


async def test_malformed_json_and_wrong_shapes(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    json_headers = {**owner.headers, "Content-Type": "application/json"}
    for raw in (b"{", b'{"name": "x",}', b"\xff", b"[]", b'"agent"', b"null", b""):
        response = await api.post("/api/agents", headers=json_headers, content=raw)
        assert_error(response)
    broken = await api.post("/api/agents", headers=json_headers, content=b"{")
    assert "not valid JSON" in assert_error(broken, 422)["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/agents", {"name": 123}, "name"),
        ("/api/agents", {"name": "A", "temperature": "hot"}, "temperature"),
        ("/api/agents", {"name": "A", "temperature": 9}, "temperature"),
        ("/api/agents", {"name": "A", "tools": "calculator"}, "tools"),
        ("/api/agents", {"name": "A", "provider_id": "not-a-uuid"}, "provider_id"),
        ("/api/agents", {"name": "A", "max_iterations": 10**30}, "max_iterations"),
        ("/api/agents", {"name": "A", "prompt_version": 10**30}, "prompt_version"),
        ("/api/agents", {"name": "A" * 101}, "name"),
        ("/api/agents", {"name": "A", "instructions": "x" * 100_001}, "instructions"),
        ("/api/agents", {"name": "A", "tags": [f"t{i}" for i in range(21)]}, "tags"),
        ("/api/agents", {"name": "   "}, "name"),
        ("/api/teams", {"name": "T", "strategy": "chaos", "member_ids": []}, "strategy"),
        ("/api/teams", {"name": "T", "strategy": "sequential", "member_ids": []}, "member_ids"),
        ("/api/teams", {"name": "T", "strategy": "parallel", "member_ids": ["x"]}, "member_ids.0"),
        (
            "/api/teams",
            {"name": "T", "strategy": "sequential", "member_ids": [str(uuid.uuid4())],
             "termination": {"max_total_tokens": 10**12}},
            "termination.max_total_tokens",
        ),
        ("/api/prompts", {"name": "P", "first_version": {"template": ""}},
         "first_version.template"),
        ("/api/prompts", {"name": "P", "first_version": {"template": "x" * 100_001}},
         "first_version.template"),
        ("/api/providers", {"name": "P", "kind": "openai", "base_url": "ftp://x"}, "base_url"),
        ("/api/providers", {"name": "P", "kind": "openai", "models": [""]}, "models.0"),
    ],
)  # fmt: skip
async def test_wrong_types_and_oversize_fields_are_422(
    api: httpx.AsyncClient, owner: factories.TestUser, path: str, body: dict[str, Any], field: str
) -> None:
    error = assert_error(await api.post(path, headers=owner.headers, json=body), 422)
    assert field in [d["field"] for d in error["details"]], error


async def test_nul_and_lone_surrogates_are_422_on_every_database(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    ids = await seed(api, owner)
    headers = {**owner.headers, "Content-Type": "application/json"}
    prompt = f"/api/prompts/{ids['prompt_id']}"
    cases = [
        ("POST", "/api/agents", {"name": "a\u0000b"}),
        ("POST", "/api/agents", {"name": "ok", "instructions": "x\u0000"}),
        ("PATCH", f"/api/agents/{ids['agent_id']}", {"description": "\u0000"}),
        ("POST", "/api/prompts", {"name": "p", "first_version": {"template": "\u0000"}}),
        ("POST", f"{prompt}/versions", {"template": "t", "config": {"k": "\u0000"}}),
        ("POST", f"{prompt}/render", {"variables": {"name": "\u0000"}}),
        ("POST", "/api/providers", {"name": "p", "kind": "offline", "models": ["m\u0000"]}),
    ]  # fmt: skip
    for method, path, body in cases:
        assert_error(await api.request(method, path, headers=owner.headers, json=body), 422)
    surrogates = [
        (f"{prompt}/versions", b'{"template": "t", "config": {"k": "\\ud800"}}'),
        (f"{prompt}/render", b'{"variables": {"name": "\\udfff"}}'),
        ("/api/agents", b'{"name": "\\ud800"}'),
    ]  # fmt: skip
    for path, raw in surrogates:
        assert_error(await api.post(path, headers=headers, content=raw), 422)


async def test_unknown_and_malformed_ids(api: httpx.AsyncClient, owner: factories.TestUser) -> None:
    ghost = uuid.uuid4()
    for resource in RESOURCES:
        assert_error(await api.get(f"{resource}/{ghost}", headers=owner.headers), 404)
        assert_error(await api.delete(f"{resource}/{ghost}", headers=owner.headers), 404)
        assert_error(await api.patch(f"{resource}/{ghost}", headers=owner.headers, json={}), 404)
        for bad in ("not-a-uuid", "1", "%00", "' OR 1=1 --"):
            assert_error(await api.get(f"{resource}/{bad}", headers=owner.headers), 422)
    versions = f"/api/prompts/{ghost}/versions"
    assert_error(await api.get(versions, headers=owner.headers), 404)
    assert_error(await api.post(versions, headers=owner.headers, json={"template": "x"}), 404)


async def test_bad_query_params(api: httpx.AsyncClient, owner: factories.TestUser) -> None:
    ids = await seed(api, owner)
    bad_params: list[dict[str, Any]] = [
        {"limit": 0},
        {"limit": 201},
        {"limit": -1},
        {"limit": "abc"},
        {"limit": "1e3"},
        {"offset": -1},
        {"offset": 10**30},
        {"q": "x" * 101},
        {"q": "a\u0000"},
        {"tag": "t" * 41},
    ]
    for resource in RESOURCES:
        for params in bad_params:
            assert_error(await api.get(resource, headers=owner.headers, params=params), 422)
    diff = f"/api/prompts/{ids['prompt_id']}/diff"
    for params in ({"from": 0}, {"to": "x"}, {"from": 10**30}):
        assert_error(await api.get(diff, headers=owner.headers, params=params), 422)
    for number in ("0", "-1", "abc", str(10**30)):
        url = f"/api/prompts/{ids['prompt_id']}/versions/{number}"
        assert_error(await api.get(url, headers=owner.headers), 422)
    fine = await api.get("/api/agents", headers=owner.headers, params={"limit": 200, "q": "%_\\"})
    assert fine.status_code == 200 and fine.json() == {"data": [], "count": 0}


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """A request schema with `$ref`s and `anyOf` unwrapped to the object with properties."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return _resolve(spec["components"]["schemas"][name], spec)
    for option in schema.get("anyOf", []):
        resolved = _resolve(option, spec)
        if resolved.get("properties"):
            return resolved
    return schema


GARBAGE_VALUES: list[Any] = [
    None, 10**30, -(10**30), 1e308, -1.5, "", "x" * 100_001, "\u0000", "not-a-uuid",
    str(uuid.uuid4()), [], [None], ["x" * 200], {}, {"nested": {"deep": [1, {"a": None}]}}, True,
    "{{ ''.__class__ }}", "latest",
]  # fmt: skip
GARBAGE_BODIES: list[bytes] = [
    b"", b"{", b"null", b"[]", b'"text"', b"12", b"{}", b"[" * 50 + b"]" * 50,
    b'{"a": NaN, "b": Infinity, "c": -Infinity}', b'{"version": 1e999}',
    b'{"name": {"$gt": ""}}', b'{"variables": {"x": "\\ud800"}}',
]  # fmt: skip


def _concrete(path: str, ids: dict[str, str], value: str | None = None) -> str:
    """The path with ids filled in: seeded ones, or `value` for every parameter."""
    for name in ("agent_id", "team_id", "prompt_id", "provider_id"):
        path = path.replace(f"{{{name}}}", value if value is not None else ids[name])
    defaults = {"number": "1", "label": "production"}
    for name, default in defaults.items():
        path = path.replace(f"{{{name}}}", value if value is not None else default)
    return path


async def test_field_by_field_garbage_never_500s(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    """Every body field of every resource route, one garbage value at a time."""
    spec = build_api().openapi()
    ids = await seed(api, owner)
    failures = []
    for path, item in spec["paths"].items():
        if not path.startswith(RESOURCES):
            continue
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = _resolve(content["application/json"]["schema"], spec)
            for field in schema.get("properties", {}):
                for value in GARBAGE_VALUES:
                    body = {"name": f"n-{uuid.uuid4().hex[:6]}", "template": "t", field: value}
                    if method == "post" and path in RESOURCES:
                        body.setdefault("kind", "offline")
                        body.setdefault("strategy", "sequential")
                        body.setdefault("member_ids", [ids["agent_id"]])
                    response = await api.request(
                        method.upper(), _concrete(path, ids), headers=owner.headers, json=body
                    )
                    if response.status_code >= 500:
                        failures.append((method, path, field, repr(value)[:40], response.text))
    assert failures == []


async def test_every_route_survives_garbage(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    """Every route in the OpenAPI spec, with garbage bodies and garbage path parameters."""
    spec = build_api().openapi()
    ids = await seed(api, owner)
    headers = {**owner.headers, "Content-Type": "application/json"}
    failures = []
    for path, item in spec["paths"].items():
        for method in item:
            if path.endswith("/events") or path == "/api/auth/logout":
                continue  # a live stream; and logging out would end this user's session
            targets = [_concrete(path, ids)] if "{" in path else [path]
            if "{" in path:
                targets += [_concrete(path, ids, bad) for bad in ("x", "0", str(uuid.uuid4()))]
            for target in targets:
                for raw in GARBAGE_BODIES if method in ("post", "put", "patch") else [b""]:
                    response = await api.request(
                        method.upper(), target, headers=headers, content=raw
                    )
                    if response.status_code >= 500:
                        failures.append((method, target, raw[:40], response.text[:200]))
                    elif response.status_code >= 400 and target.startswith("/api"):
                        assert_error(response)
    assert failures == []


async def test_if_match_garbage_is_412_not_500(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    ids = await seed(api, owner)
    for value in ('"abc"', "W/", '"1", "2"', "x" * 90, '"99999999999999999999999"'):
        response = await api.patch(
            f"/api/agents/{ids['agent_id']}",
            headers={**owner.headers, "If-Match": value},
            json={"description": "x"},
        )
        error = assert_error(response, 412)
        assert error["details"] == {"current_version": 1}
    too_long = await api.patch(
        f"/api/agents/{ids['agent_id']}", headers={**owner.headers, "If-Match": "1" * 200}, json={}
    )
    assert_error(too_long, 422)


async def test_json_error_bodies_are_json(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    response = await api.post("/api/agents", headers=owner.headers, json={"name": 1})
    assert response.headers["content-type"].startswith("application/json")
    json.loads(response.text)
