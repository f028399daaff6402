"""Stored XSS → account takeover (issue 15, finding 1), attacked the three ways it was seen:
an operator's run input echoed by the offline model, a page an agent fetches with `http_get`,
and a model's reply. The victim is the workspace owner reading the run in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import ServedApp, screenshot
from tests.fakes.fake_openai import FakeLLMServer
from tests.security.browser.attack_support import Victim, workspace_under_attack
from tests.security.browser.hostile_site import HostileSite, payloads

pytestmark = pytest.mark.browser


def test_a_run_input_echoed_by_the_offline_model_stays_text(
    served_app: ServedApp, page: Page, hostile_site: HostileSite
) -> None:
    workspace = workspace_under_attack(served_app.url)
    agent = workspace.create_agent("Echo")
    runs = {
        variant: workspace.run(agent, payload)
        for variant, payload in payloads(hostile_site.url).items()
    }
    victim = Victim(page, workspace)
    for variant, run_id in runs.items():
        message = victim.open_run(run_id)
        victim.assert_inert(message, [variant], hostile_site)
    screenshot(page, "xss-run-input-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "xss-run-input-dark")


def test_a_hostile_page_fetched_with_http_get_stays_text(
    served_app: ServedApp, page: Page, hostile_site: HostileSite
) -> None:
    workspace = workspace_under_attack(served_app.url)
    agent = workspace.create_agent("Reader", tools=["http_get"])
    runs = {
        variant: workspace.run(agent, f"Summarise {hostile_site.url}/page/{variant}")
        for variant in payloads(hostile_site.url)
    }
    fetched = [hit for hit in hostile_site.hits if hit.startswith("/page/")]
    assert len(fetched) >= len(runs)  # the agent did fetch the hostile pages
    victim = Victim(page, workspace)
    for variant, run_id in runs.items():
        message = victim.open_run(run_id)
        victim.assert_inert(message, [variant], hostile_site)
    screenshot(page, "xss-http-get")


def test_a_hostile_model_reply_stays_text_and_keeps_its_formatting(
    served_app: ServedApp, page: Page, hostile_site: HostileSite, fake_openai: FakeLLMServer
) -> None:
    workspace = workspace_under_attack(served_app.url)
    provider = workspace.owner_api_post(
        "/api/providers",
        {"name": "Hostile model", "kind": "openai", "base_url": fake_openai.url,
         "models": ["fake-model"]},
    )  # fmt: skip
    agent = workspace.create_agent("Chatty", provider_id=provider["id"], model="fake-model")
    variants = payloads(hostile_site.url)
    reply = "## Answer\n\nHere is **everything** you asked for:\n\n- one\n- two\n\n" + "\n\n".join(
        variants.values()
    )
    fake_openai.reply(reply)
    run_id = workspace.run(agent, "Tell me something.")
    victim = Victim(page, workspace)
    message = victim.open_run(run_id)
    victim.assert_inert(message, list(variants), hostile_site)
    content = message.locator(".untrusted-content")
    assert content.locator("h2").inner_text() == "Answer"  # markdown formatting is kept
    assert content.locator("strong").inner_text() == "everything"
    assert content.locator("li").count() == 2
    screenshot(page, "xss-model-reply-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "xss-model-reply-dark")
