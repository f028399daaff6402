"""Signing up, signing in, and rotating or revoking refresh tokens."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.config import get_settings
from agentplatform.core.errors import PermissionDenied, Unauthenticated
from agentplatform.core.security import (
    burn_password_check,
    create_access_token,
    hash_secret,
    new_secret,
    verify_password,
)
from agentplatform.models import RefreshToken, User
from agentplatform.models.common import utcnow
from agentplatform.models.workspace import UserPublic, UserRegister
from agentplatform.services.accounts import create_account
from agentplatform.services.login_throttle import get_throttle

REFRESH_PREFIX = "rt"
BAD_CREDENTIALS = "Incorrect email or password."
BAD_REFRESH = "This session is invalid or has expired: sign in again."
REUSED_REFRESH = (
    "This refresh token was already used, so every session started from it has been "
    "signed out for safety: sign in again."
)
SIGNUP_CLOSED = "Sign-up is closed on this server: ask an administrator to create your account."


class TokensPublic(BaseModel):
    """A signed-in session: a short-lived access token and a rotating refresh token."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_expires_in: int
    user: UserPublic


async def _issue(
    session: AsyncSession, user: User, family_id: uuid.UUID | None = None
) -> TokensPublic:
    """A new access token and refresh token (in `family_id`, or a new family); commits."""
    settings = get_settings()
    refresh = new_secret(REFRESH_PREFIX)
    lifetime = timedelta(days=settings.refresh_token_days)
    session.add(
        RefreshToken(
            user_id=user.id,
            token_hash=hash_secret(refresh),
            family_id=family_id or uuid.uuid4(),
            expires_at=utcnow() + lifetime,
        )
    )
    await session.commit()
    return TokensPublic(
        access_token=create_access_token(subject=str(user.id)),
        refresh_token=refresh,
        expires_in=settings.access_token_minutes * 60,
        refresh_expires_in=int(lifetime.total_seconds()),
        user=UserPublic.model_validate(user, from_attributes=True),
    )


async def register(*, session: AsyncSession, data: UserRegister) -> TokensPublic:
    """Create an account (with its own workspace) and sign it in; 403 when sign-up is closed."""
    if not get_settings().allow_signup:
        raise PermissionDenied(SIGNUP_CLOSED)
    user = await create_account(
        session=session,
        email=data.email,
        password=data.password,
        full_name=data.full_name,
        persona=data.persona,
    )
    return await _issue(session, user)


async def login(
    *, session: AsyncSession, email: str, password: str, client_address: str
) -> TokensPublic:
    """Tokens for valid credentials; unknown email and wrong password look the same.

    The attempt is counted before the password is checked (429 once over the limits)."""
    email = email.strip().lower()
    throttle = get_throttle()
    await throttle.attempt(email=email, address=client_address)
    user = (await session.exec(select(User).where(User.email == email))).first()
    if user is None:
        await asyncio.to_thread(burn_password_check, password)
        valid = False
    else:
        valid = await asyncio.to_thread(verify_password, password, user.hashed_password)
    if user is None or not valid:
        raise Unauthenticated(BAD_CREDENTIALS)
    await throttle.succeeded(email=email, address=client_address)
    if not user.is_active:
        raise Unauthenticated("This account is disabled: ask an administrator.")
    return await _issue(session, user)


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    await session.commit()


async def _was_rotated(session: AsyncSession, family_id: uuid.UUID, created_at: datetime) -> bool:
    """A later token in the family means this one was exchanged (not merely signed out)."""
    successor = await session.exec(
        select(RefreshToken.id).where(
            RefreshToken.family_id == family_id, RefreshToken.created_at > created_at
        )
    )
    return successor.first() is not None


async def _refused(session: AsyncSession, token_hash: str) -> Unauthenticated:
    """Why a token could not be exchanged; a revoked one is a replay, so its family goes."""
    stored = (
        await session.exec(
            select(RefreshToken.family_id, RefreshToken.created_at, RefreshToken.revoked_at).where(
                RefreshToken.token_hash == token_hash
            )
        )
    ).first()
    if stored is None:
        return Unauthenticated(BAD_REFRESH)
    family_id, created_at, revoked_at = stored
    if revoked_at is None:
        return Unauthenticated(BAD_REFRESH)  # expired
    rotated = await _was_rotated(session, family_id, created_at)
    await _revoke_family(session, family_id)
    return Unauthenticated(REUSED_REFRESH if rotated else BAD_REFRESH)


async def refresh(*, session: AsyncSession, refresh_token: str) -> TokensPublic:
    """Rotate: revoke the presented token, issue a new one in its family.

    The exchange is one guarded statement (`UPDATE … WHERE revoked_at IS NULL RETURNING`), so
    of several concurrent refreshes with one token exactly one wins. Presenting an already
    revoked token means it leaked (or was replayed), so the whole family is revoked and
    everyone holding a token from it must sign in again.
    """
    token_hash = hash_secret(refresh_token)
    now = utcnow()
    claimed = (
        await session.exec(
            update(RefreshToken)
            .where(
                col(RefreshToken.token_hash) == token_hash,
                col(RefreshToken.revoked_at).is_(None),
                col(RefreshToken.expires_at) > now,
            )
            .values(revoked_at=now)
            .returning(col(RefreshToken.user_id), col(RefreshToken.family_id))
        )
    ).first()
    if claimed is None:
        raise await _refused(session, token_hash)
    user_id, family_id = claimed
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        await session.commit()
        raise Unauthenticated("This account is no longer active: sign in again.")
    return await _issue(session, user, family_id)


async def logout(*, session: AsyncSession, refresh_token: str) -> None:
    """Revoke the refresh token (idempotent: an unknown or revoked one is not an error)."""
    await session.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.token_hash) == hash_secret(refresh_token),
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    await session.commit()


async def revoke_all_refresh_tokens(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """Sign the user out everywhere (password change); the caller commits."""
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


SESSION_ENDED = "Your session has ended: sign in again."


async def session_user(*, session: AsyncSession, token: str) -> User:
    """The user of a browser session: a refresh token kept in an HttpOnly cookie.

    The browser never rotates it (every open tab's websocket carries the value it connected
    with), so it lives `REFRESH_TOKEN_DAYS` from sign-in and is checked here on every use:
    signing out, a password change or a disabled account end it at once. If it was exchanged
    at /auth/refresh (only someone who stole it could), this use revokes the whole family.
    """
    query = select(RefreshToken).where(RefreshToken.token_hash == hash_secret(token))
    stored = (await session.exec(query)).first()
    if stored is None:
        raise Unauthenticated(SESSION_ENDED)
    if stored.revoked_at is not None:
        if await _was_rotated(session, stored.family_id, stored.created_at):
            await _revoke_family(session, stored.family_id)
            raise Unauthenticated(REUSED_REFRESH)
        raise Unauthenticated(SESSION_ENDED)
    if stored.expires_at <= utcnow():
        raise Unauthenticated(SESSION_ENDED)
    user = await session.get(User, stored.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("This account is no longer active: sign in again.")
    return user
