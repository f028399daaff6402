"""First start: a demo owner with a workspace, created once and never again."""

from __future__ import annotations

import pytest
from sqlmodel import select

from agentplatform import cli
from agentplatform.core.security import verify_password
from agentplatform.models import Membership, User, Workspace
from agentplatform.services.bootstrap import ensure_demo_owner


async def test_demo_owner_is_created_once(session) -> None:  # type: ignore[no-untyped-def]
    created = await ensure_demo_owner(session=session)
    assert created is not None
    user = (await session.exec(select(User))).one()
    assert user.email == created.email
    assert user.hashed_password != created.password
    assert verify_password(created.password, user.hashed_password)
    workspace = (await session.exec(select(Workspace))).one()
    assert workspace.name == "Demo workspace"
    membership = (await session.exec(select(Membership))).one()
    assert (membership.user_id, membership.workspace_id, membership.role) == (
        user.id,
        workspace.id,
        "owner",
    )
    assert await ensure_demo_owner(session=session) is None


def test_seed_command_prints_credentials_only_the_first_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["seed"]) == 0
    first = capsys.readouterr().out
    assert "owner@example.com" in first and "password:" in first
    assert cli.main(["seed"]) == 0
    assert "password:" not in capsys.readouterr().out


def test_create_user_command_prints_the_password_once_and_refuses_duplicates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import re

    assert cli.main(["create-user", "grace@example.com", "--full-name", "Grace Hopper"]) == 0
    out = capsys.readouterr().out
    password = re.search(r"password:\s+(\S+)", out)
    assert password is not None and "grace@example.com" in out
    assert cli.main(["create-user", "grace@example.com"]) == 1
    assert "already exists" in capsys.readouterr().err
