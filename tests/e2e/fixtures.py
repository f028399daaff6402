"""The served app and the browser, for every browser test (e2e/, security/browser/).

Loaded once for the whole session from the root conftest (`pytest_plugins`), so one served
app is shared by every directory that asks for it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakes.sentry_ingest import FakeIngest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 300
# A page origin the served app trusts with credentials (CORS_ALLOWED_ORIGINS), for CORS tests.
TRUSTED_ORIGIN = "http://trusted.example"
# The one request the policy blocks on purpose: ReDoc's footer logo from its CDN.
CSP_ALLOWED = "https://cdn.redoc.ly/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServedApp:
    url: str
    output: Path
    demo_email: str
    demo_password: str


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-3000:]}")
        try:
            healthy = httpx.get(f"{url}/api/health", timeout=2).status_code == 200
            if healthy and httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not become healthy:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def sentry_ingest() -> Iterator[FakeIngest]:
    """Where the served app (backend and browser) reports errors: a fake Sentry on 127.0.0.1."""
    ingest = FakeIngest()
    yield ingest
    ingest.stop()


@pytest.fixture(scope="session")
def served_app(
    tmp_path_factory: pytest.TempPathFactory, sentry_ingest: FakeIngest
) -> Iterator[ServedApp]:
    """`agentplatform serve` (migrate, seed, build, serve) on a free port with its own data,
    reporting errors to the fake Sentry ingest."""
    work = tmp_path_factory.mktemp("served")
    port = free_port()
    log = work / "serve.log"
    env = {
        **os.environ,
        "PORT": str(port),
        "DATA_DIR": str(work / "data"),
        "DATABASE_URL": f"sqlite:///{work / 'data' / 'app.db'}",
        "LOG_FORMAT": "console",
        "SENTRY_DSN": sentry_ingest.dsn(),
        "CORS_ALLOWED_ORIGINS": TRUSTED_ORIGIN,
        "HTTP_TOOL_ALLOWED_HOSTS": "127.0.0.1",  # pages served by tests (tests/security)
    }
    # `-m` from ROOT imports this checkout's package, so the build happens in this checkout.
    command = [sys.executable, "-m", "agentplatform.cli", "serve"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://localhost:{port}"
    try:
        _wait_healthy(url, process, log)
        text = log.read_text()
        email = re.search(r"email:\s+(\S+)", text)
        password = re.search(r"password:\s+(\S+)", text)
        assert email and password, f"the first start prints the demo owner:\n{text[-2000:]}"
        yield ServedApp(url, log, email.group(1), password.group(1))
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context's page. Whatever the test does, the app's Content-Security-Policy
    must not have to block anything it ships (an inline script, an eval, a foreign request)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    violations: list[str] = []
    context.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text and CSP_ALLOWED not in message.text
            else None
        ),
    )
    yield context.new_page()
    context.close()
    assert violations == [], "the app broke its own Content-Security-Policy"


def screenshot(page: object, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
