"""Sentry: an unhandled API error reaches a local fake ingest, tagged and with no secrets."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import sentry_sdk
from fastapi import APIRouter, Request

from agentplatform.api.app import build_api
from agentplatform.api.deps import ActorDep
from agentplatform.core import logging as log_context
from agentplatform.core.config import load_settings
from agentplatform.observability.sentry import capture_run_failure, init_sentry
from tests.factories import make_user
from tests.fakes.sentry_ingest import FakeIngest

SECRET_PASSWORD = "hunter2-very-secret-value"


@pytest.fixture
def ingest() -> Iterator[FakeIngest]:
    server = FakeIngest()
    settings = load_settings(sentry_dsn=server.dsn())
    assert init_sentry(settings)
    try:
        yield server
    finally:
        sentry_sdk.flush(timeout=2)
        sentry_sdk.init()  # an inactive client: reporting off for the rest of the suite
        server.stop()


@pytest.fixture
async def client(ingest: FakeIngest) -> AsyncIterator[httpx.AsyncClient]:
    """The real app plus a test-only route that fails after authenticating the caller."""
    app = build_api()
    failing = APIRouter()

    @failing.post("/api/test-failure")
    async def fail(actor: ActorDep, request: Request) -> None:
        body = await request.json()
        raise RuntimeError(f"exploded for {actor.user_id} with password={body['password']}")

    app.include_router(failing)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def test_off_without_a_dsn() -> None:
    assert init_sentry(load_settings(sentry_dsn="")) is False


async def test_unhandled_error_is_reported_tagged_and_scrubbed(
    client: httpx.AsyncClient, ingest: FakeIngest
) -> None:
    user = await make_user(email=f"sentry-{uuid.uuid4().hex[:6]}@example.com")
    headers = {**user.headers, "X-Request-ID": "sentry-cid-42", "Cookie": "session=abc123cookie"}
    token = headers["Authorization"].split(" ", 1)[1]
    response = await client.post(
        "/api/test-failure",
        headers=headers,
        json={"password": SECRET_PASSWORD, "api_key": "apk_" + "k" * 40, "note": "hello"},
    )
    assert response.status_code == 500

    events = ingest.wait_for_events(flush=lambda: sentry_sdk.flush(timeout=1))
    assert events, "the fake ingest received the error"
    event = next(e for e in events if "exploded" in json.dumps(e))
    tags = event["tags"]
    tags = dict(tags) if isinstance(tags, dict) else {k: v for k, v in tags}
    assert tags["correlation_id"] == "sentry-cid-42"
    assert tags["user_id"] == str(user.id)
    assert tags["workspace_id"] == str(user.workspace_id)
    assert event.get("user", {}) == {"id": str(user.id)}
    assert event["environment"] == "development"
    assert event["release"].startswith("agentplatform@")

    payload = "\n".join(ingest.raw)
    assert token not in payload
    assert SECRET_PASSWORD not in payload
    assert "k" * 40 not in payload
    assert "abc123cookie" not in payload
    assert user.email not in payload


async def test_capture_run_failure_tags_the_run(ingest: FakeIngest) -> None:
    run_id = uuid.uuid4()
    binding = log_context.correlation_id.set("run-cid-7")
    try:
        error = ValueError("step failed; token=rt_" + "r" * 40)
        event_id = capture_run_failure(run_id, error, kind="team", target_id=uuid.uuid4())
    finally:
        log_context.correlation_id.reset(binding)
    assert event_id
    events = ingest.wait_for_events(flush=lambda: sentry_sdk.flush(timeout=1))
    event = next(e for e in events if e.get("event_id") == event_id)
    assert event["tags"]["run_id"] == str(run_id)
    assert event["tags"]["run_kind"] == "team"
    assert event["tags"]["correlation_id"] == "run-cid-7"
    assert "r" * 40 not in "\n".join(ingest.raw)
