"""The real image: built from the Dockerfile as it is, with Podman, and started.

No Docker engine runs here; Podman from Debian's packages builds and runs OCI images, with a
local stand-in for the base image (tests/deployment/podman_support.py). The container runs with
a read-only root filesystem (only /data and /tmp are writable), on SQLite with a volume, and on
PostgreSQL + Redis on the host network beside a worker container. Each answers ready, serves the
UI, signs the seeded owner in, runs the offline model, and writes a backup from inside.
Slow: the first build takes about 5 minutes; later ones reuse the cached layers.
"""

from __future__ import annotations

import re
import secrets
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.conftest import TEST_DB
from tests.deployment.dockerfile_support import ROOT
from tests.deployment.podman_support import ensure_base_image, ensure_podman, podman
from tests.services import ensure_redis, scratch_postgres_database
from tests.services.redis_support import redis_namespace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        TEST_DB != "sqlite", reason="runs once, in the SQLite pass (it brings its own PostgreSQL)"
    ),
]

IMAGE = "localhost/agentplatform:ci"
# The frontend bakes the port the browser calls back, so the test image is built for one port.
PORT = 38417
START_TIMEOUT_S = 240


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    ensure_podman()
    ensure_base_image()
    podman(
        "build", "--network=host", "--pull=never", "--build-arg", f"PORT={PORT}",
        "-t", IMAGE, str(ROOT), timeout=1800,
    )  # fmt: skip
    yield IMAGE
    podman("image", "prune", "-f", check=False)  # the layers an earlier build left unnamed


class Container:
    def __init__(self, name: str) -> None:
        self.name = name

    def logs(self) -> str:
        done = podman("logs", self.name, check=False)
        return f"{done.stdout}{done.stderr}"[-4000:]

    def running(self) -> bool:
        done = podman("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return done.stdout.strip() == "true"

    def remove(self) -> None:
        podman("stop", "--time", "20", self.name, check=False)
        podman("rm", "-f", self.name, check=False)


def _run(stack: ExitStack, image: str, *options: str, command: tuple[str, ...] = ()) -> Container:
    container = Container(f"agentplatform-ci-{uuid.uuid4().hex[:8]}")
    stack.callback(container.remove)
    podman(
        "run", "-d", "--name", container.name, "--network=host", "--read-only",
        "--tmpfs", "/tmp", *options, image, *command,
    )  # fmt: skip
    return container


def _volume(stack: ExitStack) -> str:
    """A named volume for /data: it starts as the image's /data (owned by the app user)."""
    name = f"agentplatform-ci-data-{uuid.uuid4().hex[:8]}"
    podman("volume", "create", name)
    stack.callback(podman, "volume", "rm", "-f", name, check=False)
    return name


def _wait_ready(url: str, container: Container) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not container.running():
            pytest.fail(f"the container stopped:\n{container.logs()}")
        try:
            if httpx.get(f"{url}/api/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"/api/ready did not answer 200 in {START_TIMEOUT_S}s:\n{container.logs()}")


def _exercise(url: str, app: Container) -> None:
    assert "<title>AgentPlatform</title>" in httpx.get(url, timeout=10).text
    logs = app.logs()
    email, password = re.search(r"email:\s+(\S+)", logs), re.search(r"password:\s+(\S+)", logs)
    assert email and password, f"the first start prints the demo owner:\n{logs}"
    login = httpx.post(
        f"{url}/api/auth/login",
        json={"email": email.group(1), "password": password.group(1)},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    agent = httpx.post(
        f"{url}/api/agents", json={"name": "In the image", "tools": ["calculator"]},
        headers=headers, timeout=30,
    )  # fmt: skip
    assert agent.status_code == 201, agent.text
    run = httpx.post(
        f"{url}/api/runs", json={"agent_id": agent.json()["id"], "input": "What is 6 * 7?"},
        headers=headers, timeout=30,
    )  # fmt: skip
    assert run.status_code == 202, run.text
    deadline = time.monotonic() + 120
    while True:
        state = httpx.get(f"{url}/api/runs/{run.json()['id']}", headers=headers, timeout=10)
        if state.json()["status"] not in {"queued", "running"}:
            break
        assert time.monotonic() < deadline, f"the run did not finish: {state.text}"
        time.sleep(0.5)
    assert state.json()["status"] == "succeeded", state.text
    assert "42" in state.json()["output"]

    backup = podman("exec", app.name, "/app/deployment/backup.sh", check=False)
    assert backup.returncode == 0, f"{backup.stdout}{backup.stderr}"
    assert "backup written: /data/backups/" in backup.stdout
    listed = podman("exec", app.name, "ls", "/data/backups").stdout.split()
    assert any(name.endswith(".sha256") for name in listed), listed


def test_the_image_runs_read_only_on_sqlite(image: str) -> None:
    assert _port_free(PORT), f"port {PORT} is taken: the test image serves on it"
    with ExitStack() as stack:
        volume = _volume(stack)
        app = _run(
            stack, image, "-v", f"{volume}:/data", "-e", f"SECRET_KEY={secrets.token_urlsafe(48)}"
        )
        url = f"http://127.0.0.1:{PORT}"
        _wait_ready(url, app)
        _exercise(url, app)
        user = podman("exec", app.name, "id", "-u").stdout.strip()
        assert user == "10001", "the app runs as the image's unprivileged user"
        write = podman("exec", app.name, "touch", "/app/x", check=False)
        assert write.returncode != 0, "the code and the frontend are read-only"


def test_the_image_runs_on_postgres_and_redis_with_a_worker_container(image: str) -> None:
    assert _port_free(PORT), f"port {PORT} is taken: the test image serves on it"
    ensure_redis()
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_postgres_database("podman"))
        prefix = stack.enter_context(redis_namespace())
        settings = [
            "-e", f"SECRET_KEY={secrets.token_urlsafe(48)}",
            "-e", f"DATABASE_URL={database_url}",
            "-e", "REDIS_URL=redis://127.0.0.1:6379/0",
            "-e", f"REDIS_PREFIX={prefix}",
            "-e", "GRANIAN_WORKERS=2",
        ]  # fmt: skip
        app = _run(stack, image, "-v", f"{_volume(stack)}:/data", *settings)
        url = f"http://127.0.0.1:{PORT}"
        _wait_ready(url, app)
        assert httpx.get(f"{url}/api/ready").json()["checks"] == {"database": "ok", "redis": "ok"}
        worker = _run(
            stack, image, *settings, "--entrypoint", "tini",
            command=("--", "agentplatform", "worker", "--concurrency", "2"),
        )  # fmt: skip
        # The app does not execute queued runs (RUN_IN_APP_WORKER is off): the worker does.
        _exercise(url, app)
        assert worker.running(), worker.logs()
