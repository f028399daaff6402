"""The UI session in a real browser: tokens never reach page scripts, signing out clears the
cookie, tokens an older version left in localStorage are removed and revoked, and the whole
app works under its Content-Security-Policy (no eval, no inline script)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServedApp, screenshot
from tests.security.browser.attack_support import (
    PASSWORD,
    TIMEOUT,
    Victim,
    register,
    workspace_under_attack,
)

pytestmark = pytest.mark.browser


def test_signing_in_and_out_keeps_the_session_out_of_reach_and_clears_it(
    served_app: ServedApp, page: Page
) -> None:
    workspace = workspace_under_attack(served_app.url)
    victim = Victim(page, workspace)  # signs in through the login form
    session = victim.session_token
    page.goto(f"{served_app.url}/dashboard")
    expect(page.get_by_role("button", name="Account menu")).to_be_visible(timeout=TIMEOUT)
    victim.assert_no_token_in_reach()
    assert page.evaluate("() => document.cookie").startswith("ap_csrf=")

    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1"), timeout=TIMEOUT)
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    screenshot(page, "login-signed-out-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "login-signed-out-dark")
    page.emulate_media(color_scheme="light")
    assert [c for c in page.context.cookies() if "ap_" in c["name"]] == []
    refused = httpx.get(f"{served_app.url}/api/users/me", cookies={"ap_session": session})
    assert refused.status_code == 401  # revoked on the server, not only forgotten here
    page.goto(f"{served_app.url}/agents")
    expect(page).to_have_url(re.compile(r"/login\?next="), timeout=TIMEOUT)
    assert victim.violations == []


def test_tokens_an_older_version_left_in_local_storage_are_removed_and_revoked(
    served_app: ServedApp, page: Page
) -> None:
    email, _, _ = register(served_app.url, "upgraded")
    tokens = httpx.post(
        f"{served_app.url}/api/auth/login", json={"email": email, "password": PASSWORD}
    ).json()
    page.goto(f"{served_app.url}/login")
    page.get_by_label("Email", exact=True).wait_for()  # the app has mounted (and swept once)
    page.evaluate(
        "([access, refresh]) => { localStorage.setItem('ap_access', access);"
        " localStorage.setItem('ap_refresh', refresh); }",
        [tokens["access_token"], tokens["refresh_token"]],
    )
    with page.expect_response(re.compile(r"/api/auth/logout$")) as revoked:
        page.reload()
    assert revoked.value.status == 204
    assert page.evaluate("() => localStorage.getItem('ap_refresh')") is None
    assert page.evaluate("() => localStorage.getItem('ap_access')") is None
    stale = httpx.post(
        f"{served_app.url}/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert stale.status_code == 401  # the old token is dead, not merely hidden
    page.goto(f"{served_app.url}/agents")
    expect(page).to_have_url(re.compile(r"/login\?next="), timeout=TIMEOUT)  # not used


def test_the_app_works_under_its_policy_toasts_clipboard_errors_and_docs(
    served_app: ServedApp, page: Page
) -> None:
    workspace = workspace_under_attack(served_app.url)
    page.context.grant_permissions(["clipboard-write"], origin=served_app.url)
    victim = Victim(page, workspace)
    page.goto(f"{served_app.url}/admin/api-keys")
    page.get_by_role("button", name="Create API key").first.click()
    page.get_by_label("Key name").fill("CI <img src=x onerror=alert(1)>")
    page.get_by_role("button", name="Create key").click()
    toast = page.get_by_text("API key 'CI <img src=x onerror=alert(1)>' created.")
    expect(toast).to_be_visible(timeout=TIMEOUT)  # a server toast, shown as text
    page.get_by_role("button", name="Copy secret").click()
    expect(page.get_by_text("Secret copied to the clipboard.")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="I've copied it").click()
    screenshot(page, "session-toasts-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "session-toasts-dark")
    page.emulate_media(color_scheme="light")

    page.goto(f"{served_app.url}/settings")
    for current in ("not-my-password-1", PASSWORD):
        page.get_by_label("Current password").fill(current)
        page.get_by_label("New password", exact=True).fill("battery-staple-77")
        page.get_by_label("Confirm new password").fill("battery-staple-77")
        page.get_by_role("button", name="Change password").click()
        if current != PASSWORD:
            expect(page.get_by_text("The current password is incorrect.")).to_be_visible(
                timeout=TIMEOUT
            )
    expect(page).to_have_url(re.compile(r"/login\?signed_out=password"), timeout=TIMEOUT)
    expect(page.get_by_text("Your password was changed")).to_be_visible()
    assert [c for c in page.context.cookies() if "ap_session" in c["name"]] == []
    screenshot(page, "session-password-changed")

    page.goto(f"{served_app.url}/api/docs")
    expect(page.get_by_role("heading", name=re.compile("AgentPlatform API"))).to_be_visible(
        timeout=TIMEOUT
    )
    expect(page.get_by_text("/api/auth/session").first).to_be_visible()
    assert victim.violations == []


def test_sign_in_and_sign_up_errors_come_back_from_the_session_api(
    served_app: ServedApp, page: Page
) -> None:
    email, _, _ = register(served_app.url, "taken")
    page.goto(f"{served_app.url}/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill("not-the-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.", timeout=TIMEOUT)
    assert [c for c in page.context.cookies() if "ap_session" in c["name"]] == []
    screenshot(page, "login-error-light")

    page.goto(f"{served_app.url}/register")
    page.get_by_label("Full name", exact=True).fill("Second Taker")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill("analytical-engine-1843")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("already exists")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Email", exact=True).fill(f"new-{email}")
    page.get_by_label("Password", exact=True).fill("password123")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Password is too weak")).to_be_visible(timeout=TIMEOUT)
    screenshot(page, "register-errors-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "register-errors-dark")
    page.emulate_media(color_scheme="light")
    page.get_by_label("Password", exact=True).fill("analytical-engine-1843")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/onboarding"), timeout=TIMEOUT)
    assert next(c for c in page.context.cookies() if c["name"] == "ap_session")["httpOnly"]
