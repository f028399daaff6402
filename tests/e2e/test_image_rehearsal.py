"""The image rehearsed: the Dockerfile's layout, installed from the wheel, run read-only.

The wheel is built and installed from the lock into a fresh virtualenv under a temporary
prefix, the frontend is built there, the runtime is laid out by the Dockerfile's own COPY
lines, the code is made read-only, and `deployment/entrypoint.sh` starts it as an unprivileged
user with ENVIRONMENT=production: on SQLite, then on PostgreSQL + Redis with a separate
`agentplatform worker`. Each answers ready, serves the UI, signs the seeded owner in (API and
browser), runs the offline model and writes a backup. Slow (a few minutes): a fresh install
and a frontend build.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.deployment import rehearsal_support as rehearsal
from tests.e2e.conftest import _wait_healthy, free_port, screenshot
from tests.services import ensure_redis, scratch_postgres_database
from tests.services.redis_support import redis_namespace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def layout() -> Iterator[rehearsal.Layout]:
    prefix = Path(tempfile.mkdtemp(prefix="agentplatform-image-", dir="/tmp"))
    built = rehearsal.build(prefix, free_port())
    yield built
    rehearsal.remove(built)


class Started:
    """The entrypoint (and workers) started from the layout, stopped as `docker stop` would."""

    def __init__(self, layout: rehearsal.Layout, name: str, env: dict[str, str]) -> None:
        self.layout, self.env = layout, env
        self.log = Path(env["DATA_DIR"]) / f"{name}.log"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.url = f"http://127.0.0.1:{layout.port}"

    def spawn(self, command: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as sink:
            process = subprocess.Popen(
                rehearsal.as_app_user(command), cwd=cwd, env=self.env, stdout=sink,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def entrypoint(self) -> None:
        app = self.layout.path("/app")
        process = self.spawn(["bash", str(app / "deployment" / "entrypoint.sh")], app, self.log)
        _wait_healthy(self.url, process, self.log)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def owner(self) -> tuple[str, str]:
        text = self.log.read_text()
        email = re.search(r"email:\s+(\S+)", text)
        password = re.search(r"password:\s+(\S+)", text)
        assert email and password, f"the first start prints the demo owner:\n{text[-2000:]}"
        return email.group(1), password.group(1)


def _exercise(app: Started, page: Page, shot: str) -> None:
    """Ready, UI, sign-in (API and browser), one offline run, one backup."""
    ready = httpx.get(f"{app.url}/api/ready", timeout=10)
    assert ready.status_code == 200, ready.text
    html = httpx.get(app.url, timeout=10)
    assert html.status_code == 200 and "<title>AgentPlatform</title>" in html.text

    email, password = app.owner()
    signed_in = httpx.post(
        f"{app.url}/api/auth/login", json={"email": email, "password": password}, timeout=30
    )
    assert signed_in.status_code == 200, signed_in.text
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    agent = httpx.post(
        f"{app.url}/api/agents",
        json={"name": "Rehearsal", "instructions": "Answer briefly.", "tools": ["calculator"]},
        headers=headers,
        timeout=30,
    )
    assert agent.status_code == 201, agent.text
    run = httpx.post(
        f"{app.url}/api/runs",
        json={"agent_id": agent.json()["id"], "input": "What is 6 * 7?"},
        headers=headers,
        timeout=30,
    )
    assert run.status_code == 202, run.text
    deadline = time.monotonic() + 120
    while (state := httpx.get(f"{app.url}/api/runs/{run.json()['id']}", headers=headers)).json()[
        "status"
    ] in {"queued", "running"}:
        assert time.monotonic() < deadline, f"the run did not finish: {state.text}"
        time.sleep(0.5)
    assert state.json()["status"] == "succeeded", state.text
    assert "42" in state.json()["output"]

    page.goto(f"{app.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Skip for now").click()  # the owner's first sign-in
    expect(page).not_to_have_url(re.compile(r"/(login|onboarding)"), timeout=30_000)
    page.goto(f"{app.url}/runs")
    expect(page.get_by_role("heading", name="Runs")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Rehearsal").first).to_be_visible(timeout=30_000)
    screenshot(page, shot)

    backup = subprocess.run(
        rehearsal.as_app_user(["bash", str(app.layout.path("/app/deployment/backup.sh"))]),
        env=app.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert backup.returncode == 0, backup.stderr
    assert list((Path(app.env["DATA_DIR"]) / "backups").glob("*.sha256")), backup.stdout


def test_the_image_layout_runs_read_only_on_sqlite(layout: rehearsal.Layout, page: Page) -> None:
    data = rehearsal.app_user_dir(layout.prefix / "data-sqlite")
    env = layout.runtime_env(data, SECRET_KEY=secrets.token_urlsafe(48))
    app = Started(layout, "sqlite", env)
    try:
        app.entrypoint()
        _exercise(app, page, "image-rehearsal-sqlite")
        assert "Demo owner account created" in app.log.read_text()
        assert not any(layout.path("/app").rglob("*.db")), "nothing is written into /app"
    finally:
        app.stop()


def test_the_image_layout_runs_on_postgres_and_redis_with_a_worker(
    layout: rehearsal.Layout, page: Page
) -> None:
    ensure_redis()
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_postgres_database("rehearsal"))
        prefix = stack.enter_context(redis_namespace())
        data = rehearsal.app_user_dir(layout.prefix / "data-postgres")
        env = layout.runtime_env(
            data,
            SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE_URL=database_url,
            REDIS_URL="redis://127.0.0.1:6379/0",
            REDIS_PREFIX=prefix,
            GRANIAN_WORKERS="1",
        )
        app = Started(layout, "postgres", env)
        stack.callback(app.stop)
        app.entrypoint()
        # The run is executed by a worker started from another directory (the app does not
        # execute queued runs unless RUN_IN_APP_WORKER is set).
        app.spawn([str(layout.bin / "agentplatform"), "worker"], data, data / "worker.log")
        _exercise(app, page, "image-rehearsal-postgres")
        assert "redis" in httpx.get(f"{app.url}/api/ready").json()["checks"]


def test_the_installed_command_works_from_any_directory(
    layout: rehearsal.Layout, tmp_path: Path
) -> None:
    env = {"PATH": f"{layout.bin}:/usr/bin:/bin", "HOME": str(tmp_path)}
    version = subprocess.run(
        [str(layout.bin / "agentplatform"), "--version"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert re.fullmatch(r"agentplatform \d+\.\d+\.\d+\S*", version.stdout.strip())
    # No DATA_DIR: an installed wheel keeps its data in the user's data directory, not in
    # site-packages and not in the working directory.
    migrated = subprocess.run(
        [str(layout.bin / "agentplatform"), "migrate"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / ".local" / "share" / "agentplatform" / "agentplatform.db").is_file()
    assert not list(layout.path("/opt/venv").rglob("*.db"))
