"""API keys: a workspace-scoped credential for scripts, shown once and stored hashed."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import Conflict, NotFound, PermissionDenied
from agentplatform.core.security import hash_secret, new_secret
from agentplatform.models import ApiKey
from agentplatform.models.common import utcnow
from agentplatform.models.workspace import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeysPublic,
)
from agentplatform.services import audit
from agentplatform.services.identity import API_KEY_PREFIX
from agentplatform.services.owner_guard import lock_members
from agentplatform.services.permissions import ROLE_RANK, Actor, require

DISPLAY_PREFIX_LENGTH = 12


def _public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(key, from_attributes=True)


def _duplicate(name: str) -> Conflict:
    return Conflict(f"An API key named '{name}' already exists in this workspace.")


async def create_api_key(
    *, session: AsyncSession, actor: Actor, data: ApiKeyCreate
) -> ApiKeyCreated:
    """A new key acting with `data.role` (at most the creator's own); the secret is shown once.

    Under the workspace's member lock, with the creator's role as it stands now: a demotion
    racing this either comes first (and this is refused) or revokes the new key."""
    require(actor, "api_keys.manage")
    actor = await lock_members(session, actor)
    require(actor, "api_keys.manage")
    if ROLE_RANK[data.role] > ROLE_RANK.get(actor.role, -1):
        raise PermissionDenied(
            f"You cannot create a key with role '{data.role}': "
            f"a key's role cannot exceed your own ('{actor.role}')."
        )
    taken = await session.exec(
        select(ApiKey.id).where(ApiKey.workspace_id == actor.workspace_id, ApiKey.name == data.name)
    )
    if taken.first() is not None:
        raise _duplicate(data.name)
    secret = new_secret(API_KEY_PREFIX)
    key = ApiKey(
        workspace_id=actor.workspace_id,
        name=data.name,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        role=data.role,
        created_by=actor.user_id,
    )
    session.add(key)
    audit.record(
        session,
        actor=actor,
        action="api_key.create",
        resource_type="api_key",
        resource_id=key.id,
        after=_public(key),
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise _duplicate(data.name) from None
    return ApiKeyCreated.model_validate({**_public(key).model_dump(), "secret": secret})


async def list_api_keys(*, session: AsyncSession, actor: Actor) -> ApiKeysPublic:
    """The workspace's keys, newest first (revoked ones too, marked with `revoked_at`)."""
    require(actor, "api_keys.manage")
    keys = (
        await session.exec(
            select(ApiKey)
            .where(ApiKey.workspace_id == actor.workspace_id)
            .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id))
        )
    ).all()
    data = [_public(k) for k in keys]
    return ApiKeysPublic(data=data, count=len(data))


async def revoke_api_key(*, session: AsyncSession, actor: Actor, key_id: uuid.UUID) -> ApiKeyPublic:
    """Revoke a key: it stops working on its next request (idempotent)."""
    require(actor, "api_keys.manage")
    key = await session.get(ApiKey, key_id)
    if key is None or key.workspace_id != actor.workspace_id:
        raise NotFound("No such API key in this workspace.")
    if key.revoked_at is None:
        before = _public(key)
        key.revoked_at = utcnow()
        session.add(key)
        audit.record(
            session,
            actor=actor,
            action="api_key.revoke",
            resource_type="api_key",
            resource_id=key.id,
            before=before,
            after=_public(key),
        )
        await session.commit()
    return _public(key)
