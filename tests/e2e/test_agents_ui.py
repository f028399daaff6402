"""The Agents pages in a browser: grid, editor (drag-and-drop tools), try-it panel, roles."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import SCREENSHOTS, ServedApp, screenshot

PASSWORD = "correct-horse-42!"
AGENT_URL = re.compile(r"/agents/[0-9a-f-]{36}$")


def _email(kind: str) -> str:
    return f"agents-{kind}-{uuid.uuid4().hex[:10]}@example.com"


def _skip_onboarding(page: Page) -> None:
    page.get_by_role("button", name="Skip for now").click()
    expect(page).not_to_have_url(re.compile(r"/onboarding"), timeout=15_000)


def _sign_up(page: Page, url: str) -> None:
    page.goto(f"{url}/register")
    page.get_by_label("Full name").fill("Ada Builder")
    page.get_by_label("Email").fill(_email("ui"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    _skip_onboarding(page)


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    _skip_onboarding(page)


def _api_user(url: str, name: str) -> tuple[str, dict[str, str]]:
    """A registered account (its email) and bearer headers for the REST API."""
    email = _email(name)
    response = httpx.post(
        f"{url}/api/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": name.title()},
    )
    assert response.status_code == 201, response.text
    return email, {"Authorization": f"Bearer {response.json()['access_token']}"}


def _api(method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
    response = httpx.request(method, url, headers=headers, timeout=15, **kwargs)
    assert response.is_success, response.text
    return response.json() if response.content else None


def _viewport_shot(page: Page, name: str) -> None:
    """The view as a customer sees it at 1280x800 (the shell's sticky parts stay put)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _drag(page: Page, source: Locator, target: Locator) -> None:
    """Drag with real pointer moves (dnd-kit's pointer sensor needs several)."""
    page.locator("#agent-tool-board").evaluate("el => el.scrollIntoView({block: 'center'})")
    s, t = source.bounding_box(), target.bounding_box()
    assert s and t
    sx, sy = s["x"] + s["width"] / 2, s["y"] + s["height"] / 2
    tx, ty = t["x"] + t["width"] / 2, t["y"] + min(t["height"] / 2, 90)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 6, sy + 6, steps=2)
    page.mouse.move(tx, ty, steps=12)
    page.mouse.move(tx, ty + 1)
    page.wait_for_timeout(100)
    page.mouse.up()


def _field_error(page: Page, field_id: str) -> Locator:
    return page.locator(f"#{field_id}-error")


def test_create_with_dragged_tool_find_edit_and_try(served_app: ServedApp, page: Page) -> None:
    _sign_up(page, served_app.url)
    page.goto(f"{served_app.url}/agents")
    expect(page.get_by_role("heading", name="No agents yet")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", name="New agent", level=1)).to_be_visible()

    # Bad input: the messages appear at the fields they concern.
    page.get_by_label("Temperature").fill("5")
    page.get_by_role("button", name="Create agent").click()
    expect(_field_error(page, "agent-name")).to_have_text("Give the agent a name.")
    expect(_field_error(page, "agent-temperature")).to_have_text(
        "Temperature must be a number from 0 to 2."
    )
    _viewport_shot(page, "agent-editor-errors")
    page.get_by_label("Name", exact=True).fill("Math helper")
    page.get_by_label("Temperature").fill("0.2")
    page.get_by_label("Description").fill("Works out arithmetic with the calculator tool.")
    page.get_by_label("Tags").fill("math, demo")
    page.get_by_label("System instructions").fill("You are a careful math helper.")
    expect(_field_error(page, "agent-name")).to_have_count(0)

    # The calculator joins the agent's tools by drag-and-drop.
    palette = page.get_by_role("region", name="Available tools", exact=True)
    tools = page.get_by_role("region", name="Tools", exact=True)
    _drag(page, palette.get_by_label("calculator", exact=True), tools)
    expect(tools.get_by_label("calculator", exact=True)).to_be_visible()
    expect(tools.get_by_role("button", name="Remove calculator")).to_be_visible()
    added = palette.locator('[data-dnd-item="calculator"]')
    expect(added).to_have_attribute("data-disabled", "true")  # the state has it, not just the UI
    _viewport_shot(page, "agent-editor-new")

    page.get_by_role("button", name="Create agent").click()
    expect(page).to_have_url(AGENT_URL, timeout=15_000)
    expect(page.get_by_role("heading", name="Math helper", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Tools", exact=True)).to_contain_text("calculator")
    page.evaluate("window.scrollTo(0, 0)")
    _viewport_shot(page, "agent-editor")
    page.emulate_media(color_scheme="dark")
    _viewport_shot(page, "agent-editor-dark")
    page.emulate_media(color_scheme="light")

    # Try it: the offline model calls the calculator and the answer streams in.
    page.get_by_label("Message").fill("What is 12*7?")
    page.get_by_role("button", name="Run").click()
    answer = page.get_by_role("status", name="Answer")
    expect(answer).to_contain_text("84", timeout=20_000)
    expect(page.get_by_text("succeeded", exact=True)).to_be_visible()
    expect(page.get_by_text("Tool call · calculator")).to_be_visible()
    expect(page.get_by_role("link", name="Open full run")).to_have_attribute(
        "href", re.compile(r"/runs/[0-9a-f-]{36}")
    )
    _viewport_shot(page, "agent-try")

    # Edit and save: the new version is kept.
    page.get_by_label("Description").fill("Arithmetic, step by step, with the calculator.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Agent saved.")).to_be_visible(timeout=10_000)

    # The grid: the card with its chip; search and tag filter find it.
    page.get_by_role("link", name="Agents", exact=True).first.click()
    card = page.get_by_role("link", name="Open agent Math helper")
    expect(card).to_be_visible(timeout=15_000)
    expect(card).to_contain_text("calculator")
    expect(card).to_contain_text("Offline demo model")
    expect(card).to_contain_text("Arithmetic, step by step")
    screenshot(page, "agents-grid")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "agents-grid-dark")
    page.emulate_media(color_scheme="light")

    search = page.get_by_label("Search by name")
    search.fill("no such agent")
    expect(page.get_by_role("heading", name="No agents match")).to_be_visible()
    search.fill("math")
    expect(card).to_be_visible()
    page.get_by_label("Tag", exact=True).click()
    page.get_by_role("option", name="demo").click()
    expect(card).to_be_visible()
    card.click()
    expect(page).to_have_url(AGENT_URL)
    expect(page.get_by_label("Description")).to_have_value(
        "Arithmetic, step by step, with the calculator."
    )


def test_conflicts_show_where_they_belong(served_app: ServedApp, page: Page) -> None:
    url = served_app.url
    email, headers = _api_user(url, "builder")
    taken = _api("POST", f"{url}/api/agents", headers, json={"name": "Taken", "tools": []})
    _api(
        "POST",
        f"{url}/api/teams",
        headers,
        json={"name": "Support crew", "strategy": "sequential", "member_ids": [taken["id"]]},
    )
    _sign_in(page, url, email)

    # A duplicate name is reported at the name field.
    page.goto(f"{url}/agents/new")
    page.get_by_label("Name", exact=True).fill("Taken")
    page.get_by_role("button", name="Create agent").click()
    expect(_field_error(page, "agent-name")).to_contain_text("already exists")

    # Someone else saves first: a clear message, and Reload shows their version.
    page.goto(f"{url}/agents/{taken['id']}")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Taken", timeout=15_000)
    _api("PATCH", f"{url}/api/agents/{taken['id']}", headers, json={"description": "Theirs"})
    page.get_by_label("Description").fill("Mine")
    page.get_by_role("button", name="Save").click()
    stale = page.get_by_role("alert").filter(has_text="Someone else changed this agent")
    expect(stale).to_be_visible(timeout=10_000)
    stale.get_by_role("button", name="Reload").click()
    expect(page.get_by_label("Description")).to_have_value("Theirs")
    expect(stale).to_have_count(0)

    # An agent a team uses is not deleted, and the dialog says which team.
    page.get_by_role("button", name="Delete agent").click()
    dialog = page.get_by_role("alertdialog")
    dialog.get_by_role("button", name="Delete agent").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Support crew")
    _viewport_shot(page, "agent-delete-conflict")


def test_viewer_sees_the_agent_read_only(served_app: ServedApp, page: Page) -> None:
    url = served_app.url
    _, owner = _api_user(url, "owner")
    workspace = _api("GET", f"{url}/api/workspaces", owner)["data"][0]
    agent = _api(
        "POST",
        f"{url}/api/agents",
        owner,
        json={"name": "Shared helper", "tools": ["calculator"], "tags": ["shared"]},
    )
    viewer_email, _ = _api_user(url, "viewer")
    _api(
        "POST",
        f"{url}/api/workspaces/{workspace['id']}/members",
        owner,
        json={"email": viewer_email, "role": "viewer"},
    )
    _sign_in(page, url, viewer_email)
    page.get_by_label("Workspace").click()
    page.get_by_role("option", name=workspace["name"]).click()
    expect(page.get_by_text("viewer", exact=True)).to_be_visible(timeout=15_000)

    page.goto(f"{url}/agents")
    card = page.get_by_role("link", name="Open agent Shared helper")
    expect(card).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="New agent")).to_have_count(0)
    card.click()
    expect(page).to_have_url(re.compile(f"/agents/{agent['id']}$"))
    expect(page.get_by_role("heading", name="Shared helper", level=1)).to_be_visible()
    expect(page.get_by_text("Read only")).to_be_visible()
    expect(page.get_by_text("calculator")).to_be_visible()
    for name in ("Save", "Delete agent", "Run"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)
    expect(page.get_by_role("region", name="Available tools")).to_have_count(0)
    screenshot(page, "agent-readonly")

    page.goto(f"{url}/agents/new")
    expect(page.get_by_role("heading", name="You cannot create agents")).to_be_visible(
        timeout=15_000
    )
