"""A scriptable fake LLM server: OpenAI Chat Completions, `/v1/models`, Anthropic Messages.

In tests: `FakeLLMServer().start()` runs it on 127.0.0.1 in a background thread (see the
`fake_openai` fixture). For benchmarks: `python -m tests.fakes.fake_openai --port 8900`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass(kw_only=True)
class Scripted:
    """One scripted answer; `delay_s` is waited before answering."""

    delay_s: float = 0.0


@dataclass(kw_only=True)
class Reply(Scripted):
    """Text and/or tool calls, as JSON or SSE (whichever the request asked for)."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    chunks: list[str] | None = None  # stream pieces; default: word by word
    chunk_delay_s: float | None = None
    usage: tuple[int, int] | None = None  # default: computed from sizes
    include_usage: bool = True
    finish_reason: str | None = None
    line_end: str = "\n"  # of the SSE lines; the format also allows "\r\n" and "\r"


@dataclass(kw_only=True)
class Echo(Scripted):
    """The default reply: "echo: <last user text>", with usage."""


@dataclass(kw_only=True)
class HttpError(Scripted):
    """An error status with an API-shaped (or raw) body and optional Retry-After."""

    status: int = 500
    message: str = "upstream exploded"
    retry_after: str | None = None
    body: str | None = None


@dataclass(kw_only=True)
class Malformed(Scripted):
    """A 200 whose body is not valid JSON."""

    body: str = '{"choices": [{"message": {"content": "trunc'


@dataclass(kw_only=True)
class CutStream(Scripted):
    """Some text chunks, then the connection drops (abort) or ends without [DONE]."""

    chunks: list[str] = field(default_factory=lambda: ["Hello", " wor"])
    chunk_delay_s: float = 0.0
    abort: bool = True


class _Cut(Exception):
    """Raised inside a streaming body so the server drops the connection mid-response."""


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _user_text(body: dict[str, Any]) -> str:
    """The last user message's text (OpenAI strings or Anthropic blocks)."""
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text") or p.get("content") or "") for p in content)
        return str(content or "")
    return ""


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


class FakeLLMServer:
    """Answers from a script queue (else the echo default) and records every request."""

    def __init__(
        self, *, latency_ms: float = 0, chunk_delay_ms: float = 0, record: bool = True
    ) -> None:
        self.latency_ms = latency_ms
        self.record = record  # benchmarks turn this off so memory stays flat
        self.chunk_delay_ms = chunk_delay_ms
        self.models = ["fake-model", "fake-model-large"]
        self.queue: deque[Scripted] = deque()
        self.requests: list[dict[str, Any]] = []
        self.log: list[RecordedRequest] = []
        self.port = 0
        self._ids = itertools.count(1)
        self._closing = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    # --- scripting -------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The OpenAI-style base URL (ends in /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *items: Scripted) -> None:
        """Queue answers; each request takes the next one."""
        self.queue.extend(items)

    def reply(self, text: str, **kw: Any) -> None:
        self.script(Reply(text=text, **kw))

    def tool_calls(self, *calls: tuple[str, dict[str, Any] | str], text: str = "") -> None:
        self.script(Reply(text=text, tool_calls=list(calls)))

    def stream(self, chunks: list[str], chunk_delay_s: float = 0.0, **kw: Any) -> None:
        self.script(Reply(text="".join(chunks), chunks=chunks, chunk_delay_s=chunk_delay_s, **kw))

    def error(self, status: int, message: str = "upstream exploded", **kw: Any) -> None:
        self.script(HttpError(status=status, message=message, **kw))

    def delay(self, seconds: float, then: Scripted | None = None) -> None:
        item = then or Echo()
        item.delay_s = seconds
        self.script(item)

    def malformed(self, body: str | None = None) -> None:
        self.script(Malformed(body=body) if body is not None else Malformed())

    def cut_stream(self, chunks: list[str] | None = None, *, abort: bool = True) -> None:
        self.script(CutStream(chunks=chunks or ["Hello", " wor"], abort=abort))

    # --- serving ---------------------------------------------------------------------
    async def _sleep(self, seconds: float) -> None:
        """Sleep in small steps so a stopping server never waits on a long delay."""
        end = time.monotonic() + seconds
        while not self._closing and (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.05))

    async def _next(self, request: Request) -> tuple[dict[str, Any], Scripted]:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        if self.record:
            self.requests.append(body)
            self.log.append(RecordedRequest(request.url.path, dict(request.headers), body))
        item = self.queue.popleft() if self.queue else Echo()
        await self._sleep(self.latency_ms / 1000 + item.delay_s)
        return body, item

    async def _models(self, request: Request) -> Response:
        await self._sleep(self.latency_ms / 1000)
        data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]
        return JSONResponse({"object": "list", "data": data})

    async def _chat(self, request: Request) -> Response:
        body, item = await self._next(request)
        return self._respond(body, item, anthropic=False)

    async def _messages(self, request: Request) -> Response:
        body, item = await self._next(request)
        return self._respond(body, item, anthropic=True)

    def _respond(self, body: dict[str, Any], item: Scripted, *, anthropic: bool) -> Response:
        if isinstance(item, HttpError):
            headers = {"Retry-After": item.retry_after} if item.retry_after else {}
            if item.body is not None:
                return Response(item.body, item.status, headers, "application/json")
            err = {"type": "api_error", "message": item.message}
            payload = {"type": "error", "error": err} if anthropic else {"error": err}
            return JSONResponse(payload, item.status, headers)
        if isinstance(item, Malformed):
            return Response(item.body, 200, media_type="application/json")
        streaming = bool(body.get("stream"))
        if isinstance(item, CutStream):
            return StreamingResponse(
                self._cut(item, body, anthropic), media_type="text/event-stream"
            )
        reply = item if isinstance(item, Reply) else Reply(text=f"echo: {_user_text(body)}")
        if not streaming:
            render = _anthropic_json if anthropic else _openai_json
            return JSONResponse(render(reply, body, next(self._ids)))
        events = _anthropic_events if anthropic else _openai_events
        delay = reply.chunk_delay_s
        delay = self.chunk_delay_ms / 1000 if delay is None else delay
        chunks = events(reply, body, next(self._ids))
        if reply.line_end != "\n":
            chunks = [c.replace(b"\n", reply.line_end.encode()) for c in chunks]
        return StreamingResponse(
            self._paced(chunks, delay),
            media_type="text/event-stream",
        )

    async def _paced(self, chunks: list[bytes], delay_s: float) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(chunks):
            if i and delay_s:
                await self._sleep(delay_s)
            yield chunk

    async def _cut(
        self, item: CutStream, body: dict[str, Any], anthropic: bool
    ) -> AsyncIterator[bytes]:
        reply = Reply(text="".join(item.chunks), chunks=item.chunks)
        events = _anthropic_events if anthropic else _openai_events
        for chunk in events(reply, body, 0)[: len(item.chunks) + (2 if anthropic else 1)]:
            yield chunk
            await self._sleep(item.chunk_delay_s)
        if item.abort:
            raise _Cut("scripted connection drop")

    # --- lifecycle -------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeLLMServer:
        """Serve in a background thread; returns once the port accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self, *, wait: bool = True) -> None:
        """Stop serving; with `wait`, join the thread (bounded), else let it wind down."""
        if self._server is None or self._thread is None:
            return
        self._closing = True
        self._server.should_exit = True
        if not wait:
            return
        self._thread.join(5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(5)


def _usage(reply: Reply, body: dict[str, Any]) -> tuple[int, int]:
    if reply.usage is not None:
        return reply.usage
    out = reply.text + "".join(json.dumps(a) for _, a in reply.tool_calls)
    return max(1, len(json.dumps(body.get("messages", []))) // 4), max(1, len(out) // 4)


def _args_text(args: dict[str, Any] | str) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def _pieces(reply: Reply) -> list[str]:
    return reply.chunks if reply.chunks is not None else re.findall(r"\S+\s*|\s+", reply.text)


def _openai_json(reply: Reply, body: dict[str, Any], n: int) -> dict[str, Any]:
    calls = [
        {
            "id": f"call_{n}_{i}",
            "type": "function",
            "function": {"name": name, "arguments": _args_text(a)},
        }
        for i, (name, a) in enumerate(reply.tool_calls)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if calls:
        message["tool_calls"] = calls
    finish = reply.finish_reason or ("tool_calls" if calls else "stop")
    out: dict[str, Any] = {
        "id": f"chatcmpl-fake-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    if reply.include_usage:
        p, c = _usage(reply, body)
        out["usage"] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
    return out


def _openai_events(reply: Reply, body: dict[str, Any], n: int) -> list[bytes]:
    base = {
        "id": f"chatcmpl-fake-{n}",
        "object": "chat.completion.chunk",
        "model": body.get("model"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": piece}) for piece in _pieces(reply)]
    for i, (name, args) in enumerate(reply.tool_calls):
        text = _args_text(args)
        head = {"index": i, "id": f"call_{n}_{i}", "type": "function"}
        out.append(
            chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": text[:5]}}]})
        )
        out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": text[5:]}}]}))
    out.append(chunk({}, reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")))
    wants_usage = (body.get("stream_options") or {}).get("include_usage")
    if reply.include_usage and wants_usage:
        p, c = _usage(reply, body)
        usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        out.append(_sse({**base, "choices": [], "usage": usage}))
    return [*out, _sse("[DONE]")]


def _anthropic_json(reply: Reply, body: dict[str, Any], n: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
    for i, (name, args) in enumerate(reply.tool_calls):
        content.append({"type": "tool_use", "id": f"toolu_{n}_{i}", "name": name, "input": args})
    p, c = _usage(reply, body)
    return {
        "id": f"msg_fake_{n}",
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": body.get("model"),
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "usage": {"input_tokens": p, "output_tokens": c},
    }


def _ev(kind: str, **fields: Any) -> bytes:
    """One Anthropic SSE event; its `event:` line repeats the data's type."""
    return _sse({"type": kind, **fields}, kind)


def _anthropic_events(reply: Reply, body: dict[str, Any], n: int) -> list[bytes]:
    p, c = _usage(reply, body)
    start = {**_anthropic_json(Reply(), body, n), "stop_reason": None}
    start["usage"] = {"input_tokens": p, "output_tokens": 1}
    text_block = {"type": "text", "text": ""}
    out = [_ev("message_start", message=start)]
    out.append(_ev("content_block_start", index=0, content_block=text_block))
    for piece in _pieces(reply):
        out.append(_ev("content_block_delta", index=0, delta={"type": "text_delta", "text": piece}))
    out.append(_ev("content_block_stop", index=0))
    for i, (name, args) in enumerate(reply.tool_calls, start=1):
        block = {"type": "tool_use", "id": f"toolu_{n}_{i}", "name": name, "input": {}}
        out.append(_ev("content_block_start", index=i, content_block=block))
        text = _args_text(args)
        for part in (text[:5], text[5:]):
            delta = {"type": "input_json_delta", "partial_json": part}
            out.append(_ev("content_block_delta", index=i, delta=delta))
        out.append(_ev("content_block_stop", index=i))
    stop = "tool_use" if reply.tool_calls else "end_turn"
    out.append(_ev("message_delta", delta={"stop_reason": stop}, usage={"output_tokens": c}))
    return [*out, _ev("message_stop")]


def main() -> None:
    """Run the fake as its own process (for benchmarks)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--chunk-delay-ms", type=float, default=0)
    args = parser.parse_args()
    server = FakeLLMServer(
        latency_ms=args.latency_ms, chunk_delay_ms=args.chunk_delay_ms, record=False
    )
    uvicorn.run(server.app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
