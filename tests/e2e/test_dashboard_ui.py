"""The dashboard in the browser: empty at first, then it counts a run, in the persona's order."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServedApp, screenshot
from tests.e2e.test_runs_ui import TIMEOUT, api_token, sign_up

SECTIONS = ("Runs per day", "Recent failures", "Cost per day", "Top agents", "Top teams",
            "Prompt versions")  # fmt: skip


def _run_and_wait(url: str, headers: dict[str, str], agent_id: str, text: str) -> dict:
    created = httpx.post(
        f"{url}/api/runs", headers=headers, json={"agent_id": agent_id, "input": text}
    )
    assert created.status_code == 202, created.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = httpx.get(f"{url}/api/runs/{created.json()['id']}", headers=headers).json()
        if run["status"] not in ("queued", "running"):
            return dict(run)
        time.sleep(0.3)
    raise AssertionError("the run did not finish")


def test_dashboard_is_empty_then_counts_a_run(served_app: ServedApp, page: Page) -> None:
    email = sign_up(page, served_app.url, persona="Operator")
    page.goto(f"{served_app.url}/dashboard")
    expect(page.get_by_text("No runs yet")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="Run something in the playground").click()
    expect(page).to_have_url(f"{served_app.url}/playground", timeout=TIMEOUT)

    headers = api_token(served_app.url, email)
    agent = httpx.get(f"{served_app.url}/api/agents", headers=headers).json()["data"][0]
    run = _run_and_wait(served_app.url, headers, agent["id"], "What is 6*7?")
    assert run["status"] == "succeeded"

    page.goto(f"{served_app.url}/dashboard")
    cards = page.get_by_role("group", name="Headline numbers")
    expect(cards).to_contain_text("Runs", timeout=TIMEOUT)
    expect(cards).to_contain_text("1 succeeded")
    expect(cards).to_contain_text("100%")
    # An operator reads runs and failures first.
    expect(page.get_by_role("region", name="Runs per day")).to_be_visible()
    names = page.get_by_role("region").evaluate_all("els => els.map(e => e.ariaLabel)")
    sections = [n for n in names if n in SECTIONS]
    assert sections[:2] == ["Runs per day", "Recent failures"], sections
    assert set(sections) == set(SECTIONS)
    expect(page.get_by_text("No failures in this period.")).to_be_visible()
    agents = page.get_by_role("region", name="Top agents").get_by_role("table")
    expect(agents).to_contain_text("Math helper")
    expect(agents.get_by_role("row").nth(1)).to_contain_text("100%")
    expect(page.get_by_role("img", name="Runs per day, by outcome").locator("svg")).to_have_count(1)
    screenshot(page, "dashboard-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "dashboard-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_role("radio", name="30d").click()
    expect(cards).to_contain_text("1 succeeded", timeout=TIMEOUT)
    page.get_by_role("radio", name="24h").click()
    expect(cards).to_contain_text("1 succeeded", timeout=TIMEOUT)
