"""Test data and helpers for runs: providers, agents, teams, prompts, and waiting for runs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlmodel import col, select

from agentplatform.core.db import session_scope
from agentplatform.core.security import encrypt_field
from agentplatform.models import (
    Agent,
    Membership,
    ModelPrice,
    Prompt,
    PromptLabel,
    PromptVersion,
    Provider,
    Run,
    RunStep,
    Team,
    TeamMember,
    User,
    Workspace,
)
from agentplatform.models.run import TERMINAL_STATUSES, RunPublic
from agentplatform.services import run_dispatch, run_events
from agentplatform.services.permissions import Actor
from agentplatform.services.run_queries import run_public
from tests.factories import PASSWORD, TestUser

API_KEY = "sk-test-secret-never-stored-in-config"


@asynccontextmanager
async def isolated_runs() -> AsyncIterator[None]:
    """A fresh dispatcher and notifier per test; every run task is stopped afterwards."""
    run_dispatch.set_dispatcher(None)
    run_events.set_notifier(None)
    try:
        yield
    finally:
        await run_dispatch.get_dispatcher().stop()
        run_dispatch.set_dispatcher(None)
        run_events.set_notifier(None)


class HoldingDispatcher:
    """Keeps submitted runs queued (to test claiming and cancelling queued runs)."""

    def __init__(self) -> None:
        self.submitted: list[uuid.UUID] = []

    async def submit(self, run_id: uuid.UUID) -> None:
        self.submitted.append(run_id)

    async def start(self) -> bool:
        return True

    async def stop(self) -> None:
        return None


def actor_for(user: TestUser, role: str = "owner") -> Actor:
    return Actor(user_id=user.id, email=user.email, workspace_id=user.workspace_id, role=role)


async def owner() -> tuple[TestUser, Actor]:
    """A user owning a fresh workspace, inserted directly (tests sign in with tokens, so no
    bcrypt hash is spent here; `tests.factories.make_user` goes through the real signup)."""
    tag = uuid.uuid4().hex[:10]
    workspace = Workspace(name=f"ws {tag}", slug=f"ws-{tag}")
    user = User(
        email=f"runner-{tag}@example.com",
        full_name="Runner",
        hashed_password="not-a-real-hash",
        default_workspace_id=workspace.id,
    )
    await add(workspace)
    await add(user)
    await add(Membership(user_id=user.id, workspace_id=workspace.id, role="owner"))
    test_user = TestUser(user.id, user.email, PASSWORD, workspace.id)
    return test_user, actor_for(test_user)


async def add(*rows: Any) -> None:
    async with session_scope() as session:
        for row in rows:
            session.add(row)
        await session.commit()


async def make_provider(
    workspace_id: uuid.UUID, base_url: str, *, name: str = "fake", kind: str = "openai"
) -> uuid.UUID:
    provider = Provider(
        workspace_id=workspace_id,
        name=name,
        kind=kind,
        base_url=base_url,
        api_key_encrypted=encrypt_field(API_KEY),
        models=["fake-model"],
    )
    await add(provider)
    return provider.id


async def set_price(workspace_id: uuid.UUID, model: str, inp: float, out: float) -> None:
    await add(
        ModelPrice(workspace_id=workspace_id, model=model, input_per_mtok=inp, output_per_mtok=out)
    )


async def make_agent(
    workspace_id: uuid.UUID, name: str, *, provider_id: uuid.UUID | None = None, **fields: Any
) -> uuid.UUID:
    fields.setdefault("model", "fake-model" if provider_id else "offline-demo")
    agent = Agent(workspace_id=workspace_id, name=name, provider_id=provider_id, **fields)
    await add(agent)
    return agent.id


async def make_team(
    workspace_id: uuid.UUID,
    name: str,
    strategy: str,
    member_ids: list[uuid.UUID],
    *,
    selector_agent_id: uuid.UUID | None = None,
    **termination: Any,
) -> uuid.UUID:
    team = Team(
        workspace_id=workspace_id,
        name=name,
        strategy=strategy,
        selector_agent_id=selector_agent_id,
        **termination,
    )
    members = [
        TeamMember(team_id=team.id, agent_id=a, position=i) for i, a in enumerate(member_ids)
    ]
    await add(team)
    await add(*members)
    return team.id


async def make_prompt(
    workspace_id: uuid.UUID, name: str, templates: list[str], labels: dict[str, int] | None = None
) -> uuid.UUID:
    prompt = Prompt(workspace_id=workspace_id, name=name)
    versions = [
        PromptVersion(prompt_id=prompt.id, number=i, template=t)
        for i, t in enumerate(templates, start=1)
    ]
    await add(prompt)
    await add(*versions)
    await add(
        *(
            PromptLabel(prompt_id=prompt.id, label=label, version_id=versions[number - 1].id)
            for label, number in (labels or {}).items()
        )
    )
    return prompt.id


async def load(run_id: uuid.UUID) -> Run:
    async with session_scope() as session:
        run = await session.get(Run, run_id)
    assert run is not None
    return run


# Only a hang detector: a run that ends normally takes well under a second, but CI machines
# are shared and slow, so the budget is generous (speed is measured in bench/, never here).
HANG_AFTER_S = 30.0


async def wait_for(
    run_id: uuid.UUID,
    statuses: frozenset[str] | set[str] = TERMINAL_STATUSES,
    timeout: float = HANG_AFTER_S,
) -> RunPublic:
    """Poll until the run reaches one of `statuses`; fail loudly, with its trace, on a hang."""
    deadline = time.monotonic() + timeout
    while True:
        run = await load(run_id)
        if run.status in statuses:
            return run_public(run)
        if time.monotonic() > deadline:
            trace = await _trace_summary(run_id)
            raise AssertionError(
                f"run stayed {run.status} for {timeout} s (wanted {sorted(statuses)}); "
                f"worker={run.worker_id} steps so far: {trace}"
            )
        await asyncio.sleep(0.02)


async def _trace_summary(run_id: uuid.UUID) -> list[str]:
    """The kinds and first words of a run's steps, for a hang's failure message."""
    async with session_scope() as session:
        query = select(RunStep).where(col(RunStep.run_id) == run_id).order_by(col(RunStep.seq))
        rows = (await session.exec(query)).all()
    return [f"{row.seq}:{row.kind}:{(row.content or '')[:60]!r}" for row in rows]
