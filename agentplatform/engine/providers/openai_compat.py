"""Any OpenAI-compatible Chat Completions endpoint (OpenAI, Azure, Ollama, vLLM, ...)."""

from __future__ import annotations

import json
import re
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
from agentplatform.engine.providers.pricing import estimate_tokens
from agentplatform.engine.providers.retry import HttpProvider, RetryPolicy
from agentplatform.engine.providers.sse import AttemptError, SseStream, final_if_streamed

# OpenAI's reasoning models reject `max_tokens` and want `max_completion_tokens`.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


def parse_tool_arguments(name: str, raw: Any, url: str) -> dict[str, Any]:
    """Decode a tool call's JSON arguments; malformed JSON is an error naming the tool."""
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        args = json.loads(raw)
    except (TypeError, ValueError):
        args = None
    if not isinstance(args, dict):
        raise AttemptError(
            f"model sent malformed JSON arguments for tool '{name}' (from {url})",
            str(raw)[:200],
            retryable=False,
        )
    return args


def _tool_call(raw: dict[str, Any], index: int, url: str) -> ToolCall:
    """One wire tool call as a ToolCall; some local servers omit the id."""
    fn = raw.get("function") or {}
    name = str(fn.get("name") or "")
    args = parse_tool_arguments(name or "?", fn.get("arguments"), url)
    return ToolCall(id=str(raw.get("id") or f"call_{index}"), name=name, arguments=args)


def _args_text(calls: tuple[ToolCall, ...]) -> str:
    """Tool-call arguments as text, for token estimates."""
    return "".join(json.dumps(c.arguments) for c in calls)


def _wire_message(msg: ChatMessage) -> dict[str, Any]:
    """One ChatMessage in OpenAI wire format."""
    out: dict[str, Any] = {"role": msg.role, "content": msg.content}
    if msg.role == "assistant" and msg.tool_calls:
        out["content"] = msg.content or None
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in msg.tool_calls
        ]
    if msg.role == "tool":
        out["tool_call_id"] = msg.tool_call_id or ""
    elif msg.name and msg.role == "user":
        out["name"] = msg.name
    return out


def _wire_tool(tool: ToolSchema) -> dict[str, Any]:
    """One tool schema in OpenAI wire format."""
    fn = {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
    return {"type": "function", "function": fn}


class _Stream(SseStream):
    """Accumulates one streamed answer: text, tool-call deltas by index, usage, finish."""

    def __init__(self, on_text: TextDeltaCallback, emitted: list[bool]) -> None:
        super().__init__(on_text, emitted)
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None

    def on_event(self, chunk: dict[str, Any]) -> bool:
        """Fold one `data:` chunk in, gathering text deltas; never ends the stream itself."""
        if chunk.get("error"):
            detail = json.dumps(chunk["error"])[:300]
            raise AttemptError("the server reported an error mid-stream", detail, retryable=True)
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.text.append(delta["content"])
                self.unsent.append(delta["content"])
            for part in delta.get("tool_calls") or []:
                slot = self.calls.setdefault(int(part.get("index", 0)), {"id": "", "args": ""})
                fn = part.get("function") or {}
                slot["id"] = part.get("id") or slot["id"]
                slot["name"] = fn.get("name") or slot.get("name", "")
                slot["args"] += fn.get("arguments") or ""
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        return False

    def as_response(self, model: str) -> dict[str, Any]:
        """The accumulated answer in the shape of a non-streamed response body."""
        calls = [
            {"id": c["id"], "function": {"name": c.get("name", ""), "arguments": c["args"]}}
            for _, c in sorted(self.calls.items())
        ]
        message = {"content": "".join(self.text), "tool_calls": calls}
        choice = {"message": message, "finish_reason": self.finish_reason}
        return {"choices": [choice], "usage": self.usage, "model": model}


class OpenAICompatibleProvider(HttpProvider):
    """Chat Completions over httpx, with retries, streaming and tool calls."""

    kind = "openai"

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        *,
        timeout_s: float = 60,
        max_retries: int = 3,
        client: httpx.AsyncClient | None = None,
        name: str = "openai",
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        max_retry_after_s: float = 30.0,
        deadline_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if api_key:
            all_headers["Authorization"] = f"Bearer {api_key}"
        policy = RetryPolicy(
            max_retries=max_retries,
            base_delay_s=backoff_base_s,
            max_delay_s=backoff_max_s,
            max_retry_after_s=max_retry_after_s,
            attempt_timeout_s=timeout_s,
            deadline_s=deadline_s,
        )
        super().__init__(model=model, name=name, headers=all_headers, client=client, policy=policy)
        self.base_url = base_url.rstrip("/")

    @property
    def url(self) -> str:
        """The Chat Completions endpoint."""
        return f"{self.base_url}/chat/completions"

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
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [_wire_message(m) for m in messages],
        }
        if tools:
            body["tools"] = [_wire_tool(t) for t in tools]
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            key = "max_completion_tokens" if _REASONING_MODEL.match(self.model) else "max_tokens"
            body[key] = max_tokens
        if on_text is None:

            async def attempt() -> AssistantMessage:
                data = await self._request_json("POST", self.url, body)
                return self._parse(data, messages)

            return await self._retry(attempt, self.url)
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        emitted = [False]  # set once text reached the caller; then a cut stream is final

        async def stream_attempt() -> AssistantMessage:
            state = _Stream(on_text, emitted)
            finished = await self._read_sse(self.url, body, state)
            # Some servers omit [DONE]; a finish_reason shows the answer is complete.
            if not finished and state.finish_reason is None:
                cut = AttemptError(
                    f"stream from {self.url} ended early",
                    "no [DONE], no finish_reason",
                    retryable=True,
                )
                raise final_if_streamed(emitted[0], cut)
            return self._parse(state.as_response(self.model), messages)

        return await self._retry(stream_attempt, self.url, stream=True)

    def _parse(self, data: Any, messages: list[ChatMessage]) -> AssistantMessage:
        """Decode a Chat Completions body; an odd shape is a clear error, not a crash."""
        try:
            return self._parse_body(data, messages)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            detail = json.dumps(data)[:300]
            raise AttemptError(
                f"unexpected response from {self.url}", detail, retryable=False
            ) from None

    def _parse_body(self, data: dict[str, Any], messages: list[ChatMessage]) -> AssistantMessage:
        choices = data["choices"]
        msg = choices[0].get("message") or {}
        content = msg.get("content") or ""
        calls = tuple(_tool_call(c, i, self.url) for i, c in enumerate(msg.get("tool_calls") or []))
        usage = data.get("usage") or {}
        if usage.get("prompt_tokens") is None:
            # No usage from the server (some local servers): estimate ~4 chars per token.
            prompt = "".join(m.content + _args_text(m.tool_calls) for m in messages)
            tokens = Usage(estimate_tokens(prompt), estimate_tokens(content + _args_text(calls)))
        else:
            tokens = Usage(int(usage["prompt_tokens"]), int(usage.get("completion_tokens") or 0))
        return AssistantMessage(
            content=content,
            tool_calls=calls,
            usage=tokens,
            model=str(data.get("model") or self.model),
            finish_reason=choices[0].get("finish_reason") or ("tool_calls" if calls else "stop"),
        )

    async def list_models(self) -> list[str]:
        """Model ids the server offers (`GET /models`), e.g. a local Ollama's models."""
        url = f"{self.base_url}/models"

        async def attempt() -> list[str]:
            data = await self._request_json("GET", url)
            try:
                return [str(m["id"]) for m in data["data"]]
            except (KeyError, TypeError):
                detail = json.dumps(data)[:200]
                raise AttemptError(
                    f"unexpected response from {url}", detail, retryable=False
                ) from None

        return await self._retry(attempt, url, max_retries=0)
