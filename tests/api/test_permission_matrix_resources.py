"""Every role through every agent/team/prompt/provider endpoint, judged by `MATRIX` itself.

Also: another workspace's resources are 404 (never 403) and never listed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from agentplatform.api.app import build_api
from agentplatform.models.workspace import ROLES
from agentplatform.services.permissions import MATRIX
from tests import factories
from tests.factories import add_member, make_user

PREFIXES = ("/api/agents", "/api/teams", "/api/prompts", "/api/providers")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    action: str
    body: dict[str, Any] | None = None

    def url(self, ids: dict[str, str]) -> str:
        return self.path.format(**ids)


ENDPOINTS = [
    Endpoint("GET", "/api/agents", "agents.read"),
    Endpoint("POST", "/api/agents", "agents.write", {"name": "New agent"}),
    Endpoint("GET", "/api/agents/{agent}", "agents.read"),
    Endpoint("PATCH", "/api/agents/{agent}", "agents.write", {"description": "changed"}),
    Endpoint("DELETE", "/api/agents/{free_agent}", "agents.write"),
    Endpoint("GET", "/api/teams", "teams.read"),
    Endpoint(
        "POST",
        "/api/teams",
        "teams.write",
        {"name": "New team", "strategy": "sequential", "member_ids": ["{agent}"]},
    ),
    Endpoint("GET", "/api/teams/{team}", "teams.read"),
    Endpoint("PATCH", "/api/teams/{team}", "teams.write", {"description": "changed"}),
    Endpoint("DELETE", "/api/teams/{team}", "teams.write"),
    Endpoint("GET", "/api/prompts", "prompts.read"),
    Endpoint("POST", "/api/prompts", "prompts.write", {"name": "New prompt"}),
    Endpoint("GET", "/api/prompts/{prompt}", "prompts.read"),
    Endpoint("PATCH", "/api/prompts/{prompt}", "prompts.write", {"description": "changed"}),
    Endpoint("DELETE", "/api/prompts/{prompt}", "prompts.write"),
    Endpoint("GET", "/api/prompts/{prompt}/versions", "prompts.read"),
    Endpoint("POST", "/api/prompts/{prompt}/versions", "prompts.write", {"template": "v2"}),
    Endpoint("GET", "/api/prompts/{prompt}/versions/1", "prompts.read"),
    Endpoint("PUT", "/api/prompts/{prompt}/labels/staging", "prompts.deploy", {"version": 1}),
    Endpoint("DELETE", "/api/prompts/{prompt}/labels/production", "prompts.deploy"),
    Endpoint("GET", "/api/prompts/{prompt}/diff?from=1&to=1", "prompts.read"),
    Endpoint(
        "POST", "/api/prompts/{prompt}/render", "prompts.read", {"variables": {"name": "Ada"}}
    ),
    Endpoint("GET", "/api/providers", "providers.read"),
    Endpoint("POST", "/api/providers", "providers.manage", {"name": "New", "kind": "offline"}),
    Endpoint("GET", "/api/providers/{provider}", "providers.read"),
    Endpoint("PATCH", "/api/providers/{provider}", "providers.manage", {"name": "Renamed"}),
    Endpoint("DELETE", "/api/providers/{provider}", "providers.manage"),
]


def fill(value: Any, ids: dict[str, str]) -> Any:
    """The body with `{agent}`-style placeholders replaced by the seeded ids."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


async def post(api: httpx.AsyncClient, user: factories.TestUser, path: str, body: Any) -> str:
    response = await api.post(path, headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def seed(api: httpx.AsyncClient, owner: factories.TestUser) -> dict[str, str]:
    """One of each resource, none of them blocked from deletion by another."""
    tag = uuid.uuid4().hex[:6]
    ids = {
        "provider": await post(
            api, owner, "/api/providers", {"name": f"P{tag}", "kind": "offline"}
        ),
        "agent": await post(api, owner, "/api/agents", {"name": f"A{tag}"}),
        "free_agent": await post(api, owner, "/api/agents", {"name": f"F{tag}"}),
        "prompt": await post(
            api,
            owner,
            "/api/prompts",
            {"name": f"R{tag}", "first_version": {"template": "Hi {{ name }}"}},
        ),
    }
    ids["team"] = await post(
        api,
        owner,
        "/api/teams",
        {"name": f"T{tag}", "strategy": "sequential", "member_ids": [ids["agent"]]},
    )
    label = await api.put(
        f"/api/prompts/{ids['prompt']}/labels/production",
        headers=owner.headers,
        json={"version": 1},
    )
    assert label.status_code == 200, label.text
    return ids


def assert_error_shape(response: httpx.Response) -> None:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}


def test_every_resource_route_is_in_the_table() -> None:
    """A new route under these prefixes must be added here (and so be permission-tested)."""
    spec = build_api().openapi()
    routes = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if path.startswith(PREFIXES)
        for method in item
    }
    covered = set()
    for endpoint in ENDPOINTS:
        template = endpoint.path.split("?")[0]
        for name, param in (
            ("{agent}", "{agent_id}"),
            ("{free_agent}", "{agent_id}"),
            ("{team}", "{team_id}"),
            ("{prompt}", "{prompt_id}"),
            ("{provider}", "{provider_id}"),
            ("/versions/1", "/versions/{number}"),
            ("/labels/staging", "/labels/{label}"),
            ("/labels/production", "/labels/{label}"),
        ):
            template = template.replace(name, param)
        covered.add((endpoint.method, template))
    assert routes == covered


@pytest.mark.parametrize("role", ROLES)
async def test_role_can_do_exactly_what_the_matrix_allows(
    api: httpx.AsyncClient, role: str
) -> None:
    owner = await make_user()
    member = await add_member(owner.workspace_id, role)
    allowed_actions = MATRIX[role]
    ids = await seed(api, owner)
    for endpoint in ENDPOINTS:
        body = fill(endpoint.body, ids) if endpoint.body is not None else None
        response = await api.request(
            endpoint.method, endpoint.url(ids), headers=member.headers, json=body
        )
        label = f"{role} {endpoint.method} {endpoint.path} ({endpoint.action})"
        if endpoint.action in allowed_actions:
            assert response.status_code in (200, 201, 204), f"{label}: {response.text}"
            if endpoint.method != "GET":
                ids = await seed(api, owner)  # a fresh set for the next change
        else:
            assert response.status_code == 403, f"{label}: {response.text}"
            assert_error_shape(response)
            assert response.json()["error"]["code"] == "permission_denied"


async def test_other_workspaces_resources_are_404_and_never_listed(
    api: httpx.AsyncClient,
) -> None:
    owner, outsider = await make_user(), await make_user()
    ids = await seed(api, owner)
    for endpoint in ENDPOINTS:
        body = fill(endpoint.body, ids) if endpoint.body is not None else None
        response = await api.request(
            endpoint.method, endpoint.url(ids), headers=outsider.headers, json=body
        )
        label = f"{endpoint.method} {endpoint.path}"
        if "{" in endpoint.path:
            assert response.status_code == 404, f"{label}: {response.text}"
            assert_error_shape(response)
        elif endpoint.method == "GET":
            assert response.status_code == 200 and response.json() == {"data": [], "count": 0}
    as_member_of_a = {**outsider.headers, "X-Workspace": str(owner.workspace_id)}
    for path in ("/api/agents", f"/api/agents/{ids['agent']}", f"/api/prompts/{ids['prompt']}"):
        response = await api.get(path, headers=as_member_of_a)
        assert response.status_code == 404, response.text
    for path in ("/api/agents", "/api/teams", "/api/prompts", "/api/providers"):
        mine = (await api.get(path, headers=owner.headers)).json()
        assert mine["count"] >= 1  # the owner still sees everything: nothing was touched


async def test_team_of_another_workspace_cannot_reference_my_agents(
    api: httpx.AsyncClient,
) -> None:
    owner, outsider = await make_user(), await make_user()
    ids = await seed(api, owner)
    response = await api.post(
        "/api/teams",
        headers=outsider.headers,
        json={"name": "Stolen", "strategy": "sequential", "member_ids": [ids["agent"]]},
    )
    assert response.status_code == 422 and ids["agent"] in response.json()["error"]["message"]
    agent = await api.post(
        "/api/agents",
        headers=outsider.headers,
        json={"name": "Borrower", "prompt_id": ids["prompt"], "provider_id": ids["provider"]},
    )
    assert agent.status_code == 422, agent.text
