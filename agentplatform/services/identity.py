"""Credentials (access token, API key, browser session) + a workspace choice → an `Actor`."""

from __future__ import annotations

import re
import uuid

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import NotFound, Unauthenticated
from agentplatform.core.security import decode_access_token, hash_secret
from agentplatform.models import ApiKey, Membership, User, Workspace
from agentplatform.models.common import utcnow
from agentplatform.models.workspace import SLUG_PATTERN
from agentplatform.services.auth import session_user
from agentplatform.services.permissions import Actor

API_KEY_PREFIX = "apk"


async def _active_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("This account is no longer active: sign in again.")
    return user


def _slug(workspace_ref: str) -> str:
    """A workspace reference that is not an id must be a slug; anything else names none (and
    never reaches the database: text such as NUL cannot even be compared there)."""
    slug = workspace_ref.lower()
    if not re.fullmatch(SLUG_PATTERN, slug):
        raise NotFound("No such workspace among yours: give a workspace id or slug.")
    return slug


async def _workspace_for(
    session: AsyncSession, user: User, workspace_ref: str | None
) -> tuple[Workspace, str]:
    """The chosen (or default) workspace and the user's role in it; 404 if not a member."""
    query = select(Workspace, Membership.role).join(
        Membership, col(Membership.workspace_id) == col(Workspace.id)
    )
    query = query.where(Membership.user_id == user.id)
    if workspace_ref:
        try:
            query = query.where(Workspace.id == uuid.UUID(workspace_ref))
        except ValueError:
            query = query.where(Workspace.slug == _slug(workspace_ref))
    elif user.default_workspace_id is not None:
        query = query.where(Workspace.id == user.default_workspace_id)
    row = (await session.exec(query.order_by(col(Membership.created_at)).limit(1))).first()
    if row is None and not workspace_ref:
        fallback = select(Workspace, Membership.role).join(
            Membership, col(Membership.workspace_id) == col(Workspace.id)
        )
        fallback = fallback.where(Membership.user_id == user.id)
        row = (await session.exec(fallback.order_by(col(Membership.created_at)).limit(1))).first()
    if row is None:
        if workspace_ref:
            raise NotFound(f"No workspace '{workspace_ref}' among yours.")
        raise NotFound("You are not a member of any workspace yet.")
    workspace, role = row
    return workspace, role


async def actor_from_access_token(
    *, session: AsyncSession, token: str, workspace_ref: str | None
) -> Actor:
    claims = decode_access_token(token)
    try:
        user_id = uuid.UUID(str(claims.get("sub")))
    except ValueError:
        raise Unauthenticated("The access token is invalid: sign in again.") from None
    user = await _active_user(session, user_id)
    workspace, role = await _workspace_for(session, user, workspace_ref)
    return Actor(user_id=user.id, email=user.email, workspace_id=workspace.id, role=role)


async def actor_from_session(
    *, session: AsyncSession, token: str, workspace_ref: str | None
) -> Actor:
    """The signed-in browser's user (its session cookie), in the chosen workspace."""
    user = await session_user(session=session, token=token)
    workspace, role = await _workspace_for(session, user, workspace_ref)
    return Actor(user_id=user.id, email=user.email, workspace_id=workspace.id, role=role)


async def actor_from_api_key(
    *, session: AsyncSession, secret: str, workspace_ref: str | None
) -> Actor:
    """An API key acts in its own workspace with its own role; it records its last use."""
    key = (await session.exec(select(ApiKey).where(ApiKey.key_hash == hash_secret(secret)))).first()
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("This API key is unknown or revoked.")
    workspace = await session.get(Workspace, key.workspace_id)
    assert workspace is not None
    if workspace_ref and workspace_ref not in (str(workspace.id), workspace.slug):
        raise NotFound(f"No workspace '{workspace_ref}' for this API key.")
    if key.created_by is None:
        raise Unauthenticated("This API key's creator no longer exists: create a new key.")
    user = await _active_user(session, key.created_by)
    key.last_used_at = utcnow()
    session.add(key)
    await session.commit()
    return Actor(
        user_id=user.id,
        email=user.email,
        workspace_id=workspace.id,
        role=key.role,
        api_key_id=key.id,
    )


async def resolve_actor(
    *, session: AsyncSession, credential: str, workspace_ref: str | None
) -> Actor:
    """Bearer credential → actor: API keys start with `apk_`, anything else is a JWT."""
    if credential.startswith(f"{API_KEY_PREFIX}_"):
        return await actor_from_api_key(
            session=session, secret=credential, workspace_ref=workspace_ref
        )
    return await actor_from_access_token(
        session=session, token=credential, workspace_ref=workspace_ref
    )
