"""First start: a demo workspace with an owner account, created exactly once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.models import User
from agentplatform.services.accounts import create_account

DEMO_EMAIL = "owner@example.com"
DEMO_WORKSPACE = "Demo workspace"


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str


def generated_password() -> str:
    """A random password that passes the strength rules."""
    return f"{secrets.token_urlsafe(12)}-{secrets.randbelow(90) + 10}"


async def create_user_account(
    *, session: AsyncSession, email: str, full_name: str = "", workspace_name: str | None = None
) -> DemoCredentials:
    """An account (with its own workspace) and a generated password, shown once.

    How an administrator lets someone in when self-registration is closed (ALLOW_SIGNUP=false).
    """
    password = generated_password()
    user = await create_account(
        session=session,
        email=email,
        password=password,
        full_name=full_name,
        workspace_name=workspace_name,
    )
    return DemoCredentials(email=user.email, password=password)


async def ensure_demo_owner(*, session: AsyncSession) -> DemoCredentials | None:
    """Create the demo owner when the database has no users; the password is returned once."""
    if (await session.exec(select(User.id).limit(1))).first():
        return None
    return await create_user_account(
        session=session, email=DEMO_EMAIL, full_name="Demo Owner", workspace_name=DEMO_WORKSPACE
    )
