"""Log lines the app really writes (its JSON logging, in-process, while the API serves a run)
go through our Fluent Bit pipelines and reach Loki with few labels and every id kept.

The parsing and Loki rules are evaluated as configured by tests/observability/
fluent_bit_pipeline.py; the Lua filter runs in LuaJIT (see that module for why).
"""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from agentplatform.core.logging import configure_logging
from tests.factories import auth_headers
from tests.observability.fluent_bit_pipeline import Entry, Pipeline
from tests.services.run_support import isolated_runs, make_agent, owner, wait_for

IDS = {"correlation_id", "run_id", "workspace_id", "user_id", "trace_id", "span_id"}
POD = "agentplatform-worker-6c9d8-x2x7q"


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """The app's own logging set-up (LOG_FORMAT=json), writing to a buffer instead of stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    real_stderr, sys.stderr = sys.stderr, buffer  # type: ignore[assignment]
    try:
        configure_logging("INFO", "json")
    finally:
        sys.stderr = real_stderr
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
async def lines(api: httpx.AsyncClient, app_log: io.StringIO) -> dict[str, Any]:
    """Real lines: a run started through the API (request and run context), a request outside
    any workspace, an exception, a line inside a trace span, and a library's plain text."""
    user, _ = await owner()
    agent = await make_agent(user.workspace_id, "calc", tools=["calculator"])
    headers = auth_headers(user) | {"X-Request-ID": "req-ship-1"}
    created = await api.post(
        "/api/runs", json={"agent_id": str(agent), "input": "What is 6 * 7?"}, headers=headers
    )
    run_id = created.json()["id"]
    await wait_for(uuid.UUID(run_id))
    await api.get("/api/health")
    log = logging.getLogger("agentplatform.tests.shipping")
    try:
        raise RuntimeError("provider exploded")
    except RuntimeError:
        log.exception("run step failed")
    log.info(
        "inside a span",
        extra={"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"},
    )
    text = app_log.getvalue().splitlines()
    return {
        "json": [line for line in text if line.startswith("{")],
        "plain": "Granian is starting on 0.0.0.0:3000",
        "run_id": run_id,
        "workspace_id": str(user.workspace_id),
        "user_id": str(user.id),
    }


def find(entries: list[Entry], message: str) -> Entry:
    matching = [e for e in entries if message in str(e.line.get("message", e.line.get("log")))]
    assert matching, f"no entry with {message!r}: {[e.line for e in entries]}"
    return matching[0]


def as_kubernetes(lines: dict[str, Any]) -> list[Entry]:
    """Each line as the kubelet writes it (CRI) and the tail + kubernetes filter records it."""
    records = [
        {
            "stream": "stderr",
            "_p": "F",
            "log": line,
            "kubernetes": {
                "pod_name": POD,
                "namespace_name": "agentplatform",
                "container_name": "worker",
                "labels": {
                    "app.kubernetes.io/name": "agentplatform",
                    "app.kubernetes.io/component": "worker",
                },
            },
        }
        for line in [*lines["json"], lines["plain"]]
    ]
    tag = f"kube.var.log.containers.{POD}_agentplatform_worker-0a1b2c.log"
    return Pipeline.load("fluent-bit-kubernetes.yaml").ship(tag, records)


def as_compose(lines: dict[str, Any]) -> list[Entry]:
    """Each line as Docker's fluentd logging driver forwards it (compose.logging.yml)."""
    records = [
        {
            "container_id": "0a1b2c3d",
            "container_name": "/agentplatform-app-1",
            "source": "stderr",
            "log": line,
        }
        for line in [*lines["json"], lines["plain"]]
    ]
    return Pipeline.load("fluent-bit-compose.yaml").ship("agentplatform.app", records)


@pytest.mark.parametrize("ship", [as_kubernetes, as_compose], ids=["kubernetes", "compose"])
async def test_every_app_line_reaches_loki_with_level_and_app_labels_only(
    lines: dict[str, Any], ship: Any
) -> None:
    entries = ship(lines)
    app_lines = [json.loads(line) for line in lines["json"]]
    assert len(app_lines) >= 5 and len(entries) == len(app_lines) + 1
    for written, entry in zip(app_lines, entries, strict=False):
        assert entry.labels == {"app": "agentplatform", "level": written["level"]}
        assert entry.line["message"] == written["message"]
        assert entry.line["logger"] == written["logger"]
        assert entry.time == datetime.fromisoformat(written["timestamp"]), "the app's own time"
        assert not IDS & set(entry.line), "ids travel as structured metadata, not in the line"
        assert "null" not in entry.metadata.values(), "unset ids are left out, not 'null'"
        assert {k: v for k, v in entry.metadata.items() if k in IDS} == {
            k: v for k in IDS if (v := written.get(k)) is not None
        }
    levels = {entry.labels.get("level") for entry in entries}
    assert levels <= {"INFO", "WARNING", "ERROR", None}, "a bounded set of streams"


@pytest.mark.parametrize("ship", [as_kubernetes, as_compose], ids=["kubernetes", "compose"])
async def test_a_runs_lines_carry_its_request_run_and_workspace(
    lines: dict[str, Any], ship: Any
) -> None:
    entries = ship(lines)
    finished = find(entries, f"run {lines['run_id']} succeeded")
    assert finished.metadata["run_id"] == lines["run_id"]
    assert finished.metadata["correlation_id"] == "req-ship-1"
    assert finished.metadata["workspace_id"] == lines["workspace_id"]
    assert finished.metadata["user_id"] == lines["user_id"]
    served = find(entries, "POST /api/runs 202")
    assert served.metadata["correlation_id"] == "req-ship-1"
    assert "run_id" not in served.metadata
    health = find(entries, "GET /api/health 200")
    assert health.metadata["correlation_id"] not in {"", "req-ship-1"}, "its own request id"
    assert health.line["duration_ms"] >= 0  # the line's own extras stay in the line


@pytest.mark.parametrize("ship", [as_kubernetes, as_compose], ids=["kubernetes", "compose"])
async def test_errors_traces_and_plain_text_survive(lines: dict[str, Any], ship: Any) -> None:
    entries = ship(lines)
    failed = find(entries, "run step failed")
    assert failed.labels["level"] == "ERROR"
    assert "RuntimeError: provider exploded" in failed.line["exception"]
    traced = find(entries, "inside a span")
    assert traced.metadata["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert traced.metadata["span_id"] == "00f067aa0ba902b7"
    plain = find(entries, "Granian is starting")
    assert plain.labels == {"app": "agentplatform"}, "no level to label a plain line with"
    assert plain.line["log"] == lines["plain"]


async def test_kubernetes_lines_say_which_pod_and_component_wrote_them(
    lines: dict[str, Any],
) -> None:
    entry = find(as_kubernetes(lines), f"run {lines['run_id']} succeeded")
    assert entry.metadata["pod"] == POD
    assert entry.metadata["namespace"] == "agentplatform"
    assert entry.metadata["component"] == "worker"
    assert "kubernetes" not in entry.line and "stream" not in entry.line
