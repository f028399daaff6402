"""Redis clients that give up quickly, and outage bookkeeping shared by everything on Redis.

Redis only makes things prompt or shared (cache, run queue, pub/sub, throttle counters,
rate limits); the database stays the truth. So every client made here fails within
`REDIS_CONNECT_TIMEOUT_SECONDS` / `REDIS_TIMEOUT_SECONDS` with no retry, and each user of
Redis keeps a `RedisOutage`: one warning when Redis stops answering, one line when it is
back, and in between callers skip Redis for a few seconds at a time instead of waiting on it
in every request.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from agentplatform.core.config import get_settings
from agentplatform.core.loop_local import LoopLocal

log = logging.getLogger(__name__)

OUTAGE_RETRY_S = 2.0  # while Redis is down, try it again this often


def client_options(*, name: str, read_timeout_s: float | None = None) -> dict[str, Any]:
    """Keyword arguments for a redis-py client or pool: short timeouts, no retries.

    `read_timeout_s` is for blocking commands (BRPOP) that wait longer on purpose."""
    settings = get_settings()
    return {
        "socket_connect_timeout": settings.redis_connect_timeout_seconds,
        "socket_timeout": read_timeout_s or settings.redis_timeout_seconds,
        "retry": Retry(NoBackoff(), 0),
        "client_name": name,
    }


def make_client(url: str, *, name: str, read_timeout_s: float | None = None) -> Redis:
    """A Redis client with `client_options` (bound to the event loop that first uses it)."""
    return Redis.from_url(url, **client_options(name=name, read_timeout_s=read_timeout_s))


class LoopLocalRedis:
    """One client per event loop: redis-py's connections belong to the loop that made them."""

    def __init__(self, url: str, *, name: str) -> None:
        self.url = url
        self._clients = LoopLocal(lambda: make_client(url, name=name))

    def client(self) -> Redis:
        return self._clients.get()


class RedisOutage:
    """Whether Redis is answering one user of it (cache, queue, throttle…), logged once.

    `available()` is False for `retry_s` after a failure, so a request while Redis is away
    costs nothing; the first call after that tries Redis again."""

    def __init__(
        self,
        what: str,
        fallback: str,
        *,
        logger: logging.Logger = log,
        retry_s: float = OUTAGE_RETRY_S,
    ) -> None:
        self.what = what
        self.fallback = fallback
        self.retry_s = retry_s
        self.log = logger
        self.down = False
        self._skip_until = 0.0

    def available(self) -> bool:
        return time.monotonic() >= self._skip_until

    def failed(self, error: BaseException) -> None:
        """Redis did not answer: skip it for a while; warn if this starts an outage."""
        self._skip_until = time.monotonic() + self.retry_s
        if not self.down:
            self.down = True
            self.log.warning(
                "Redis unavailable for %s (%s: %s): %s until it answers again",
                self.what,
                type(error).__name__,
                error,
                self.fallback,
            )

    def answered(self) -> bool:
        """Redis answered; True when that ends an outage (the caller may catch up then)."""
        self._skip_until = 0.0
        if not self.down:
            return False
        self.down = False
        self.log.info("Redis answers again for %s", self.what)
        return True


def reachable(url: str, timeout_s: float) -> bool:
    """Whether a Redis server answers PING at `url` within `timeout_s` (blocking; start-up)."""
    from redis import Redis as SyncRedis
    from redis.exceptions import RedisError

    client = SyncRedis.from_url(
        url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )
    try:
        return bool(client.ping())
    except (TimeoutError, RedisError, OSError):
        return False
    finally:
        client.close()


def display_url(url: str) -> str:
    """`url` without its password, for log lines."""
    parts = urlsplit(url)
    host = parts.hostname or parts.path
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
