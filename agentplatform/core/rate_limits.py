"""Request rate limits (the `limits` library): on Redis when configured, else per process.

A fixed window per identity (an API key, a user, a client address), opened by its first
request: one counter per identity on either back end (a moving window keeps a timestamp per
request, up to the limit, for every active identity), and Retry-After is exact, the end of
the window (a sliding window counter's estimate can come too early). The price is that a
caller may spend a window's limit at its end and the next one's at once: at most twice the
limit in a short burst. With REDIS_URL every replica shares the counts; while Redis does not
answer, each process counts on its own (one warning per outage) and nothing fails.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from agentplatform.core.config import get_settings
from agentplatform.core.loop_local import LoopLocal
from agentplatform.core.redis_clients import RedisOutage, client_options

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on; if not, in how many seconds one will be allowed."""

    allowed: bool
    retry_after: int = 0


ALLOWED = Verdict(True)


@lru_cache(maxsize=32)
def _item(rate: str) -> RateLimitItem:
    return parse(rate)


def _limits_uri(url: str) -> str:
    """`redis://…` → `async+redis://…` (and `unix://` → `async+redis+unix://`)."""
    if url.startswith("unix://"):
        return "async+redis+" + url
    return "async+" + url


class RateLimits:
    """Hits and tests of named rates (`"120/minute"`) per identity."""

    def __init__(self, redis_url: str = "", prefix: str = "agentplatform") -> None:
        self._memory = LoopLocal(lambda: FixedWindowRateLimiter(MemoryStorage()))
        self._redis: LoopLocal[FixedWindowRateLimiter] | None = None
        if redis_url:
            self._redis = LoopLocal(
                lambda: FixedWindowRateLimiter(
                    RedisStorage(
                        _limits_uri(redis_url),
                        implementation="redispy",
                        key_prefix=f"{prefix}:ratelimit",
                        wrap_exceptions=True,
                        **client_options(name=f"{prefix}:ratelimit"),
                    )
                )
            )
        self.outage = RedisOutage(
            "API rate limits", "each process counts requests on its own", logger=log
        )

    async def _verdict(
        self, limiter: FixedWindowRateLimiter, item: RateLimitItem, test: bool, *ids: str
    ) -> Verdict:
        allowed = await (limiter.test if test else limiter.hit)(item, *ids)
        if allowed:
            return ALLOWED
        stats = await limiter.get_window_stats(item, *ids)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))

    async def _check(self, rate: str, identity: tuple[str, ...], *, test: bool) -> Verdict:
        if not rate:
            return ALLOWED
        item = _item(rate)
        if self._redis is not None and self.outage.available():
            try:
                verdict = await self._verdict(self._redis.get(), item, test, *identity)
            except (StorageError, RedisError, OSError, TimeoutError) as error:
                self.outage.failed(error)
            else:
                self.outage.answered()
                return verdict
        return await self._verdict(self._memory.get(), item, test, *identity)

    async def hit(self, rate: str, *identity: str) -> Verdict:
        """Count one request of `identity` against `rate`; refused once over it."""
        return await self._check(rate, identity, test=False)

    async def test(self, rate: str, *identity: str) -> Verdict:
        """Whether `identity` is within `rate`, without counting a request."""
        return await self._check(rate, identity, test=True)


_rate_limits: RateLimits | None = None
_rate_limits_for: tuple[str, str] | None = None


def get_rate_limits() -> RateLimits:
    """The process-wide limits: Redis-backed with REDIS_URL (shared by replicas), else local."""
    global _rate_limits, _rate_limits_for
    settings = get_settings()
    wanted = (settings.redis_url, settings.redis_prefix)
    if _rate_limits is None or wanted != _rate_limits_for:
        _rate_limits, _rate_limits_for = RateLimits(*wanted), wanted
    return _rate_limits
