"""/metrics tells an operator how long queued runs have waited, who consumes the queue, and
which provider calls failed: the series the queue, worker and provider alerts read."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col, update

from agentplatform.core.db import session_scope
from agentplatform.models import Run
from agentplatform.models.common import utcnow
from agentplatform.models.run import RunCreate
from agentplatform.services import runs
from agentplatform.services.run_dispatch import EmbeddedDispatcher, set_dispatcher
from agentplatform.services.run_queue import RedisDispatcher
from tests.fakes.fake_openai import FakeLLMServer
from tests.services import REDIS_URL
from tests.services.redis_support import redis_namespace
from tests.services.run_support import (
    HoldingDispatcher,
    isolated_runs,
    make_agent,
    make_provider,
    owner,
    wait_for,
)

AGE = "agentplatform_run_queue_oldest_age_seconds"
WORKERS = "agentplatform_run_workers"
LLM_ERRORS = "agentplatform_llm_errors_total"


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


@pytest.fixture
def prefix() -> Iterator[str]:
    with redis_namespace() as value:
        yield value


async def scrape(api: httpx.AsyncClient, name: str, **labels: str) -> float:
    text = (await api.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def eventually(
    api: httpx.AsyncClient, name: str, wanted: float, within_s: float = 30
) -> None:
    """Poll /metrics until `name` reads `wanted` (the gauges refresh every maintenance round)."""
    deadline = time.monotonic() + within_s
    while (seen := await scrape(api, name)) != wanted:
        assert time.monotonic() < deadline, f"{name} stayed {seen}, wanted {wanted}"
        await asyncio.sleep(0.2)


async def queued_run(*, waited_s: float) -> uuid.UUID:
    """A run left `queued` (nobody executes it yet), created `waited_s` seconds ago."""
    user, actor = await owner()
    agent = await make_agent(user.workspace_id, "waiting")
    set_dispatcher(HoldingDispatcher())
    async with session_scope() as session:
        created = await runs.create_run(
            session=session, actor=actor, data=RunCreate(agent_id=agent, input="hello")
        )
        await session.exec(
            update(Run)
            .where(col(Run.id) == created.id)
            .values(created_at=utcnow() - timedelta(seconds=waited_s))
        )
        await session.commit()
    return created.id


async def test_the_oldest_queued_run_shows_its_age_until_it_is_taken(
    api: httpx.AsyncClient,
) -> None:
    run_id = await queued_run(waited_s=600)
    dispatcher = EmbeddedDispatcher(concurrency=1)
    set_dispatcher(dispatcher)
    await dispatcher.start()  # its first maintenance round samples before it picks the run up

    assert await scrape(api, AGE) >= 600
    assert await scrape(api, WORKERS) == 1, "the app executes its runs itself (no Redis)"
    assert (await wait_for(run_id)).status == "succeeded"
    await eventually(api, AGE, 0)


async def test_workers_count_the_processes_consuming_the_redis_queue(
    api: httpx.AsyncClient, prefix: str
) -> None:
    app_only = RedisDispatcher(REDIS_URL, prefix, consume=False)
    await app_only.start()
    try:
        assert await scrape(api, WORKERS) == 0, "an app that only queues is no worker"
        worker = RedisDispatcher(REDIS_URL, prefix, consume=True, concurrency=1)
        await worker.start()
        await eventually(api, WORKERS, 1)
        await worker.stop(grace_s=1)
        await eventually(api, WORKERS, 0)  # the app's next round no longer sees it
    finally:
        await app_only.stop()


async def test_a_failing_provider_counts_an_llm_error(
    api: httpx.AsyncClient, fake_openai: FakeLLMServer
) -> None:
    user, actor = await owner()
    provider = await make_provider(user.workspace_id, fake_openai.url)
    agent = await make_agent(user.workspace_id, "refused", provider_id=provider)
    fake_openai.error(401, "invalid api key")
    labels = {"provider": "openai", "model": "fake-model"}
    answered = "agentplatform_llm_request_duration_seconds_count"
    before = await scrape(api, LLM_ERRORS, **labels)
    answered_before = await scrape(api, answered, **labels)
    set_dispatcher(EmbeddedDispatcher())
    async with session_scope() as session:
        created = await runs.create_run(
            session=session, actor=actor, data=RunCreate(agent_id=agent, input="hello")
        )
    assert (await wait_for(created.id)).status == "failed"
    assert await scrape(api, LLM_ERRORS, **labels) - before == 1
    assert await scrape(api, answered, **labels) == answered_before, "failed is not answered"
