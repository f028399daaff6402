"""JSON log lines carry the context ids; secrets never reach a log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from agentplatform.core import logging as log_context
from agentplatform.core.logging import ContextFilter, JsonFormatter, RedactingFilter
from agentplatform.core.redaction import redact_text

API_KEY = "apk_" + "A1b2" * 10
REFRESH = "rt_" + "Z9y8" * 10
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.logging")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_every_context_field(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.info("outside a request")
    tokens = [
        (log_context.correlation_id, log_context.correlation_id.set("cid-1")),
        (log_context.user_id, log_context.user_id.set("user-1")),
        (log_context.workspace_id, log_context.workspace_id.set("ws-1")),
        (log_context.run_id, log_context.run_id.set("run-1")),
    ]
    try:
        logger.warning("inside a run", extra={"step": 3})
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
    outside, inside = lines(stream)
    fields = {"timestamp", "level", "logger", "message"}
    fields |= {"correlation_id", "user_id", "workspace_id", "run_id"}
    assert fields <= set(outside) and fields <= set(inside)
    assert outside["correlation_id"] is None
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "tests.logging"
    assert (inside["correlation_id"], inside["user_id"]) == ("cid-1", "user-1")
    assert (inside["workspace_id"], inside["run_id"]) == ("ws-1", "run-1")
    assert inside["step"] == 3


def test_secrets_are_redacted_in_messages_and_extras(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.info("auth header was Bearer %s", JWT)
    logger.info("created key %s and refresh %s", API_KEY, REFRESH)
    logger.info("login attempt password=hunter2 user=ada")
    logger.info("connecting", extra={"url": "postgresql://app:s3cr3t@db:5432/app"})
    logger.info("request", extra={"headers": {"Authorization": f"Bearer {JWT}"}, "token": "x1"})
    try:
        raise ValueError(f"bad key {API_KEY}")
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    for secret in (JWT, API_KEY, REFRESH, "hunter2", "s3cr3t", 'x1"'):
        assert secret not in text
    records = lines(stream)
    assert records[0]["message"] == "auth header was Bearer [redacted]"
    assert records[1]["message"] == "created key apk_[redacted] and refresh rt_[redacted]"
    assert records[2]["message"] == "login attempt password=[redacted] user=ada"
    assert records[3]["url"] == "postgresql://app:[redacted]@db:5432/app"
    assert records[4]["headers"] == {"Authorization": "[redacted]"}
    assert records[4]["token"] == "[redacted]"
    assert "apk_[redacted]" in str(records[5]["exception"])


def test_redaction_leaves_ordinary_text_alone() -> None:
    ordinary = "GET /api/agents 200 start_time=3 tokens=120 max_tokens=512 rt_short"
    assert redact_text(ordinary) == ordinary
    assert redact_text('{"password": "pw-123"}') == '{"password": "[redacted]"}'


def test_the_app_handler_redacts() -> None:
    from agentplatform.core.logging import configure_logging

    configure_logging("INFO", "json")
    try:
        ours = [h for h in logging.getLogger().handlers if getattr(h, "_agentplatform", False)]
        assert len(ours) == 1
        assert any(isinstance(f, RedactingFilter) for f in ours[0].filters)
        assert isinstance(ours[0].formatter, JsonFormatter)
    finally:
        configure_logging("INFO", "console")
