"""A new user's whole journey in one browser session: sign up, onboard, a prompt with two
versions promoted to production, two agents (a tool dragged in), a team built and ordered by
dragging, its run streamed and traced, the dashboard counting it, and signing out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServedApp, screenshot
from tests.e2e.test_agents_ui import _drag as drag_tool
from tests.e2e.test_prompts_ui import V1, V2, _create_prompt
from tests.e2e.test_runs_ui import TIMEOUT, sign_up
from tests.e2e.test_teams_ui import _drag as drag_member
from tests.e2e.test_teams_ui import _member_order

CALCULATOR_AGENT = "Journey calculator"
WRITER_AGENT = "Journey writer"
AGENT_URL = re.compile(r"/agents/[0-9a-f-]{36}$")
TEAM_URL = re.compile(r"/teams/[0-9a-f-]{36}$")
RUN_URL = re.compile(r"/runs/[0-9a-f-]{36}$")


def _create_agent(page: Page, url: str, name: str, instructions: str, *, tool: bool) -> None:
    page.goto(f"{url}/agents/new")
    expect(page.get_by_role("heading", name="New agent", level=1)).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Description").fill(f"{name}, made on the journey.")
    page.get_by_label("System instructions").fill(instructions)
    if tool:
        palette = page.get_by_role("region", name="Available tools", exact=True)
        tools = page.get_by_role("region", name="Tools", exact=True)
        drag_tool(page, palette.get_by_label("calculator", exact=True), tools)
        expect(tools.get_by_label("calculator", exact=True)).to_be_visible()
        expect(palette.locator('[data-dnd-item="calculator"]')).to_have_attribute(
            "data-disabled", "true"
        )
        screenshot(page, "journey-agent-tool-dragged")
    page.get_by_role("button", name="Create agent").click()
    expect(page).to_have_url(AGENT_URL, timeout=TIMEOUT)
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    if tool:
        expect(page.get_by_role("region", name="Tools", exact=True)).to_contain_text("calculator")


def test_a_new_users_whole_journey(served_app: ServedApp, page: Page) -> None:
    url = served_app.url

    # Register and onboard: a persona, the offline model, no starter agent.
    sign_up(page, url, persona="Builder", starter=False)
    screenshot(page, "journey-onboarded")

    # A prompt with two versions; v2 goes to production.
    page.goto(f"{url}/prompts")
    expect(page.get_by_role("heading", name="No prompts yet")).to_be_visible(timeout=TIMEOUT)
    _create_prompt(page, "journey-triage", "journey", V1)
    page.get_by_role("tab", name="New version").click()
    page.get_by_label("Template", exact=True).fill(V2)
    page.get_by_label("Commit message", exact=True).fill("Urgency levels")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("listitem", name="Version 2")).to_contain_text("Urgency levels")
    page.get_by_role("button", name="Promote v2 to production").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Promote").click()
    expect(page.get_by_text("Promoted v2 to production.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("production points at v2")).to_be_visible()
    screenshot(page, "journey-prompt-promoted")

    # Two agents; the calculator joins the first by drag-and-drop.
    _create_agent(
        page, url, CALCULATOR_AGENT, "Work out the arithmetic with the calculator.", tool=True
    )
    _create_agent(page, url, WRITER_AGENT, "Write the answer up in one sentence.", tool=False)

    # A team: both agents dragged in, then reordered by dragging.
    page.goto(f"{url}/teams/new")
    expect(page.get_by_role("heading", name="New team", level=1)).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Name", exact=True).fill("Journey crew")
    page.get_by_label("Description").fill("Calculates, then writes it up.")
    palette = page.get_by_role("region", name="Agents", exact=True)
    members = page.get_by_role("region", name="Members", exact=True)
    expect(palette.get_by_label(WRITER_AGENT, exact=True)).to_be_visible(timeout=TIMEOUT)
    page.locator("#team-members-board").evaluate("e => e.scrollIntoView({block: 'center'})")
    drag_member(page, palette.get_by_label(WRITER_AGENT, exact=True), members)
    expect(members.get_by_label(WRITER_AGENT, exact=True)).to_be_visible()
    drag_member(page, palette.get_by_label(CALCULATOR_AGENT, exact=True), members)
    expect(members.get_by_label(CALCULATOR_AGENT, exact=True)).to_be_visible()
    assert _member_order(page) == [WRITER_AGENT, CALCULATOR_AGENT]
    # The calculator onto the top half of the writer, so it goes first.
    drag_member(
        page,
        members.get_by_label(CALCULATOR_AGENT, exact=True),
        members.get_by_label(WRITER_AGENT, exact=True),
        dy=0.2,
    )
    expect(members.locator("[data-dnd-item]").first).to_contain_text(CALCULATOR_AGENT)
    assert _member_order(page) == [CALCULATOR_AGENT, WRITER_AGENT]
    page.get_by_role("radio", name="Sequential").click()
    expect(page.get_by_role("radio", name="Sequential")).to_be_checked()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "journey-team-built")
    page.get_by_role("button", name="Create team").click()
    expect(page).to_have_url(TEAM_URL, timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Journey crew", level=1)).to_be_visible()
    assert _member_order(page) == [CALCULATOR_AGENT, WRITER_AGENT]

    # Run it from the team page; the run page streams the steps until it succeeds.
    page.get_by_label("Task").fill("What is 12*7? Then say it in one sentence.")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page).to_have_url(RUN_URL, timeout=TIMEOUT)
    run_url = page.url
    expect(page.get_by_role("heading", name="Journey crew", level=1)).to_be_visible(timeout=TIMEOUT)
    trace = page.get_by_role("log", name="Run trace")
    expect(trace.locator(".run-step").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("succeeded", exact=True)).to_be_visible(timeout=TIMEOUT)
    screenshot(page, "journey-run-succeeded")

    # The trace (on a fresh load of the run page) has both agents' steps, in order.
    page.goto(run_url)
    trace = page.get_by_role("log", name="Run trace")
    steps = trace.locator(".run-step")
    expect(steps.filter(has_text=CALCULATOR_AGENT).first).to_be_visible(timeout=TIMEOUT)
    expect(steps.filter(has_text=WRITER_AGENT).first).to_be_visible()
    # The dragged order holds: the calculator (and its tool call) first, the writer last.
    expect(steps.first).to_contain_text(CALCULATOR_AGENT)
    expect(steps.last).to_contain_text(WRITER_AGENT)
    expect(trace.locator("[data-kind=tool_call]").first).to_contain_text(CALCULATOR_AGENT)
    expect(trace.locator("[data-kind=tool_result]").first).to_contain_text("84")
    per_agent = page.get_by_role("table").filter(has_text="Turns")
    expect(per_agent).to_contain_text(CALCULATOR_AGENT)
    expect(per_agent).to_contain_text(WRITER_AGENT)
    expect(page.get_by_text("succeeded", exact=True)).to_be_visible()
    expect(page.get_by_text("Team run")).to_be_visible()
    screenshot(page, "journey-trace")

    # The dashboard counts the run.
    page.goto(f"{url}/dashboard")
    cards = page.get_by_role("group", name="Headline numbers")
    expect(cards).to_contain_text("Runs", timeout=TIMEOUT)
    expect(cards.get_by_role("heading").first).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(cards).to_contain_text("succeeded")
    screenshot(page, "journey-dashboard")

    # Sign out from the account menu, back at the login page.
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"), timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    screenshot(page, "journey-signed-out")
