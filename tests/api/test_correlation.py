"""Every request has a correlation id: echoed back and present on its log lines."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest

from agentplatform.core.logging import ContextFilter, JsonFormatter


@pytest.fixture
def json_log() -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_request_id_is_echoed_and_logged(
    api: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    response = await api.get("/api/health", headers={"X-Request-ID": "abc"})
    assert response.headers["x-request-id"] == "abc"
    access = [line for line in _lines(json_log) if line["logger"] == "agentplatform.access"]
    assert access, "the request wrote an access log line"
    assert access[-1]["correlation_id"] == "abc"
    assert access[-1]["message"] == "GET /api/health 200"
    assert {"timestamp", "level", "logger", "message"} <= set(access[-1])


async def test_request_id_is_generated_when_absent(api: httpx.AsyncClient) -> None:
    first = (await api.get("/api/health")).headers["x-request-id"]
    second = (await api.get("/api/health")).headers["x-request-id"]
    assert len(first) >= 16
    assert first != second


async def test_unsafe_request_id_is_replaced(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/health", headers={"X-Request-ID": "bad id\twith spaces" * 9})
    assert response.headers["x-request-id"] != "bad id\twith spaces" * 9


async def test_log_lines_inside_a_request_carry_the_id(
    api: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    await api.get("/api/ready", headers={"X-Request-ID": "ready-check-1"})
    server_lines = [line for line in _lines(json_log) if str(line["logger"]).startswith("agent")]
    assert server_lines
    assert {line.get("correlation_id") for line in server_lines} == {"ready-check-1"}
