"""The Python client against the real API.

The sync client talks to `uvicorn` serving the app on 127.0.0.1 (a child process on the test
database, one per module); the async client drives the app in-process (`httpx.ASGITransport`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from agentplatform.client import (
    AgentPlatformClient,
    ApiError,
    AsyncAgentPlatformClient,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from agentplatform.client._core import SSEParser
from agentplatform.client.errors import error_from_response

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-client-password-42"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn on a free port, on the test database (inherited env)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("client-server") / "uvicorn.log"
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "agentplatform.api.app:build_api",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited early:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def client(base_url: str) -> Iterator[AgentPlatformClient]:
    """A freshly registered owner of their own workspace."""
    with AgentPlatformClient(base_url) as signed_in:
        signed_in.register(_email("owner"), PASSWORD, full_name="Owner")
        yield signed_in


def _expired_token(user_id: str) -> str:
    """An access token of `user_id` that expired a minute ago, signed with the test key."""
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "type": "access",
        "iat": now - timedelta(minutes=30),
        "exp": now - timedelta(minutes=1),
    }
    return jwt.encode(claims, os.environ["SECRET_KEY"], algorithm="HS256")


# -- the "done when" script ------------------------------------------------------------------


def test_quickstart_flow(base_url: str) -> None:
    """Register, version a prompt and move its label, build agents and a team, run it on the
    offline model, follow and wait for it, and read the audit log: the client alone."""
    with AgentPlatformClient(base_url) as client:
        tokens = client.register(_email(), PASSWORD, full_name="Quick", persona="builder")
        assert tokens["user"]["persona"] == "builder" and client.user is not None

        prompt = client.create_prompt(
            "tone", template="Talk about {{ topic }}.", commit_message="v1", tags=["demo"]
        )
        assert prompt["latest_version"] == 1
        v2 = client.create_version(prompt["id"], "Talk warmly about {{ topic }}.")
        assert v2["number"] == 2
        assert client.set_label(prompt["id"], "production", 2)["labels"]["production"] == 2
        rolled_back = client.set_label(prompt["id"], "production", 1)
        assert rolled_back["labels"] == {"latest": 2, "production": 1}
        assert [v["number"] for v in client.list_versions(prompt["id"])["data"]] == [2, 1]
        assert client.get_version(prompt["id"], 1)["labels"] == ["production"]
        assert "warmly" in client.diff(prompt["id"], 1, 2)["unified"]
        rendered = client.render(prompt["id"], {"topic": "bees"}, label="production")
        assert rendered == {"text": "Talk about bees.", "version": 1}

        writer = client.create_agent("writer", prompt_id=prompt["id"], prompt_label="production")
        editor = client.create_agent("editor", instructions="Tighten it.", tags=["edit"])
        assert writer["model"] == "offline-demo"
        team = client.create_team(
            "crew", strategy="sequential", member_ids=[writer["id"], editor["id"]]
        )
        assert [m["name"] for m in team["members"]] == ["writer", "editor"]
        assert client.list_agents(tag="edit")["count"] == 1
        assert client.list_teams(q="cre")["data"][0]["id"] == team["id"]

        run = client.create_run(
            team_id=team["id"], input="Write about bees.", variables={"topic": "bees"}
        )
        assert run["status"] == "queued"
        finished = client.wait(run["id"], timeout=60)
        assert finished["status"] == "succeeded", finished
        assert finished["output"]
        assert finished["prompt_versions"]  # the run records the version the label gave
        assert set(finished["per_agent"]) == {writer["id"], editor["id"]}
        steps = client.list_steps(run["id"])
        assert steps["count"] >= 2
        assert {s["agent_name"] for s in steps["data"]} >= {"writer", "editor"}

        events = list(client.stream_events(run["id"]))
        assert events[-1]["event"] == "status"
        assert events[-1]["data"]["status"] == "succeeded"
        step_events = [e for e in events if e["event"] == "step"]
        assert [int(e["id"]) for e in step_events] == [s["seq"] for s in steps["data"]]
        resumed = list(client.stream_events(run["id"], after=step_events[0]["data"]["seq"]))
        assert len([e for e in resumed if e["event"] == "step"]) == len(step_events) - 1

        assert client.list_runs(team_id=team["id"], status="succeeded")["count"] == 1
        summary = client.metrics_summary(since=datetime.now(UTC) - timedelta(hours=1))
        assert summary

        audit = client.list_audit()
        actions = {event["action"] for event in audit["data"]}
        assert audit["count"] >= 1 and actions
        assert client.list_audit(action=audit["data"][0]["action"])["count"] >= 1


def test_quickstart_example_runs(base_url: str) -> None:
    """docs/api/examples/quickstart.py, run as a user would, against the served API."""
    script = ROOT / "docs" / "api" / "examples" / "quickstart.py"
    result = subprocess.run(
        [sys.executable, str(script), base_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rolled back" in result.stdout
    assert "stale update refused; current version is 2" in result.stdout
    assert "run succeeded" in result.stdout
    assert "audit:" in result.stdout


# -- errors --------------------------------------------------------------------------------


def test_typed_exceptions(base_url: str, client: AgentPlatformClient) -> None:
    with AgentPlatformClient(base_url) as anonymous:
        with pytest.raises(AuthenticationError) as unauthenticated:
            anonymous.me()
        assert unauthenticated.value.status == 401 and unauthenticated.value.request_id
        with pytest.raises(AuthenticationError) as bad_login:
            anonymous.login("nobody@example.com", "wrong-password-123456")
        assert "wrong-password-123456" not in str(bad_login.value)
        assert "wrong-password-123456" not in repr(bad_login.value)

    with pytest.raises(NotFoundError) as missing:
        client.get_agent(uuid.uuid4())
    assert missing.value.code == "not_found"

    agent = client.create_agent("dup")
    with pytest.raises(ConflictError) as taken:
        client.create_agent("dup")
    assert taken.value.status == 409

    with pytest.raises(ValidationError) as invalid:
        client.create_agent("hot", temperature=5)
    assert invalid.value.status == 422 and invalid.value.fields == ["temperature"]

    updated = client.update_agent(agent["id"], if_match=agent["version"], description="new")
    assert updated["version"] == agent["version"] + 1
    with pytest.raises(PreconditionFailedError) as stale:
        client.update_agent(agent["id"], if_match=agent["version"], description="lost")
    assert stale.value.status == 412 and stale.value.current_version == updated["version"]
    with pytest.raises(PreconditionFailedError):
        client.delete_agent(agent["id"], if_match=agent["version"])
    client.delete_agent(agent["id"], if_match=updated["version"])
    with pytest.raises(NotFoundError):
        client.get_agent(agent["id"])

    viewer_key = client.create_api_key("read-only", role="viewer")
    with AgentPlatformClient(base_url, api_key=viewer_key["secret"]) as viewer:
        assert viewer.list_agents()["count"] == 0
        with pytest.raises(PermissionDeniedError) as denied:
            viewer.create_agent("nope")
        assert denied.value.status == 403 and isinstance(denied.value, ApiError)
        assert viewer_key["secret"] not in repr(viewer)


def test_errors_from_any_answer() -> None:
    """Status mapping, Retry-After, ETag fallback and non-JSON bodies."""

    def answer(status: int, body: object = None, **headers: str) -> ApiError:
        request = httpx.Request("GET", "http://x/api/y")
        if body is None:
            response = httpx.Response(status, text="<html>bad gateway</html>", request=request)
        else:
            response = httpx.Response(status, json=body, headers=headers, request=request)
        return error_from_response(response)

    shaped = {"error": {"code": "rate_limited", "message": "slow down", "details": None}}
    limited = answer(429, shaped, **{"Retry-After": "42"})
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 42
    stale = answer(412, {"error": {"code": "precondition_failed", "message": "m"}}, ETag='"7"')
    assert isinstance(stale, PreconditionFailedError) and stale.current_version == 7
    gateway = answer(502)
    assert isinstance(gateway, ServerError) and gateway.code == "http_error"
    assert "bad gateway" in gateway.message
    internal = answer(
        500, {"error": {"code": "internal_error", "message": "m", "details": {"request_id": "r"}}}
    )
    assert isinstance(internal, ServerError) and internal.request_id == "r"
    assert str(internal) == "500 internal_error: m (request id r)"
    assert type(answer(418, {"error": {"code": "teapot", "message": "m"}})) is ApiError


# -- authentication ------------------------------------------------------------------------


def test_expired_access_token_is_refreshed_transparently(client: AgentPlatformClient) -> None:
    assert client.user is not None
    refresh_before = client.refresh_token
    expired = _expired_token(client.user["id"])
    client.access_token = expired

    assert client.me()["id"] == client.user["id"]  # 401 → refresh → retried
    assert client.access_token not in (None, expired)
    assert client.refresh_token not in (None, refresh_before)  # rotated and stored

    # A refresh token that no longer works: the 401 surfaces, and the tokens are dropped.
    client.access_token = expired
    client._refresh_token = "not-a-valid-refresh-token"
    with pytest.raises(AuthenticationError):
        client.me()
    assert client.access_token is None and client.refresh_token is None


def test_concurrent_calls_refresh_once(client: AgentPlatformClient) -> None:
    """Threads hitting an expired token together share one refresh (a reused refresh token
    would revoke the whole sign-in)."""
    assert client.user is not None
    client.access_token = _expired_token(client.user["id"])
    results: list[object] = []

    def call() -> None:
        try:
            results.append(client.me()["id"])
        except Exception as error:
            results.append(error)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [client.user["id"]] * 4
    assert client.list_agents()["count"] == 0  # the sign-in is still alive


def test_login_refresh_logout(base_url: str, client: AgentPlatformClient) -> None:
    assert client.user is not None
    email = client.user["email"]
    with AgentPlatformClient(base_url) as other:
        tokens = other.login(email, PASSWORD)
        assert tokens["token_type"] == "bearer" and other.me()["email"] == email
        old_refresh = other.refresh_token
        other.refresh()
        assert other.refresh_token != old_refresh
        kept = other.refresh_token
        other.logout()
        assert other.access_token is None and other.refresh_token is None
        with pytest.raises(AuthenticationError):
            other.me()
    with (
        AgentPlatformClient(base_url, refresh_token=kept) as revoked,
        pytest.raises(AuthenticationError),
    ):
        revoked.refresh()
    assert "access_token" not in repr(client) and str(client.access_token) not in repr(client)


def test_api_key_mode(base_url: str, client: AgentPlatformClient) -> None:
    key = client.create_api_key("ci", role="builder")
    assert key["secret"].startswith("apk_")
    with AgentPlatformClient(base_url, api_key=key["secret"]) as script:
        agent = script.create_agent("from-ci", instructions="Hello.")
        assert client.get_agent(agent["id"])["name"] == "from-ci"
        workspaces = script.list_workspaces()
        assert workspaces["count"] == 1 and workspaces["data"][0]["role"] == "builder"
        with pytest.raises(PermissionDeniedError):
            script.create_workspace("elsewhere")
        with pytest.raises(PermissionDeniedError):
            script.list_api_keys()
        assert [k["name"] for k in client.list_api_keys()["data"]] == ["ci"]
        client.revoke_api_key(key["id"])
        with pytest.raises(AuthenticationError):
            script.list_agents()
    with pytest.raises(ValueError, match="apk_"):
        AgentPlatformClient(base_url, api_key="sk-not-ours")


# -- workspaces, members, providers, runs ----------------------------------------------------


def test_workspaces_and_members(base_url: str, client: AgentPlatformClient) -> None:
    with AgentPlatformClient(base_url) as colleague:
        colleague.register(_email("colleague"), PASSWORD)
        assert colleague.user is not None
        colleague_id, colleague_email = colleague.user["id"], colleague.user["email"]

        added = client.add_member(colleague_email, "viewer")
        assert added["role"] == "viewer"
        assert client.change_role(colleague_id, "builder")["role"] == "builder"
        assert {m["role"] for m in client.list_members()["data"]} == {"owner", "builder"}
        assert client.user is not None
        mine = client.get_workspace()
        assert str(mine["id"]) == client.user["default_workspace_id"]

        colleague.use_workspace(mine["slug"])
        assert colleague.create_agent("shared")["name"] == "shared"
        assert client.list_agents()["count"] == 1
        colleague.use_workspace(None)
        assert colleague.list_agents()["count"] == 0

        client.remove_member(colleague_id)
        with pytest.raises(NotFoundError):
            colleague.get_workspace(mine["id"])

    second = client.create_workspace("Second", slug=f"second-{uuid.uuid4().hex[:6]}")
    assert second["role"] == "owner"
    assert client.list_workspaces()["count"] == 2
    client.use_workspace(second["slug"])
    assert client.list_agents()["count"] == 0
    renamed = client.update_workspace(name="Second renamed")
    assert renamed["name"] == "Second renamed" and renamed["id"] == second["id"]
    assert client.update_me(full_name="Renamed")["full_name"] == "Renamed"


def test_prompts_and_providers_crud(client: AgentPlatformClient) -> None:
    prompt = client.create_prompt("p", description="d")
    assert prompt["latest_version"] is None
    version = client.create_version(prompt["id"], "Hi {{ name }}", if_match=prompt["version"])
    assert version["variables"] == ["name"]
    current = client.get_prompt(prompt["id"])
    client.set_label(prompt["id"], "staging", 1, if_match=current["version"])
    with pytest.raises(PreconditionFailedError):
        client.delete_label(prompt["id"], "staging", if_match=current["version"])
    client.delete_label(prompt["id"], "staging")
    assert "staging" not in client.get_prompt(prompt["id"])["labels"]
    with pytest.raises(ValidationError):
        client.render(prompt["id"], {})  # the variable is missing
    assert client.update_prompt(prompt["id"], name="p2")["name"] == "p2"
    assert client.list_prompts(q="p2")["count"] == 1
    client.delete_prompt(prompt["id"])
    assert client.list_prompts()["count"] == 0

    provider = client.create_provider(
        "local", "openai", base_url="http://127.0.0.1:9/v1", api_key="sk-x", models=["m"]
    )
    assert provider["has_api_key"] is True and "api_key" not in provider
    changed = client.update_provider(provider["id"], if_match=provider["version"], models=["m2"])
    assert changed["models"] == ["m2"]
    assert client.get_provider(provider["id"])["version"] == changed["version"]
    assert client.list_providers(q="loc")["count"] == 1
    client.delete_provider(provider["id"])
    assert client.list_providers()["count"] == 0


def test_agent_run_stream_and_cancel(client: AgentPlatformClient) -> None:
    agent = client.create_agent("solo", instructions="Be brief.")
    run = client.create_run(agent_id=agent["id"], input="Hello there")
    kinds = [event["event"] for event in client.stream_events(run["id"])]
    assert kinds[-1] == "status" and "step" in kinds
    assert client.get_run(run["id"])["status"] == "succeeded"
    with pytest.raises(ConflictError):
        client.cancel_run(run["id"])
    with pytest.raises(ValidationError):
        client.create_run(input="no target")
    with pytest.raises(NotFoundError):
        client.create_run(agent_id=uuid.uuid4(), input="x")
    assert client.list_runs(agent_id=agent["id"], limit=1)["data"][0]["id"] == run["id"]


# -- SSE parsing ---------------------------------------------------------------------------


def test_sse_parser() -> None:
    parser = SSEParser()
    lines = [
        ": keep-alive",
        "",
        "id: 3",
        "event: step",
        'data: {"seq": 3}',
        "",
        "event: delta",
        'data: {"text":',
        'data: "hi"}',
        "",
        "data: plain text",
        "",
        "event: status",
        'data: {"status": "succeeded"}',
    ]
    events = [e for line in lines if (e := parser.feed(line)) is not None]
    last = parser.flush()
    assert events == [
        {"event": "step", "data": {"seq": 3}, "id": "3"},
        {"event": "delta", "data": {"text": "hi"}, "id": None},
        {"event": "message", "data": "plain text", "id": None},
    ]
    assert last == {"event": "status", "data": {"status": "succeeded"}, "id": None}
    assert parser.last_event_id == "3"


# -- the async client, in-process ----------------------------------------------------------


@pytest.fixture
async def asgi() -> AsyncIterator[httpx.ASGITransport]:
    """The app in-process, with run execution isolated to this test."""
    from agentplatform.api.app import build_api
    from tests.services.run_support import isolated_runs

    async with isolated_runs():
        yield httpx.ASGITransport(app=build_api())


@pytest.fixture
async def aclient(asgi: httpx.ASGITransport) -> AsyncIterator[AsyncAgentPlatformClient]:
    async with AsyncAgentPlatformClient("http://testserver", transport=asgi) as client:
        yield client


async def test_async_client(aclient: AsyncAgentPlatformClient, asgi: httpx.ASGITransport) -> None:
    await aclient.register(_email("async"), PASSWORD)
    assert aclient.user is not None
    me = await aclient.me()
    assert me["email"] == aclient.user["email"]

    agent = await aclient.create_agent("async-agent", instructions="Be brief.")
    with pytest.raises(PreconditionFailedError) as stale:
        await aclient.update_agent(agent["id"], if_match=agent["version"] + 5, name="x")
    assert stale.value.current_version == agent["version"]

    aclient.access_token = _expired_token(me["id"])
    run = await aclient.create_run(agent_id=agent["id"], input="Hello")  # refreshed on the way
    finished = await aclient.wait(run["id"], timeout=60)
    assert finished["status"] == "succeeded"
    events = [event async for event in aclient.stream_events(run["id"])]
    assert events[-1]["event"] == "status" and events[-1]["data"]["id"] == run["id"]
    assert (await aclient.list_steps(run["id"]))["count"] >= 1

    key = await aclient.create_api_key("async-key", role="operator")
    async with AsyncAgentPlatformClient(
        "http://testserver", api_key=key["secret"], transport=asgi
    ) as operator:
        assert (await operator.list_runs())["count"] == 1
        with pytest.raises(PermissionDeniedError):
            await operator.delete_agent(agent["id"])
    await aclient.logout()
    with pytest.raises(AuthenticationError):
        await aclient.me()
