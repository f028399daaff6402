"""Roles under concurrency: a workspace always keeps an owner; nobody acts on a stale role.

Two owners demoting or removing each other at once must not both succeed. Every change of a
membership (and every grant of a role to an API key) first takes the workspace's member lock
(`lock_members`), so such changes in one workspace happen one after another on both engines
and see the caller's current role, and the write itself is a guarded statement that changes
nothing when it would leave no owner.
"""

from __future__ import annotations

import dataclasses
import uuid

from sqlalchemy import delete, exists, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.db import lock_for_write
from agentplatform.core.errors import NotFound, PermissionDenied
from agentplatform.models import Membership, Workspace
from agentplatform.services.permissions import ROLE_RANK, Actor

NO_LONGER_MEMBER = "You are no longer a member of this workspace."


async def lock_members(session: AsyncSession, actor: Actor) -> Actor:
    """Take the workspace's member lock (held until commit or rollback) and return the actor
    with their role as it stands now: it may have changed since the request was authorised."""
    if not await lock_for_write(session, Workspace, actor.workspace_id):
        raise NotFound("This workspace no longer exists.")
    current = (
        await session.exec(
            select(Membership.role).where(
                Membership.workspace_id == actor.workspace_id,
                Membership.user_id == actor.user_id,
            )
        )
    ).first()
    if current is None:
        raise PermissionDenied(NO_LONGER_MEMBER)
    if actor.api_key_id is not None and ROLE_RANK[actor.role] < ROLE_RANK[current]:
        current = actor.role  # a key never acts above its own role
    return dataclasses.replace(actor, role=current)


def _another_owner(workspace_id: uuid.UUID, user_id: uuid.UUID) -> Exists:
    other = aliased(Membership)
    return exists().where(
        col(other.workspace_id) == workspace_id,
        col(other.role) == "owner",
        col(other.user_id) != user_id,
    )


async def set_role(session: AsyncSession, membership: Membership, role: str) -> bool:
    """Change the role in one guarded statement; False (nothing changed) if the member is an
    owner and no other owner would remain."""
    statement = update(Membership).where(
        col(Membership.id) == membership.id, col(Membership.role) == membership.role
    )
    if membership.role == "owner":
        statement = statement.where(_another_owner(membership.workspace_id, membership.user_id))
    result = await session.exec(statement.values(role=role))
    return result.rowcount == 1


async def delete_membership(session: AsyncSession, membership: Membership) -> bool:
    """Delete the membership in one guarded statement; False (nothing deleted) if the member
    is an owner and no other owner would remain."""
    statement = delete(Membership).where(
        col(Membership.id) == membership.id, col(Membership.role) == membership.role
    )
    if membership.role == "owner":
        statement = statement.where(_another_owner(membership.workspace_id, membership.user_id))
    result = await session.exec(statement)
    return result.rowcount == 1
