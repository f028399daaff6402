"""A read-through cache for hot reads: Redis when REDIS_URL is set, else in-process.

Entries live under a *scope* (one prompt, one workspace's runs) whose generation number is
part of every key; a write that changes the scope bumps the generation, so every replica
stops seeing the old entries at once. Reading the generation before loading makes the
classic race harmless: a value loaded before a concurrent write is stored under the old
generation and never read again.

The cache never fails a request. When Redis does not answer, reads go to the database
(one warning per outage), and invalidations that could not be written are replayed as
soon as Redis answers again; entry TTLs bound what a process that died meanwhile missed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from agentplatform.core.config import get_settings
from agentplatform.core.redis_clients import make_client

log = logging.getLogger(__name__)

T = TypeVar("T")

MEMORY_MAX_ENTRIES = 5_000
OUTAGE_RETRY_S = 5.0  # while Redis is down, try it again this often


class CacheBackend(Protocol):
    """Bytes by key, with a TTL, plus counters for the generations."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def incr(self, key: str) -> None: ...

    async def clear(self) -> None: ...


class MemoryBackend:
    """This process only: a bounded LRU of entries with TTLs; generations never expire."""

    def __init__(self, max_entries: int = MEMORY_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._counters: dict[str, int] = {}

    async def get(self, key: str) -> bytes | None:
        if key in self._counters:
            return str(self._counters[key]).encode()
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self._entries[key] = (value, time.monotonic() + ttl_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def incr(self, key: str) -> None:
        self._counters[key] = self._counters.get(key, 0) + 1

    async def clear(self) -> None:
        self._entries.clear()
        self._counters.clear()

    def __len__(self) -> int:
        return len(self._entries)


class RedisBackend:
    """Shared by every replica. Fails fast (REDIS_TIMEOUT_SECONDS) and quietly: an outage
    means cache misses."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._down_until = 0.0
        self._outage = False
        self._unsent_bumps: set[str] = set()

    def _client(self) -> Redis:
        """One client per event loop (redis connections belong to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = make_client(self.url, name=self.prefix.rstrip(":"))
            self._clients[loop] = client
        return client

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, error: BaseException) -> None:
        self._down_until = time.monotonic() + OUTAGE_RETRY_S
        if not self._outage:
            self._outage = True
            log.warning(
                "Redis cache unavailable (%s: %s): serving uncached reads until it answers",
                type(error).__name__,
                error,
            )

    async def _answered(self, client: Redis) -> None:
        """After an outage: say so, and write the invalidations that could not be sent."""
        if not self._outage:
            return
        self._outage = False
        pending, self._unsent_bumps = self._unsent_bumps, set()
        for key in pending:
            await client.incr(self.prefix + key)
        log.info("Redis cache is back (%d pending invalidation(s) replayed)", len(pending))

    async def _command(self, command: Callable[[Redis], Awaitable[T]]) -> T | None:
        """Run one command unless Redis is known to be down; None when it did not answer."""
        if not self._available():
            return None
        try:
            client = self._client()
            await self._answered(client)
            return await command(client)
        except (RedisError, OSError) as error:
            self._failed(error)
            return None

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self._command(lambda client: client.get(self.prefix + key))
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        ttl_ms = max(int(ttl_s * 1000), 1)
        await self._command(lambda client: client.set(self.prefix + key, value, px=ttl_ms))

    async def incr(self, key: str) -> None:
        if await self._command(lambda client: client.incr(self.prefix + key)) is None:
            self._unsent_bumps.add(key)  # written when Redis answers again

    async def clear(self) -> None:
        """Delete every entry and generation under the prefix (after a restore)."""
        client = self._client()
        async for name in client.scan_iter(match=self.prefix + "*", count=500):
            await client.delete(name)
        self._unsent_bumps.clear()


_backend: CacheBackend | None = None


def get_cache() -> CacheBackend:
    """The process-wide backend: Redis when REDIS_URL is set, else this process's memory."""
    global _backend
    if _backend is None:
        settings = get_settings()
        if settings.redis_url:
            _backend = RedisBackend(settings.redis_url, f"{settings.redis_prefix}:cache:")
        else:
            _backend = MemoryBackend()
    return _backend


def set_cache(backend: CacheBackend | None) -> None:
    """Replace the backend (tests); None picks it from Settings again on next use."""
    global _backend
    _backend = backend


async def clear_cache() -> None:
    """Forget everything cached (the data under it was replaced, e.g. by a restore).

    Unlike reads, this raises when Redis is unreachable: a restore must not leave entries
    that describe the old data."""
    await get_cache().clear()


def _generation_key(scope: str) -> str:
    return f"gen:{scope}"


async def cached(
    scope: str,
    key: str,
    *,
    ttl_s: float,
    load: Callable[[], Awaitable[T]],
    encode: Callable[[T], bytes],
    decode: Callable[[bytes], T],
) -> T:
    """The value for `key` within `scope`, from the cache or from `load` (then stored)."""
    backend = get_cache()
    generation = (await backend.get(_generation_key(scope)) or b"0").decode()
    entry_key = f"val:{scope}:{generation}:{key}"
    raw = await backend.get(entry_key)
    if raw is not None:
        try:
            return decode(raw)
        except ValueError:  # written by another release: load it afresh
            log.info("cache entry %s could not be read; loading it again", entry_key)
    value = await load()
    await backend.set(entry_key, encode(value), ttl_s)
    return value


async def invalidate(scope: str) -> None:
    """Forget every entry of `scope`, in every process sharing the cache."""
    await get_cache().incr(_generation_key(scope))


__all__ = [
    "CacheBackend",
    "MemoryBackend",
    "RedisBackend",
    "cached",
    "clear_cache",
    "get_cache",
    "invalidate",
    "set_cache",
]
