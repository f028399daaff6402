"""The app as `make run` serves it: one port for UI, API and docs; a demo owner on first start."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServedApp, screenshot


def test_home_page_is_the_apps_own(served_app: ServedApp, page: Page) -> None:
    page.goto(served_app.url)
    expect(page).to_have_title("AgentPlatform")
    expect(page.get_by_role("heading", name="Build, run and operate AI agents")).to_be_visible()
    expect(page.get_by_role("button", name="Toggle light and dark mode")).to_be_visible()
    screenshot(page, "home-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "home-dark")


def test_api_and_docs_share_the_port(served_app: ServedApp, page: Page) -> None:
    health = httpx.get(f"{served_app.url}/api/health", headers={"X-Request-ID": "e2e-1"})
    assert health.status_code == 200
    assert health.headers["x-request-id"] == "e2e-1"
    assert httpx.get(f"{served_app.url}/api/ready").json()["status"] == "ready"
    page.goto(f"{served_app.url}/api/docs")
    expect(page.get_by_text("AgentPlatform API").first).to_be_visible(timeout=15_000)
    screenshot(page, "api-docs")


def test_demo_owner_is_printed_once(served_app: ServedApp) -> None:
    assert served_app.demo_email == "owner@example.com"
    assert len(served_app.demo_password) >= 12
    assert served_app.output.read_text().count("Demo owner account created") == 1


def test_log_lines_carry_the_request_id(served_app: ServedApp) -> None:
    httpx.get(f"{served_app.url}/api/health", headers={"X-Request-ID": "trace-me-42"})

    def tagged() -> list[str]:
        text = served_app.output.read_text()
        return [line for line in text.splitlines() if "trace-me-42" in line]

    # The access line is written after the response is sent: give the server a moment.
    deadline = time.monotonic() + 10
    while not any("GET /api/health 200" in line for line in tagged()):
        assert time.monotonic() < deadline, f"no access line with the request id: {tagged()}"
        time.sleep(0.05)
