"""docs/permissions.md matches `MATRIX`, and the account/admin actions honour it over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import httpx
import pytest

from agentplatform.core import security
from agentplatform.services.permissions import MATRIX, ROLE_RANK, Action
from tests.factories import add_member, make_user


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users made here hash at bcrypt's lowest cost: the same code path, far less CPU."""
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def documented_table() -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Roles and (action, marks) rows of the table under '## Matrix' in docs/permissions.md."""
    section = DOC.read_text().split("## Matrix", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[0] == "action"
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append((cells[0].strip("`"), cells[1:]))
    return header[1:], rows


def documented_matrix() -> dict[str, frozenset[str]]:
    roles, rows = documented_table()
    matrix: dict[str, set[str]] = {role: set() for role in roles}
    for action, marks in rows:
        for role, mark in zip(roles, marks, strict=True):
            assert mark in {"✓", "—"}, f"{action}/{role}: unexpected mark {mark!r}"
            if mark == "✓":
                matrix[role].add(action)
    return {role: frozenset(actions) for role, actions in matrix.items()}


def test_documented_matrix_equals_the_code() -> None:
    assert documented_matrix() == MATRIX


def test_documented_matrix_lists_every_action_once_and_every_role() -> None:
    roles, rows = documented_table()
    assert [action for action, _ in rows] == list(get_args(Action))
    assert sorted(roles, key=ROLE_RANK.__getitem__, reverse=True) == roles
    assert set(roles) == set(ROLE_RANK)


@pytest.mark.parametrize("role", ["builder", "operator", "viewer"])
async def test_non_admins_get_403_on_every_admin_action(api: httpx.AsyncClient, role: str) -> None:
    owner = await make_user()
    member = await add_member(owner.workspace_id, role)
    h = member.headers
    base = f"/api/workspaces/{owner.workspace_id}"
    calls = {
        "workspace.update": api.patch(base, headers=h, json={"name": "Taken over"}),
        "members.manage (add)": api.post(
            f"{base}/members", headers=h, json={"email": owner.email, "role": "viewer"}
        ),
        "members.manage (role)": api.patch(
            f"{base}/members/{owner.id}", headers=h, json={"role": "viewer"}
        ),
        "members.manage (remove)": api.delete(f"{base}/members/{owner.id}", headers=h),
        "api_keys.manage (list)": api.get("/api/api-keys", headers=h),
        "api_keys.manage (create)": api.post("/api/api-keys", headers=h, json={"name": "k"}),
        "audit.read": api.get("/api/audit", headers=h),
    }
    for name, call in calls.items():
        response = await call
        assert response.status_code == 403, f"{name}: {response.text}"
        assert f"Your role '{role}'" in response.json()["error"]["message"]
    # Reading is still allowed for every role.
    assert (await api.get(base, headers=h)).json()["role"] == role
    assert (await api.get(f"{base}/members", headers=h)).status_code == 200


async def test_admins_may_do_the_admin_actions(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    admin = await add_member(owner.workspace_id, "admin")
    viewer = await add_member(owner.workspace_id, "viewer")
    h = admin.headers
    base = f"/api/workspaces/{owner.workspace_id}"
    assert (await api.patch(base, headers=h, json={"name": "Ours"})).status_code == 200
    role = await api.patch(f"{base}/members/{viewer.id}", headers=h, json={"role": "operator"})
    assert role.status_code == 200
    assert (await api.post("/api/api-keys", headers=h, json={"name": "k"})).status_code == 201
    assert (await api.get("/api/api-keys", headers=h)).status_code == 200
    assert (await api.get("/api/audit", headers=h)).status_code == 200
    assert (await api.delete(f"{base}/members/{viewer.id}", headers=h)).status_code == 204
