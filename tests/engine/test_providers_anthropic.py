"""The Anthropic Messages provider over real HTTP against the fake server's /v1/messages."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from agentplatform.core.errors import ProviderError
from agentplatform.engine.providers import factory
from agentplatform.engine.providers.anthropic import AnthropicProvider
from agentplatform.engine.providers.base import ChatMessage, ToolCall, ToolSchema
from tests.fakes.fake_openai import CutStream, FakeLLMServer, Reply

MODEL = "claude-3-5-haiku-20241022"
USER = [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="Hi")]
SEARCH = ToolSchema(
    name="search",
    description="Search the docs",
    parameters={"type": "object", "properties": {"q": {"type": "string"}}},
)


def make(fake: FakeLLMServer, **kw: Any) -> AnthropicProvider:
    """A provider pointed at the fake, with test-sized timeouts and backoffs."""
    opts: dict[str, Any] = {
        "timeout_s": 2.0,
        "max_retries": 2,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    return AnthropicProvider(fake.url.removesuffix("/v1"), "sk-ant-test", MODEL, **(opts | kw))


class Deltas:
    """Collects streamed text deltas."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def __call__(self, delta: str) -> None:
        self.items.append(delta)


async def test_plain_reply_with_separate_system_prompt(fake_openai: FakeLLMServer) -> None:
    fake_openai.reply("Hello from Claude", usage=(21, 5))
    answer = await make(fake_openai).complete(USER, temperature=0.5)
    assert answer.content == "Hello from Claude"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (21, 5)
    assert answer.finish_reason == "stop"
    request = fake_openai.log[0]
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.body["system"] == "Be brief."
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]}
    ]
    assert request.body["max_tokens"] == 4096 and request.body["temperature"] == 0.5


async def test_base_url_with_v1_suffix_is_accepted(fake_openai: FakeLLMServer) -> None:
    provider = AnthropicProvider(fake_openai.url, "k", MODEL)
    assert provider.url == f"{fake_openai.url}/messages"
    assert (await provider.complete(USER)).content == "echo: Hi"


async def test_tool_results_are_merged_into_one_user_turn(fake_openai: FakeLLMServer) -> None:
    calls = (
        ToolCall(id="toolu_1", name="search", arguments={"q": "a"}),
        ToolCall(id="toolu_2", name="search", arguments={"q": "b"}),
    )
    history = [
        *USER,
        ChatMessage(role="assistant", content="Looking.", tool_calls=calls),
        ChatMessage(role="tool", content="A", tool_call_id="toolu_1"),
        ChatMessage(role="tool", content="B", tool_call_id="toolu_2"),
    ]
    await make(fake_openai).complete(history, tools=[SEARCH])
    body = fake_openai.requests[0]
    assert body["tools"] == [
        {"name": "search", "description": "Search the docs", "input_schema": SEARCH.parameters}
    ]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Looking."},
        {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "a"}},
        {"type": "tool_use", "id": "toolu_2", "name": "search", "input": {"q": "b"}},
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "A"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "B"},
    ]


async def test_tool_use_is_parsed(fake_openai: FakeLLMServer) -> None:
    fake_openai.tool_calls(("search", {"q": "pricing"}), text="Let me look.")
    answer = await make(fake_openai).complete(USER, tools=[SEARCH])
    assert answer.content == "Let me look."
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [("search", {"q": "pricing"})]
    assert answer.tool_calls[0].id.startswith("toolu_")
    assert answer.finish_reason == "tool_calls"


async def test_streaming_text_and_usage(fake_openai: FakeLLMServer) -> None:
    fake_openai.stream(["Bon", "jour", " à ", "tous"], chunk_delay_s=0.01, usage=(30, 9))
    deltas = Deltas()
    answer = await make(fake_openai).complete(USER, on_text=deltas)
    assert deltas.items == ["Bon", "jour", " à ", "tous"]
    assert answer.content == "Bonjour à tous"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (30, 9)
    assert fake_openai.requests[0]["stream"] is True


async def test_streaming_tool_use_joins_partial_json(fake_openai: FakeLLMServer) -> None:
    fake_openai.script(Reply(text="Searching.", tool_calls=[("search", {"q": "long query"})]))
    deltas = Deltas()
    answer = await make(fake_openai).complete(USER, tools=[SEARCH], on_text=deltas)
    assert "".join(deltas.items) == "Searching."
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [("search", {"q": "long query"})]
    assert answer.finish_reason == "tool_calls"


async def test_overloaded_then_success(fake_openai: FakeLLMServer) -> None:
    fake_openai.error(529, "Overloaded")
    fake_openai.error(429, "rate limited", retry_after="0.2")
    fake_openai.reply("ok now")
    started = time.monotonic()
    assert (await make(fake_openai).complete(USER)).content == "ok now"
    assert time.monotonic() - started >= 0.2
    assert len(fake_openai.requests) == 3


async def test_errors_name_provider_model_and_cause(fake_openai: FakeLLMServer) -> None:
    fake_openai.error(400, "max_tokens: must be positive")
    with pytest.raises(ProviderError) as info:
        await make(fake_openai).complete(USER)
    assert str(info.value) == (
        f"anthropic ({MODEL}): HTTP 400 from {fake_openai.url}/messages: "
        "max_tokens: must be positive"
    )
    assert len(fake_openai.requests) == 1


async def test_malformed_body_is_a_provider_error(fake_openai: FakeLLMServer) -> None:
    fake_openai.malformed("<html>Bad gateway</html>")
    with pytest.raises(ProviderError, match=r"invalid JSON in response.*Bad gateway"):
        await make(fake_openai).complete(USER)


async def test_stream_cut_before_text_is_retried(fake_openai: FakeLLMServer) -> None:
    fake_openai.script(CutStream(chunks=[]))
    assert (await make(fake_openai).complete(USER, on_text=Deltas())).content == "echo: Hi"
    assert len(fake_openai.requests) == 2


async def test_stream_cut_after_text_fails(fake_openai: FakeLLMServer) -> None:
    fake_openai.cut_stream(["Partial", " answ"])
    deltas = Deltas()
    with pytest.raises(ProviderError, match=r"anthropic \(.*broke off.*not retried"):
        await make(fake_openai).complete(USER, on_text=deltas)
    assert deltas.items == ["Partial", " answ"] and len(fake_openai.requests) == 1


async def test_slow_answer_times_out(fake_openai: FakeLLMServer) -> None:
    fake_openai.delay(5)
    with pytest.raises(ProviderError, match="no answer"):
        await make(fake_openai, timeout_s=0.3, max_retries=0).complete(USER)


async def test_cancellation_mid_stream_is_prompt(fake_openai: FakeLLMServer) -> None:
    fake_openai.stream(["tick "] * 100, chunk_delay_s=0.05)
    deltas = Deltas()
    task = asyncio.create_task(make(fake_openai).complete(USER, on_text=deltas))
    while len(deltas.items) < 2:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5


async def test_connection_check(fake_openai: FakeLLMServer) -> None:
    check = await factory.test_connection(make(fake_openai))
    assert check.ok and MODEL in check.message
    assert fake_openai.requests[0]["max_tokens"] == 1
    fake_openai.error(401, "invalid x-api-key")
    check = await factory.test_connection(make(fake_openai))
    assert not check.ok and "invalid x-api-key" in check.message
