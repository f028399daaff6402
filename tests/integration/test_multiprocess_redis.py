"""Two API replicas and two `agentplatform worker` processes on one PostgreSQL and one Redis.

Runs are started on replica A, streamed and cancelled through replica B, executed by
whichever worker pops them; every run executes exactly once, and killing a worker with
SIGKILL fails its runs as interrupted (after their lease) and nobody else's.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from agentplatform.core.db import session_scope
from agentplatform.models import Run, RunStep
from agentplatform.services.run_queue import RedisDispatcher
from tests.factories import auth_headers
from tests.fakes.fake_openai import FakeLLMServer
from tests.services import REDIS_URL
from tests.services.redis_support import redis_namespace
from tests.services.run_support import isolated_runs, make_agent, make_provider, owner

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 6  # short, yet safe from false "interrupted" on a heavily loaded test machine
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        os.environ.get("TEST_DB", "sqlite") != "postgresql",
        reason="several processes on one database: runs in the PostgreSQL pass",
    ),
]


@dataclass
class Cluster:
    prefix: str
    apis: list[str]
    workers: list[subprocess.Popen[bytes]]
    logs: Path

    def worker_of(self, worker_id: str) -> subprocess.Popen[bytes]:
        pid = int(worker_id.split(":")[1])  # host:pid:suffix (run_dispatch.new_worker_id)
        return next(w for w in self.workers if w.pid == pid)

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in self.logs.glob("*.log"))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _ready(process: subprocess.Popen[bytes], log: Path, check: Any) -> None:
    deadline = time.monotonic() + 150  # generous: start-up is slow on a busy machine
    while not check():
        if process.poll() is not None:
            raise RuntimeError(f"{log.name} exited early:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{log.name} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("cluster")
    with redis_namespace() as prefix:
        env = {
            **os.environ,
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": prefix,
            "RUN_LEASE_SECONDS": str(LEASE_S),
            "RUN_HEARTBEAT_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
        ports = [free_port(), free_port()]
        apis = [
            _spawn([sys.executable, "-m", "uvicorn", "--factory", "agentplatform.api.app:build_api",
                    "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                   env, logs / f"api-{name}.log")
            for name, port in zip("ab", ports, strict=True)
        ]  # fmt: skip
        workers = [
            _spawn([sys.executable, "-m", "agentplatform.cli", "worker", "--concurrency", "3",
                    "--grace", "5"], env, logs / f"worker-{n}.log")
            for n in (1, 2)
        ]  # fmt: skip
        try:
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            for process, url, name in zip(apis, urls, "ab", strict=True):
                _ready(process, logs / f"api-{name}.log", lambda url=url: _answers(url))
            for n, process in enumerate(workers, start=1):
                log = logs / f"worker-{n}.log"
                _ready(process, log, lambda log=log: "consuming" in log.read_text())
            yield Cluster(prefix, urls, workers, logs)
        finally:
            for process in [*apis, *workers]:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in [*apis, *workers]:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


@pytest.fixture(scope="module")
def llms() -> Iterator[dict[str, FakeLLMServer]]:
    servers = {
        "fast": FakeLLMServer(latency_ms=50),
        "chatty": FakeLLMServer(latency_ms=2500, chunk_delay_ms=40),  # streams word by word
        "medium": FakeLLMServer(latency_ms=8000),
        "slow": FakeLLMServer(latency_ms=60_000),
    }
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop(wait=False)


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


async def agents(llms: dict[str, FakeLLMServer], *names: str) -> tuple[dict[str, str], list[str]]:
    user, _ = await owner()
    ids = []
    for name in names:
        provider = await make_provider(user.workspace_id, llms[name].url, name=name)
        ids.append(str(await make_agent(user.workspace_id, name, provider_id=provider)))
    return auth_headers(user), ids


async def start(client: httpx.AsyncClient, agent_id: str, text: str) -> str:
    created = await client.post("/api/runs", json={"agent_id": agent_id, "input": text})
    assert created.status_code == 202, created.text
    return str(created.json()["id"])


async def sse(client: httpx.AsyncClient, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event of a run's stream, until the stream ends."""
    events: list[tuple[str, dict[str, Any]]] = []
    kind = ""
    async with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
    return events


async def finished(client: httpx.AsyncClient, run_ids: list[str], timeout: float = 30) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while True:
        runs = {rid: (await client.get(f"/api/runs/{rid}")).json() for rid in run_ids}
        if all(run["status"] in TERMINAL for run in runs.values()):
            return runs
        assert time.monotonic() < deadline, {rid: r["status"] for rid, r in runs.items()}
        await asyncio.sleep(0.1)


async def rows(run_ids: list[str]) -> tuple[dict[str, Run], dict[str, list[int]]]:
    ids = [uuid.UUID(rid) for rid in run_ids]
    async with session_scope() as session:
        found = (await session.exec(select(Run).where(col(Run.id).in_(ids)))).all()
        query = select(RunStep.run_id, RunStep.seq).where(col(RunStep.run_id).in_(ids))
        steps = (await session.exec(query.order_by(col(RunStep.seq)))).all()
    seqs: dict[str, list[int]] = {rid: [] for rid in run_ids}
    for run_id, seq in steps:
        seqs[str(run_id)].append(seq)
    return {str(run.id): run for run in found}, seqs


async def test_runs_execute_once_and_stream_and_cancel_from_another_replica(
    cluster: Cluster, llms: dict[str, FakeLLMServer]
) -> None:
    headers, (fast, chatty, slow) = await agents(llms, "fast", "chatty", "slow")
    a_url, b_url = cluster.apis
    producer = RedisDispatcher(REDIS_URL, cluster.prefix, consume=False)
    async with (
        httpx.AsyncClient(base_url=a_url, headers=headers, timeout=30) as a,
        httpx.AsyncClient(base_url=b_url, headers=headers, timeout=30) as b,
    ):
        chatty_id = await start(a, chatty, "tell me a short story please")
        chatty_events = asyncio.create_task(sse(b, chatty_id))
        fast_ids = [await start(a, fast, f"fast task {i}") for i in range(8)]
        for run_id in fast_ids:  # at-least-once delivery: a duplicate message per run
            await producer.submit(uuid.UUID(run_id))
        slow_id = await start(a, slow, "never answered")
        slow_events = asyncio.create_task(sse(b, slow_id))
        deadline = time.monotonic() + 30
        while not llms["slow"].requests:  # the worker is waiting on the provider
            assert time.monotonic() < deadline, cluster.tail()
            await asyncio.sleep(0.05)
        cancel = await b.post(f"/api/runs/{slow_id}/cancel")
        assert cancel.status_code == 202, cancel.text
        runs = await finished(b, [chatty_id, *fast_ids, slow_id])
        streamed, cancelled_stream = await chatty_events, await slow_events
    await producer.stop()

    outcome = {rid: (runs[rid]["status"], runs[rid]["error"]) for rid in fast_ids}
    assert outcome == dict.fromkeys(fast_ids, ("succeeded", None)), cluster.tail()
    assert runs[chatty_id]["status"] == "succeeded"
    assert (runs[slow_id]["status"], runs[slow_id]["stopped_reason"]) == ("cancelled", "cancelled")
    # Exactly once: one provider call per run, one claim each, no step written twice.
    fast_calls = Counter(r["messages"][-1]["content"] for r in llms["fast"].requests)
    assert fast_calls == Counter({f"fast task {i}": 1 for i in range(8)})
    assert len(llms["chatty"].requests) == 1 and len(llms["slow"].requests) == 1
    found, seqs = await rows([chatty_id, *fast_ids, slow_id])
    workers = {run.worker_id for run in found.values()}
    assert all(cluster.worker_of(w) for w in workers if w)
    for run_id in [chatty_id, *fast_ids]:
        assert seqs[run_id] == [1], seqs[run_id]
    assert seqs[slow_id] == [1] and found[slow_id].error is None  # the "cancelled" step
    # Replica B streamed what a worker did: live text over Redis, the step, the outcome.
    kinds = [kind for kind, _ in streamed]
    assert "delta" in kinds, kinds
    assert [k for k in kinds if k != "delta"] == ["step", "status"]
    text = "".join(data["text"] for kind, data in streamed if kind == "delta")
    assert text and "echo: tell me a short story please".endswith(text)  # B joined in time
    assert streamed[-1][1]["status"] == "succeeded"
    assert cancelled_stream[-1][0] == "status" and cancelled_stream[-1][1]["status"] == "cancelled"


async def test_a_killed_worker_fails_its_own_runs_and_no_others(
    cluster: Cluster, llms: dict[str, FakeLLMServer]
) -> None:
    headers, (medium,) = await agents(llms, "medium")
    async with httpx.AsyncClient(base_url=cluster.apis[0], headers=headers, timeout=30) as a:
        run_ids = [await start(a, medium, f"medium task {i}") for i in range(6)]
        deadline = time.monotonic() + 30
        while len(llms["medium"].requests) < 6:  # every run is waiting on its provider call
            assert time.monotonic() < deadline, cluster.tail()
            await asyncio.sleep(0.05)
        found, _ = await rows(run_ids)
        assert {run.status for run in found.values()} == {"running"}
        by_worker: dict[str, list[str]] = {}  # three per worker: each runs three at most
        for run_id, run in found.items():
            by_worker.setdefault(str(run.worker_id), []).append(run_id)
        assert sorted(len(ids) for ids in by_worker.values()) == [3, 3], by_worker
        victim_id, survivor_id = sorted(by_worker)
        victim = cluster.worker_of(victim_id)
        victim.kill()  # SIGKILL mid-run: no clean-up, its leases simply stop being renewed
        victim.wait(5)
        runs = await finished(a, run_ids, timeout=30)
    found, seqs = await rows(run_ids)
    for run_id in by_worker[victim_id]:
        assert (runs[run_id]["status"], runs[run_id]["stopped_reason"]) == (
            "failed",
            "interrupted",
        )
        assert "interrupted" in runs[run_id]["error"]
    for run_id in by_worker[survivor_id]:
        assert runs[run_id]["status"] == "succeeded", runs[run_id]
        assert found[run_id].worker_id == survivor_id and seqs[run_id] == [1]
    assert Counter(r["messages"][-1]["content"] for r in llms["medium"].requests) == Counter(
        {f"medium task {i}": 1 for i in range(6)}
    )
