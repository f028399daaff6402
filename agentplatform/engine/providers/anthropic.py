"""Anthropic's Messages API: system prompt apart, tool_use/tool_result blocks, SSE events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from agentplatform.engine.providers.base import (
    AssistantMessage,
    ChatMessage,
    TextDeltaCallback,
    ToolCall,
    ToolSchema,
    Usage,
)
from agentplatform.engine.providers.openai_compat import parse_tool_arguments
from agentplatform.engine.providers.retry import HttpProvider, RetryPolicy
from agentplatform.engine.providers.sse import AttemptError, SseStream, final_if_streamed

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096  # the Messages API requires max_tokens on every call
# Anthropic stop reasons in the engine's (OpenAI-style) vocabulary.
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
}


def _blocks(msg: ChatMessage) -> tuple[str, list[dict[str, Any]]]:
    """One non-system ChatMessage as (role, content blocks)."""
    if msg.role == "tool":
        result = {
            "type": "tool_result",
            "tool_use_id": msg.tool_call_id or "",
            "content": msg.content,
        }
        return "user", [result]
    blocks: list[dict[str, Any]] = []
    if msg.content:  # the API rejects empty text blocks
        blocks.append({"type": "text", "text": msg.content})
    if msg.role == "assistant":
        blocks += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
            for c in msg.tool_calls
        ]
    return ("assistant" if msg.role == "assistant" else "user"), blocks


def wire_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """System text plus alternating user/assistant turns (same-role neighbours merged)."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    turns: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "system":
            continue
        role, blocks = _blocks(msg)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


class _Stream(SseStream):
    """Accumulates one streamed message from Anthropic's SSE events."""

    def __init__(self, on_text: TextDeltaCallback, emitted: list[bool]) -> None:
        super().__init__(on_text, emitted)
        self.blocks: dict[int, dict[str, Any]] = {}
        self.usage: dict[str, Any] = {}
        self.stop_reason: str | None = None

    def on_event(self, event: dict[str, Any]) -> bool:
        """Fold one event in, gathering text deltas; True at `message_stop`."""
        kind = event.get("type")
        index = int(event.get("index", 0))
        if kind == "message_start":
            self.usage.update((event.get("message") or {}).get("usage") or {})
        elif kind == "content_block_start":
            self.blocks[index] = {"text": "", **(event.get("content_block") or {}), "json": ""}
        elif kind == "content_block_delta":
            block = self.blocks.setdefault(index, {"type": "text", "text": "", "json": ""})
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                block["text"] += delta["text"]
                self.unsent.append(delta["text"])
            elif delta.get("type") == "input_json_delta":
                block["json"] += delta.get("partial_json") or ""
        elif kind == "message_delta":
            self.stop_reason = (event.get("delta") or {}).get("stop_reason") or self.stop_reason
            self.usage.update(event.get("usage") or {})
        elif kind == "error":
            err = event.get("error") or {}
            detail = str(err.get("message") or err)[:300]
            raise AttemptError("the server reported an error mid-stream", detail, retryable=True)
        return kind == "message_stop"

    def content(self) -> list[dict[str, Any]]:
        """The streamed blocks, tool inputs still as accumulated JSON text."""
        blocks = [self.blocks[i] for i in sorted(self.blocks)]
        for block in blocks:
            if block.get("type") == "tool_use":
                block["input"] = block["json"] or block.get("input") or {}
        return blocks


class AnthropicProvider(HttpProvider):
    """Claude models over the Messages API, with retries, streaming and tool use."""

    kind = "anthropic"

    def __init__(
        self,
        base_url: str = "https://api.anthropic.com",
        api_key: str = "",
        model: str = "claude-sonnet-4-20250514",
        *,
        timeout_s: float = 60,
        max_retries: int = 3,
        client: httpx.AsyncClient | None = None,
        name: str = "anthropic",
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        max_retry_after_s: float = 30.0,
        deadline_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        all_headers = {
            "x-api-key": api_key,
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
            **(headers or {}),
        }
        policy = RetryPolicy(
            max_retries=max_retries,
            base_delay_s=backoff_base_s,
            max_delay_s=backoff_max_s,
            max_retry_after_s=max_retry_after_s,
            attempt_timeout_s=timeout_s,
            deadline_s=deadline_s,
        )
        super().__init__(model=model, name=name, headers=all_headers, client=client, policy=policy)
        self.base_url = base_url.rstrip("/").removesuffix("/v1")

    @property
    def url(self) -> str:
        """The Messages endpoint."""
        return f"{self.base_url}/v1/messages"

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSchema] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        on_text: TextDeltaCallback | None = None,
    ) -> AssistantMessage:
        """Answer the conversation; with `on_text`, stream and report text deltas."""
        system, turns = wire_messages(messages)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens or DEFAULT_MAX_TOKENS,
            "messages": turns,
        }
        if system:
            body["system"] = system
        if tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in tools
            ]
        if temperature is not None:
            body["temperature"] = temperature
        if on_text is None:

            async def attempt() -> AssistantMessage:
                data = await self._request_json("POST", self.url, body)
                if not isinstance(data, dict) or not isinstance(data.get("content"), list):
                    detail = str(data)[:200]
                    raise AttemptError(
                        f"unexpected response from {self.url}", detail, retryable=False
                    )
                return self._message(
                    data["content"], data.get("usage") or {}, data.get("stop_reason")
                )

            return await self._retry(attempt, self.url)
        body["stream"] = True
        emitted = [False]  # set once text reached the caller; then a cut stream is final

        async def stream_attempt() -> AssistantMessage:
            state = _Stream(on_text, emitted)
            if not await self._read_sse(self.url, body, state):
                cut = AttemptError(
                    f"stream from {self.url} ended early", "no message_stop event", retryable=True
                )
                raise final_if_streamed(emitted[0], cut)
            return self._message(state.content(), state.usage, state.stop_reason)

        return await self._retry(stream_attempt, self.url, stream=True)

    def _message(
        self, blocks: list[dict[str, Any]], usage: dict[str, Any], stop_reason: str | None
    ) -> AssistantMessage:
        """Content blocks, usage and stop reason; an odd shape is a clear error, not a crash."""
        try:
            return self._message_body(blocks, usage, stop_reason)
        except (AttributeError, KeyError, TypeError, ValueError):
            detail = str(blocks)[:300]
            raise AttemptError(
                f"unexpected response from {self.url}", detail, retryable=False
            ) from None

    def _message_body(
        self, blocks: list[dict[str, Any]], usage: dict[str, Any], stop_reason: str | None
    ) -> AssistantMessage:
        text = "".join(str(b.get("text") or "") for b in blocks if b.get("type") == "text")
        calls = tuple(
            ToolCall(
                id=str(b.get("id") or f"toolu_{i}"),
                name=str(b.get("name") or ""),
                arguments=parse_tool_arguments(str(b.get("name") or "?"), b.get("input"), self.url),
            )
            for i, b in enumerate(blocks)
            if b.get("type") == "tool_use"
        )
        # Cache writes and reads are prompt tokens too; count them so budgets see them.
        input_tokens = sum(
            int(usage.get(k) or 0)
            for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        return AssistantMessage(
            content=text,
            tool_calls=calls,
            usage=Usage(input_tokens, int(usage.get("output_tokens") or 0)),
            model=self.model,
            finish_reason=_FINISH.get(stop_reason or "", stop_reason or "stop"),
        )
