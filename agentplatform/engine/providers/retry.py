"""Shared HTTP core of the providers: pooled clients, error classification, retries, SSE."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import json
import logging
import random
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from agentplatform.core.errors import ProviderError
from agentplatform.engine.providers.sse import (
    AttemptError,
    SseStream,
    final_if_streamed,
    read_events,
)
from agentplatform.engine.providers.waits import wait_refusal

log = logging.getLogger(__name__)

T = TypeVar("T")

# Hundreds of concurrent calls per process are spread over many small pools: httpcore checks
# every pooled connection on each request (the idle ones with socket calls), so its cost per
# call grows with the pool's size; 32 pools keeping 16 idle connections each cost about 30 %
# less CPU per call at 200 concurrent streams than 8 of 64 (docs/benchmarks.md). Each pool may
# open 32 at once; calls are spread over the pools in turn.
POOL_SHARDS = 32
# Idle connections are dropped after 4 s, before common servers drop them (uvicorn-based
# ones such as vLLM after 5 s): reusing one the server has just closed costs a retry.
POOL_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=4)
RETRYABLE_STATUSES = frozenset({408, 429})

# Pools per event loop: httpx connections are bound to the loop that opened them.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
_turn = itertools.count()


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every pool (loading the CA bundle takes milliseconds and memory)."""
    return httpx.create_ssl_context()


def _new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(limits=POOL_LIMITS, timeout=httpx.Timeout(60.0), verify=_tls())


def shared_client() -> httpx.AsyncClient:
    """One of the process-wide pooled clients for the running event loop, made lazily."""
    loop = asyncio.get_running_loop()
    for old in [lp for lp in _clients if lp.is_closed()]:
        _clients.pop(old, None)
    shards = _clients.setdefault(loop, [])
    if len(shards) < POOL_SHARDS:
        shards.append(_new_client())
        return shards[-1]
    index = next(_turn) % POOL_SHARDS
    if shards[index].is_closed:
        shards[index] = _new_client()
    return shards[index]


async def close_shared_client() -> None:
    """Close the running loop's pooled clients (call on shutdown)."""
    for client in _clients.pop(asyncio.get_running_loop(), []):
        await client.aclose()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one provider call, and its time limits."""

    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0
    attempt_timeout_s: float = 60.0
    deadline_s: float | None = None

    @property
    def total_deadline_s(self) -> float:
        """Overall budget for one call: all attempts plus backoff sleeps."""
        if self.deadline_s is not None:
            return self.deadline_s
        return self.attempt_timeout_s * (self.max_retries + 1) + self.max_delay_s * self.max_retries

    def backoff(self, retry_number: int) -> float:
        """Exponential backoff with jitter for the n-th retry (1-based)."""
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** (retry_number - 1))
        return delay / 2 + random.uniform(0, delay / 2)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    for key, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            return max(0.0, float(headers[key]) / scale)
    with contextlib.suppress(KeyError, TypeError, ValueError):
        return max(0.0, parsedate_to_datetime(headers["retry-after"]).timestamp() - time.time())
    return None


def error_detail(body: bytes) -> str:
    """The human part of an error body: `error.message` if JSON, else trimmed text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data: Any = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        if isinstance(err, str):
            return err[:300]
    return text[:300]


def http_error(response: httpx.Response, url: str, body: bytes) -> AttemptError:
    """Classify an HTTP error status: 408/429/5xx retry, other 4xx fail at once."""
    status = response.status_code
    plain = f"HTTP {status} from {url}"
    cause = f"rate-limited by the provider ({plain})" if status == 429 else plain
    return AttemptError(
        cause,
        error_detail(body),
        retryable=status in RETRYABLE_STATUSES or status >= 500,
        retry_after=parse_retry_after(response.headers),
        status=status,
    )


def transport_error(exc: httpx.HTTPError, url: str) -> AttemptError:
    """Classify a connection-level failure; all of them are worth another try."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return AttemptError(f"timed out talking to {url}", detail, retryable=True)
    if isinstance(exc, httpx.ConnectError):
        return AttemptError(f"cannot connect to {url}", detail, retryable=True)
    if isinstance(exc, httpx.TransportError):
        return AttemptError(f"connection to {url} failed", detail, retryable=True)
    return AttemptError(f"request to {url} failed", detail, retryable=False)


def _final(err: AttemptError, provider: str, model: str, url: str, attempts: int) -> ProviderError:
    """The user-facing error: provider, model, cause, attempt count and detail."""
    message = f"{provider} ({model}): {err.cause}"
    if attempts > 1:
        message += f" after {attempts} attempts"
    if err.detail:
        message += f": {err.detail}"
    return ProviderError(
        message,
        provider=provider,
        model=model,
        retryable=err.retryable,
        retry_after=err.retry_after,
        details={"url": url, "status": err.status, "attempts": attempts},
    )


async def run_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    provider: str,
    model: str,
    url: str,
    bound_attempt: bool = True,
) -> T:
    """Run `attempt` until it succeeds, fails for good, or the overall deadline passes.

    With `bound_attempt` each attempt is cut at `attempt_timeout_s`; streams pass False and
    rely on the HTTP read timeout between chunks plus the overall deadline.
    Cancellation is never caught: it propagates at once, mid-request or mid-sleep.
    """
    deadline = time.monotonic() + policy.total_deadline_s
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        budget = min(policy.attempt_timeout_s, remaining) if bound_attempt else remaining
        timer = asyncio.timeout(max(budget, 0.0))
        try:
            async with timer:
                return await attempt()
        except AttemptError as exc:
            err = exc
        except httpx.HTTPError as exc:
            err = transport_error(exc, url)
        except TimeoutError:
            if not timer.expired():
                raise
            if not bound_attempt or budget + 0.01 < policy.attempt_timeout_s:
                limit = policy.total_deadline_s
                cause = f"no complete answer from {url} within the {limit:.3g} s time limit"
                err = AttemptError(cause, retryable=True)
                raise _final(err, provider, model, url, attempts) from None
            err = AttemptError(f"no answer from {url} within {budget:.3g} s", retryable=True)
        if not err.retryable or attempts > policy.max_retries:
            raise _final(err, provider, model, url, attempts) from None
        delay = err.retry_after if err.retry_after is not None else policy.backoff(attempts)
        refusal = wait_refusal(err, delay, policy.max_retry_after_s, deadline)
        if refusal is not None:
            err.detail = f"{err.detail}; {refusal}" if err.detail else refusal
            raise _final(err, provider, model, url, attempts) from None
        log.warning("%s (%s): %s; retrying in %.2f s", provider, model, err, delay)
        await asyncio.sleep(delay)


class HttpProvider:
    """Base of the HTTP providers: pooled client, time limits, retries and SSE reading."""

    kind = ""

    def __init__(
        self,
        *,
        model: str,
        name: str,
        headers: dict[str, str],
        client: httpx.AsyncClient | None,
        policy: RetryPolicy,
    ) -> None:
        self.model = model
        self.name = name
        self.policy = policy
        self.timeout_s = policy.attempt_timeout_s
        self._client = client
        self._headers = headers

    def _http(self) -> httpx.AsyncClient:
        return self._client or shared_client()

    async def _retry(
        self,
        attempt: Callable[[], Awaitable[T]],
        url: str,
        *,
        stream: bool = False,
        max_retries: int | None = None,
    ) -> T:
        """Run one call under this provider's retry policy and time limits."""
        policy = self.policy
        if max_retries is not None:
            policy = dataclasses.replace(policy, max_retries=max_retries)
        return await run_with_retries(
            attempt,
            policy=policy,
            provider=self.name,
            model=self.model,
            url=url,
            bound_attempt=not stream,
        )

    async def _request_json(self, method: str, url: str, body: Any = None) -> Any:
        """One non-streamed attempt: HTTP errors classified, the body decoded as JSON."""
        resp = await self._http().request(
            method, url, json=body, headers=self._headers, timeout=self.timeout_s
        )
        if resp.status_code >= 400:
            raise http_error(resp, url, resp.content)
        try:
            return resp.json()
        except ValueError:
            raise AttemptError(
                f"invalid JSON in response from {url}", resp.text[:200], retryable=False
            ) from None

    async def _read_sse(self, url: str, body: Any, stream: SseStream) -> bool:
        """One streamed attempt, its events folded into `stream`; True if it ended explicitly.
        A broken stream is retryable only while no text has reached the caller."""
        try:
            async with self._http().stream(
                "POST", url, json=body, headers=self._headers, timeout=self.timeout_s
            ) as resp:
                if resp.status_code >= 400:
                    raise http_error(resp, url, await resp.aread())
                return await read_events(resp, stream, url)
        except httpx.HTTPError as exc:
            err = transport_error(exc, url)
            err.cause = f"stream from {url} broke off"
            raise final_if_streamed(stream.emitted[0], err) from None
        except AttemptError as exc:
            raise final_if_streamed(stream.emitted[0], exc) from None
