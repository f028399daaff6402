"""An error in the browser reaches Sentry (a fake ingest on 127.0.0.1), tagged and scrubbed."""

from __future__ import annotations

import json

from tests.e2e.conftest import ServedApp
from tests.fakes.sentry_ingest import FakeIngest

LEAKY_ERROR = (
    "browser boom for alice@example.com with "
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
)


def _message(event: dict) -> str:  # type: ignore[type-arg]
    values = (event.get("exception") or {}).get("values") or [{}]
    return str(values[-1].get("value", ""))


def test_an_uncaught_browser_error_is_reported_without_secrets(
    served_app: ServedApp, sentry_ingest: FakeIngest, page
) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{served_app.url}/login")
    page.get_by_label("Email").wait_for()
    page.evaluate("message => setTimeout(() => { throw new Error(message); }, 0)", LEAKY_ERROR)

    events = sentry_ingest.wait_for_events(
        timeout=30, where=lambda e: "browser boom" in _message(e)
    )
    assert events, "the browser's error never reached the ingest"
    event = events[-1]
    assert event["platform"] == "javascript"
    assert event["environment"] == "development"
    assert event["release"].startswith("agentplatform@")
    assert event["tags"]["surface"] == "browser"
    assert event["request"]["url"].endswith("/login")
    text = json.dumps(event)
    assert "alice@example.com" not in text and "eyJhbGciOiJIUzI1NiJ9" not in text
    assert "[email]" in _message(event) and "Bearer [redacted]" in _message(event)
