"""Test data built through the real services: users, workspaces, roles and auth headers."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

from sqlmodel import select

from agentplatform.core.db import session_scope
from agentplatform.core.security import create_access_token
from agentplatform.models import Membership, User
from agentplatform.services.accounts import create_account

PASSWORD = "correct-horse-42"
_counter = itertools.count(1)


@dataclass
class TestUser:
    id: uuid.UUID
    email: str
    password: str
    workspace_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        """Bearer headers acting in this user's own workspace."""
        return auth_headers(self)

    def in_workspace(self, workspace_id: uuid.UUID) -> dict[str, str]:
        return auth_headers(self, workspace_id)


def auth_headers(user: TestUser, workspace_id: uuid.UUID | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {create_access_token(subject=str(user.id))}"}
    if workspace_id is not None:
        headers["X-Workspace"] = str(workspace_id)
    return headers


async def make_user(
    email: str | None = None, *, password: str = PASSWORD, full_name: str = "Test User"
) -> TestUser:
    """A registered user owning a fresh workspace."""
    email = email or f"user{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"
    async with session_scope() as session:
        user = await create_account(
            session=session, email=email, password=password, full_name=full_name
        )
    assert user.default_workspace_id is not None
    return TestUser(user.id, user.email, password, user.default_workspace_id)


async def add_member(workspace_id: uuid.UUID, role: str, email: str | None = None) -> TestUser:
    """A new user who is `role` in `workspace_id` (and owner of their own workspace)."""
    member = await make_user(email)
    async with session_scope() as session:
        session.add(Membership(user_id=member.id, workspace_id=workspace_id, role=role))
        user = (await session.exec(select(User).where(User.id == member.id))).one()
        user.default_workspace_id = workspace_id
        session.add(user)
        await session.commit()
    return TestUser(member.id, member.email, member.password, workspace_id)
