"""PostgreSQL never runs out of connections: the budget holds with five backend processes.

Reproduces finding 4 of issue 15: with Redis, Reflex started 5-8 backend processes, each
with a pool of 10 + 20, against PostgreSQL's 100 connections, and of 200 concurrent run
submissions 51 answered 500 "too many clients" (47 of 150 live-event watchers too).

Here the app is served the way production serves it (`deployment/entrypoint.sh`: wait for
the database, migrate, `agentplatform serve`, ENVIRONMENT=production) with WEB_WORKERS=5 on
Redis, plus one `agentplatform worker`, against a PostgreSQL cluster of this test's own
whose `max_connections` is 40 (37 for ordinary roles), so that the budget is tight:
(1 x 5 + 1) x (3 + 2) + 5 = 35. 200 concurrent submissions and 150 SSE watchers must all
succeed, and the server must never see more connections than the budget allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.fakes.fake_openai import FakeLLMServer
from tests.services import REDIS_URL
from tests.services.pg_cluster import scratch_app_database, scratch_postgres_cluster
from tests.services.redis_support import redis_namespace

pytestmark = [
    pytest.mark.rebuilds_frontend,
    pytest.mark.postgres,
    pytest.mark.skipif(
        os.environ.get("TEST_DB", "sqlite") != "postgresql",
        reason="PostgreSQL + Redis + several processes: runs in the PostgreSQL pass",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 300  # hang guards for a busy 2-core machine, not performance claims
SETTLE_TIMEOUT_S = 300
MAX_CONNECTIONS = 40
WEB_WORKERS, RUN_WORKERS, POOL, OVERFLOW, RESERVED = 5, 1, 3, 2, 5
SUBMISSIONS, WATCHERS = 200, 150
BUDGET = (WEB_WORKERS + RUN_WORKERS) * (POOL + OVERFLOW)  # connections the processes may hold
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass
class ConnectionWatch:
    """Samples the server's client connections of the app's role from a superuser slot."""

    admin_url: str
    role: str
    peak: int = 0
    by_process: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> ConnectionWatch:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _sample(self) -> None:
        query = (
            "SELECT application_name, count(*) FROM pg_stat_activity "
            "WHERE usename = %s AND backend_type = 'client backend' GROUP BY 1"
        )
        with psycopg.connect(libpq(self.admin_url), autocommit=True) as connection:
            while not self._stop.wait(0.05):
                rows = connection.execute(query, (self.role,)).fetchall()
                self.peak = max(self.peak, sum(count for _, count in rows))
                for name, count in rows:
                    self.by_process[name] = max(self.by_process[name], count)


@dataclass
class Stack:
    url: str
    admin_url: str
    llm: FakeLLMServer
    logs: Path
    app: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]

    def tail(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.logs.glob("*.log"))
        )


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _wait(process: subprocess.Popen[bytes], log: Path, ready: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{log.name} exited early:\n{log.read_text()[-4000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{log.name} did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def production_env(database_url: str, prefix: str, work: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "GRANIAN_", "REFLEX_REDIS")) and key != "LOG_FORMAT"
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        ENVIRONMENT="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=prefix,
        DATA_DIR=str(work / "data"),
        LOG_FORMAT="console",
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("budget")
    with contextlib.ExitStack() as cleanup:
        admin_url = cleanup.enter_context(scratch_postgres_cluster(max_connections=MAX_CONNECTIONS))
        database_url = scratch_app_database(admin_url)
        prefix = cleanup.enter_context(redis_namespace())
        llm = FakeLLMServer(latency_ms=1500).start()
        cleanup.callback(llm.stop, wait=False)
        port = free_port()
        env = production_env(
            database_url, prefix, work,
            PORT=str(port), WEB_WORKERS=str(WEB_WORKERS), RUN_WORKERS=str(RUN_WORKERS),
            DB_POOL_SIZE=str(POOL), DB_MAX_OVERFLOW=str(OVERFLOW),
            DB_RESERVED_CONNECTIONS=str(RESERVED), DB_POOL_TIMEOUT="60",
        )  # fmt: skip
        app = _spawn(["bash", str(ROOT / "deployment" / "entrypoint.sh")], env, work / "app.log")
        cleanup.callback(_stop, app)
        url = f"http://127.0.0.1:{port}"
        _wait(app, work / "app.log", lambda: _ready(url))
        worker_log = work / "worker.log"
        worker_env = {**env, "LOG_LEVEL": "INFO"}  # it says "consuming" when it is ready
        worker = _spawn(
            [sys.executable, "-m", "agentplatform.cli", "worker"], worker_env, worker_log
        )
        cleanup.callback(_stop, worker)
        _wait(worker, worker_log, lambda: "consuming" in worker_log.read_text())
        yield Stack(url, admin_url, llm, work, app, worker)


async def _sign_up(client: httpx.AsyncClient, llm: FakeLLMServer) -> tuple[dict[str, str], str]:
    email = f"budget-{secrets.token_hex(4)}@example.com"
    body = {"email": email, "password": "budget-test-pass-42", "full_name": "Budget"}
    registered = await client.post("/api/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    provider = await client.post(
        "/api/providers",
        json={"name": "fake", "kind": "openai", "base_url": llm.url, "models": ["fake-model"]},
        headers=headers,
    )
    assert provider.status_code == 201, provider.text
    agent = await client.post(
        "/api/agents",
        json={"name": "steady", "provider_id": provider.json()["id"], "model": "fake-model"},
        headers=headers,
    )
    assert agent.status_code == 201, agent.text
    return headers, str(agent.json()["id"])


async def _watch(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str
) -> tuple[int, str | None]:
    """The stream's status code and the final status it announced (None if none, "cut" if
    the stream broke off)."""
    try:
        async with client.stream("GET", f"/api/runs/{run_id}/events", headers=headers) as stream:
            if stream.status_code != 200:
                await stream.aread()
                return stream.status_code, None
            kind, final = "", None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "status":
                    final = json.loads(line[6:])["status"]
            return 200, final
    except httpx.HTTPError:
        return 200, "cut"


async def test_200_submissions_and_150_watchers_on_5_processes_get_no_500(stack: Stack) -> None:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=stack.url, timeout=300, limits=limits) as client:
        headers, agent_id = await _sign_up(client, stack.llm)
        watched: list[tuple[int, str | None]] = []

        async def submit_then_watch(i: int) -> tuple[int, str | None]:
            body = {"agent_id": agent_id, "input": f"task {i}"}
            response = await client.post("/api/runs", json=body, headers=headers)
            if response.status_code != 202:
                return response.status_code, None
            run_id = str(response.json()["id"])
            if i < WATCHERS:
                watched.append(await _watch(client, headers, run_id))
            return 202, run_id

        with ConnectionWatch(stack.admin_url, "agentplatform") as connections:
            submitted = await asyncio.gather(*(submit_then_watch(i) for i in range(SUBMISSIONS)))
            statuses = Counter(code for code, _ in submitted)
            run_ids = [run_id for code, run_id in submitted if code == 202 and run_id]
            finals = await _settle(client, headers, run_ids)

    assert statuses == {202: SUBMISSIONS}, (statuses, stack.tail())
    assert Counter(watched) == {(200, "succeeded"): WATCHERS}, (Counter(watched), stack.tail())
    assert Counter(finals[run_id] for run_id in run_ids) == {"succeeded": SUBMISSIONS}
    # The budget held: never more connections than the processes' pools together, none above
    # its own pool, and the five backend processes and the worker all took part.
    assert connections.peak <= BUDGET, (connections.peak, connections.by_process)
    assert max(connections.by_process.values()) <= POOL + OVERFLOW, connections.by_process
    assert len(connections.by_process) == WEB_WORKERS + RUN_WORKERS, connections.by_process
    assert f"agentplatform-{stack.worker.pid}" in connections.by_process
    logs = "".join(log.read_text(errors="replace") for log in stack.logs.glob("*.log"))
    assert "too many clients" not in logs and "Traceback" not in logs, stack.tail()


async def _settle(
    client: httpx.AsyncClient, headers: dict[str, str], run_ids: list[str]
) -> dict[str, str]:
    """Every run's final status, once all have finished."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        page = await client.get("/api/runs", params={"limit": 200}, headers=headers)
        assert page.status_code == 200, page.text
        finals = {run["id"]: run["status"] for run in page.json()["data"]}
        if all(finals.get(run_id) in TERMINAL for run_id in run_ids):
            return finals
        assert time.monotonic() < deadline, Counter(finals.values())
        await asyncio.sleep(1)
