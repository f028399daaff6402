"""How long a provider call may wait before its next attempt: the provider's Retry-After, the
call's own deadline, and the deadline of whoever bounds the call from outside (an agent's time
limit, a run's time budget). A wait that cannot be honoured ends the call at once, saying what
the provider asked for, instead of sleeping until an outer limit cuts it off as a bare time-out."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agentplatform.engine.providers.sse import AttemptError


@dataclass(frozen=True)
class CallerDeadline:
    """When the caller of a provider call gives up (`time.monotonic()`), and what that limit is."""

    at: float
    what: str


_caller_deadline: ContextVar[CallerDeadline | None] = ContextVar("caller_deadline", default=None)


@contextlib.contextmanager
def caller_deadline(seconds: float | None, what: str) -> Iterator[None]:
    """Provider calls made inside end within `seconds` (None: no outer limit) because of `what`."""
    outer = _caller_deadline.get()
    mine = None if seconds is None else CallerDeadline(time.monotonic() + seconds, what)
    if mine is None or (outer is not None and outer.at <= mine.at):
        mine = outer
    token = _caller_deadline.set(mine)
    try:
        yield
    finally:
        _caller_deadline.reset(token)


def describe_wait(seconds: float) -> str:
    """`45 s`, `10 min` or `2 h 5 min`, with the UTC time it ends: a wait as people read it."""
    until = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%H:%M:%S UTC")
    if seconds < 120:
        span = f"{seconds:.3g} s"
    elif seconds < 7200:
        span = f"{seconds / 60:.0f} min"
    else:
        span = f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    return f"{span} (until {until})"


def wait_refusal(
    err: AttemptError, delay: float, max_retry_after_s: float, deadline: float
) -> str | None:
    """Why the call cannot wait `delay` s for its next attempt, or None if it can. A wait the
    provider asked for (Retry-After) is never cut short: retrying before it ends is futile."""
    left = deadline - time.monotonic()
    limit = "this call's overall time limit"
    outer = _caller_deadline.get()
    if outer is not None and outer.at - time.monotonic() < left:
        left, limit = outer.at - time.monotonic(), outer.what
    if err.retry_after is None:
        return None if delay < left else f"no time left to retry within {limit}"
    asked = f"the provider asks to wait {describe_wait(err.retry_after)} before trying again"
    if err.retry_after > max_retry_after_s:
        return f"{asked}, longer than a call waits ({max_retry_after_s:g} s at most)"
    if delay >= left:
        return f"{asked}, longer than the {max(left, 0):.3g} s left of {limit}"
    return None
