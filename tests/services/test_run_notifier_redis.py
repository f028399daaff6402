"""Run signals over Redis pub/sub between processes, and what happens when Redis is away."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from agentplatform.core.config import get_settings
from agentplatform.core.db import session_scope
from agentplatform.models import Run, RunStep
from agentplatform.services import run_events
from agentplatform.services.run_dispatch import get_dispatcher, set_dispatcher
from agentplatform.services.run_events import (
    InProcessNotifier,
    RunSignal,
    get_notifier,
    set_notifier,
    stream_run_events,
)
from agentplatform.services.run_notifier_redis import RedisNotifier
from agentplatform.services.run_queue import RedisDispatcher
from tests.factories import auth_headers
from tests.services import REDIS_URL
from tests.services.redis_support import closed_port_url, kill_clients, redis_namespace
from tests.services.run_support import add, isolated_runs, make_agent, owner, wait_for


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


@pytest.fixture
def prefix() -> Iterator[str]:
    with redis_namespace() as value:
        yield value


@pytest.fixture
async def pair(prefix: str) -> AsyncIterator[tuple[RedisNotifier, RedisNotifier]]:
    """Two notifiers on one Redis: as two processes would have."""
    first, second = RedisNotifier(REDIS_URL, prefix), RedisNotifier(REDIS_URL, prefix)
    yield first, second
    await first.aclose()
    await second.aclose()


def signal(kind: str, run_id: str = "run-1", **fields: object) -> RunSignal:
    return RunSignal(run_id=run_id, kind=kind, **fields)  # type: ignore[arg-type]


async def drain(subscription: run_events.RunSubscription, wait: float = 0.3) -> list[RunSignal]:
    received = []
    while (item := await subscription.next(wait)) is not None:
        received.append(item)
    return received


async def test_signals_reach_another_process_filtered_by_kind(
    pair: tuple[RedisNotifier, RedisNotifier],
) -> None:
    sender, receiver = pair
    async with (
        receiver.subscribe("run-1", kinds=("cancel",)) as cancels,
        receiver.subscribe("run-1") as everything,
        receiver.subscribe("run-2") as other_run,
    ):
        await sender.publish(signal("step", seq=1))
        await sender.publish(signal("delta", agent_name="a", text="Hel"))
        await sender.publish(signal("cancel"))
        assert [s.kind for s in await drain(everything)] == ["step", "delta", "cancel"]
        assert await drain(cancels, 0.05) == [signal("cancel")]
        assert await drain(other_run, 0.05) == []
    received = await drain(everything, 0.01)
    assert received == []


async def test_a_process_gets_its_own_signals_once(
    pair: tuple[RedisNotifier, RedisNotifier],
) -> None:
    notifier, _ = pair
    async with notifier.subscribe("run-1") as subscription:
        await notifier.publish(signal("delta", text="only once"))
        assert await drain(subscription, 0.5) == [signal("delta", text="only once")]


async def test_unreachable_redis_degrades_to_local_delivery_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = RedisNotifier(closed_port_url(), "nowhere")
    with caplog.at_level(logging.WARNING, logger="agentplatform.services.run_notifier_redis"):
        async with notifier.subscribe("run-1", kinds=("cancel",)) as subscription:
            await notifier.publish(signal("cancel"))
            await notifier.publish(signal("cancel"))
            assert await drain(subscription, 0.1) == [signal("cancel"), signal("cancel")]
    await notifier.aclose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "fall back to database polling" in warnings[0]


async def test_the_subscription_comes_back_after_redis_drops_the_connection(
    pair: tuple[RedisNotifier, RedisNotifier], prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    sender, receiver = pair
    async with receiver.subscribe("run-1") as subscription:
        await sender.publish(signal("step", seq=1))
        assert await subscription.next(10) == signal("step", seq=1)
        assert kill_clients(prefix, "notifier", subscribed=True) == 1  # a Redis hiccup
        deadline = time.monotonic() + 30
        seq = 1
        while (got := await subscription.next(0.1)) is None:  # published until heard again
            assert time.monotonic() < deadline, "the subscription never came back"
            seq += 1
            await sender.publish(signal("step", seq=seq))
    assert got.kind == "step"
    assert "fall back to database polling" in caplog.text


async def test_a_stream_is_woken_by_another_process(
    pair: tuple[RedisNotifier, RedisNotifier],
) -> None:
    """The stream polls only every 60 s here, so only Redis can wake it in time."""
    worker, app = pair
    user, _ = await owner()
    agent = await make_agent(user.workspace_id, "a")
    run = Run(workspace_id=user.workspace_id, kind="agent", agent_id=agent, target_name="a",
              input="hi", config={}, status="running")  # fmt: skip
    await add(run)
    events = stream_run_events(run.id, poll_s=60, notifier=app)
    first = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.3)  # the stream read the database and sleeps on its subscription
    await add(RunStep(run_id=run.id, seq=1, kind="message", content="hello"))
    await worker.publish(signal("step", str(run.id), seq=1))
    step = await asyncio.wait_for(first, 10)
    assert step.kind == "step" and step.step is not None and step.step.content == "hello"
    delta = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.2)
    await worker.publish(signal("delta", str(run.id), agent_name="a", text="live"))
    live = await asyncio.wait_for(delta, 10)
    assert live.kind == "delta" and live.delta is not None and live.delta.text == "live"
    last = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.2)
    async with session_scope() as session:
        row = await session.get(Run, run.id)
        assert row is not None
        row.status = "succeeded"
        session.add(row)
        await session.commit()
    await worker.publish(signal("status", str(run.id)))
    final = await asyncio.wait_for(last, 10)
    assert final.kind == "status" and final.run is not None and final.run.status == "succeeded"


async def test_redis_settings_choose_the_redis_notifier_and_dispatcher(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REDIS_PREFIX", prefix)
    get_settings.cache_clear()
    try:
        set_notifier(None)
        set_dispatcher(None)
        notifier, dispatcher = get_notifier(), get_dispatcher()
        assert isinstance(notifier, RedisNotifier) and notifier.prefix == prefix
        assert isinstance(dispatcher, RedisDispatcher) and dispatcher.prefix == prefix
        assert dispatcher.consume is False  # the app only consumes with RUN_IN_APP_WORKER
        monkeypatch.setenv("RUN_IN_APP_WORKER", "true")
        get_settings.cache_clear()
        assert RedisDispatcher().consume is True
    finally:
        monkeypatch.delenv("REDIS_URL", raising=False)
        monkeypatch.delenv("RUN_IN_APP_WORKER", raising=False)
        get_settings.cache_clear()
        set_notifier(None)
        set_dispatcher(None)
    assert isinstance(get_notifier(), InProcessNotifier)


async def test_with_redis_down_the_api_starts_streams_and_cancels_runs(
    api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Every Redis call fails: runs are still accepted (and wait queued), their events
    stream from the database and cancel works; a warning is logged, never a 500."""
    url = closed_port_url()
    notifier = RedisNotifier(url, "down")
    set_notifier(notifier)
    set_dispatcher(RedisDispatcher(url, "down", consume=False))
    try:
        await _use_the_api(api)
    finally:
        await notifier.aclose()
    assert "Redis unavailable for the run queue" in caplog.text
    assert "fall back to database polling" in caplog.text


async def _use_the_api(api: httpx.AsyncClient) -> None:
    user, _ = await owner()
    agent = await make_agent(user.workspace_id, "a")
    headers = auth_headers(user)
    created = await api.post("/api/runs", json={"agent_id": str(agent), "input": "hi"},
                             headers=headers)  # fmt: skip
    assert created.status_code == 202, created.text
    run_id = created.json()["id"]
    assert (await api.get(f"/api/runs/{run_id}", headers=headers)).json()["status"] == "queued"
    cancelled = await api.post(f"/api/runs/{run_id}/cancel", headers=headers)
    assert cancelled.status_code == 202, cancelled.text
    events = await api.get(f"/api/runs/{run_id}/events", headers=headers)
    assert events.status_code == 200
    assert "event: status" in events.text and '"status":"cancelled"' in events.text
    assert (await wait_for(uuid.UUID(run_id))).status == "cancelled"
