"""Redis outages: Redis speeds things up and is never a single point of failure.

Found: with Redis down, sign-in answered 500 and the app refused to start; with Redis
black-holed (connections accepted, nothing answered) `POST /api/runs` took ~15 s; runs
accepted during an outage started 31-41 s after Redis came back. Each outage here is staged
with a proxy of our own in front of the shared Redis (which is never stopped): down
(connections refused), black-holed, and back. With the lease far longer than the bounds
below, the periodic lease-long sweep cannot be what starts the runs.

The same story with real processes (an API served by uvicorn and an `agentplatform worker`)
is in test_redis_outage_processes.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from agentplatform.core.config import get_settings
from agentplatform.services.run_dispatch import set_dispatcher
from agentplatform.services.run_events import set_notifier
from agentplatform.services.run_notifier_redis import RedisNotifier
from agentplatform.services.run_queue import RedisDispatcher
from tests.factories import auth_headers, make_user
from tests.security.redis_proxy import RedisProxy, redis_proxy
from tests.services.redis_support import redis_namespace
from tests.services.run_support import (
    HoldingDispatcher,
    isolated_runs,
    load,
    make_agent,
    owner,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 300.0  # the lost-run sweep runs once per lease: far beyond every bound below
QUICK_S = 5.0  # a generous bound for an answer while Redis is away (it took ~15 s)
RESUME_S = 30.0  # a generous bound for queued runs to start once Redis is back


@pytest.fixture
def proxy() -> Iterator[RedisProxy]:
    with redis_proxy() as value:
        yield value


@pytest.fixture
async def on_redis(proxy: RedisProxy, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """REDIS_URL through the proxy, a fresh prefix, an app dispatcher and an in-process worker."""
    with redis_namespace() as prefix:
        settings = get_settings()
        monkeypatch.setattr(settings, "redis_url", proxy.url)
        monkeypatch.setattr(settings, "redis_prefix", prefix)
        monkeypatch.setattr(settings, "run_lease_seconds", LEASE_S)
        async with isolated_runs():
            notifier = RedisNotifier(proxy.url, prefix)
            set_notifier(notifier)
            set_dispatcher(RedisDispatcher(consume=False))
            worker = RedisDispatcher(consume=True, worker_id="worker-1")
            await worker.start()
            try:
                yield prefix
            finally:
                await worker.stop(grace_s=1)
                await notifier.aclose()


async def submit(api: httpx.AsyncClient, headers: dict[str, str], agent: uuid.UUID) -> str:
    """Start a run; it must be accepted quickly whatever Redis is doing."""
    started = time.monotonic()
    created = await api.post("/api/runs", json={"agent_id": str(agent), "input": "hi"},
                             headers=headers)  # fmt: skip
    assert created.status_code == 202, created.text
    assert time.monotonic() - started < QUICK_S
    return str(created.json()["id"])


@pytest.mark.parametrize("outage", ["down", "black hole"])
async def test_runs_accepted_while_redis_is_away_start_soon_after_it_returns(
    api: httpx.AsyncClient,
    proxy: RedisProxy,
    on_redis: str,
    outage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user, _ = await owner()
    headers = auth_headers(user)
    agent = await make_agent(user.workspace_id, "a")
    before = await submit(api, headers, agent)
    assert (await wait_for(uuid.UUID(before), timeout=RESUME_S)).status == "succeeded"

    (proxy.down if outage == "down" else proxy.black_hole)()
    with caplog.at_level(logging.WARNING, logger="agentplatform.services"):
        during = [await submit(api, headers, agent) for _ in range(3)]
        member = await make_user()
        login = {"email": member.email, "password": member.password}
        signed_in = await api.post("/api/auth/login", json=login)
        assert signed_in.status_code == 200  # sign-in needs no Redis
        await asyncio.sleep(1)
        assert [(await load(uuid.UUID(run_id))).status for run_id in during] == ["queued"] * 3
    queue_warnings = [r for r in caplog.records if "for the run queue" in r.getMessage()]
    assert queue_warnings, "the outage was not reported"
    assert len(queue_warnings) <= 2  # once each for the app's dispatcher and the worker

    proxy.forward()
    for run_id in during:  # durable in the database, queued again as soon as Redis answers
        assert (await wait_for(uuid.UUID(run_id), timeout=RESUME_S)).status == "succeeded"


async def test_runs_whose_messages_redis_lost_start_when_it_returns(
    api: httpx.AsyncClient, proxy: RedisProxy, on_redis: str
) -> None:
    """Redis restarted without its data: the runs whose messages it lost start when it
    returns, found by the sweep that follows an outage (not a lease later)."""
    user, _ = await owner()
    headers = auth_headers(user)
    agent = await make_agent(user.workspace_id, "a")
    set_dispatcher(HoldingDispatcher())  # queued in the database; its message never arrives
    run_id = await submit(api, headers, agent)
    proxy.down()  # the worker's pops fail: it notices the outage
    await asyncio.sleep(1)
    assert (await load(uuid.UUID(run_id))).status == "queued"
    proxy.forward()
    assert (await wait_for(uuid.UUID(run_id), timeout=RESUME_S)).status == "succeeded"


@pytest.mark.parametrize("outage", ["down", "black hole"])
def test_reflex_starts_without_its_redis_and_shares_state_through_it_when_it_answers(
    proxy: RedisProxy, outage: str
) -> None:
    """Reflex exits at start when the Redis of its UI state does not answer (its worker
    count is decided by a PING): the app now serves from one process with UI state in
    memory and says so, and uses Redis for UI state whenever it answers at start."""
    start = (
        "import os, rxconfig\n"
        "from reflex.utils.processes import get_num_workers\n"
        "print(repr(os.environ['REFLEX_REDIS_URL']), get_num_workers())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "REFLEX_REDIS_URL"}
    env["REDIS_URL"] = proxy.url

    def reflex_start() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", start], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    (proxy.down if outage == "down" else proxy.black_hole)()
    started = reflex_start()
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["''", "1"]  # one process, UI state in memory
    assert "does not answer: serving from one process" in started.stderr
    proxy.forward()
    shared = reflex_start()
    assert shared.returncode == 0, shared.stderr
    assert shared.stdout.split()[0] == repr(proxy.url)  # UI state on Redis
    assert "does not answer" not in shared.stderr
