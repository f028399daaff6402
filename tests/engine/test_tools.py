"""Built-in tools and the registry: safe arithmetic, clock, text, guarded HTTP, permissions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from agentplatform.core.errors import NotFound, ToolError
from agentplatform.engine.tools import Tool, ToolRegistry
from agentplatform.engine.tools.calculator import evaluate
from agentplatform.engine.tools.clock import make_clock_tool

ALL = {"calculator", "clock", "text_utils", "http_get"}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("7 / 2", "3.5"),
        ("7 // 2", "3"),
        ("7 % 4", "3"),
        ("2 ** 10", "1024"),
        ("2 ^ 10", "1024"),
        ("-3 ** 2", "-9"),
        ("+-4", "-4"),
        ("0.1 + 0.2", "0.3"),
        ("sqrt(16) + abs(-2)", "6"),
        ("round(pi, 3)", "3.142"),
        ("min(4, 2, 8) + max(1, 9)", "11"),
        ("log(e)", "1"),
        ("sin(0) + cos(0)", "1"),
        ("2 ** -2", "0.25"),
    ],
)
def test_calculator_computes(expression: str, expected: str) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('echo hi')", "only calls of the listed functions"),
        ("(1).__class__", "'Attribute' is not allowed"),
        ("().__class__.__bases__", "'Attribute' is not allowed"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("x + 1", "unknown name 'x'"),
        ("'a' * 3", "only numbers are allowed"),
        ("[1, 2]", "'List' is not allowed"),
        ("lambda: 1", "'Lambda' is not allowed"),
        ("9 ** 9 ** 9", "too large"),
        ("2 ** 100000", "too large"),
        ("10 ** 5000", "too large"),
        ("1.5 ** 5000", "too large"),
        ("1 / 0", "division by zero"),
        ("sqrt(-1)", "math domain error"),
        ("1 +", "cannot parse"),
        ("1" + "+1" * 150, "longer than"),
        ("sqrt(x=4)", "no keyword arguments"),
    ],
)
def test_calculator_refuses(expression: str, message: str) -> None:
    with pytest.raises(ToolError, match="calculator") as caught:
        evaluate(expression)
    assert message in caught.value.message


async def test_calculator_through_registry() -> None:
    registry = ToolRegistry()
    result = await registry.execute("calculator", {"expression": "6 * 7"}, {"calculator"})
    assert result.ok and result.output == "42" and result.error == ""
    assert result.latency_ms >= 0


async def test_clock_uses_timezone() -> None:
    fixed = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    tool = make_clock_tool(now=lambda: fixed)
    assert await tool.run({}) == "2025-01-15T12:00:00+00:00 (UTC, Wednesday)"
    paris = await tool.run({"timezone": "Europe/Paris"})
    assert paris == "2025-01-15T13:00:00+01:00 (Europe/Paris, Wednesday)"
    with pytest.raises(ToolError, match="unknown timezone 'Mars/Base'"):
        await tool.run({"timezone": "Mars/Base"})


async def test_clock_default_registry_answers_now() -> None:
    result = await ToolRegistry().execute("clock", {}, {"clock"})
    assert result.ok and str(datetime.now(UTC).year) in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"operation": "word_count", "text": "the quick  brown fox"}, "4"),
        ({"operation": "char_count", "text": "héllo"}, "5"),
        ({"operation": "upper", "text": "Hello"}, "HELLO"),
        ({"operation": "lower", "text": "Hello"}, "hello"),
        ({"operation": "reverse", "text": "abc"}, "cba"),
        ({"operation": "slugify", "text": "Héllo, World!"}, "hello-world"),
        ({"operation": "truncate", "text": "abcdefghij", "length": 5}, "abcd…"),
        ({"operation": "truncate", "text": "abc", "length": 5}, "abc"),
    ],
)
async def test_text_utils(args: dict[str, object], expected: str) -> None:
    result = await ToolRegistry().execute("text_utils", args, {"text_utils"})
    assert result.ok, result.error
    assert result.output == expected


async def test_arguments_are_validated_with_clear_errors() -> None:
    registry = ToolRegistry()
    missing = await registry.execute("calculator", {}, {"calculator"})
    assert missing.error == "calculator: missing required argument 'expression'"
    wrong = await registry.execute("calculator", {"expression": 5}, {"calculator"})
    assert wrong.error == "calculator: argument 'expression' must be string, got integer"
    extra = await registry.execute("calculator", {"expression": "1", "x": 1}, {"calculator"})
    assert "unknown argument(s) ['x']" in extra.error
    bad_enum = await registry.execute("text_utils", {"operation": "rot13", "text": "a"}, ALL)
    assert "'operation' must be one of" in bad_enum.error
    not_object = await registry.execute("calculator", ["1+1"], {"calculator"})
    assert "must be a JSON object" in not_object.error
    assert missing.for_model().startswith("Error: ")


async def test_registry_refuses_tools_not_allowed_for_the_agent() -> None:
    registry = ToolRegistry()
    result = await registry.execute("calculator", {"expression": "1+1"}, {"clock"})
    assert not result.ok
    assert result.error == "tool 'calculator' is not enabled for this agent"
    unknown = await registry.execute("rm_rf", {}, {"rm_rf"})
    assert unknown.error == "unknown tool 'rm_rf'"


async def test_registry_enforces_timeouts_and_caps_output() -> None:
    async def slow(args: dict[str, object]) -> str:
        await asyncio.sleep(5)
        return "late"

    async def chatty(args: dict[str, object]) -> str:
        return "x" * 500

    async def broken(args: dict[str, object]) -> str:
        raise RuntimeError("boom")

    schema = {"type": "object", "properties": {}}
    registry = ToolRegistry(
        [
            Tool("slow", "sleeps", schema, slow, timeout_s=0.05),
            Tool("chatty", "talks", schema, chatty),
            Tool("broken", "fails", schema, broken),
        ],
        max_output_chars=100,
    )
    allowed = {"slow", "chatty", "broken"}
    timed_out = await registry.execute("slow", {}, allowed)
    assert not timed_out.ok and timed_out.error == "tool 'slow' timed out after 0.05 s"
    capped = await registry.execute("chatty", {}, allowed)
    assert capped.ok and capped.output.startswith("x" * 100)
    assert capped.output.endswith("[truncated 400 characters]")
    failed = await registry.execute("broken", {}, allowed)
    assert failed.error == "tool 'broken' failed: RuntimeError: boom"


async def test_registry_listing_and_schemas() -> None:
    registry = ToolRegistry()
    assert [t.name for t in registry.list()] == ["calculator", "clock", "http_get", "text_utils"]
    assert registry.get("calculator").enabled_by_default
    http = registry.get("http_get")
    assert http.requires_permission and not http.enabled_by_default and not http.available
    names = [s.name for s in registry.schemas_for(["calculator", "http_get", "clock"])]
    assert names == ["calculator", "clock"]  # http_get is off without an allow-list
    with pytest.raises(NotFound, match="unknown tool 'nope'"):
        registry.schemas_for(["nope"])


def _mock(routes: dict[str, httpx.Response]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return routes.get(str(request.url), httpx.Response(404, text="missing"))

    return httpx.MockTransport(handler)


async def test_http_get_is_refused_by_default() -> None:
    result = await ToolRegistry().execute("http_get", {"url": "https://example.com/"}, ALL)
    assert not result.ok
    assert "unavailable" in result.error and "allow-list" in result.error


async def test_http_get_only_reaches_allowed_hosts() -> None:
    transport = _mock(
        {
            "https://docs.example.com/page": httpx.Response(
                200, text="hello docs", headers={"content-type": "text/plain"}
            ),
            "https://docs.example.com/away": httpx.Response(
                302, headers={"location": "https://evil.test/steal"}
            ),
            "https://docs.example.com/hop": httpx.Response(302, headers={"location": "/page"}),
            "https://docs.example.com/big": httpx.Response(
                200, text="y" * 5000, headers={"content-type": "text/plain"}
            ),
        }
    )
    registry = ToolRegistry(
        http_allowed_hosts=["docs.example.com"], http_transport=transport, http_max_bytes=1000
    )
    assert [s.name for s in registry.schemas_for(["http_get"])] == ["http_get"]

    async def get(url: str) -> tuple[bool, str]:
        result = await registry.execute("http_get", {"url": url}, {"http_get"})
        return result.ok, result.output or result.error

    assert await get("https://docs.example.com/page") == (True, "HTTP 200 text/plain\n\nhello docs")
    assert await get("https://other.example.com/") == (
        False,
        "http_get: host 'other.example.com' is not in the allow-list",
    )
    ok, text = await get("https://docs.example.com/away")
    assert not ok and "host 'evil.test' is not in the allow-list" in text
    assert (await get("https://docs.example.com/hop"))[1].endswith("hello docs")
    ok, text = await get("file:///etc/passwd")
    assert not ok and "only http and https" in text
    ok, text = await get("https://docs.example.com/big")
    assert ok and text.endswith("[truncated at 1000 bytes]") and "y" * 1000 in text


@pytest.fixture
async def local_server() -> AsyncIterator[int]:
    """A tiny real HTTP server on 127.0.0.1 answering every GET with a fixed page."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b"local page"
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_http_get_over_real_http(local_server: int) -> None:
    registry = ToolRegistry(http_allowed_hosts=["127.0.0.1"])
    url = f"http://127.0.0.1:{local_server}/x"
    result = await registry.execute("http_get", {"url": url}, {"http_get"})
    assert result.ok, result.error
    assert result.output == "HTTP 200 text/html; charset=utf-8\n\nlocal page"
    refused = await ToolRegistry(http_allowed_hosts=["example.com"]).execute(
        "http_get", {"url": url}, {"http_get"}
    )
    assert refused.error == "http_get: host '127.0.0.1' is not in the allow-list"
