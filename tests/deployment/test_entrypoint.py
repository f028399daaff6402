"""The container's start script, run here as the container would: PostgreSQL, Redis, production.

No browser is involved, so this runs in the PostgreSQL pass too. It builds the frontend, so it
takes tens of seconds.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.services import ensure_redis, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 300
STOP_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database on the test server, dropped afterwards."""
    with scratch_postgres_database("entrypoint") as url:
        yield url


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> httpx.Response:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the entrypoint exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            response = httpx.get(f"{url}/api/ready", timeout=5)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"/api/ready did not answer 200 in {START_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """SIGTERM to the group, as `docker stop` (via tini -g) does; True when every process left."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        process.poll()  # reap the leader so that it does not linger as a zombie
        if not _group_alive(process.pid):
            return True
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return False


def _alembic_revision(database_url: str) -> str:
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert row is not None
    return str(row[0])


def test_entrypoint_migrates_and_serves_on_postgres_and_redis(
    tmp_path: Path, fresh_database: str
) -> None:
    from agentplatform.services.backups import _script

    ensure_redis()
    port = free_port()
    log = tmp_path / "entrypoint.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"LOG_FORMAT", "DATABASE_URL", "REDIS_URL", "SENTRY_DSN"}
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        ENVIRONMENT="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=fresh_database,
        REDIS_URL=f"redis://127.0.0.1:6379/{random.randint(8, 15)}",
        PORT=str(port),
        DATA_DIR=str(tmp_path / "data"),
        GRANIAN_WORKERS="2",  # with Redis, Reflex would start 2*CPU+1 workers
        METRICS_TOKEN="scrape-token-0123456789",  # production serves /metrics only with one
    )
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["bash", str(ROOT / "deployment" / "entrypoint.sh")], cwd=tmp_path, env=env,
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        ready = _wait_ready(url, process, log)
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
        assert _alembic_revision(fresh_database) == _script().get_current_head()
        health = httpx.get(f"{url}/api/health", headers={"X-Request-ID": "entrypoint-1"})
        assert health.headers["x-request-id"] == "entrypoint-1"
        assert httpx.get(f"{url}/metrics", timeout=5).status_code == 401
        scrape = {"Authorization": "Bearer scrape-token-0123456789"}
        assert httpx.get(f"{url}/metrics", headers=scrape, timeout=5).status_code == 200
    finally:
        stopped = _stop(process)
    assert stopped, f"some process ignored SIGTERM:\n{log.read_text()[-3000:]}"

    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    access = [json.loads(line) for line in lines if "entrypoint-1" in line]
    assert any(entry.get("message") == "GET /api/health 200" for entry in access), (
        "production logs are JSON lines carrying the request id"
    )
