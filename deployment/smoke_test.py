"""Smoke-test a running AgentPlatform: health, ready, sign-in, and one run on the offline model.

Used by deployment/blue_green.py before (and after) it switches traffic, and by hand:
    SMOKE_EMAIL=... SMOKE_PASSWORD=... python3 deployment/smoke_test.py https://agents.example.com
Credentials come from the environment, never from arguments: SMOKE_EMAIL + SMOKE_PASSWORD (a
dedicated account with the builder role), or SMOKE_API_KEY (an API key of such an account);
SMOKE_WORKSPACE picks a workspace other than the account's default. The run uses an agent named
"Deploy smoke test" (built-in offline model, calculator tool), created on first use. Standard
library only: it runs on any machine with Python 3.11.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

AGENT_NAME = "Deploy smoke test"
QUESTION, ANSWER = "What is 6 * 7?", "42"
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


class SmokeFailed(Exception):
    """A step of the smoke test did not answer as it should."""


class Api:
    def __init__(self, base_url: str, timeout: float) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in {"http", "https"}:
            raise SmokeFailed(f"{base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json", **self.headers}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            # The scheme is http(s) only (checked in __init__), hence the nosec.
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, OSError) as error:
            raise SmokeFailed(f"{method} {path}: no answer ({error})") from None

    def expect(self, method: str, path: str, status: int, body: Any = None) -> Any:
        code, answer = self.call(method, path, body)
        if code != status:
            detail = answer.get("detail", answer) if isinstance(answer, dict) else answer
            raise SmokeFailed(f"{method} {path}: {code} (expected {status}): {detail}")
        return answer


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw[:200].decode(errors="replace")


def _say(step: str) -> None:
    sys.stdout.write(f"smoke: {step}\n")
    sys.stdout.flush()


def sign_in(api: Api, env: dict[str, str]) -> None:
    if env.get("SMOKE_WORKSPACE"):
        api.headers["X-Workspace"] = env["SMOKE_WORKSPACE"]
    if env.get("SMOKE_API_KEY"):
        api.headers["X-API-Key"] = env["SMOKE_API_KEY"]
    elif env.get("SMOKE_EMAIL") and env.get("SMOKE_PASSWORD"):
        credentials = {"email": env["SMOKE_EMAIL"], "password": env["SMOKE_PASSWORD"]}
        token = api.expect("POST", "/api/auth/login", 200, credentials)["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
    else:
        raise SmokeFailed("set SMOKE_EMAIL and SMOKE_PASSWORD, or SMOKE_API_KEY")
    me = api.expect("GET", "/api/users/me", 200)
    _say(f"signed in as {me.get('email', '?')}")


def smoke_agent(api: Api) -> str:
    """The smoke-test agent's id, creating it the first time."""
    query = urllib.parse.urlencode({"q": AGENT_NAME, "limit": 100})
    listed = api.expect("GET", f"/api/agents?{query}", 200)
    for agent in listed.get("data", []):
        if agent["name"] == AGENT_NAME:
            return str(agent["id"])
    body = {
        "name": AGENT_NAME,
        "description": "Used by deployment/smoke_test.py after each deploy.",
        "tools": ["calculator"],
    }
    return str(api.expect("POST", "/api/agents", 201, body)["id"])


def one_run(api: Api, agent_id: str, run_timeout: float) -> None:
    run = api.expect("POST", "/api/runs", 202, {"agent_id": agent_id, "input": QUESTION})
    deadline = time.monotonic() + run_timeout
    while True:
        state = api.expect("GET", f"/api/runs/{run['id']}", 200)
        if state["status"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise SmokeFailed(f"run {run['id']} still {state['status']} after {run_timeout:g}s")
        time.sleep(0.5)
    if state["status"] != "succeeded" or ANSWER not in (state.get("output") or ""):
        reason = state.get("error") or state.get("output")
        raise SmokeFailed(f"run {run['id']} {state['status']}: {reason}")
    _say(f"run {run['id']} succeeded: {state['output'].strip()[:80]}")


def smoke_test(base_url: str, env: dict[str, str] | None = None) -> bool:
    """Every step in order; False (with the reason printed) at the first that fails."""
    env = dict(os.environ if env is None else env)
    try:
        api = Api(base_url, timeout=float(env.get("SMOKE_HTTP_TIMEOUT", "30")))
        health = api.expect("GET", "/api/health", 200)
        _say(f"health ok (version {health.get('version', '?')})")
        ready = api.expect("GET", "/api/ready", 200)
        _say(f"ready: {ready.get('checks')}")
        sign_in(api, env)
        one_run(api, smoke_agent(api), float(env.get("SMOKE_RUN_TIMEOUT", "120")))
    except SmokeFailed as failure:
        _say(f"FAILED: {failure}")
        return False
    _say(f"passed: {base_url}")
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0].startswith("-"):
        sys.stderr.write("usage: smoke_test.py BASE_URL  (credentials: SMOKE_* variables)\n")
        return 2
    return 0 if smoke_test(argv[0]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
