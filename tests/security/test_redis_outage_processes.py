"""Redis outages with real processes: the app starts, serves and queues without Redis.

An API process (uvicorn, as the app serves its API) and an `agentplatform worker`, both
started while their Redis (a proxy of ours in front of the shared one) is down: they start,
the API answers ready (degraded), sign-in and sign-up work, runs are accepted at once while
Redis is down and while it is black-holed, and they execute soon after Redis returns. And
Reflex, which exits at start when its Redis does not answer, is started without it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.security.redis_proxy import RedisProxy, redis_proxy
from tests.services.redis_support import redis_namespace
from tests.services.run_support import make_agent

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 300  # the lost-run sweep runs once per lease: far beyond every bound below
QUICK_S = 5.0  # a generous bound for an answer while Redis is away (it took ~15 s)
RESUME_S = 30.0  # a generous bound for queued runs to start once Redis is back
START_S = 150.0  # start-up on a busy machine


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class App:
    url: str
    proxy: RedisProxy
    logs: Path

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs.glob("*.log"))


def _wait(process: subprocess.Popen[bytes], log: Path, ready: object) -> None:
    deadline = time.monotonic() + START_S
    while not ready():  # type: ignore[operator]
        if process.poll() is not None:
            raise AssertionError(f"{log.name} exited at start:\n{log.read_text()[-3000:]}")
        assert time.monotonic() < deadline, f"{log.name} did not start:\n{log.read_text()}"
        time.sleep(0.2)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """An API process and a worker, started while Redis is down."""
    logs = tmp_path_factory.mktemp("outage")
    with redis_proxy() as proxy, redis_namespace() as prefix:
        proxy.down()
        env = {**os.environ, "REDIS_URL": proxy.url, "REDIS_PREFIX": prefix,
               "RUN_LEASE_SECONDS": str(LEASE_S), "LOG_LEVEL": "INFO"}  # fmt: skip
        port = free_port()
        commands = {
            "api": [sys.executable, "-m", "uvicorn", "--factory", "agentplatform.api.app:build_api",
                    "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            "worker": [sys.executable, "-m", "agentplatform.cli", "worker", "--concurrency", "4"],
        }  # fmt: skip
        processes = {}
        for name, command in commands.items():
            with (logs / f"{name}.log").open("wb") as out:
                processes[name] = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(processes["api"], logs / "api.log", lambda: _healthy(url))
            worker_log = logs / "worker.log"
            _wait(processes["worker"], worker_log, lambda: "consuming" in worker_log.read_text())
            yield App(url, proxy, logs)
        finally:
            for process in processes.values():
                process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        os.environ.get("TEST_DB", "sqlite") != "postgresql",
        reason="an API process, a worker and the tests on one database: the PostgreSQL pass",
    ),
]


def quick(response: httpx.Response, started: float, status: int) -> httpx.Response:
    assert response.status_code == status, response.text
    assert time.monotonic() - started < QUICK_S
    return response


async def test_the_app_starts_signs_in_and_queues_without_redis(app: App) -> None:
    async with httpx.AsyncClient(base_url=app.url, timeout=60) as client:
        ready = await client.get("/api/ready")
        assert ready.status_code == 200, ready.text  # degraded, not out of service
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["redis"].startswith("unavailable")

        email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
        account = {"email": email, "password": "a-long-enough-passphrase-7"}
        started = time.monotonic()
        registered = quick(await client.post("/api/auth/register", json=account), started, 201)
        workspace_id = uuid.UUID(registered.json()["user"]["default_workspace_id"])
        started = time.monotonic()
        tokens = quick(await client.post("/api/auth/login", json=account), started, 200).json()
        client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        agent = str(await make_agent(workspace_id, "outage-agent"))

        async def submit() -> str:
            started = time.monotonic()
            body = {"agent_id": agent, "input": "hi"}
            return str(quick(await client.post("/api/runs", json=body), started, 202).json()["id"])

        down = [await submit() for _ in range(2)]
        app.proxy.black_hole()
        started = time.monotonic()
        quick(await client.post("/api/auth/login", json=account), started, 200)
        black_holed = [await submit() for _ in range(2)]
        await asyncio.sleep(1)
        for run_id in down + black_holed:
            assert (await client.get(f"/api/runs/{run_id}")).json()["status"] == "queued"

        app.proxy.forward()
        deadline = time.monotonic() + RESUME_S
        pending = set(down + black_holed)
        while pending:
            for run_id in list(pending):
                run = (await client.get(f"/api/runs/{run_id}")).json()
                if run["status"] not in ("queued", "running"):
                    assert run["status"] == "succeeded", run
                    pending.discard(run_id)
            assert time.monotonic() < deadline, f"still waiting: {pending}\n{app.tail()}"
            await asyncio.sleep(0.2)
    logs = app.tail()
    assert "Redis unavailable for the run queue" in logs
    assert "Traceback" not in logs
