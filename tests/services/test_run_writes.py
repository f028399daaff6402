"""The writes every run makes (claim, steps, outcome): committed together under load, one
bad write failing alone, readable at once by every other connection."""

from __future__ import annotations

import asyncio
import uuid

from sqlmodel import col, select

from agentplatform.core.db import dispose_engine, session_scope
from agentplatform.models import Run, RunStep
from agentplatform.services.run_lease import ClaimedRun, claim_run
from agentplatform.services.run_writes import INSERT_STEPS, run_writes, step_row
from tests.services.run_support import add, make_agent, owner


async def queued_run() -> Run:
    user, _ = await owner()
    agent = await make_agent(user.workspace_id, "writer")
    run = Run(workspace_id=user.workspace_id, kind="agent", agent_id=agent, target_name="writer",
              input="hi", config={"kind": "agent"}, status="queued")  # fmt: skip
    await add(run)
    return run


async def contents(run_id: uuid.UUID) -> list[str]:
    async with session_scope() as session:
        query = select(RunStep).where(RunStep.run_id == run_id).order_by(col(RunStep.seq))
        return [step.content for step in (await session.exec(query)).all()]


async def test_steps_written_together_commit_together_and_a_bad_one_fails_alone() -> None:
    run = await queued_run()
    good = [step_row(run_id=run.id, seq=n, kind="message", content=f"step {n}") for n in (1, 2, 3)]
    orphan = step_row(run_id=uuid.uuid4(), seq=1, kind="message", content="no such run")
    writes = run_writes()
    results = await asyncio.gather(
        *(writes.write(INSERT_STEPS, row) for row in (good[0], orphan, good[1], good[2])),
        return_exceptions=True,
    )
    assert [results[0], results[2], results[3]] == [None, None, None]
    assert "foreign key" in str(results[1]).lower()
    assert await contents(run.id) == ["step 1", "step 2", "step 3"]

    # After the engine is let go (tests switching databases, a restore), writes still land.
    await dispose_engine()
    await run_writes().write(INSERT_STEPS, step_row(run_id=run.id, seq=4, kind="message"))
    assert len(await contents(run.id)) == 4


async def test_of_many_concurrent_claims_exactly_one_takes_the_run_and_reads_it() -> None:
    run = await queued_run()
    claims = await asyncio.gather(*(claim_run(run.id, f"worker-{n}") for n in range(5)))
    taken = [(n, claim) for n, claim in enumerate(claims) if claim is not None]
    assert len(taken) == 1
    winner, claim = taken[0]
    assert claim == ClaimedRun(
        id=run.id,
        workspace_id=run.workspace_id,
        kind="agent",
        agent_id=run.agent_id,
        team_id=None,
        input="hi",
        config={"kind": "agent"},
    )
    async with session_scope() as session:
        stored = await session.get(Run, run.id)
    assert stored is not None
    assert (stored.status, stored.worker_id) == ("running", f"worker-{winner}")
    assert stored.lease_expires_at is not None
