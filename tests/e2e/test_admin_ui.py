"""The admin pages in a browser: members, API keys (secret once), providers, audit log."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, SCREENSHOTS, ServedApp, free_port

PASSWORD = "correct-horse-42!"


def _email(kind: str) -> str:
    return f"admin-{kind}-{uuid.uuid4().hex[:10]}@example.com"


def _skip_onboarding(page: Page) -> None:
    page.get_by_role("button", name="Skip for now").click()
    expect(page).not_to_have_url(re.compile(r"/onboarding"), timeout=15_000)


def _sign_up(page: Page, url: str) -> str:
    email = _email("owner")
    page.goto(f"{url}/register")
    page.get_by_label("Full name").fill("Olga Owner")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    _skip_onboarding(page)
    return email


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    _skip_onboarding(page)


def _api_user(url: str, name: str) -> tuple[str, dict[str, str]]:
    email = _email(name)
    response = httpx.post(
        f"{url}/api/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": name.title()},
        timeout=15,
    )
    assert response.status_code == 201, response.text
    return email, {"Authorization": f"Bearer {response.json()['access_token']}"}


def _shots(page: Page, name: str, *, dark: bool = True) -> None:
    """The view at 1280x800 in light mode, and in dark mode when asked."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.emulate_media(color_scheme="light")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    if dark:
        page.emulate_media(color_scheme="dark")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-dark.png"))
        page.emulate_media(color_scheme="light")


def _pick(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_members_roles_last_owner_and_audit(served_app: ServedApp, page: Page) -> None:
    url = served_app.url
    owner = _sign_up(page, url)
    colleague, _ = _api_user(url, "colleague")
    page.goto(f"{url}/admin/members")
    table = page.get_by_role("region", name="Members")
    expect(table.get_by_text(owner)).to_be_visible(timeout=15_000)

    # An address without an account: the service's message, by the form.
    page.get_by_label("Email address", exact=True).fill(_email("nobody"))
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("alert")).to_contain_text("No account with that email")

    page.get_by_label("Email address", exact=True).fill(colleague)
    _pick(page, "Role for the new member", "viewer")
    page.get_by_role("button", name="Add member").click()
    expect(table.get_by_text(colleague)).to_be_visible(timeout=10_000)
    role_select = page.get_by_label(f"Role of {colleague}")
    expect(role_select).to_have_text("viewer")

    _pick(page, f"Role of {colleague}", "builder")
    expect(page.get_by_text(f"{colleague} is now builder.")).to_be_visible(timeout=10_000)
    expect(role_select).to_have_text("builder")

    # The last owner cannot be removed: the dialog says why.
    page.get_by_role("button", name=f"Remove {owner}").click()
    dialog = page.get_by_role("alertdialog")
    dialog.get_by_role("button", name="Remove member").click()
    expect(dialog.get_by_role("alert")).to_contain_text("last owner")
    _shots(page, "admin-members-last-owner", dark=False)
    dialog.get_by_role("button", name="Keep them").click()
    expect(dialog).to_have_count(0)
    _shots(page, "admin-members")

    # The audit log lists the role change; its before/after opens side by side.
    page.goto(f"{url}/admin/audit")
    audit = page.get_by_role("region", name="Audit events")
    expect(audit.get_by_text("member.role_change")).to_be_visible(timeout=15_000)
    expect(audit.get_by_text("member.add")).to_be_visible()
    _pick(page, "Action", "member.role_change")
    expect(audit.get_by_text("member.add")).to_have_count(0, timeout=10_000)
    expect(page.get_by_text("1-1 of 1")).to_be_visible()
    _shots(page, "admin-audit")
    audit.get_by_role("button", name=re.compile(r"^Show changes of member\.role_change")).click()
    details = page.get_by_role("dialog")
    expect(details.get_by_text("Before", exact=True)).to_be_visible()
    expect(details.locator("pre").first).to_contain_text('"role": "viewer"')
    expect(details.locator("pre").nth(1)).to_contain_text('"role": "builder"')
    _shots(page, "admin-audit-details")


def test_api_key_secret_once_works_then_revoked(served_app: ServedApp, page: Page) -> None:
    url = served_app.url
    _sign_up(page, url)
    page.goto(f"{url}/admin/api-keys")
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Create API key").click()
    page.get_by_label("Key name").fill("CI pipeline")
    _pick(page, "Key role", "builder")
    page.get_by_role("button", name="Create key").click()

    dialog = page.get_by_role("dialog", name="Copy your new API key")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text("You won't see this secret again")
    secret = dialog.get_by_label("Secret", exact=True).input_value()
    assert secret.startswith("apk") and len(secret) > 20, secret
    expect(dialog.get_by_role("button", name="Copy secret")).to_be_visible()
    _shots(page, "admin-api-keys")
    dialog.get_by_role("button", name="I've copied it").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_text(secret)).to_have_count(0)
    table = page.get_by_role("region", name="API keys")
    expect(table.get_by_text(secret[:12] + "…")).to_be_visible()

    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{url}/api/agents", headers=bearer, timeout=15).status_code == 200

    page.get_by_role("button", name="Revoke CI pipeline").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke key").click()
    expect(table.get_by_text("Revoked")).to_be_visible(timeout=10_000)
    _shots(page, "admin-api-keys-revoked", dark=False)
    assert httpx.get(f"{url}/api/agents", headers=bearer, timeout=15).status_code == 401


@pytest.fixture
def fake_llm() -> Iterator[str]:
    """The fake OpenAI-compatible server as its own process; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.fake_openai", "--port", str(port)], cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/models", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_providers_crud_test_connection_and_access(
    served_app: ServedApp, page: Page, fake_llm: str
) -> None:
    url = served_app.url
    email, headers = _api_user(url, "admin")
    _sign_in(page, url, email)
    page.goto(f"{url}/admin/providers")
    cards = page.get_by_role("list", name="Providers")
    expect(page.get_by_role("heading", name="No providers yet")).to_be_visible(timeout=15_000)

    page.get_by_role("button", name="Add provider").click()
    page.get_by_label("Provider name").fill("Local fake")
    page.get_by_role("button", name="Save provider").click()
    expect(page.locator("#provider-url-error")).to_contain_text("base_url")
    page.get_by_label("Base URL").fill(fake_llm)
    page.get_by_label("API key", exact=True).fill("sk-test-never-shown")
    page.get_by_label("Models").fill("fake-model, fake-large")
    page.get_by_role("button", name="Save provider").click()
    card = cards.get_by_role("listitem", name="Local fake")
    expect(card).to_be_visible(timeout=10_000)
    expect(card.get_by_text("OpenAI-compatible")).to_be_visible()
    expect(card.get_by_text("API key set")).to_be_visible()
    expect(page.get_by_text("sk-test-never-shown")).to_have_count(0)

    card.get_by_role("button", name="Test connection of Local fake").click()
    expect(card.get_by_role("status")).to_contain_text("Connected to", timeout=20_000)

    # Edit with the key left blank keeps the key.
    card.get_by_role("button", name="Edit Local fake").click()
    expect(page.get_by_label("Base URL")).to_have_value(fake_llm)
    expect(page.get_by_label("API key", exact=True)).to_have_value("")
    page.get_by_label("Models").fill("fake-model")
    _shots(page, "admin-providers-edit", dark=False)
    page.get_by_role("button", name="Save provider").click()
    expect(card.get_by_text("fake-large")).to_have_count(0, timeout=10_000)
    expect(card.get_by_text("API key set")).to_be_visible()
    _shots(page, "admin-providers")

    # A provider that an agent uses cannot be deleted: the 409 is shown in the dialog.
    listed = httpx.get(f"{url}/api/providers", headers=headers, timeout=15).json()["data"]
    provider_id = next(p["id"] for p in listed if p["name"] == "Local fake")
    created = httpx.post(
        f"{url}/api/agents",
        headers=headers,
        json={"name": "Uses fake", "provider_id": provider_id, "model": "fake-model"},
        timeout=15,
    )
    assert created.status_code == 201, created.text
    card.get_by_role("button", name="Delete Local fake").click()
    dialog = page.get_by_role("alertdialog")
    dialog.get_by_role("button", name="Delete provider").click()
    expect(dialog.get_by_role("alert")).to_contain_text("used by these agents: Uses fake")
    dialog.get_by_role("button", name="Keep it").click()

    # A viewer of this workspace sees providers read-only and no API keys page.
    viewer, _ = _api_user(url, "viewer")
    workspace = httpx.get(f"{url}/api/workspaces", headers=headers, timeout=15).json()["data"][0]
    httpx.post(f"{url}/api/workspaces/{workspace['id']}/members", headers=headers, timeout=15,
               json={"email": viewer, "role": "viewer"}).raise_for_status()  # fmt: skip
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"), timeout=15_000)
    _sign_in(page, url, viewer)
    _pick(page, "Workspace", workspace["name"])
    expect(page.get_by_label("Workspace", exact=True)).to_have_text(workspace["name"])
    expect(page.get_by_text("viewer", exact=True)).to_be_visible(timeout=15_000)
    page.goto(f"{url}/admin/providers")
    expect(cards.get_by_role("listitem", name="Local fake")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Add provider")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit Local fake")).to_have_count(0)
    page.goto(f"{url}/admin/api-keys")
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible(
        timeout=15_000
    )
    _shots(page, "admin-no-access", dark=False)
