"""The offline model: deterministic answers, tool calls, team protocols, streaming."""

from __future__ import annotations

import asyncio
import json

import pytest

from agentplatform.engine.providers.base import ChatMessage, ToolCall, ToolSchema
from agentplatform.engine.providers.offline import OfflineProvider, extract_expression
from agentplatform.engine.strategies import protocol
from agentplatform.engine.tools import ToolRegistry

TOOLS = ToolRegistry().schemas_for(["calculator", "clock", "text_utils"])
SYSTEM = ChatMessage(role="system", content="You are a careful historian. Answer in bullets.")


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


async def test_answer_uses_instructions_and_input_deterministically() -> None:
    model = OfflineProvider()
    messages = [SYSTEM, user("Why did the Roman empire build so many roads?")]
    first = await model.complete(messages)
    second = await model.complete(messages)
    assert first == second
    assert model.kind == "offline" and first.model == "offline-demo"
    text = first.content
    assert text.startswith("As a careful historian, here is my answer to")
    assert "Why did the Roman empire build so many roads?" in text
    assert "roman" in text and "roads" in text
    assert "Following my instructions: Answer in bullets." in text
    assert "offline demo model" in text
    assert first.finish_reason == "stop" and not first.tool_calls


async def test_usage_is_estimated_from_characters() -> None:
    reply = await OfflineProvider().complete([user("x" * 400)])
    assert reply.usage.input_tokens == 100
    assert reply.usage.output_tokens == (len(reply.content) + 3) // 4


@pytest.mark.parametrize(
    ("request_text", "name", "arguments"),
    [
        ("What is 12 * (3 + 4)?", "calculator", {"expression": "12 * (3 + 4)"}),
        ("Compute 15% of 200", "calculator", {"expression": "(15/100*200)"}),
        ("what is 3 plus 4 times 2", "calculator", {"expression": "3 + 4 * 2"}),
        ("What time is it in Europe/Paris?", "clock", {"timezone": "Europe/Paris"}),
        ("What's the date today?", "clock", {}),
        (
            "Count words in 'the quick brown fox'",
            "text_utils",
            {"operation": "word_count", "text": "the quick brown fox"},
        ),
        (
            "Uppercase this: hello there",
            "text_utils",
            {"operation": "upper", "text": "hello there"},
        ),
    ],
)
async def test_calls_the_tool_the_input_asks_for(
    request_text: str, name: str, arguments: dict[str, str]
) -> None:
    reply = await OfflineProvider().complete([SYSTEM, user(request_text)], tools=TOOLS)
    assert reply.content == "" and reply.finish_reason == "tool_calls"
    assert reply.tool_calls == (ToolCall(id="call_1", name=name, arguments=arguments),)


async def test_no_tool_call_without_the_tool_or_the_need() -> None:
    model = OfflineProvider()
    no_tools = await model.complete([user("What is 6 * 7?")])
    assert not no_tools.tool_calls and "6 * 7" in no_tools.content
    only_clock = ToolRegistry().schemas_for(["clock"])
    plain = await model.complete([user("What is 6 * 7?")], tools=only_clock)
    assert not plain.tool_calls
    history = await model.complete([user("Describe the history of time zones")], tools=TOOLS)
    assert not history.tool_calls
    assert extract_expression("Between 1990 and 2000, and in 2024-01-05") is None


async def test_answers_with_the_tool_result() -> None:
    call = ToolCall(id="call_1", name="calculator", arguments={"expression": "6 * 7"})
    messages = [
        SYSTEM,
        user("What is 6 * 7?"),
        ChatMessage(role="assistant", tool_calls=(call,)),
        ChatMessage(role="tool", content="42", tool_call_id="call_1", name="calculator"),
    ]
    reply = await OfflineProvider().complete(messages, tools=TOOLS)
    assert not reply.tool_calls
    assert reply.content == "The answer is 42 (6 * 7 = 42)."
    failed = [
        *messages[:3],
        ChatMessage(role="tool", content="Error: boom", tool_call_id="call_1", name="calculator"),
    ]
    assert "could not help: boom" in (await OfflineProvider().complete(failed)).content


async def test_selector_protocol_picks_unspoken_members_then_ends() -> None:
    candidates = [("researcher", "finds facts"), ("writer", ""), ("reviewer", "checks")]
    system = ChatMessage(role="system", content=protocol.selector_system("Lead.", candidates))
    names = [n for n, _ in candidates]
    transcript: list[tuple[str, str]] = []
    picks = []
    for _ in range(4):
        reply = await OfflineProvider().complete(
            [system, user(protocol.selector_input("T", transcript))]
        )
        choice = json.loads(reply.content)
        selection = protocol.parse_selection(reply.content, names)
        assert selection is not None and choice["reason"]
        picks.append(selection.next)
        if selection.next:
            transcript.append((selection.next, "an answer"))
    assert picks == ["researcher", "writer", "reviewer", None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"next": "writer", "reason": "needs prose"}', ("writer", "needs prose")),
        ('Sure!\n```json\n{"next": "Writer", "reason": "x {y}"}\n```', ("writer", "x {y}")),
        ('{"next": "TERMINATE", "reason": "all done"}', (None, "all done")),
        (
            "I think the reviewer should go next.",
            ("reviewer", "I think the reviewer should go next."),
        ),
        ("TERMINATE", (None, "TERMINATE")),
    ],
)
def test_parse_selection_is_tolerant(text: str, expected: tuple[str | None, str]) -> None:
    selection = protocol.parse_selection(text, ["researcher", "writer", "reviewer"])
    assert selection is not None
    assert (selection.next, selection.reason) == expected


def test_parse_selection_gives_up_on_nonsense() -> None:
    assert protocol.parse_selection("banana", ["writer"]) is None


async def test_aggregator_combines_member_answers() -> None:
    system = ChatMessage(role="system", content=protocol.aggregator_system(""))
    answers = [
        ("a", "The answer is 42 (6 * 7 = 42)."),
        ("b", "As a poet, here...\n- Key points: bees, honey."),
    ]
    reply = await OfflineProvider().complete(
        [system, user(protocol.aggregator_input("T", answers))]
    )
    assert reply.content.splitlines() == [
        "Combined answer from 2 team members (a, b):",
        "- a: The answer is 42 (6 * 7 = 42).",
        "- b: covers bees, honey.",
    ]


async def test_streams_word_chunks() -> None:
    chunks: list[str] = []

    def on_text(text: str) -> None:
        chunks.append(text)

    reply = await OfflineProvider().complete(
        [SYSTEM, user("Tell me about rivers")], on_text=on_text
    )
    assert len(chunks) > 5 and "".join(chunks) == reply.content


async def test_streaming_can_be_cancelled() -> None:
    chunks: list[str] = []
    model = OfflineProvider()

    def on_text(text: str) -> None:
        chunks.append(text)
        if len(chunks) == 2:
            task.cancel()

    task = asyncio.create_task(
        model.complete([SYSTEM, user("Tell me about rivers")], on_text=on_text)
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(chunks) == 2


async def test_max_tokens_truncates() -> None:
    reply = await OfflineProvider().complete([SYSTEM, user("Tell me about rivers")], max_tokens=5)
    assert len(reply.content) == 20 and reply.finish_reason == "length"


async def test_custom_model_name_and_tool_schema_type() -> None:
    model = OfflineProvider(model="offline-small")
    reply = await model.complete([user("hi")], tools=[ToolSchema("noop", "", {})])
    assert reply.model == "offline-small" and reply.content
