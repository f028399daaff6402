"""deployment/smoke_test.py against the real API, served by uvicorn on the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deployment" / "smoke_test.py"


@pytest.fixture(scope="module")
def base_url(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API served by uvicorn on a free port (runs execute in it: no Redis)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path_factory.mktemp("smoke-server") / "uvicorn.log"
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "agentplatform.api.app:build_api",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the API exited:\n{log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the API did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def _smoke(url: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMOKE_")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), url], env={**clean, **env},
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


async def test_it_signs_in_and_runs_the_offline_model_against_the_real_api(base_url: str) -> None:
    user = await make_user(password=PASSWORD)
    for attempt in range(2):  # the second run reuses the agent the first one created
        done = _smoke(base_url, SMOKE_EMAIL=user.email, SMOKE_PASSWORD=PASSWORD)
        assert done.returncode == 0, f"attempt {attempt}:\n{done.stdout}{done.stderr}"
        assert "succeeded: " in done.stdout and "42" in done.stdout
    headers = {"Authorization": f"Bearer {_token(base_url, user.email)}"}
    agents = httpx.get(f"{base_url}/api/agents", headers=headers, timeout=10).json()["data"]
    assert [a["name"] for a in agents] == ["Deploy smoke test"]
    runs = httpx.get(f"{base_url}/api/runs", headers=headers, timeout=10).json()["data"]
    assert len(runs) == 2 and {r["status"] for r in runs} == {"succeeded"}


def _token(url: str, email: str) -> str:
    login = httpx.post(
        f"{url}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    token: str = login.json()["access_token"]
    return token


async def test_wrong_credentials_fail_with_the_reason_and_without_the_password(
    base_url: str,
) -> None:
    user = await make_user(password=PASSWORD)
    done = _smoke(base_url, SMOKE_EMAIL=user.email, SMOKE_PASSWORD="not-the-password-123")
    assert done.returncode == 1
    assert "FAILED: POST /api/auth/login: 401" in done.stdout
    assert "not-the-password-123" not in done.stdout + done.stderr


def test_missing_credentials_or_an_unreachable_app_say_what_to_fix(base_url: str) -> None:
    done = _smoke(base_url)
    assert done.returncode == 1 and "set SMOKE_EMAIL and SMOKE_PASSWORD, or SMOKE_API_KEY" in (
        done.stdout
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    done = _smoke(f"http://127.0.0.1:{closed}", SMOKE_EMAIL="a@example.com", SMOKE_PASSWORD="x")
    assert done.returncode == 1 and "GET /api/health: no answer" in done.stdout
    assert _smoke("ftp://example.com").returncode == 1
