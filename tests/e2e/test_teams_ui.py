"""Teams in the browser: build a team by dragging agents, order it, save, run; list; roles."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import SCREENSHOTS, ServedApp, screenshot

PASSWORD = "correct-horse-42"


def _account(app: ServedApp, name: str = "Tess Teams") -> tuple[str, dict[str, str]]:
    """A new onboarded owner (registered, then signed in over the API) and its bearer header."""
    email = f"teams-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": name}
    httpx.post(f"{app.url}/api/auth/register", json=body, timeout=30).raise_for_status()
    login = httpx.post(
        f"{app.url}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = httpx.patch(f"{app.url}/api/users/me", json={"onboarded": True}, headers=headers)
    me.raise_for_status()
    return email, headers


def _agent(app: ServedApp, headers: dict[str, str], name: str) -> str:
    body = {"name": name, "description": f"The {name.lower()}.", "instructions": f"Be a {name}."}
    response = httpx.post(f"{app.url}/api/agents", json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return str(response.json()["id"])


def _team(app: ServedApp, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = httpx.post(f"{app.url}/api/teams", json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return dict(response.json())


def _sign_in(page: Page, app: ServedApp, email: str) -> None:
    page.goto(f"{app.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)


def _drag(
    page: Page,
    source: Locator,
    target: Locator,
    *,
    dx: float = 0.5,
    dy: float = 0.5,
    release: bool = True,
) -> None:
    """Drag with real pointer events (dnd-kit's pointer sensor needs moves in steps)."""
    s, t = source.bounding_box(), target.bounding_box()
    assert s and t
    sx, sy = s["x"] + s["width"] / 2, s["y"] + s["height"] / 2
    tx, ty = t["x"] + t["width"] * dx, t["y"] + t["height"] * dy
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 6, sy + 6, steps=2)
    page.mouse.move(tx, ty, steps=12)
    page.mouse.move(tx, ty + 1)
    page.wait_for_timeout(100)
    if release:
        page.mouse.up()  # fmt: skip


def _member_order(page: Page) -> list[str]:
    members = page.get_by_role("region", name="Members", exact=True)
    return [
        str(handle.get_attribute("aria-label"))
        for handle in members.locator("[data-dnd-item] [role=button]").all()
        if not str(handle.get_attribute("aria-label")).startswith("Remove ")
    ]


def test_build_a_team_by_dragging_save_reload_and_run(served_app: ServedApp, page: Page) -> None:
    email, headers = _account(served_app)
    _agent(served_app, headers, "Researcher")
    _agent(served_app, headers, "Writer")
    _sign_in(page, served_app, email)

    page.goto(f"{served_app.url}/teams")
    expect(page.get_by_role("heading", name="No teams yet")).to_be_visible()
    page.get_by_role("link", name="Create team").click()
    expect(page.get_by_role("heading", name="New team", level=1)).to_be_visible()
    expect(page.get_by_label("Stop phrase")).to_have_value("TERMINATE")  # the new-team default
    page.get_by_label("Name", exact=True).fill("Research crew")
    page.get_by_label("Description").fill("Finds the facts, then writes them up.")
    page.get_by_label("Tags").fill("research, writing")

    palette = page.get_by_role("region", name="Agents", exact=True)
    members = page.get_by_role("region", name="Members", exact=True)
    page.locator("#team-members-board").evaluate("e => e.scrollIntoView({block: 'center'})")
    _drag(page, palette.get_by_label("Researcher", exact=True), members)
    expect(members.get_by_label("Researcher", exact=True)).to_be_visible()
    _drag(page, palette.get_by_label("Writer", exact=True), members)
    expect(members.get_by_label("Writer", exact=True)).to_be_visible()
    assert _member_order(page) == ["Researcher", "Writer"]

    # Reorder: Writer onto the top half of Researcher, so it goes first.
    writer = members.get_by_label("Writer", exact=True)
    _drag(page, writer, members.get_by_label("Researcher", exact=True), dy=0.2, release=False)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "team-builder-mid-drag.png"))  # the viewport only
    page.mouse.up()
    expect(members.locator("[data-dnd-item]").first).to_contain_text("Writer")
    assert _member_order(page) == ["Writer", "Researcher"]

    page.get_by_role("radio", name="Round robin").click()
    page.get_by_label("Max turns").fill("12")
    page.get_by_label("Token budget").fill("50000")
    page.evaluate("window.scrollTo(0, 0)")  # full-page shots of a scrolled page repeat the bars
    screenshot(page, "team-builder-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "team-builder-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_role("button", name="Create team").click()
    page.wait_for_url(re.compile(r"/teams/[0-9a-f-]{36}$"), timeout=30_000)
    expect(page.get_by_role("heading", name="Research crew", level=1)).to_be_visible()

    page.reload()
    expect(page.get_by_role("heading", name="Research crew", level=1)).to_be_visible()
    expect(page.get_by_role("radio", name="Round robin")).to_be_checked()
    expect(page.get_by_label("Max turns")).to_have_value("12")
    expect(page.get_by_label("Token budget")).to_have_value("50000")
    expect(page.get_by_label("Stop phrase")).to_have_value("TERMINATE")
    assert _member_order(page) == ["Writer", "Researcher"]

    page.get_by_label("Task").fill("Write three sentences about bees.")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}$"), timeout=30_000)


def test_teams_list_shows_panels_and_searches(served_app: ServedApp, page: Page) -> None:
    email, headers = _account(served_app)
    ids = {n: _agent(served_app, headers, n) for n in ("Critic", "Supervisor", "Writer")}
    _team(
        served_app,
        headers,
        name="Editorial board",
        strategy="selector",
        description="A supervisor picks who speaks next.",
        tags=["editorial"],
        member_ids=[ids["Writer"], ids["Critic"]],
        selector_agent_id=ids["Supervisor"],
        termination={"max_turns": 20, "stop_phrase": "APPROVED", "max_cost_usd": 2.5},
    )
    _team(served_app, headers, name="Quick opinions", strategy="parallel",
          member_ids=[ids["Critic"], ids["Writer"]], termination={"max_seconds": 300})  # fmt: skip
    _sign_in(page, served_app, email)

    page.goto(f"{served_app.url}/teams")
    board = page.get_by_role("link", name="Editorial board")
    expect(board).to_contain_text("Selector")
    expect(board).to_contain_text("Up to 20 turns · stops at “APPROVED” · $2.50")
    chips = board.get_by_role("list", name="Members in order").get_by_role("listitem")
    expect(chips).to_have_text([re.compile(r"W\s*Writer"), re.compile(r"C\s*Critic")])
    expect(page.get_by_role("link", name="Quick opinions")).to_contain_text("5 min")
    expect(page.get_by_text("2 teams in this workspace")).to_be_visible()
    screenshot(page, "teams-list-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "teams-list-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_label("Search teams").fill("quick")
    expect(page.get_by_text("1 match for “quick”")).to_be_visible()
    expect(page.get_by_role("link", name="Editorial board")).to_have_count(0)
    page.get_by_label("Search teams").fill("nothing like this")
    expect(page.get_by_role("heading", name="No teams match")).to_be_visible()
    page.get_by_role("button", name="Clear search").click()
    expect(page.get_by_role("link", name="Editorial board")).to_be_visible()

    page.get_by_role("link", name="Quick opinions").click()
    expect(page.get_by_role("heading", name="Quick opinions", level=1)).to_be_visible()
    expect(page.get_by_label("Aggregator agent")).to_be_visible()


def test_field_validation_stale_version_and_delete(served_app: ServedApp, page: Page) -> None:
    email, headers = _account(served_app)
    ids = [_agent(served_app, headers, n) for n in ("Planner", "Doer")]
    team = _team(served_app, headers, name="Plan and do", strategy="sequential", member_ids=ids)
    _sign_in(page, served_app, email)
    page.goto(f"{served_app.url}/teams/{team['id']}")
    expect(page.get_by_role("heading", name="Plan and do", level=1)).to_be_visible()

    page.get_by_label("Max turns").fill("0")
    expect(page.locator("#team-max-turns-error")).to_have_text(
        "Enter a whole number of turns from 1 to 200."
    )
    page.get_by_label("Cost budget (USD)").fill("-3")
    expect(page.locator("#team-max-cost-usd-error")).to_contain_text("above 0")
    page.get_by_label("Max turns").fill("8")
    page.get_by_label("Cost budget (USD)").fill("")
    expect(page.locator("#team-max-turns-error")).to_have_count(0)

    page.get_by_role("radio", name="Selector").click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#team-selector-error")).to_have_text(
        "Pick the agent that chooses who speaks next."
    )
    page.get_by_role("radio", name="Round robin").click()

    # Someone else saves first: our save is refused with a clear message, nothing is lost.
    changed = httpx.patch(
        f"{served_app.url}/api/teams/{team['id']}", json={"description": "Changed elsewhere."},
        headers={**headers, "If-Match": '"1"'}, timeout=30,
    )  # fmt: skip
    changed.raise_for_status()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="changed by someone else")).to_be_visible()
    expect(page.get_by_label("Max turns")).to_have_value("8")
    page.get_by_role("button", name="Reload team").click()
    expect(page.get_by_label("Description")).to_have_value("Changed elsewhere.")
    expect(page.get_by_text("Version 2", exact=True)).to_be_visible()

    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Its past runs keep their trace.")
    page.get_by_role("button", name="Delete team").click()
    page.wait_for_url(f"{served_app.url}/teams", timeout=30_000)
    expect(page.get_by_role("heading", name="No teams yet")).to_be_visible()


def test_a_viewer_sees_the_team_read_only(served_app: ServedApp, page: Page) -> None:
    _, headers = _account(served_app)
    ids = [_agent(served_app, headers, n) for n in ("Alpha", "Beta")]
    team = _team(served_app, headers, name="Pair", strategy="round_robin", member_ids=ids)
    workspace = httpx.get(f"{served_app.url}/api/users/me", headers=headers).json()
    viewer, _ = _account(served_app, "Vic Viewer")
    added = httpx.post(
        f"{served_app.url}/api/workspaces/{workspace['default_workspace_id']}/members",
        json={"email": viewer, "role": "viewer"}, headers=headers, timeout=30,
    )  # fmt: skip
    added.raise_for_status()
    _sign_in(page, served_app, viewer)
    page.evaluate(
        "id => localStorage.setItem('ap_workspace', id)", workspace["default_workspace_id"]
    )

    page.goto(f"{served_app.url}/teams")
    expect(page.get_by_role("link", name="Pair")).to_be_visible()
    expect(page.get_by_role("link", name="New team")).to_have_count(0)
    page.goto(f"{served_app.url}/teams/{team['id']}")
    expect(page.get_by_role("heading", name="Pair", level=1)).to_be_visible()
    expect(page.get_by_text("Read only")).to_be_visible()
    members = page.get_by_role("list", name="Members", exact=True).get_by_role("listitem")
    expect(members).to_have_text([re.compile(r"1\s*Alpha"), re.compile(r"2\s*Beta")])
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    expect(page.get_by_role("button", name="Run", exact=True)).to_have_count(0)
    expect(page.get_by_label("Name", exact=True)).not_to_be_editable()
