"""One text rule everywhere text enters: NUL and other control characters are a 422 naming the
field (never a 500, PostgreSQL included), and names that look alike are the same name."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import AsyncIterator, Iterator
from typing import Any, Union, get_args, get_origin

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import AfterValidator, BaseModel

from agentplatform.api.app import build_api
from agentplatform.models import common
from agentplatform.models.common import InputText
from tests import factories
from tests.api.test_input_validation import assert_error, seed
from tests.services.run_support import isolated_runs

NUL = "a\u0000b"


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


def _text_rule_gaps(annotation: Any, metadata: list[Any], where: str, seen: set[type]) -> list[str]:
    """Places in a request shape where a string is accepted without the one text rule."""
    if any(isinstance(m, InputText) for m in metadata):
        return []
    if any(isinstance(m, AfterValidator) and m.func is common._checked_json for m in metadata):
        return []  # a free-form JSON object: every key and string is checked
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is typing.Annotated:
        return _text_rule_gaps(args[0], [*metadata, *args[1:]], where, seen)
    if annotation is str or annotation is Any:
        return [where]
    if origin in (Union, types.UnionType):
        return [gap for arg in args for gap in _text_rule_gaps(arg, metadata, where, seen)]
    if origin in (list, tuple, set, frozenset):
        return [gap for arg in args for gap in _text_rule_gaps(arg, [], f"{where}[]", seen)]
    if origin is dict:
        key, value = args
        return _text_rule_gaps(key, [], f"{where}{{key}}", seen) + _text_rule_gaps(
            value, [], f"{where}{{value}}", seen
        )
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return []
        seen.add(annotation)
        return [
            gap
            for name, field in annotation.model_fields.items()
            for gap in _text_rule_gaps(
                field.annotation, list(field.metadata), f"{annotation.__name__}.{name}", seen
            )
        ]
    return []  # numbers, ids, times, enums, literals, e-mail addresses and URLs


def _api_routes() -> Iterator[APIRoute]:
    for context in iter_route_contexts(build_api().routes):
        if isinstance(context.route, APIRoute):
            yield context.route


def test_every_text_field_of_every_request_shape_carries_the_text_rule() -> None:
    """Structural: each string a body or query can carry goes through `InputText`."""
    gaps: list[str] = []
    seen: set[type] = set()
    for route in _api_routes():
        dependants = [route.dependant]
        while dependants:
            dependant = dependants.pop()
            dependants.extend(dependant.dependencies)
            for param in [*dependant.body_params, *dependant.query_params]:
                info = param.field_info
                where = f"{sorted(route.methods)[0]} {route.path} {param.name}"
                found = _text_rule_gaps(info.annotation, list(info.metadata), where, seen)
                gaps.extend(found)
    assert gaps == []


def _string_paths(schema: dict[str, Any], spec: dict[str, Any], path: tuple[Any, ...]) -> Iterator:
    """Every path to a string in a JSON schema (object properties, array items, map values)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        yield from _string_paths(spec["components"]["schemas"][name], spec, path)
        return
    for option in schema.get("anyOf", []):
        yield from _string_paths(option, spec, path)
    plain = schema.get("format") not in ("uuid", "date-time", "uri", "email")
    if schema.get("type") == "string" and plain and not schema.get("enum"):
        yield path
    for name, prop in schema.get("properties", {}).items():
        yield from _string_paths(prop, spec, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from _string_paths(schema["items"], spec, (*path, 0))
    for value_schema in (schema.get("patternProperties") or {}).values():
        yield from _string_paths(value_schema, spec, (*path, "k"))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _string_paths(schema["additionalProperties"], spec, (*path, "k"))


def _with(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """`base` with `value` placed at `path` (lists get one element, maps the key `k`)."""

    def build(rest: tuple[Any, ...]) -> Any:
        if not rest:
            return value
        return [build(rest[1:])] if isinstance(rest[0], int) else {rest[0]: build(rest[1:])}

    body = dict(base)
    body[path[0]] = build(path[1:])
    return body


def _base_bodies(ids: dict[str, str], owner: factories.TestUser) -> dict[str, dict[str, Any]]:
    """A valid body for every route that takes one, so the only fault is the one planted."""
    return {
        "POST /api/auth/register": {"email": "new@example.com", "password": "correct-horse-42"},
        "POST /api/auth/login": {"email": owner.email, "password": "wrong-horse-42"},
        "POST /api/auth/refresh": {"refresh_token": "rt_unknown"},
        "POST /api/auth/logout": {"refresh_token": "rt_unknown"},
        "POST /api/auth/session": {"email": owner.email, "password": "wrong-horse-42"},
        "POST /api/auth/session/register": {
            "email": "new@example.com",
            "password": "correct-horse-42",
        },
        "PATCH /api/users/me": {},
        "POST /api/workspaces": {"name": "w"},
        "PATCH /api/workspaces/{workspace_id}": {},
        "POST /api/workspaces/{workspace_id}/members": {"email": "x@example.com", "role": "viewer"},
        "PATCH /api/workspaces/{workspace_id}/members/{user_id}": {"role": "viewer"},
        "POST /api/api-keys": {"name": "k"},
        "POST /api/runs": {"agent_id": ids["agent_id"], "input": "hi"},
        "POST /api/agents": {"name": "a"},
        "PATCH /api/agents/{agent_id}": {},
        "POST /api/teams": {"name": "t", "strategy": "sequential", "member_ids": [ids["agent_id"]]},
        "PATCH /api/teams/{team_id}": {},
        "POST /api/prompts": {"name": "p"},
        "PATCH /api/prompts/{prompt_id}": {},
        "POST /api/prompts/{prompt_id}/versions": {"template": "t"},
        "PUT /api/prompts/{prompt_id}/labels/{label}": {"version": 1},
        "POST /api/prompts/{prompt_id}/render": {},
        "POST /api/providers": {"name": "p", "kind": "offline"},
        "PATCH /api/providers/{provider_id}": {},
        "PUT /api/prices/{model}": {"input_per_mtok": 1, "output_per_mtok": 1},
    }


def _concrete(path: str, ids: dict[str, str], owner: factories.TestUser) -> str:
    values = {**ids, "workspace_id": str(owner.workspace_id), "user_id": str(owner.id)}
    values.update(label="production", model="gpt-4o-mini", number="1")
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", value)
    return path


async def test_nul_in_any_text_field_of_any_body_is_a_422_naming_it(
    api: httpx.AsyncClient,
) -> None:
    """Every string field of every JSON body (found in the OpenAPI spec), one NUL at a time."""
    owner = await factories.make_user()
    ids = await seed(api, owner)
    spec = build_api().openapi()
    bases = _base_bodies(ids, owner)
    missed: list[tuple[str, str, int, str]] = []
    checked = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            route = f"{method.upper()} {path}"
            assert route in bases, f"add a valid body for {route} to _base_bodies"
            for field in _string_paths(content["application/json"]["schema"], spec, ()):
                body = _with(bases[route], field, NUL)
                response = await api.request(
                    method.upper(), _concrete(path, ids, owner), headers=owner.headers, json=body
                )
                name = ".".join(str(part) for part in field)
                checked += 1
                details = response.json()["error"]["details"] if response.status_code == 422 else []
                refused = [d for d in details or [] if d["field"] == name]
                if not refused or "control character" not in refused[0]["message"]:
                    missed.append((route, name, response.status_code, response.text[:200]))
    assert missed == []
    assert checked > 40  # the walk reached the shapes (names, texts, lists, maps, nested)


async def test_the_six_fields_that_answered_500_on_postgresql_now_answer_422(
    api: httpx.AsyncClient,
) -> None:
    """The finding's cases, one of them the unauthenticated sign-in; nothing is stored."""
    owner = await factories.make_user()
    ids = await seed(api, owner)
    headers = owner.headers
    cases: list[tuple[str, str, dict[str, Any], dict[str, str], str]] = [
        ("POST", "/api/auth/login", {"email": NUL, "password": "x"}, {}, "email"),
        ("POST", "/api/auth/register",
         {"email": "z@example.com", "password": "correct-horse-42", "full_name": NUL}, {},
         "full_name"),
        ("POST", "/api/auth/register", {"email": "y@example.com", "password": NUL}, {},
         "password"),
        ("PATCH", "/api/users/me", {"full_name": NUL}, headers, "full_name"),
        ("POST", "/api/workspaces", {"name": NUL}, headers, "name"),
        ("PATCH", f"/api/workspaces/{owner.workspace_id}", {"name": NUL}, headers, "name"),
        ("POST", "/api/api-keys", {"name": NUL}, headers, "name"),
        ("POST", "/api/runs", {"agent_id": ids["agent_id"], "input": NUL}, headers, "input"),
        ("POST", "/api/runs", {"agent_id": ids["agent_id"], "input": "x", "variables": {"k": NUL}},
         headers, "variables.k"),
    ]  # fmt: skip
    for method, path, body, extra, field in cases:
        response = await api.request(method, path, json=body, headers=extra)
        error = assert_error(response, 422)
        assert error["message"].startswith(f"{field}: must not contain a control character")
        assert "U+0000" in error["message"]
    runs = await api.get("/api/runs", headers=headers)
    assert runs.json()["count"] == 0
    names = [w["name"] for w in (await api.get("/api/workspaces", headers=headers)).json()["data"]]
    assert all("\u0000" not in name for name in names)


async def test_headers_paths_and_queries_with_nul_never_500(api: httpx.AsyncClient) -> None:
    """Text that is not a body: the X-Workspace header, path parameters, query strings."""
    owner = await factories.make_user()
    ids = await seed(api, owner)
    spec = build_api().openapi()
    failures = []
    odd = {**owner.headers, "X-Workspace": NUL}
    for path in ("/api/agents", "/api/users/me", "/api/runs"):
        response = await api.get(path, headers=odd)
        if response.status_code >= 500:
            failures.append(("X-Workspace", path, response.text[:200]))
        assert_error(response, 404)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path.endswith("/events") or path == "/api/auth/logout":
                continue
            params = operation.get("parameters", [])
            queries = {p["name"]: "\u0000" for p in params if p["in"] == "query"}
            targets = [(_concrete(path, ids, owner), queries)] if queries else []
            if "{" in path:
                for name in [p["name"] for p in params if p["in"] == "path"]:
                    one = _concrete(path.replace(f"{{{name}}}", "a%00b"), ids, owner)
                    targets.append((one, {}))
            for target, query in targets:
                response = await api.request(
                    method.upper(), target, params=query, headers=owner.headers
                )
                if response.status_code >= 500:
                    failures.append((method, target, response.text[:200]))
    assert failures == []
    audit = await api.get("/api/audit", headers=owner.headers, params={"action": "a\u0000"})
    assert "control character" in assert_error(audit, 422)["message"]
    price = await api.put("/api/prices/m%00x", headers=owner.headers, json={
        "input_per_mtok": 1, "output_per_mtok": 1})  # fmt: skip
    assert "control character" in assert_error(price, 422)["message"]


@pytest.mark.parametrize(
    ("value", "field", "accepted"),
    [
        ("first line\nsecond\tcolumn\r\n", "instructions", True),
        ("\u001b[2J\u001b[31mred", "instructions", False),  # terminal escape sequences
        ("bell\u0007", "description", False),
        ("del\u007f", "description", False),
        ("c1\u0085control", "description", False),
        ("two\nlines", "name", False),  # a name is one line
        ("tab\there", "name", False),
        ("\ud800", "instructions", False),  # a lone surrogate
        ("emoji 🤖 and accents é", "name", True),
    ],
)
async def test_control_characters_are_refused_but_multiline_text_keeps_its_lines(
    api: httpx.AsyncClient, value: str, field: str, accepted: bool
) -> None:
    owner = await factories.make_user()
    raw = json.dumps({"name": "bot", field: value}).encode()  # ASCII: lone surrogates escaped
    headers = {**owner.headers, "Content-Type": "application/json"}
    response = await api.post("/api/agents", headers=headers, content=raw)
    if accepted:
        assert response.status_code == 201, response.text
        assert response.json()[field] == value
    else:
        error = assert_error(response, 422)
        assert error["details"][0]["field"] == field
        assert "must not contain" in error["message"]


LOOKALIKES = [
    "Support\u200b bot",  # zero-width space
    " Support bot\u200d ",  # zero-width joiner and surrounding spaces
    "\ufeffSupport bot",  # byte-order mark
    "Support\u00ad bot",  # soft hyphen
    "\uff33\uff55\uff50\uff50\uff4f\uff52\uff54 bot",  # full-width letters (NFKC)
    "Support\u00a0bot",  # no-break space (NFKC)
    "Support\u2066 bot\u2069",  # bidi isolates
]


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/api/agents", {}),
        ("/api/teams", {"strategy": "sequential"}),
        ("/api/prompts", {}),
        ("/api/providers", {"kind": "offline"}),
        ("/api/api-keys", {}),
    ],
)
async def test_names_differing_only_by_invisible_characters_are_the_same_name(
    api: httpx.AsyncClient, path: str, extra: dict[str, Any]
) -> None:
    owner = await factories.make_user()
    if path == "/api/teams":
        ids = await seed(api, owner)
        extra = {**extra, "member_ids": [ids["agent_id"]]}
    first = await api.post(path, headers=owner.headers, json={"name": "Support bot", **extra})
    assert first.status_code == 201, first.text
    for lookalike in LOOKALIKES:
        body = {"name": lookalike, **extra}
        duplicate = await api.post(path, headers=owner.headers, json=body)
        assert_error(duplicate, 409)
    other = await api.post(path, headers=owner.headers, json={"name": "Other\u200b", **extra})
    assert other.status_code == 201, other.text
    assert other.json()["name"] == "Other"
    if path != "/api/api-keys":
        renamed = await api.patch(
            f"{path}/{other.json()['id']}", headers=owner.headers, json={"name": LOOKALIKES[0]}
        )
        assert_error(renamed, 409)


async def test_tags_and_search_use_the_same_normalised_names(api: httpx.AsyncClient) -> None:
    owner = await factories.make_user()
    created = await api.post(
        "/api/agents",
        headers=owner.headers,
        json={
            "name": "\uff33\uff45\uff41\uff52\uff43\uff48\u200b me",
            "tags": ["Prod\u200b", "prod", "\uff30\uff32\uff2f\uff24"],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Search me" and created.json()["tags"] == ["prod"]
    found = await api.get(
        "/api/agents",
        headers=owner.headers,
        params={"q": "search\u200b", "tag": "\uff50\uff52\uff4f\uff44"},
    )
    assert [a["name"] for a in found.json()["data"]] == ["Search me"]


async def test_run_variables_are_bounded_by_the_model(api: httpx.AsyncClient) -> None:
    """Per-field limits stated once (models/common.py): count, name, value, total."""
    owner = await factories.make_user()
    ids = await seed(api, owner)
    run = {"agent_id": ids["agent_id"], "input": "x"}
    cases = [
        ({f"v{i}": "x" for i in range(common.VARIABLES_MAX + 1)}, "variables"),
        ({"not a name": "x"}, "variables.not a name.[key]"),
        ({"k": "x" * (common.VARIABLE_VALUE_MAX + 1)}, "variables.k"),
        ({f"v{i}": "x" * common.VARIABLE_VALUE_MAX for i in range(6)}, "variables"),
    ]
    for variables, field in cases:
        body = {**run, "variables": variables}
        response = await api.post("/api/runs", headers=owner.headers, json=body)
        error = assert_error(response, 422)
        assert field in [d["field"] for d in error["details"]], error
    assert (await api.get("/api/runs", headers=owner.headers)).json()["count"] == 0
    fine = {"topic": "tea\nand biscuits", "name": "Ada"}
    ok = await api.post("/api/runs", headers=owner.headers, json={**run, "variables": fine})
    assert ok.status_code == 202, ok.text
    assert ok.json()["variables"] == fine


async def test_free_form_json_is_walked_and_its_nesting_bounded(api: httpx.AsyncClient) -> None:
    """Prompt config: every string checked at any depth; nesting past JSON_DEPTH_MAX is a 422
    (a 900-deep config used to reach the database's JSON encoder and answer 500)."""
    owner = await factories.make_user()
    ids = await seed(api, owner)
    headers = {**owner.headers, "Content-Type": "application/json"}
    versions = f"/api/prompts/{ids['prompt_id']}/versions"

    def post(depth: int, leaf: str) -> Any:
        raw = '{"template": "t", "config": {"k": ' + "[" * depth + leaf + "]" * depth + "}}"
        return api.post(versions, headers=headers, content=raw.encode())

    assert (await post(10, '"fine"')).status_code == 201
    hidden = assert_error(await post(10, '"x\\u0000"'), 422)
    assert "control character" in hidden["message"], hidden
    deep = assert_error(await post(common.JSON_DEPTH_MAX + 1, '"fine"'), 422)
    assert f"nests deeper than {common.JSON_DEPTH_MAX} levels" in deep["message"], deep
    for depth in (900, 5000):  # refused by this rule, or by the JSON parser's own limit first
        assert_error(await post(depth, '"fine"'))
