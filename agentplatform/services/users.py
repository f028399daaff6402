"""The signed-in user's own account: profile, onboarding, default workspace, password."""

from __future__ import annotations

import asyncio

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import (
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)
from agentplatform.core.security import hash_password, verify_password
from agentplatform.models import Membership, User
from agentplatform.models.workspace import UserPublic, UserUpdateMe
from agentplatform.services.auth import revoke_all_refresh_tokens
from agentplatform.services.login_throttle import get_throttle
from agentplatform.services.passwords import check_password
from agentplatform.services.permissions import Actor

WRONG_CURRENT_PASSWORD = "The current password is incorrect."


async def _user(session: AsyncSession, actor: Actor) -> User:
    user = await session.get(User, actor.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("This account is no longer active: sign in again.")
    return user


async def get_me(*, session: AsyncSession, actor: Actor) -> UserPublic:
    """The caller's own account."""
    return UserPublic.model_validate(await _user(session, actor), from_attributes=True)


async def _change_password(
    session: AsyncSession, user: User, current: str | None, new: str, address: str
) -> None:
    if not current:
        raise ValidationFailed(
            "Enter your current password to set a new one.",
            details=[{"field": "current_password", "message": "is required"}],
        )
    throttle = get_throttle()
    await throttle.attempt(email=user.email, address=address)
    if not await asyncio.to_thread(verify_password, current, user.hashed_password):
        raise ValidationFailed(
            WRONG_CURRENT_PASSWORD,
            details=[{"field": "current_password", "message": "is incorrect"}],
        )
    await throttle.succeeded(email=user.email, address=address)
    check_password(new, email=user.email, field="new_password")
    user.hashed_password = await asyncio.to_thread(hash_password, new)
    await revoke_all_refresh_tokens(session=session, user_id=user.id)


async def update_me(
    *, session: AsyncSession, actor: Actor, data: UserUpdateMe, client_address: str = ""
) -> UserPublic:
    """Change the caller's profile; a new password signs out every other session."""
    if actor.api_key_id is not None:
        raise PermissionDenied("API keys cannot change account settings: sign in as the user.")
    user = await _user(session, actor)
    given = data.model_fields_set
    if "full_name" in given and data.full_name is not None:
        user.full_name = data.full_name
    if "persona" in given:
        user.persona = data.persona
    if "onboarded" in given and data.onboarded is not None:
        user.onboarded = data.onboarded
    if "default_workspace_id" in given:
        workspace_id = data.default_workspace_id
        if workspace_id is not None:
            member = await session.exec(
                select(Membership.id).where(
                    Membership.user_id == user.id, Membership.workspace_id == workspace_id
                )
            )
            if member.first() is None:
                raise NotFound(f"No workspace '{workspace_id}' among yours.")
        user.default_workspace_id = workspace_id
    if data.new_password is not None:
        await _change_password(
            session, user, data.current_password, data.new_password, client_address
        )
    session.add(user)
    await session.commit()
    await session.refresh(user)
    return UserPublic.model_validate(user, from_attributes=True)
