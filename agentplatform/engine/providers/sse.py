"""Streamed answers: Server-Sent Events read one JSON `data:` payload at a time, text handed on
once per body chunk (a server that packs many events into one chunk costs one callback, not
one per event), and the classification of a failed attempt."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agentplatform.engine.providers.base import TextDeltaCallback

DRAIN_TIMEOUT_S = 0.1  # after the end marker: wait this long for the body's end, at most


class AttemptError(Exception):
    """One failed attempt, classified; `run_with_retries` turns the last into ProviderError."""

    def __init__(
        self,
        cause: str,
        detail: str = "",
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{cause}: {detail}" if detail else cause)
        self.cause = cause
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


def final_if_streamed(emitted: bool, err: AttemptError) -> AttemptError:
    """Make a stream failure final once text reached the caller, so no delta is sent twice."""
    if emitted and err.retryable:
        err.retryable = False
        note = "not retried because part of the answer was already streamed"
        err.detail = f"{err.detail}; {note}" if err.detail else note
    return err


class SseStream:
    """Folds a provider's stream events; text deltas wait in `unsent` until `flush`."""

    def __init__(self, on_text: TextDeltaCallback, emitted: list[bool]) -> None:
        self.on_text = on_text
        self.emitted = emitted  # emitted[0]: text reached the caller, so no retry may repeat it
        self.unsent: list[str] = []

    def on_event(self, event: dict[str, Any]) -> bool:
        """Fold one decoded `data:` payload in; True when it ends the answer."""
        raise NotImplementedError

    def flush(self) -> None:
        """Hand the text gathered since the last flush to the caller, as one delta."""
        if self.unsent:
            text = "".join(self.unsent)
            self.unsent.clear()
            self.emitted[0] = True
            self.on_text(text)


async def read_events(resp: httpx.Response, stream: SseStream, url: str) -> bool:
    """Feed every `data:` payload of `resp` to `stream`; True if the stream ended explicitly
    (`[DONE]` or an event that says so). Text is handed on after every body chunk."""
    pending = b""
    chunks = resp.aiter_bytes()
    async for chunk in chunks:
        data = pending + chunk
        if b"\r" in data:  # CRLF or bare CR line ends: the SSE format allows all three
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = data.split(b"\n")
        pending = lines.pop()
        finished = _feed(lines, stream, url)
        stream.flush()
        if finished:
            await _drain(chunks)
            return True
    finished = _feed([pending], stream, url)
    stream.flush()
    return finished


def _feed(lines: list[bytes], stream: SseStream, url: str) -> bool:
    for line in lines:
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return True
        if payload and stream.on_event(_json(payload, url)):
            return True
    return False


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read what follows the end marker (the body's last chunk), so the connection goes back
    to the pool instead of being closed: the next call skips a new TCP (and TLS) handshake."""
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for _ in chunks:
                pass
    except (TimeoutError, httpx.HTTPError):
        pass  # a server that keeps the body open: closing the connection is all we lose


def _json(payload: bytes, url: str) -> dict[str, Any]:
    """Decode one SSE data payload; garbage mid-stream is worth a retry."""
    try:
        data = json.loads(payload)
    except ValueError:
        text = payload.decode("utf-8", "replace")[:200]
        raise AttemptError(f"invalid JSON in stream from {url}", text, retryable=True) from None
    return data if isinstance(data, dict) else {}
