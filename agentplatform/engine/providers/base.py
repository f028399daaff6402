"""The provider interface: messages + tool schemas in, one assistant message out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """A model's request to run one tool with JSON arguments."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One message of a conversation, in a provider-neutral shape."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ToolSchema:
    """What a model is told about a tool: name, description, JSON schema of arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class AssistantMessage:
    """A provider's answer: text and/or tool calls, with token usage."""

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str = "stop"


# Streamed text is handed on synchronously: the callback only keeps or queues it (a model
# sends hundreds of deltas a second), so a slow watcher can never hold up the model's stream.
TextDeltaCallback = Callable[[str], None]


class Provider(Protocol):
    """One LLM connection. Implementations raise `ProviderError` on failure."""

    kind: str
    model: str

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSchema] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        on_text: TextDeltaCallback | None = None,
    ) -> AssistantMessage:
        """Answer the conversation. With `on_text`, stream and report text deltas."""
        ...
