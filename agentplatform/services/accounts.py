"""Creating accounts: every new user gets a workspace of their own, as its owner."""

from __future__ import annotations

import asyncio
import re
import secrets

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import Conflict
from agentplatform.core.security import hash_password
from agentplatform.models import Membership, User, Workspace
from agentplatform.services.passwords import check_password


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].strip("-") or "workspace"


async def unique_slug(session: AsyncSession, base: str) -> str:
    """`base`, or `base-xxxx` when taken."""
    slug = slugify(base)
    candidate = slug
    while (await session.exec(select(Workspace.id).where(Workspace.slug == candidate))).first():
        candidate = f"{slug}-{secrets.token_hex(2)}"
    return candidate


async def create_workspace_for(
    *, session: AsyncSession, user: User, name: str, slug: str | None = None
) -> Workspace:
    """A workspace with `user` as its owner (flushes, does not commit)."""
    if slug is not None:
        taken = (await session.exec(select(Workspace.id).where(Workspace.slug == slug))).first()
        if taken:
            raise Conflict(f"The workspace slug '{slug}' is taken: choose another.")
    workspace = Workspace(name=name, slug=slug or await unique_slug(session, name))
    session.add(workspace)
    await session.flush()
    session.add(Membership(user_id=user.id, workspace_id=workspace.id, role="owner"))
    return workspace


async def create_account(
    *,
    session: AsyncSession,
    email: str,
    password: str,
    full_name: str = "",
    persona: str | None = None,
    workspace_name: str | None = None,
) -> User:
    """A user with a hashed password and an owned workspace (commits)."""
    email = email.strip().lower()
    check_password(password, email=email)
    exists = (await session.exec(select(User.id).where(User.email == email))).first()
    if exists:
        raise Conflict("An account with this email already exists: sign in instead.")
    user = User(
        email=email,
        full_name=full_name,
        persona=persona,
        hashed_password=await asyncio.to_thread(hash_password, password),
    )
    session.add(user)
    await session.flush()
    label = full_name or email.split("@")[0]
    workspace = await create_workspace_for(
        session=session, user=user, name=workspace_name or f"{label}'s workspace"
    )
    user.default_workspace_id = workspace.id
    await session.commit()
    await session.refresh(user)
    return user
