"""A run's life: cancel, provider faults, time-outs, leases, exactly-once claims, dispatch."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlmodel import col, update

from agentplatform.core.db import session_scope
from agentplatform.core.errors import Conflict
from agentplatform.models import Run, RunStep
from agentplatform.models.common import utcnow
from agentplatform.models.run import RunCreate
from agentplatform.services import runs
from agentplatform.services.run_dispatch import EmbeddedDispatcher, set_dispatcher
from agentplatform.services.run_events import set_notifier, stream_run_events
from agentplatform.services.run_executor import execute_run
from agentplatform.services.run_lease import INTERRUPTED, reap_expired_leases
from agentplatform.services.run_notifier_redis import RedisNotifier
from agentplatform.services.run_watch import renew_leases
from tests.fakes.fake_openai import FakeLLMServer
from tests.services.redis_support import closed_port_url
from tests.services.run_support import (
    HoldingDispatcher,
    add,
    isolated_runs,
    load,
    make_agent,
    make_provider,
    owner,
    wait_for,
)


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


async def fake_agent(fake: FakeLLMServer, **fields):  # type: ignore[no-untyped-def]
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake.url)
    agent = await make_agent(user.workspace_id, "worker", provider_id=provider, **fields)
    return actor, agent


async def start(actor, agent_id: uuid.UUID, text: str = "hello") -> uuid.UUID:  # type: ignore[no-untyped-def]
    async with session_scope() as session:
        run = await runs.create_run(
            session=session, actor=actor, data=RunCreate(agent_id=agent_id, input=text)
        )
    return run.id


async def steps(run_id: uuid.UUID) -> list[RunStep]:
    async with session_scope() as session:
        from sqlmodel import col, select

        query = select(RunStep).where(RunStep.run_id == run_id).order_by(col(RunStep.seq))
        return list((await session.exec(query)).all())


async def until_requests(fake: FakeLLMServer, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.requests) < count:
        assert time.monotonic() < deadline, "the provider was never called"
        await asyncio.sleep(0.01)


async def test_cancel_stops_a_run_mid_request(fake_openai: FakeLLMServer) -> None:
    actor, agent = await fake_agent(fake_openai, tools=["calculator"])
    fake_openai.tool_calls(("calculator", {"expression": "1 + 1"}))
    fake_openai.delay(30)
    run_id = await start(actor, agent)
    await until_requests(fake_openai, 2)  # the second call is hanging on the server
    asked = time.monotonic()
    async with session_scope() as session:
        accepted = await runs.cancel_run(session=session, actor=actor, run_id=run_id)
    assert accepted.status == "running"
    run = await wait_for(run_id)
    assert time.monotonic() - asked < 2
    assert (run.status, run.stopped_reason) == ("cancelled", "cancelled")
    trace = await steps(run_id)
    assert [s.kind for s in trace] == ["tool_call", "tool_result", "error"]
    assert "cancelled" in trace[-1].content
    assert run.input_tokens > 0  # what was spent before the cancel is kept
    async with session_scope() as session:
        with pytest.raises(Conflict, match="already finished"):
            await runs.cancel_run(session=session, actor=actor, run_id=run_id)


async def test_cancel_from_another_process_is_seen_through_the_database(
    fake_openai: FakeLLMServer,
) -> None:
    actor, agent = await fake_agent(fake_openai)
    fake_openai.delay(30)
    run_id = await start(actor, agent)
    await until_requests(fake_openai, 1)
    async with session_scope() as session:  # no signal: only the flag, as another replica would
        run = await session.get(Run, run_id)
        assert run is not None
        run.cancel_requested = True
        session.add(run)
        await session.commit()
    assert (await wait_for(run_id)).status == "cancelled"


async def test_a_queued_run_is_cancelled_at_once_and_never_executes() -> None:
    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "a")
    set_dispatcher(HoldingDispatcher())
    run_id = await start(actor, agent)
    async with session_scope() as session:
        run = await runs.cancel_run(session=session, actor=actor, run_id=run_id)
    assert run.status == "cancelled" and run.finished_at is not None
    assert await execute_run(run_id, "late-worker") is False
    assert await steps(run_id) == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (lambda f: f.error(401, "invalid api key"), "HTTP 401"),
        (lambda f: f.tool_calls(("calculator", "{not json")), "malformed JSON arguments"),
        (lambda f: f.error(400, "context length exceeded"), "context length exceeded"),
    ],
    ids=["unauthorized", "malformed-tool-args", "bad-request"],
)
async def test_provider_faults_fail_with_a_clear_error(
    fake_openai: FakeLLMServer,
    script,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    actor, agent = await fake_agent(fake_openai, tools=["calculator"])
    script(fake_openai)
    run = await wait_for(await start(actor, agent))
    assert run.status == "failed"
    assert run.error is not None
    assert "fake" in run.error and "fake-model" in run.error and expected in run.error
    trace = await steps(run.id)
    assert trace[-1].kind == "error" and expected in trace[-1].content


async def test_a_retryable_fault_is_retried_and_succeeds(fake_openai: FakeLLMServer) -> None:
    actor, agent = await fake_agent(fake_openai)
    fake_openai.error(503, "overloaded", retry_after="0")
    fake_openai.reply("fine now")
    run = await wait_for(await start(actor, agent))
    assert (run.status, run.output) == ("succeeded", "fine now")


async def test_an_unreachable_provider_fails_not_hangs() -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, "http://127.0.0.1:9/v1")
    agent = await make_agent(user.workspace_id, "lost", provider_id=provider, timeout_s=0.5)
    run = await wait_for(await start(actor, agent))
    assert run.status in {"failed", "timed_out"}
    assert run.error and ("127.0.0.1:9" in run.error or "timed out" in run.error)


async def test_agent_timeout_ends_as_timed_out(fake_openai: FakeLLMServer) -> None:
    actor, agent = await fake_agent(fake_openai, timeout_s=0.3)
    fake_openai.delay(10)
    run = await wait_for(await start(actor, agent))
    assert (run.status, run.stopped_reason) == ("timed_out", "agent_timeout")
    assert run.error and "timed out after 0.3 s" in run.error


async def test_reaper_fails_only_runs_whose_lease_expired() -> None:
    user, _ = await owner()
    now = utcnow()

    def run(status: str, lease_delta: float | None) -> Run:
        lease = now + timedelta(seconds=lease_delta) if lease_delta is not None else None
        return Run(
            workspace_id=user.workspace_id,
            kind="agent",
            target_name="t",
            input="x",
            status=status,
            worker_id="gone" if status == "running" else None,
            lease_expires_at=lease,
        )

    expired, fresh, queued, done = (
        run("running", -5),
        run("running", 30),
        run("queued", None),
        run("succeeded", -60),
    )
    await add(expired, fresh, queued, done)
    await add(RunStep(run_id=expired.id, seq=1, kind="message", content="partial"))
    assert await reap_expired_leases() == [expired.id]
    after = {r.id: await load(r.id) for r in (expired, fresh, queued, done)}
    assert (after[expired.id].status, after[expired.id].error) == ("failed", INTERRUPTED)
    assert after[fresh.id].status == "running"
    assert after[queued.id].status == "queued"
    assert after[done.id].status == "succeeded"
    assert [(s.seq, s.kind) for s in await steps(expired.id)] == [(1, "message"), (2, "error")]
    assert await reap_expired_leases() == []


async def test_two_workers_claim_a_run_exactly_once() -> None:
    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "once", tools=["calculator"])
    set_dispatcher(HoldingDispatcher())
    run_id = await start(actor, agent, "What is 2 + 2?")
    results = await asyncio.gather(execute_run(run_id, "w1"), execute_run(run_id, "w2"))
    assert sorted(results) == [False, True]
    run = await load(run_id)
    assert run.status == "succeeded"
    assert run.worker_id == ("w1" if results[0] else "w2")
    assert [s.seq for s in await steps(run_id)] == [1, 2, 3]


async def test_excess_runs_wait_queued_under_the_concurrency_bound(
    fake_openai: FakeLLMServer,
) -> None:
    actor, agent = await fake_agent(fake_openai)
    fake_openai.delay(0.6, then=None)
    dispatcher = EmbeddedDispatcher(concurrency=1)
    set_dispatcher(dispatcher)
    first, second = await start(actor, agent, "one"), await start(actor, agent, "two")
    await wait_for(first, {"running"})
    assert (await load(second)).status == "queued"
    await dispatcher.wait_idle(timeout=30)
    assert (await load(first)).status == (await load(second)).status == "succeeded"


async def test_a_run_whose_claim_crashed_is_submitted_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """E.g. the claim met a SQLite file locked past its busy timeout: the run is not left
    queued for ever, it is claimed a moment later."""
    from agentplatform.services import run_dispatch

    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "retried", tools=["calculator"])
    real = run_dispatch.execute_run
    calls: list[uuid.UUID] = []

    async def flaky(run_id: uuid.UUID, worker_id: str) -> bool:
        calls.append(run_id)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return await real(run_id, worker_id)

    monkeypatch.setattr(run_dispatch, "execute_run", flaky)
    monkeypatch.setattr(run_dispatch, "RETRY_DELAYS_S", (0.05,))
    dispatcher = EmbeddedDispatcher(concurrency=2)
    set_dispatcher(dispatcher)
    run_id = await start(actor, agent, "What is 2 + 2?")
    await dispatcher.wait_idle(timeout=30)
    assert calls == [run_id, run_id]
    assert (await load(run_id)).status == "succeeded"


async def test_start_reaps_and_picks_up_queued_runs() -> None:
    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "later")
    set_dispatcher(HoldingDispatcher())
    waiting = await start(actor, agent, "left queued by a previous process")
    dead = Run(
        workspace_id=user.workspace_id,
        kind="agent",
        target_name="t",
        input="x",
        status="running",
        worker_id="dead",
        lease_expires_at=utcnow() - timedelta(seconds=1),
    )
    await add(dead)
    dispatcher = EmbeddedDispatcher()
    set_dispatcher(dispatcher)
    assert await dispatcher.start() is True
    assert await dispatcher.start() is False  # idempotent: a second app shares it
    assert (await wait_for(waiting)).status == "succeeded"
    assert (await load(dead.id)).status == "failed"


async def test_the_event_stream_yields_steps_then_the_final_status(
    fake_openai: FakeLLMServer,
) -> None:
    actor, agent = await fake_agent(fake_openai, tools=["calculator"])
    fake_openai.tool_calls(("calculator", {"expression": "2 * 21"}))
    fake_openai.stream(["The ", "answer ", "is ", "42."], chunk_delay_s=0.05)
    run_id = await start(actor, agent)
    seen = [(e.kind, e.step.seq if e.step else None) async for e in stream_run_events(run_id)]
    kinds = [k for k, _ in seen]
    assert [s for k, s in seen if k == "step"] == [1, 2, 3]
    assert kinds[-1] == "status" and kinds.count("status") == 1
    assert "delta" in kinds and kinds.index("delta") < kinds.index("status")
    resumed = [e.step.seq async for e in stream_run_events(run_id, after_seq=2) if e.step]
    assert resumed == [3]


async def test_shutdown_fails_runs_in_flight_as_interrupted(fake_openai: FakeLLMServer) -> None:
    actor, agent = await fake_agent(fake_openai)
    fake_openai.delay(30)
    dispatcher = EmbeddedDispatcher()
    set_dispatcher(dispatcher)
    run_id = await start(actor, agent)
    await until_requests(fake_openai, 1)
    await asyncio.wait_for(dispatcher.stop(), 5)
    run = await load(run_id)
    assert (run.status, run.error) == ("failed", INTERRUPTED)


def lease_timing(monkeypatch: pytest.MonkeyPatch, lease_s: str, heartbeat_s: str) -> Iterator[None]:
    """Settings with this run lease and heartbeat for one test, then the usual ones again."""
    from agentplatform.core.config import get_settings

    monkeypatch.setenv("RUN_LEASE_SECONDS", lease_s)
    monkeypatch.setenv("RUN_HEARTBEAT_SECONDS", heartbeat_s)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def short_lease(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from lease_timing(monkeypatch, "1", "0.2")


@pytest.mark.usefixtures("short_lease")
async def test_heartbeats_keep_a_long_run_safe_from_the_reaper(fake_openai: FakeLLMServer) -> None:
    actor, agent = await fake_agent(fake_openai)
    fake_openai.delay(2.0)  # twice the lease
    run_id = await start(actor, agent)
    await wait_for(run_id, {"running"})
    leases = set()
    reaped: list[uuid.UUID] = []
    while (run := await load(run_id)).status == "running":
        leases.add(run.lease_expires_at)
        reaped += await reap_expired_leases()
        await asyncio.sleep(0.1)
    assert reaped == []
    assert len(leases - {None}) >= 3  # renewed every 0.2 s while the model was thinking
    assert run.status == "succeeded" and run.latency_ms is not None and run.latency_ms > 1500


@pytest.mark.usefixtures("short_lease")
async def test_a_run_taken_from_this_worker_stops_executing_here(
    fake_openai: FakeLLMServer,
) -> None:
    """The reaper failed it after a stall and another worker holds it: this worker's
    heartbeat sees that, stops its execution, and writes nothing over the new owner's."""
    actor, agent = await fake_agent(fake_openai)
    fake_openai.delay(30)
    dispatcher = EmbeddedDispatcher(concurrency=2)
    set_dispatcher(dispatcher)
    run_id = await start(actor, agent)
    await until_requests(fake_openai, 1)
    async with session_scope() as session:
        await session.exec(update(Run).where(col(Run.id) == run_id).values(worker_id="another"))
        await session.commit()
    await dispatcher.wait_idle(timeout=10)  # well before the model's 30 s answer
    run = await load(run_id)
    assert (run.status, run.worker_id, run.finished_at) == ("running", "another", None)


async def test_one_heartbeat_renews_every_run_of_a_worker_and_reads_their_cancel_flags() -> None:
    user, _ = await owner()

    def running(worker: str, cancel: bool = False) -> Run:
        return Run(
            workspace_id=user.workspace_id,
            kind="agent",
            target_name="t",
            input="x",
            status="running",
            worker_id=worker,
            cancel_requested=cancel,
            lease_expires_at=utcnow() + timedelta(seconds=1),
        )

    mine, cancelled, theirs = running("w1"), running("w1", cancel=True), running("w2")
    finished = running("w1")
    finished.status = "succeeded"
    await add(mine, cancelled, theirs, finished)
    ids = [mine.id, cancelled.id, theirs.id, finished.id]
    flags = await renew_leases("w1", ids)
    assert flags == {mine.id: False, cancelled.id: True}
    after = {run_id: await load(run_id) for run_id in ids}
    later = utcnow() + timedelta(seconds=20)
    assert after[mine.id].lease_expires_at > later  # type: ignore[operator]
    assert after[cancelled.id].lease_expires_at > later  # type: ignore[operator]
    assert after[theirs.id].lease_expires_at < later  # type: ignore[operator]


@pytest.fixture
def long_heartbeat(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from lease_timing(monkeypatch, "600", "300")


@pytest.mark.usefixtures("long_heartbeat")
async def test_while_redis_is_away_the_cancel_flag_is_polled(fake_openai: FakeLLMServer) -> None:
    """No signal can arrive and the next heartbeat is minutes away: only polling sees it."""
    set_notifier(RedisNotifier(closed_port_url(), "away"))
    actor, agent = await fake_agent(fake_openai)
    fake_openai.delay(30)
    run_id = await start(actor, agent)
    await until_requests(fake_openai, 1)
    async with session_scope() as session:
        await session.exec(update(Run).where(col(Run.id) == run_id).values(cancel_requested=True))
        await session.commit()
    assert (await wait_for(run_id)).status == "cancelled"
