"""Runs in the browser: the playground streams a run, its page shows the trace, the history
lists and filters it, and a slow run can be cancelled."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, ServedApp, free_port, screenshot

PASSWORD = "correct-horse-42"
TIMEOUT = 30_000


def sign_up(page: Page, url: str, *, persona: str = "Builder", starter: bool = True) -> str:
    """Register a new account in the browser and finish onboarding (offline model)."""
    email = f"runs-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(f"{url}/register")
    page.get_by_label("Full name", exact=True).fill("Rita Runner")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/onboarding"), timeout=TIMEOUT)
    page.get_by_label(persona, exact=True).click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    finish = "Create agent and finish" if starter else "Finish without an agent"
    page.get_by_role("button", name=finish).click()
    expect(page).not_to_have_url(re.compile(r"/onboarding"), timeout=TIMEOUT)
    return email


def api_token(url: str, email: str) -> dict[str, str]:
    response = httpx.post(f"{url}/api/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_playground_streams_the_starter_run_and_its_page_shows_the_trace(
    served_app: ServedApp, page: Page
) -> None:
    sign_up(page, served_app.url)
    page.goto(f"{served_app.url}/playground")
    expect(page.get_by_role("combobox", name="Agent")).to_contain_text("Math helper")
    page.get_by_label("Input", exact=True).fill("What is 6*7?")
    page.get_by_role("button", name="Run", exact=True).click()

    trace = page.get_by_role("log", name="Run trace")
    expect(trace.locator("[data-kind=tool_call]")).to_contain_text("calculator", timeout=TIMEOUT)
    expect(trace.locator("[data-kind=tool_result]")).to_contain_text("42")
    expect(page.get_by_text("succeeded", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(trace.locator("[data-kind=message]").last).to_contain_text("42")
    screenshot(page, "playground-done")

    page.get_by_role("link", name="Open run page").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"), timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Math helper")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("succeeded", exact=True)).to_be_visible()
    trace = page.get_by_role("log", name="Run trace")
    call = trace.locator("[data-kind=tool_call]")
    expect(call).to_contain_text("calculator")
    expect(call.get_by_label("Tool arguments")).to_contain_text('"expression"')
    expect(trace.locator("[data-kind=tool_result]").get_by_label("Tool result")).to_contain_text(
        "42"
    )
    totals = page.get_by_role("group", name="Run totals")
    expect(totals).to_contain_text("Tokens in")
    expect(totals).not_to_contain_text("…")
    expect(page.get_by_text("What is 6*7?").first).to_be_visible()
    screenshot(page, "run-trace-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "run-trace-dark")
    page.emulate_media(color_scheme="light")

    # Run again: a new run of the same agent and input, opened at once.
    first = page.url
    page.get_by_role("button", name="Run again").click()
    expect(page).not_to_have_url(first, timeout=TIMEOUT)
    expect(page.get_by_text("succeeded", exact=True)).to_be_visible(timeout=TIMEOUT)

    page.goto(f"{served_app.url}/runs")
    runs = page.get_by_role("table")
    expect(runs.get_by_role("row")).to_have_count(3, timeout=TIMEOUT)  # header + 2 runs
    expect(runs).to_contain_text("Math helper")
    expect(runs).to_contain_text("What is 6*7?")
    screenshot(page, "runs-table")

    page.get_by_label("Status", exact=True).click()
    page.get_by_role("option", name="succeeded").click()
    expect(runs.get_by_role("row")).to_have_count(3)
    page.get_by_label("Status", exact=True).click()
    page.get_by_role("option", name="failed").click()
    expect(page.get_by_text("No runs match these filters")).to_be_visible()
    page.get_by_role("button", name="Clear filters").first.click()
    expect(runs.get_by_role("row")).to_have_count(3)
    runs.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"), timeout=TIMEOUT)


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the fake LLM server exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("the fake LLM server did not start")


@pytest.fixture
def slow_llm() -> Iterator[str]:
    """An OpenAI-compatible fake that takes 5 s to answer anything."""
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.fake_openai", "--port", str(port),
               "--latency-ms", "5000"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        _wait_port(port, process)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_slow_run_streams_live_and_can_be_cancelled(
    served_app: ServedApp, page: Page, slow_llm: str
) -> None:
    email = sign_up(page, served_app.url, persona="Operator", starter=False)
    headers = api_token(served_app.url, email)
    provider = httpx.post(
        f"{served_app.url}/api/providers",
        headers=headers,
        json={"name": "Slow fake", "kind": "openai", "base_url": slow_llm,
              "models": ["fake-model"]},
    )  # fmt: skip
    assert provider.status_code == 201, provider.text
    agent = httpx.post(
        f"{served_app.url}/api/agents",
        headers=headers,
        json={"name": "Slow agent", "provider_id": provider.json()["id"], "model": "fake-model",
              "instructions": "Answer about {{ topic }}."},
    )  # fmt: skip
    assert agent.status_code == 201, agent.text

    page.goto(f"{served_app.url}/playground?agent={agent.json()['id']}")
    expect(page.get_by_role("combobox", name="Agent")).to_contain_text("Slow agent")
    page.get_by_label("topic", exact=True).fill("tides")  # the instructions' variable
    page.get_by_label("Input", exact=True).fill("Explain tides in one line.")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("running", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Working…")).to_be_visible()
    screenshot(page, "playground-live")

    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("cancelled", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.get_by_role("log", name="Run trace")).to_contain_text("Run cancelled on request.")

    runs = httpx.get(f"{served_app.url}/api/runs", headers=headers).json()
    assert [r["status"] for r in runs["data"]] == ["cancelled"]
    assert runs["data"][0]["variables"] == {"topic": "tides"}
