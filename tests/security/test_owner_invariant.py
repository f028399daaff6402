"""A workspace always keeps an owner, however its owners race to step down or push out.

Reproduces finding 5 of issue 15: two owners demoting or removing each other at the same
moment both succeeded and left the workspace with no owner (6 of 8 trials on SQLite, where
`FOR UPDATE` is a no-op). Each race runs many trials, on SQLite and PostgreSQL, both as
concurrent requests to the API (separate sessions and connections in one event loop) and as
separate processes writing the same database, as two app workers would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import col, func, select

from agentplatform.core.db import session_scope
from agentplatform.models import ApiKey, Membership
from agentplatform.models.workspace import MemberUpdate
from agentplatform.services import workspaces
from agentplatform.services.permissions import Actor
from tests import factories
from tests.security.rivals import Rivals, rivals

TRIALS = 12
REFUSALS = {403: "permission_denied", 404: "not_found", 409: "conflict"}


async def owners_of(workspace_id: uuid.UUID) -> int:
    async with session_scope() as session:
        query = select(func.count()).where(
            Membership.workspace_id == workspace_id, Membership.role == "owner"
        )
        return int((await session.exec(query)).one())


async def co_owned(n: int = 2) -> tuple[uuid.UUID, list[factories.TestUser]]:
    first = await factories.make_user()
    others = [await factories.add_member(first.workspace_id, "owner") for _ in range(n - 1)]
    return first.workspace_id, [first, *others]


def member_path(workspace_id: uuid.UUID, user: factories.TestUser) -> str:
    return f"/api/workspaces/{workspace_id}/members/{user.id}"


def assert_refused_clearly(response: httpx.Response) -> None:
    """A loser is told why in words: they are no longer an owner (403), no longer a member
    (403, or 404 when that is already so as the request comes in), or the target is the last
    owner (409)."""
    assert response.status_code in REFUSALS, response.text
    error = response.json()["error"]
    assert error["code"] == REFUSALS[response.status_code]
    reasons = ("owner", "no longer a member", "among yours")
    assert any(reason in error["message"] for reason in reasons), error


async def move(
    api: httpx.AsyncClient,
    kind: str,
    workspace_id: uuid.UUID,
    actor: factories.TestUser,
    target: factories.TestUser,
) -> httpx.Response:
    """`actor` demotes `target` (to admin, or to the role `kind` names), or removes them."""
    path, headers = member_path(workspace_id, target), actor.in_workspace(workspace_id)
    if kind == "remove":
        return await api.delete(path, headers=headers)
    role = "admin" if kind == "demote" else kind
    return await api.patch(path, json={"role": role}, headers=headers)


@pytest.mark.parametrize(
    ("first_move", "second_move"),
    [("demote", "demote"), ("remove", "remove"), ("demote", "remove")],
)
async def test_two_owners_pushing_each_other_out_leave_one_owner(
    api: httpx.AsyncClient, first_move: str, second_move: str
) -> None:
    outcomes: Counter[tuple[int, ...]] = Counter()
    for _ in range(TRIALS):
        workspace_id, (a, b) = await co_owned()

        first, second = await asyncio.gather(
            move(api, first_move, workspace_id, a, b), move(api, second_move, workspace_id, b, a)
        )
        statuses = tuple(sorted((first.status_code, second.status_code)))
        outcomes[statuses] += 1
        assert await owners_of(workspace_id) == 1, (first.text, second.text)
        winners = [r for r in (first, second) if r.status_code in (200, 204)]
        assert len(winners) == 1, (first.text, second.text)
        for response in (first, second):
            if response not in winners:
                assert_refused_clearly(response)
    assert sum(outcomes.values()) == TRIALS


async def test_every_owner_leaving_at_once_leaves_exactly_one(api: httpx.AsyncClient) -> None:
    for _ in range(TRIALS // 2):
        workspace_id, owners = await co_owned(4)
        responses = await asyncio.gather(
            *(api.delete(member_path(workspace_id, o), headers=o.in_workspace(workspace_id))
              for o in owners)
        )  # fmt: skip
        assert sorted(r.status_code for r in responses) == [204, 204, 204, 409]
        refused = next(r for r in responses if r.status_code == 409)
        assert "last owner" in refused.json()["error"]["message"]
        assert await owners_of(workspace_id) == 1


async def test_a_key_created_while_its_creator_is_demoted_never_outranks_them(
    api: httpx.AsyncClient,
) -> None:
    """An admin creating an admin API key while an owner demotes them to viewer: either the
    key comes first and the demotion revokes it, or the demotion comes first and the key is
    refused; never a live admin key in a viewer's name."""
    outcomes: Counter[tuple[int, int]] = Counter()
    for trial in range(TRIALS):
        owner_user = await factories.make_user()
        workspace_id = owner_user.workspace_id
        admin = await factories.add_member(workspace_id, "admin")
        created, demoted = await asyncio.gather(
            api.post(
                "/api/api-keys",
                json={"name": f"script {trial}", "role": "admin"},
                headers=admin.in_workspace(workspace_id),
            ),
            move(api, "viewer", workspace_id, owner_user, admin),
        )
        outcomes[(created.status_code, demoted.status_code)] += 1
        assert demoted.status_code == 200, demoted.text
        assert created.status_code in (201, 403), created.text
        async with session_scope() as session:
            live = await session.exec(
                select(ApiKey.role).where(
                    ApiKey.workspace_id == workspace_id,
                    ApiKey.created_by == admin.id,
                    col(ApiKey.revoked_at).is_(None),
                )
            )
            assert set(live.all()) <= {"viewer"}, (created.text, demoted.text)
    assert sum(outcomes.values()) == TRIALS


# --- two processes, one database ------------------------------------------------------------


async def demote(*, actor: Actor, target: uuid.UUID) -> None:
    async with session_scope() as session:
        data = MemberUpdate(role="admin")  # type: ignore[call-arg]
        await workspaces.change_role(session=session, actor=actor, user_id=target, data=data)


async def remove(*, actor: Actor, target: uuid.UUID) -> None:
    async with session_scope() as session:
        await workspaces.remove_member(session=session, actor=actor, user_id=target)


@pytest.fixture(scope="module")
def two_processes() -> Iterator[Rivals]:
    with rivals(2) as pool:
        yield pool


def as_owner(user: factories.TestUser, workspace_id: uuid.UUID) -> Actor:
    return Actor(user_id=user.id, email=user.email, workspace_id=workspace_id, role="owner")


async def test_owners_in_two_processes_cannot_leave_the_workspace_ownerless(
    two_processes: Rivals,
) -> None:
    outcomes: Counter[tuple[str, ...]] = Counter()
    for trial in range(TRIALS):
        workspace_id, (a, b) = await co_owned()
        moves = (demote, remove, demote)[trial % 3], (demote, remove)[trial % 2]
        results = await asyncio.to_thread(
            two_processes.race,
            [
                (moves[0], {"actor": as_owner(a, workspace_id), "target": b.id}),
                (moves[1], {"actor": as_owner(b, workspace_id), "target": a.id}),
            ],
        )
        outcomes[tuple(sorted(results))] += 1
        assert await owners_of(workspace_id) == 1, results
        assert results.count("ok") == 1, results
        assert set(results) - {"ok"} <= set(REFUSALS.values()), results
    assert sum(outcomes.values()) == TRIALS
