"""What the XSS tests share: a workspace under attack, its victim's browser, the checks."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.sync_api import Page, expect

PASSWORD = "correct-horse-42"
TIMEOUT = 30_000  # ms: a hang guard for a busy machine, not a performance claim
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]+")
REFRESH_TOKEN = re.compile(r"\brt_[\w-]{20,}")
LIVE_ELEMENTS = "script, iframe, object, embed, style, meta, base, img, form, svg[onload]"
# Each variant's text as the victim must still see it (markup shown, not parsed).
SHOWN_AS_TEXT = {
    "script": "<script>top.__xss='script'</script>",
    "img-onerror": "<img src=x onerror=",
    "iframe-srcdoc": "<iframe srcdoc=",
    "object": "<object data=",
    "embed": "<embed src=",
    "svg-onload": "<svg onload=",
    "style": "<style>body{background:url(",
    "meta-refresh": '<meta http-equiv="refresh"',
    "base-href": "<base href=",
    "javascript-link": "open me",
    "javascript-html-link": "<a href=\"javascript:top.__xss='a'\">open</a>",
}


def register(url: str, label: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A new account through the API: (email, bearer headers, user)."""
    email = f"{label}-{uuid.uuid4().hex[:8]}@example.com"
    response = httpx.post(
        f"{url}/api/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": label.title()},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    return email, {"Authorization": f"Bearer {body['access_token']}"}, body["user"]


@dataclass
class Workspace:
    """An owner (the victim, who reads runs) and an operator member (the attacker)."""

    url: str
    owner_email: str
    owner: dict[str, str]
    operator: dict[str, str]
    workspace_id: str
    agents: dict[str, str] = field(default_factory=dict)

    def owner_api_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.url}{path}", headers=self.owner, json=body, timeout=30)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def create_agent(self, name: str, **fields: Any) -> str:
        return str(self.owner_api_post("/api/agents", {"name": name, **fields})["id"])

    def run(self, agent_id: str, text: str) -> str:
        """The operator submits a run; its id once it has finished."""
        response = httpx.post(
            f"{self.url}/api/runs",
            headers=self.operator,
            json={"agent_id": agent_id, "input": text},
            timeout=30,
        )
        assert response.status_code in (201, 202), response.text
        run_id = str(response.json()["id"])
        deadline = time.monotonic() + TIMEOUT / 1000 * 2
        while time.monotonic() < deadline:
            run = httpx.get(f"{self.url}/api/runs/{run_id}", headers=self.owner, timeout=30)
            if run.json()["status"] not in ("queued", "running"):
                assert run.json()["status"] == "succeeded", run.text
                return run_id
            time.sleep(0.2)
        raise AssertionError(f"run {run_id} did not finish")


def workspace_under_attack(url: str) -> Workspace:
    owner_email, owner, user = register(url, "victim")
    _, operator, operator_user = register(url, "attacker")
    workspace_id = str(user["default_workspace_id"])
    onboarded = httpx.patch(f"{url}/api/users/me", headers=owner, json={"onboarded": True})
    assert onboarded.status_code == 200, onboarded.text
    added = httpx.post(
        f"{url}/api/workspaces/{workspace_id}/members",
        headers=owner,
        json={"email": operator_user["email"], "role": "operator"},
        timeout=30,
    )
    assert added.status_code == 201, added.text
    operator = {**operator, "X-Workspace": workspace_id}
    return Workspace(url, owner_email, owner, operator, workspace_id)


class Victim:
    """The owner's browser: signed in through the UI, watching what reaches the page."""

    def __init__(self, page: Page, workspace: Workspace) -> None:
        self.page = page
        self.url = workspace.url
        self.frames: list[str] = []
        self.violations: list[str] = []
        page.on("websocket", self._watch_socket)
        page.on("console", self._watch_console)
        page.context.on("page", lambda popup: popup.close())  # links open tabs: close them
        page.goto(f"{self.url}/login")
        page.get_by_label("Email", exact=True).fill(workspace.owner_email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/login"), timeout=TIMEOUT)

    def _watch_socket(self, socket: Any) -> None:
        socket.on("framereceived", lambda payload: self.frames.append(str(payload)))
        socket.on("framesent", lambda payload: self.frames.append(str(payload)))

    def _watch_console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)

    @property
    def session_token(self) -> str:
        cookies = self.page.context.cookies()
        session = next(c for c in cookies if c["name"].endswith("ap_session"))
        assert session["httpOnly"] is True and session["sameSite"] == "Strict"
        return str(session["value"])

    def open_run(self, run_id: str) -> Any:
        """The run's page; its last message step once rendered."""
        self.page.goto(f"{self.url}/runs/{run_id}")
        message = self.page.get_by_role("log", name="Run trace").locator("[data-kind=message]")
        expect(message.last).to_be_visible(timeout=TIMEOUT)
        return message.last

    def assert_inert(self, message: Any, variants: list[str], site: Any) -> None:
        """Shown as text, nothing live in the DOM, no script ran, nothing loaded."""
        content = message.locator(".untrusted-content")
        for variant in variants:
            expect(content).to_contain_text(SHOWN_AS_TEXT[variant], timeout=TIMEOUT)
        output = self.page.locator(".untrusted-content")
        assert output.locator(LIVE_ELEMENTS).count() == 0
        handlers = self.page.evaluate(
            """() => [...document.querySelectorAll('.untrusted-content *')]
                .flatMap(n => [...n.attributes].map(a => a.name))
                .filter(name => name.startsWith('on'))"""
        )
        assert handlers == []
        assert self.page.evaluate("() => window.__xss") is None
        assert site.callbacks() == []  # nothing loaded or navigated on its own
        assert self.page.url.startswith(self.url)  # no meta refresh took the page away
        hrefs = content.locator("a").evaluate_all("links => links.map(a => a.href)")
        assert not [h for h in hrefs if not h.startswith(("http:", "https:"))], hrefs
        for link in content.locator("a").all():
            if str(link.evaluate("a => a.href")).startswith(self.url):
                link.click()  # a defused javascript: link: clicking it runs nothing
        assert self.page.evaluate("() => window.__xss") is None
        self.assert_no_token_in_reach()

    def assert_no_token_in_reach(self) -> None:
        """Nothing a page script can read holds a credential."""
        session = self.session_token
        readable = self.page.evaluate(
            """() => [document.cookie, JSON.stringify({...localStorage}),
                      JSON.stringify({...sessionStorage})].join('\\n')"""
        )
        assert session not in readable
        assert not JWT.search(readable) and not REFRESH_TOKEN.search(readable), readable
        assert not [f for f in self.frames if session in f or JWT.search(f)]
        assert self.violations == []
