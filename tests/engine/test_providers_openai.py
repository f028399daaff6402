"""The OpenAI-compatible provider over real HTTP against the scripted fake server."""

from __future__ import annotations

import asyncio
import socket
import time
from email.utils import formatdate
from typing import Any

import pytest

from agentplatform.core.errors import ProviderError, ValidationFailed
from agentplatform.engine.providers import factory
from agentplatform.engine.providers.base import ChatMessage, ToolCall, ToolSchema
from agentplatform.engine.providers.openai_compat import OpenAICompatibleProvider
from agentplatform.engine.providers.retry import RetryPolicy, parse_retry_after
from tests.fakes.fake_openai import CutStream, FakeLLMServer, Reply

USER = [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="Hi")]
WEATHER = ToolSchema(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


def make(fake: FakeLLMServer, **kw: Any) -> OpenAICompatibleProvider:
    """A provider with test-sized timeouts and backoffs."""
    opts: dict[str, Any] = {
        "timeout_s": 2.0,
        "max_retries": 2,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    return OpenAICompatibleProvider(fake.url, "sk-test", "gpt-4o-mini", **(opts | kw))


class Deltas:
    """Collects streamed text deltas."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def __call__(self, delta: str) -> None:
        self.items.append(delta)


async def test_plain_reply_maps_messages_and_usage(fake_openai: FakeLLMServer) -> None:
    fake_openai.reply("Hello there", usage=(12, 3))
    answer = await make(fake_openai).complete(USER, temperature=0.2, max_tokens=50)
    assert answer.content == "Hello there"
    assert answer.tool_calls == ()
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (12, 3)
    assert answer.finish_reason == "stop"
    body = fake_openai.requests[0]
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50
    assert "stream" not in body and "tools" not in body
    assert fake_openai.log[0].headers["authorization"] == "Bearer sk-test"


async def test_tool_round_trip_messages_are_sent_in_openai_shape(
    fake_openai: FakeLLMServer,
) -> None:
    call = ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"})
    history = [
        *USER,
        ChatMessage(role="assistant", tool_calls=(call,)),
        ChatMessage(role="tool", content="sunny", tool_call_id="call_1", name="get_weather"),
    ]
    await make(fake_openai).complete(history)
    sent = fake_openai.requests[0]["messages"]
    assert sent[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    assert sent[3] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}


async def test_tool_calls_are_offered_and_parsed(fake_openai: FakeLLMServer) -> None:
    fake_openai.tool_calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Oslo"}))
    answer = await make(fake_openai).complete(USER, tools=[WEATHER])
    assert fake_openai.requests[0]["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": WEATHER.parameters,
            },
        }
    ]
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Oslo"}),
    ]
    assert answer.tool_calls[0].id != answer.tool_calls[1].id
    assert answer.finish_reason == "tool_calls"


async def test_streaming_delivers_deltas_in_order_with_usage(fake_openai: FakeLLMServer) -> None:
    fake_openai.stream(["Hel", "lo", ", ", "world"], chunk_delay_s=0.01, usage=(7, 4))
    deltas = Deltas()
    answer = await make(fake_openai).complete(USER, on_text=deltas)
    assert deltas.items == ["Hel", "lo", ", ", "world"]
    assert answer.content == "Hello, world"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (7, 4)
    body = fake_openai.requests[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["crlf", "cr"])
async def test_streams_with_crlf_or_cr_line_ends_read_the_same(
    fake_openai: FakeLLMServer, line_end: str
) -> None:
    fake_openai.script(Reply(text="Hello, world", chunks=["Hel", "lo, ", "world"],
                             chunk_delay_s=0.01, usage=(7, 4), line_end=line_end))  # fmt: skip
    deltas = Deltas()
    answer = await make(fake_openai).complete(USER, on_text=deltas)
    assert deltas.items == ["Hel", "lo, ", "world"]
    assert (answer.content, answer.usage.output_tokens) == ("Hello, world", 4)


async def test_streaming_tool_call_deltas_are_joined(fake_openai: FakeLLMServer) -> None:
    fake_openai.script(Reply(tool_calls=[("get_weather", {"city": "Reykjavik", "days": 3})]))
    answer = await make(fake_openai).complete(USER, tools=[WEATHER], on_text=Deltas())
    assert answer.tool_calls[0].name == "get_weather"
    assert answer.tool_calls[0].arguments == {"city": "Reykjavik", "days": 3}
    assert answer.finish_reason == "tool_calls"


async def test_default_reply_streams_and_echoes(fake_openai: FakeLLMServer) -> None:
    deltas = Deltas()
    answer = await make(fake_openai).complete(USER, on_text=deltas)
    assert answer.content == "echo: Hi" == "".join(deltas.items)
    assert len(deltas.items) == 2 and answer.usage.output_tokens > 0


async def test_missing_usage_is_estimated(fake_openai: FakeLLMServer) -> None:
    fake_openai.reply("abcd" * 10, include_usage=False)
    answer = await make(fake_openai).complete(USER)
    assert answer.usage.output_tokens == 10
    assert answer.usage.input_tokens > 0


async def test_429_waits_for_retry_after_then_succeeds(fake_openai: FakeLLMServer) -> None:
    fake_openai.error(429, "slow down", retry_after="1")
    fake_openai.reply("finally")
    started = time.monotonic()
    answer = await make(fake_openai).complete(USER)
    assert answer.content == "finally"
    assert time.monotonic() - started >= 0.95
    assert len(fake_openai.requests) == 2


async def test_500_then_success_is_retried(fake_openai: FakeLLMServer) -> None:
    fake_openai.error(500)
    fake_openai.reply("recovered")
    assert (await make(fake_openai).complete(USER)).content == "recovered"
    assert len(fake_openai.requests) == 2


async def test_persistent_500_names_provider_model_and_cause(fake_openai: FakeLLMServer) -> None:
    for _ in range(3):
        fake_openai.error(500, "upstream exploded")
    with pytest.raises(ProviderError) as info:
        await make(fake_openai).complete(USER)
    err = info.value
    assert str(err) == (
        f"openai (gpt-4o-mini): HTTP 500 from {fake_openai.url}/chat/completions "
        "after 3 attempts: upstream exploded"
    )
    assert (err.provider, err.model, err.retryable) == ("openai", "gpt-4o-mini", True)
    assert len(fake_openai.requests) == 3


async def test_400_is_not_retried(fake_openai: FakeLLMServer) -> None:
    fake_openai.error(400, "messages: field required")
    with pytest.raises(ProviderError, match=r"HTTP 400 .*: messages: field required") as info:
        await make(fake_openai).complete(USER)
    assert "attempts" not in str(info.value) and not info.value.retryable
    assert len(fake_openai.requests) == 1


async def test_slow_server_times_out_instead_of_hanging(fake_openai: FakeLLMServer) -> None:
    fake_openai.delay(5)
    fake_openai.delay(5)
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"openai \(gpt-4o-mini\): .*0\.3 s.*after 2 attempts"):
        await make(fake_openai, timeout_s=0.3, max_retries=1).complete(USER)
    assert time.monotonic() - started < 2


async def test_overall_deadline_bounds_a_slow_stream(fake_openai: FakeLLMServer) -> None:
    fake_openai.stream(["a"] * 50, chunk_delay_s=0.1)
    started = time.monotonic()
    with pytest.raises(ProviderError):
        await make(fake_openai, deadline_s=0.5).complete(USER, on_text=Deltas())
    assert time.monotonic() - started < 2


async def test_malformed_json_body_is_a_provider_error(fake_openai: FakeLLMServer) -> None:
    fake_openai.malformed()
    with pytest.raises(ProviderError, match="invalid JSON in response"):
        await make(fake_openai).complete(USER)
    assert len(fake_openai.requests) == 1


async def test_malformed_tool_arguments_name_the_tool(fake_openai: FakeLLMServer) -> None:
    fake_openai.tool_calls(("search_docs", '{"query": "unterminated'))
    with pytest.raises(ProviderError, match="malformed JSON arguments for tool 'search_docs'"):
        await make(fake_openai).complete(USER, tools=[WEATHER])


async def test_stream_cut_before_any_text_is_retried(fake_openai: FakeLLMServer) -> None:
    fake_openai.script(CutStream(chunks=[]))
    fake_openai.stream(["all ", "good"])
    deltas = Deltas()
    answer = await make(fake_openai).complete(USER, on_text=deltas)
    assert answer.content == "all good" and deltas.items == ["all ", "good"]
    assert len(fake_openai.requests) == 2


async def test_stream_cut_after_text_fails_without_duplicating(fake_openai: FakeLLMServer) -> None:
    fake_openai.cut_stream(["Hello", " wor"])
    deltas = Deltas()
    with pytest.raises(ProviderError, match=r"broke off.*not retried") as info:
        await make(fake_openai).complete(USER, on_text=deltas)
    assert deltas.items == ["Hello", " wor"]
    assert len(fake_openai.requests) == 1 and not info.value.retryable


async def test_stream_ending_without_done_is_an_error(fake_openai: FakeLLMServer) -> None:
    fake_openai.cut_stream(["Hi"], abort=False)
    with pytest.raises(ProviderError, match="ended early"):
        await make(fake_openai).complete(USER, on_text=Deltas())


async def test_cancellation_mid_request_is_prompt(fake_openai: FakeLLMServer) -> None:
    fake_openai.delay(5)
    task = asyncio.create_task(make(fake_openai).complete(USER))
    while not fake_openai.requests:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5


async def test_cancellation_during_backoff_is_prompt(fake_openai: FakeLLMServer) -> None:
    fake_openai.error(503, retry_after="5")
    task = asyncio.create_task(make(fake_openai, max_retry_after_s=10).complete(USER))
    while not fake_openai.requests:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5


async def test_shared_pooled_client_serves_concurrent_calls(fake_openai: FakeLLMServer) -> None:
    provider = OpenAICompatibleProvider(fake_openai.url, None, "llama3")
    answers = await asyncio.gather(
        *(provider.complete([ChatMessage(role="user", content=f"n{i}")]) for i in range(20))
    )
    assert sorted(a.content for a in answers) == sorted(f"echo: n{i}" for i in range(20))
    assert "authorization" not in fake_openai.log[0].headers


async def test_list_models(fake_openai: FakeLLMServer) -> None:
    assert await make(fake_openai).list_models() == ["fake-model", "fake-model-large"]


async def test_connection_check_ok(fake_openai: FakeLLMServer) -> None:
    check = await factory.test_connection(make(fake_openai))
    assert check.ok and check.latency_ms > 0
    assert check.message.startswith("Connected to openai (gpt-4o-mini)")
    assert fake_openai.requests[0]["max_tokens"] == 1


async def test_connection_check_reports_failures(fake_openai: FakeLLMServer) -> None:
    fake_openai.error(401, "Incorrect API key provided")
    check = await factory.test_connection(make(fake_openai))
    assert not check.ok and "HTTP 401" in check.message and "Incorrect API key" in check.message
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = OpenAICompatibleProvider(
            f"http://127.0.0.1:{sock.getsockname()[1]}/v1", None, "m", max_retries=0
        )
        check = await factory.test_connection(dead)
    assert not check.ok and "cannot connect" in check.message


def test_build_provider_kinds(fake_openai: FakeLLMServer) -> None:
    openai = factory.build_provider("openai", model="gpt-4o", base_url=fake_openai.url)
    assert isinstance(openai, OpenAICompatibleProvider) and openai.name == "openai"
    ollama = factory.build_provider("ollama", model="llama3", timeout_s=5)
    assert isinstance(ollama, OpenAICompatibleProvider)
    assert ollama.url == "http://localhost:11434/v1/chat/completions" and ollama.timeout_s == 5
    assert factory.build_provider("anthropic", model="claude-sonnet-4", api_key="k").kind == (
        "anthropic"
    )
    with pytest.raises(ValidationFailed, match="Unknown provider kind"):
        factory.build_provider("bard", model="x")
    with pytest.raises(ValidationFailed, match="API key"):
        factory.build_provider("anthropic", model="claude-sonnet-4")


def test_build_offline_provider_lazily() -> None:
    pytest.importorskip("agentplatform.engine.providers.offline")
    provider = factory.build_provider("offline", model="offline-demo")
    assert provider.model == "offline-demo"


def test_retry_after_parsing_and_backoff() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({}) is None and parse_retry_after({"retry-after": "soon"}) is None
    in_ten = parse_retry_after({"retry-after": formatdate(time.time() + 10, usegmt=True)})
    assert in_ten is not None and 8 <= in_ten <= 10
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=8)
    assert 0.25 <= policy.backoff(1) <= 0.5
    assert 4 <= policy.backoff(10) <= 8
