"""The Prompts pages in a browser: repository, versions, labels, diff and render preview."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServedApp, screenshot

V1 = "You are a support triage assistant for {{ product }}.\nClassify the ticket.\nBe brief."
V2 = (
    "You are a support triage assistant for {{ product }}.\n"
    "Classify the ticket as low, normal or urgent.\n"
    "Reply in {{ language }}.\n"
    "Be brief."
)


def _sign_up(page: Page, url: str) -> None:
    page.goto(f"{url}/register")
    page.get_by_label("Full name").fill("Priya Prompt")
    page.get_by_label("Email").fill(f"prompts-{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password").fill("correct-horse-42!")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Skip for now").click()
    expect(page).not_to_have_url(re.compile(r"/onboarding"), timeout=15_000)


def _create_prompt(page: Page, name: str, tags: str, template: str) -> None:
    page.get_by_role("button", name="New prompt").first.click()
    dialog = page.get_by_role("dialog", name="New prompt")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Description", exact=True).fill(f"{name}: sorts incoming tickets.")
    dialog.get_by_label("Tags", exact=True).fill(tags)
    dialog.get_by_label("First version template", exact=True).fill(template)
    dialog.get_by_role("button", name="Create prompt").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible(timeout=15_000)
    expect(page.get_by_role("listitem", name="Version 1")).to_be_visible()


def test_repository_creates_and_filters_prompts(served_app: ServedApp, page: Page) -> None:
    _sign_up(page, served_app.url)
    page.goto(f"{served_app.url}/prompts")
    expect(page.get_by_role("heading", name="No prompts yet")).to_be_visible(timeout=15_000)

    _create_prompt(page, "support-triage", "support, triage", V1)
    page.get_by_role("link", name="All prompts").click()
    _create_prompt(page, "release-notes", "writing", "Summarise {{ changes }} for users.")
    page.get_by_role("link", name="All prompts").click()

    cards = page.get_by_role("article")
    expect(cards).to_have_count(2, timeout=15_000)
    triage = page.get_by_role("article", name="support-triage")
    expect(triage.get_by_text("latest v1")).to_be_visible()
    expect(triage.get_by_role("group", name="Tags")).to_contain_text("triage")
    screenshot(page, "prompts-repo")

    page.get_by_label("Search", exact=True).fill("release")
    expect(cards).to_have_count(1)
    expect(page.get_by_role("article", name="release-notes")).to_be_visible()
    page.get_by_label("Search", exact=True).fill("")
    expect(cards).to_have_count(2)

    page.get_by_label("Tag", exact=True).click()
    page.get_by_role("option", name="triage").click()
    expect(cards).to_have_count(1)
    expect(triage).to_be_visible()

    page.get_by_role("button", name="Clear filters").click()
    expect(cards).to_have_count(2)
    triage.get_by_role("link", name="support-triage").click()
    expect(page.get_by_role("heading", name="support-triage", level=1)).to_be_visible()


def test_versions_labels_diff_and_render(served_app: ServedApp, page: Page) -> None:
    _sign_up(page, served_app.url)
    page.goto(f"{served_app.url}/prompts")
    _create_prompt(page, "support-triage", "support", V1)

    # The editor saves v2; variables are detected while typing.
    page.get_by_role("tab", name="New version").click()
    page.get_by_label("Template", exact=True).fill(V2)
    chips = page.get_by_role("list", name="Detected variables")
    expect(chips.get_by_role("listitem")).to_have_text(["language", "product"])
    page.get_by_label("Commit message", exact=True).fill("Urgency levels and reply language")
    page.get_by_label("Config (JSON)", exact=True).fill("{not json")
    expect(page.get_by_text(re.compile(r"Not valid JSON"))).to_be_visible()
    page.get_by_label("Config (JSON)", exact=True).fill('{"temperature": 0.2}')
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    v2 = page.get_by_role("listitem", name="Version 2")
    expect(v2).to_contain_text("Urgency levels and reply language")
    expect(v2).to_contain_text("latest")
    expect(page.get_by_label("latest points at v2")).to_be_visible()

    # Promote v2 to production, then roll production back to v1 (each confirmed).
    page.get_by_role("button", name="Promote v2 to production").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Promote").click()
    expect(page.get_by_text("Promoted v2 to production.")).to_be_visible()
    expect(page.get_by_label("production points at v2")).to_be_visible()
    page.get_by_role("button", name="Roll back production to v1").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("back from v2 to v1")
    dialog.get_by_role("button", name="Roll back").click()
    expect(page.get_by_text("Rolled back production to v1.")).to_be_visible()
    expect(page.get_by_label("production points at v1")).to_be_visible()
    expect(page.get_by_role("listitem", name="Version 1")).to_contain_text("production")
    screenshot(page, "prompt-detail-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "prompt-detail-dark")
    page.emulate_media(color_scheme="light")

    # v1 ↔ v2 side by side: the removed line left, its replacement right, config changes.
    page.get_by_role("button", name="Compare v2 with the previous").click()
    table = page.get_by_role("table", name="Diff of v1 and v2")
    removed = table.locator("[data-side=old][data-op=removed]")
    added = table.locator("[data-side=new][data-op=added]")
    expect(removed).to_have_text(["Classify the ticket."])
    expect(added).to_have_text(
        ["Classify the ticket as low, normal or urgent.", "Reply in {{ language }}."]
    )
    expect(table.locator("[data-side=old][data-op=unchanged]")).to_have_count(2)
    expect(page.get_by_role("region", name="Config changes")).to_contain_text("temperature")
    expect(page.get_by_text("Rolled back production to v1.")).to_be_hidden(timeout=15_000)
    screenshot(page, "prompt-diff")

    # Render: every variable has a labelled input; a blank one is named as missing.
    page.get_by_role("tab", name="Render preview").click()
    page.get_by_label("product", exact=True).fill("AcmeCRM")
    page.get_by_role("button", name="Render").click()
    expect(page.get_by_role("alert")).to_have_text("Missing variable: language.")
    page.get_by_label("language", exact=True).fill("French")
    page.get_by_role("button", name="Render").click()
    rendered = page.get_by_label("Rendered text")
    expect(rendered).to_contain_text("assistant for AcmeCRM.")
    expect(rendered).to_contain_text("Reply in French.")
