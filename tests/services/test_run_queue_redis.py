"""Runs through the Redis queue: submit, consume, duplicates, lost messages, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from agentplatform.core.db import session_scope
from agentplatform.models import Run, RunStep
from agentplatform.models.common import utcnow
from agentplatform.models.run import RunCreate
from agentplatform.services import runs
from agentplatform.services.run_dispatch import set_dispatcher
from agentplatform.services.run_events import set_notifier
from agentplatform.services.run_lease import INTERRUPTED
from agentplatform.services.run_notifier_redis import RedisNotifier
from agentplatform.services.run_queue import RedisDispatcher, queue_name
from tests.fakes.fake_openai import FakeLLMServer
from tests.services import REDIS_URL
from tests.services.redis_support import closed_port_url, redis_namespace
from tests.services.run_support import (
    HoldingDispatcher,
    isolated_runs,
    load,
    make_agent,
    make_provider,
    owner,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


@pytest.fixture
def prefix() -> Iterator[str]:
    with redis_namespace() as value:
        yield value


@pytest.fixture
async def notifier(prefix: str) -> AsyncIterator[RedisNotifier]:
    value = RedisNotifier(REDIS_URL, prefix)
    set_notifier(value)
    yield value
    await value.aclose()


@pytest.fixture
def slow_llm() -> Iterator[FakeLLMServer]:
    """A provider that takes 30 s to answer anything."""
    server = FakeLLMServer(latency_ms=30_000).start()
    yield server
    server.stop(wait=False)


def queued_messages(prefix: str) -> list[dict[str, object]]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return [json.loads(raw) for raw in client.lrange(queue_name(prefix), 0, -1)]
    finally:
        client.close()


async def agent_on(fake: FakeLLMServer, workspace_id: uuid.UUID, name: str) -> uuid.UUID:
    provider = await make_provider(workspace_id, fake.url, name=f"p-{name}")
    return await make_agent(workspace_id, name, provider_id=provider)


async def start_run(actor, agent_id: uuid.UUID, text: str = "hello") -> uuid.UUID:  # type: ignore[no-untyped-def]
    async with session_scope() as session:
        run = await runs.create_run(
            session=session, actor=actor, data=RunCreate(agent_id=agent_id, input=text)
        )
    return run.id


async def worker(prefix: str, name: str, concurrency: int = 4) -> RedisDispatcher:
    dispatcher = RedisDispatcher(
        REDIS_URL, prefix, consume=True, concurrency=concurrency, worker_id=name
    )
    await dispatcher.start()
    return dispatcher


async def test_a_run_waits_on_the_queue_until_a_worker_executes_it(
    prefix: str, notifier: RedisNotifier, fake_openai: FakeLLMServer
) -> None:
    set_dispatcher(RedisDispatcher(REDIS_URL, prefix, consume=False))
    user, actor = await owner()
    run_id = await start_run(actor, await agent_on(fake_openai, user.workspace_id, "a"))
    [message] = queued_messages(prefix)
    assert message["task_id"] == str(run_id) and message["args"] == [str(run_id)]
    await asyncio.sleep(0.3)
    assert (await load(run_id)).status == "queued"  # the app does not consume by default
    consumer = await worker(prefix, "worker-1")
    try:
        run = await wait_for(run_id)
    finally:
        await consumer.stop()
    assert run.status == "succeeded" and run.output == "echo: hello"
    assert (await load(run_id)).worker_id == "worker-1"
    assert queued_messages(prefix) == []


async def test_duplicate_messages_still_execute_a_run_exactly_once(
    prefix: str, notifier: RedisNotifier
) -> None:
    fake = FakeLLMServer(latency_ms=300).start()
    set_dispatcher(HoldingDispatcher())
    user, actor = await owner()
    agent = await agent_on(fake, user.workspace_id, "a")
    run_ids = [await start_run(actor, agent, f"task {i}") for i in range(4)]
    producer = RedisDispatcher(REDIS_URL, prefix, consume=False)
    for _ in range(3):  # at-least-once delivery: every run is on the queue three times
        for run_id in run_ids:
            await producer.submit(run_id)
    await producer.stop()
    workers = [await worker(prefix, "worker-1"), await worker(prefix, "worker-2")]
    try:
        finished = [await wait_for(run_id) for run_id in run_ids]
        deadline = time.monotonic() + 30
        while queued_messages(prefix):
            assert time.monotonic() < deadline, "duplicates were never consumed"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        for consumer in workers:
            await consumer.stop()
        fake.stop(wait=False)
    assert [run.status for run in finished] == ["succeeded"] * 4
    asked = sorted(request["messages"][-1]["content"] for request in fake.requests)
    assert asked == [f"task {i}" for i in range(4)]  # one provider call per run
    async with session_scope() as session:
        from sqlmodel import select

        steps = (await session.exec(select(RunStep.run_id, RunStep.seq))).all()
    assert sorted(steps) == sorted((run_id, 1) for run_id in run_ids)


async def test_a_run_whose_message_was_lost_is_queued_again(prefix: str) -> None:
    set_dispatcher(HoldingDispatcher())  # runs are inserted but never reach Redis
    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "a")
    lost, waiting, _fresh = [await start_run(actor, agent) for _ in range(3)]
    async with session_scope() as session:
        for run_id in (lost, waiting):
            run = await session.get(Run, run_id)
            assert run is not None
            run.created_at = utcnow() - timedelta(minutes=5)
            session.add(run)
        await session.commit()
    dispatcher = RedisDispatcher(REDIS_URL, prefix, consume=False)
    await dispatcher.submit(waiting)  # still on the list: must not be duplicated
    try:
        assert await dispatcher.requeue_lost_runs() == [lost]
        assert await dispatcher.requeue_lost_runs() == []  # another sweep holds the lock
    finally:
        await dispatcher.stop()
    assert sorted(m["task_id"] for m in queued_messages(prefix)) == sorted(
        [str(lost), str(waiting)]
    )  # `fresh` is young: its message may still be on its way


async def test_stopping_a_worker_lets_short_runs_finish_and_interrupts_long_ones(
    prefix: str, notifier: RedisNotifier, fake_openai: FakeLLMServer, slow_llm: FakeLLMServer
) -> None:
    fake_openai.delay(0.8)
    set_dispatcher(RedisDispatcher(REDIS_URL, prefix, consume=False))
    user, actor = await owner()
    short = await start_run(actor, await agent_on(fake_openai, user.workspace_id, "short"))
    long = await start_run(actor, await agent_on(slow_llm, user.workspace_id, "long"))
    consumer = await worker(prefix, "worker-1")
    await wait_for(short, {"running"})
    await wait_for(long, {"running"})
    await consumer.stop(grace_s=2)
    assert (await load(short)).status == "succeeded"
    interrupted = await load(long)
    assert (interrupted.status, interrupted.error) == ("failed", INTERRUPTED)


async def test_a_worker_survives_redis_being_away(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        dispatcher = RedisDispatcher(closed_port_url(), "nowhere", consume=True, concurrency=2)
        await dispatcher.start()
        await asyncio.sleep(0.5)
        assert dispatcher.running
        await dispatcher.stop()
    assert "Redis unavailable for the run queue" in caplog.text


def worker_env(prefix: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix, "LOG_LEVEL": "INFO",
            **extra}  # fmt: skip


def test_the_worker_command_needs_redis() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "agentplatform.cli", "worker"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "set REDIS_URL" in done.stderr


async def test_sigterm_lets_a_worker_process_finish_its_run_then_exit(
    prefix: str, notifier: RedisNotifier, fake_openai: FakeLLMServer, tmp_path: Path
) -> None:
    fake_openai.delay(1.5)
    set_dispatcher(RedisDispatcher(REDIS_URL, prefix, consume=False))
    user, actor = await owner()
    run_id = await start_run(actor, await agent_on(fake_openai, user.workspace_id, "a"))
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agentplatform.cli", "worker", "--concurrency", "2"],
            cwd=ROOT, env=worker_env(prefix), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        await wait_for(run_id, {"running"}, timeout=30)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert code == 0, log.read_text()
    assert (await load(run_id)).status == "succeeded"
    assert "stopped" in log.read_text()
