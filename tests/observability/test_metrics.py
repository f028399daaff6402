"""`GET /metrics`: HTTP series by route template, the run/LLM/tool helpers, token protection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from prometheus_client.parser import text_string_to_metric_families

from agentplatform.api.app import build_api
from agentplatform.core.config import get_settings
from agentplatform.observability import metrics

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The real app plus one test-only route with a path parameter."""
    app = build_api()
    items = APIRouter()

    @items.get("/api/test-items/{item_id}")
    async def get_item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    app.include_router(items)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def scrape(client: httpx.AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_http_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    item = uuid.uuid4().hex
    assert (await client.get(f"/api/test-items/{item}")).status_code == 200
    assert (await client.get("/api/test-items/another-one")).status_code == 200
    assert (await client.get("/api/health")).status_code == 200
    assert (await client.post("/api/health")).status_code == 405
    assert (await client.get(f"/api/no-such-thing/{item}")).status_code == 404
    after = await scrape(client)

    def delta(**labels: str) -> float:
        name = "agentplatform_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(method="GET", route="/api/test-items/{item_id}", status="200") == 2
    assert delta(method="GET", route="/api/health", status="200") == 1
    assert delta(method="POST", route="/api/health", status="405") == 1
    assert delta(method="GET", route="unmatched", status="404") == 1
    count = value(
        after,
        "agentplatform_http_request_duration_seconds_count",
        method="GET",
        route="/api/test-items/{item_id}",
    )
    assert count >= 2
    text = (await client.get("/metrics")).text
    assert item not in text, "raw paths never become label values"
    assert 'route="/metrics"' in text


async def test_run_llm_and_tool_helpers_show_up_with_their_labels(
    client: httpx.AsyncClient,
) -> None:
    metrics.run_started(kind="agent")
    metrics.run_finished(kind="agent", status="succeeded", duration_s=2.5)
    metrics.run_finished(kind="team", status="exploded", duration_s=1)
    metrics.llm_request(
        provider="openai",
        model="gpt-4o-mini",
        duration_s=0.8,
        input_tokens=120,
        output_tokens=30,
        cost_usd=0.0021,
    )
    metrics.tool_call(tool="calculator", outcome="ok")
    metrics.tool_call(tool="rm -rf / please", outcome="unknown_tool")
    metrics.set_runs_active(3)
    metrics.set_runs_queued(7)
    samples = await scrape(client)

    assert value(samples, "agentplatform_runs_started_total", kind="agent") >= 1
    finished = "agentplatform_runs_finished_total"
    assert value(samples, finished, kind="agent", status="succeeded") >= 1
    assert value(samples, finished, kind="team", status="other") >= 1
    duration = "agentplatform_run_duration_seconds"
    assert value(samples, f"{duration}_sum", kind="agent", status="succeeded") >= 2.5
    assert value(samples, f"{duration}_bucket", kind="agent", status="succeeded", le="5.0") >= 1
    llm = {"provider": "openai", "model": "gpt-4o-mini"}
    assert value(samples, "agentplatform_llm_request_duration_seconds_count", **llm) >= 1
    tokens = "agentplatform_llm_tokens_total"
    assert value(samples, tokens, **llm, direction="input") >= 120
    assert value(samples, tokens, **llm, direction="output") >= 30
    assert value(samples, "agentplatform_llm_cost_usd_total", **llm) >= 0.0021
    tools = "agentplatform_tool_calls_total"
    assert value(samples, tools, tool="calculator", outcome="ok") >= 1
    assert value(samples, tools, tool="unknown", outcome="unknown_tool") >= 1
    assert value(samples, "agentplatform_runs_active") == 3
    assert value(samples, "agentplatform_runs_queued") == 7
    assert not any("rm -rf" in str(labels) for _name, labels in samples)


async def test_metrics_live_outside_the_api_prefix(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/metrics")).status_code == 404
    assert (await client.get("/metrics")).status_code == 200


async def test_metrics_token_is_required_when_set(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "metrics_token", "scrape-me-0123456789")
    missing = await client.get("/metrics")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthenticated"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    basic = await client.get("/metrics", headers={"Authorization": "Basic scrape-me-0123456789"})
    assert basic.status_code == 401
    samples = await scrape(client, Authorization="Bearer scrape-me-0123456789")
    assert any(name.startswith("agentplatform_") for name, _labels in samples)
