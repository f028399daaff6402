"""Workspaces and their members: roles, the owner rules, and an audit trail of changes."""

from __future__ import annotations

import dataclasses
import uuid

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import Conflict, NotFound, PermissionDenied
from agentplatform.models import ApiKey, Membership, User, Workspace
from agentplatform.models.common import Name, utcnow
from agentplatform.models.workspace import (
    MemberAdd,
    MemberPublic,
    MembersPublic,
    MemberUpdate,
    Slug,
    WorkspaceCreate,
    WorkspacePublic,
    WorkspacesPublic,
)
from agentplatform.services import audit
from agentplatform.services.accounts import create_workspace_for
from agentplatform.services.owner_guard import (
    delete_membership,
    lock_members,
    set_role,
)
from agentplatform.services.permissions import ROLE_RANK, Actor, require

NO_ACCOUNT = "No account with that email; ask them to register first."
OWNERS_ONLY = "Only an owner can grant or take away the owner role."
LAST_OWNER = (
    "This is the workspace's last owner: make another member an owner first, "
    "so the workspace is never left without one."
)


class WorkspaceUpdate(BaseModel):
    """Rename a workspace (and optionally change its slug)."""

    name: Name | None = None
    slug: Slug | None = None


def _public(workspace: Workspace, role: str | None) -> WorkspacePublic:
    return WorkspacePublic.model_validate({**workspace.model_dump(), "role": role})


async def list_my_workspaces(*, session: AsyncSession, actor: Actor) -> WorkspacesPublic:
    """Every workspace the caller belongs to, with their role (an API key sees its own)."""
    query = select(Workspace, Membership.role).join(
        Membership, col(Membership.workspace_id) == col(Workspace.id)
    )
    query = query.where(Membership.user_id == actor.user_id)
    if actor.api_key_id is not None:
        query = query.where(Workspace.id == actor.workspace_id)
    rows = (await session.exec(query.order_by(col(Workspace.name), col(Workspace.id)))).all()
    data = [_public(ws, actor.role if actor.api_key_id is not None else role) for ws, role in rows]
    return WorkspacesPublic(data=data, count=len(data))


async def create_workspace(
    *, session: AsyncSession, actor: Actor, data: WorkspaceCreate
) -> WorkspacePublic:
    """A new workspace; the caller becomes its owner."""
    if actor.api_key_id is not None:
        raise PermissionDenied("API keys cannot create workspaces: sign in as a user.")
    user = await session.get(User, actor.user_id)
    if user is None:
        raise NotFound("Your account no longer exists.")
    try:
        workspace = await create_workspace_for(
            session=session, user=user, name=data.name, slug=data.slug
        )
        owner = dataclasses.replace(actor, workspace_id=workspace.id, role="owner")
        audit.record(
            session,
            actor=owner,
            action="workspace.create",
            resource_type="workspace",
            resource_id=workspace.id,
            after=workspace,
        )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("That workspace slug is taken: choose another.") from None
    return _public(workspace, "owner")


async def _workspace(session: AsyncSession, actor: Actor) -> Workspace:
    workspace = await session.get(Workspace, actor.workspace_id)
    if workspace is None:
        raise NotFound("This workspace no longer exists.")
    return workspace


async def get_workspace(*, session: AsyncSession, actor: Actor) -> WorkspacePublic:
    """The workspace the caller acts in, with their role."""
    require(actor, "workspace.read")
    return _public(await _workspace(session, actor), actor.role)


async def update_workspace(
    *, session: AsyncSession, actor: Actor, data: WorkspaceUpdate
) -> WorkspacePublic:
    """Rename the workspace or change its slug (`workspace.update`)."""
    require(actor, "workspace.update")
    workspace = await _workspace(session, actor)
    before = workspace.model_dump()
    if data.slug is not None and data.slug != workspace.slug:
        taken = await session.exec(select(Workspace.id).where(Workspace.slug == data.slug))
        if taken.first() is not None:
            raise Conflict(f"The workspace slug '{data.slug}' is taken: choose another.")
        workspace.slug = data.slug
    if data.name is not None:
        workspace.name = data.name
    session.add(workspace)
    audit.record(
        session,
        actor=actor,
        action="workspace.update",
        resource_type="workspace",
        resource_id=workspace.id,
        before=before,
        after=workspace,
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"The workspace slug '{data.slug}' is taken: choose another.") from None
    return _public(workspace, actor.role)


def _member(membership: Membership, user: User) -> MemberPublic:
    return MemberPublic.model_validate(
        {
            "user_id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "role": membership.role,
            "created_at": membership.created_at,
        }
    )


async def list_members(*, session: AsyncSession, actor: Actor) -> MembersPublic:
    """Everyone in the workspace with their role, oldest member first."""
    require(actor, "members.read")
    rows = (
        await session.exec(
            select(Membership, User)
            .join(User, col(User.id) == col(Membership.user_id))
            .where(Membership.workspace_id == actor.workspace_id)
            .order_by(col(Membership.created_at), col(User.email))
        )
    ).all()
    data = [_member(m, u) for m, u in rows]
    return MembersPublic(data=data, count=len(data))


async def add_member(*, session: AsyncSession, actor: Actor, data: MemberAdd) -> MemberPublic:
    """Give an existing account a role in the workspace."""
    require(actor, "members.manage")
    if data.role == "owner" and actor.role != "owner":
        raise PermissionDenied(OWNERS_ONLY)
    email = data.email.strip().lower()
    user = (await session.exec(select(User).where(User.email == email))).first()
    if user is None:
        raise NotFound(NO_ACCOUNT)
    existing = await session.exec(
        select(Membership.role).where(
            Membership.user_id == user.id, Membership.workspace_id == actor.workspace_id
        )
    )
    role = existing.first()
    if role is not None:
        raise Conflict(f"{email} is already a member (as {role}): change their role instead.")
    membership = Membership(user_id=user.id, workspace_id=actor.workspace_id, role=data.role)
    session.add(membership)
    audit.record(
        session,
        actor=actor,
        action="member.add",
        resource_type="membership",
        resource_id=user.id,
        after={"user_id": user.id, "email": email, "role": data.role},
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"{email} is already a member: change their role instead.") from None
    await session.refresh(membership)
    return _member(membership, user)


async def _target(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID
) -> tuple[Membership, User]:
    row = (
        await session.exec(
            select(Membership, User)
            .join(User, col(User.id) == col(Membership.user_id))
            .where(Membership.workspace_id == actor.workspace_id, Membership.user_id == user_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such member in this workspace.")
    return row


async def _revoke_keys_above(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, role: str | None
) -> int:
    """Revoke the member's API keys here that now exceed their role (all, if removed)."""
    keys = (
        await session.exec(
            select(ApiKey).where(
                ApiKey.workspace_id == actor.workspace_id,
                ApiKey.created_by == user_id,
                col(ApiKey.revoked_at).is_(None),
            )
        )
    ).all()
    revoked = [k for k in keys if role is None or ROLE_RANK[k.role] > ROLE_RANK[role]]
    if revoked:
        await session.exec(
            update(ApiKey)
            .where(col(ApiKey.id).in_([k.id for k in revoked]))
            .values(revoked_at=utcnow())
        )
    return len(revoked)


async def change_role(
    *, session: AsyncSession, actor: Actor, user_id: uuid.UUID, data: MemberUpdate
) -> MemberPublic:
    """Change a member's role; owners alone manage owners, and one owner always remains."""
    require(actor, "members.manage")
    actor = await lock_members(session, actor)
    require(actor, "members.manage")  # again, with the role as it stands now
    membership, user = await _target(session, actor, user_id)
    old = membership.role
    if old == data.role:
        unchanged = _member(membership, user)
        await session.rollback()  # let go of the member lock
        return unchanged
    if "owner" in (old, data.role) and actor.role != "owner":
        raise PermissionDenied(OWNERS_ONLY)
    if not await set_role(session, membership, data.role):
        raise Conflict(LAST_OWNER)
    revoked = await _revoke_keys_above(session, actor, user_id, data.role)
    audit.record(
        session,
        actor=actor,
        action="member.role_change",
        resource_type="membership",
        resource_id=user_id,
        before={"user_id": user_id, "email": user.email, "role": old},
        after={"user_id": user_id, "email": user.email, "role": data.role, "revoked_keys": revoked},
    )
    await session.commit()
    await session.refresh(membership)
    return _member(membership, user)


async def remove_member(*, session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> None:
    """Remove a member (anyone may leave on their own); their API keys here are revoked."""
    leaving = user_id == actor.user_id
    if leaving and actor.api_key_id is not None:
        raise PermissionDenied("An API key cannot remove its own creator: sign in as the user.")
    if not leaving:
        require(actor, "members.manage")
    actor = await lock_members(session, actor)
    if not leaving:
        require(actor, "members.manage")  # again, with the role as it stands now
    membership, user = await _target(session, actor, user_id)
    if membership.role == "owner" and actor.role != "owner" and not leaving:
        raise PermissionDenied(OWNERS_ONLY)
    if not await delete_membership(session, membership):
        raise Conflict(LAST_OWNER)
    revoked = await _revoke_keys_above(session, actor, user_id, None)
    if user.default_workspace_id == actor.workspace_id:
        user.default_workspace_id = None
        session.add(user)
    audit.record(
        session,
        actor=actor,
        action="member.remove",
        resource_type="membership",
        resource_id=user_id,
        before={"user_id": user_id, "email": user.email, "role": membership.role},
        after={"revoked_keys": revoked},
    )
    await session.commit()
