"""Failed-login throttling per account (email) and per client address.

Counters live behind `AttemptStore`: in process by default, in Redis when `REDIS_URL` is
set (so every replica sees the same counts). A window opens at the first failure and
closes `WINDOW_S` later; once a key reaches its limit, sign-in answers 429 until then.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agentplatform.core.config import get_settings
from agentplatform.core.errors import RateLimited

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW_S = 15 * 60
MAX_KEYS = 10_000
REDIS_PREFIX = "agentplatform:login-failures:"


class AttemptStore(Protocol):
    """Counters that expire: the only thing a throttle backend must provide."""

    async def failures(self, key: str) -> tuple[int, float]:
        """(failures in the open window, seconds until it closes); (0, 0) when none."""
        ...

    async def add_failure(self, key: str, window_s: int) -> int:
        """Count one failure (opening a `window_s` window if none is open); the new count."""
        ...

    async def reset(self, key: str) -> None:
        """Forget the key's failures."""
        ...

    async def clear(self) -> None:
        """Forget everything (tests, admin tooling)."""
        ...


class MemoryAttemptStore:
    """In-process counters, bounded to `max_keys` (the oldest window is evicted first)."""

    def __init__(self, *, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic):
        self._max_keys = max_keys
        self._clock = clock
        # Insertion order == expiry order (a new window is always appended), so the
        # front of the dict is always the next entry to expire.
        self._entries: dict[str, tuple[int, float]] = {}

    def _purge(self, now: float) -> None:
        while self._entries:
            key, (_count, expires) = next(iter(self._entries.items()))
            if expires > now:
                return
            del self._entries[key]

    async def failures(self, key: str) -> tuple[int, float]:
        now = self._clock()
        count, expires = self._entries.get(key, (0, now))
        if expires <= now:
            return 0, 0.0
        return count, expires - now

    async def add_failure(self, key: str, window_s: int) -> int:
        now = self._clock()
        self._purge(now)
        count, expires = self._entries.get(key, (0, 0.0))
        if expires <= now:
            self._entries.pop(key, None)
            while len(self._entries) >= self._max_keys:
                del self._entries[next(iter(self._entries))]
            count, expires = 0, now + window_s
        self._entries[key] = (count + 1, expires)
        return count + 1

    async def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    async def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class RedisAttemptStore:
    """Counters shared by every replica: `INCR` + `EXPIRE NX` under one prefix."""

    def __init__(self, url: str, *, prefix: str = REDIS_PREFIX) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)
        self._prefix = prefix

    async def failures(self, key: str) -> tuple[int, float]:
        async with self._redis.pipeline(transaction=False) as pipe:
            raw, ttl = await pipe.get(self._prefix + key).pttl(self._prefix + key).execute()
        if raw is None or ttl == -2:
            return 0, 0.0
        return int(raw), max(ttl, 0) / 1000

    async def add_failure(self, key: str, window_s: int) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            count, _set = await pipe.incr(name).expire(name, window_s, nx=True).execute()
        return int(count)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def clear(self) -> None:
        async for name in self._redis.scan_iter(match=self._prefix + "*"):
            await self._redis.delete(name)

    async def aclose(self) -> None:
        await self._redis.aclose()


@dataclass(frozen=True)
class LoginThrottle:
    """The policy: how many failures per account and per address, within which window."""

    store: AttemptStore
    account_limit: int = ACCOUNT_LIMIT
    address_limit: int = ADDRESS_LIMIT
    window_s: int = WINDOW_S

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"account:{digest}", f"address:{address}"

    async def check(self, *, email: str, address: str) -> None:
        """Raise `RateLimited` while the account or the address is over its limit."""
        account, client = self._keys(email, address)
        wait = 0.0
        for key, limit in ((account, self.account_limit), (client, self.address_limit)):
            count, remaining = await self.store.failures(key)
            if count >= limit:
                wait = max(wait, remaining)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            minutes = max(1, math.ceil(retry_after / 60))
            raise RateLimited(
                "Too many failed sign-in attempts: wait "
                f"{minutes} minute{'s' if minutes > 1 else ''} and try again.",
                retry_after=retry_after,
                details={"retry_after": retry_after},
            )

    async def failed(self, *, email: str, address: str) -> None:
        for key in self._keys(email, address):
            await self.store.add_failure(key, self.window_s)

    async def succeeded(self, *, email: str) -> None:
        """A successful sign-in clears the account's count (the address keeps its own)."""
        await self.store.reset(self._keys(email, "")[0])


_throttle: LoginThrottle | None = None
_throttle_url: str | None = None


def get_throttle() -> LoginThrottle:
    """The process-wide throttle: Redis-backed when `REDIS_URL` is set, else in memory."""
    global _throttle, _throttle_url
    url = get_settings().redis_url
    if _throttle is None or url != _throttle_url:
        store: AttemptStore = RedisAttemptStore(url) if url else MemoryAttemptStore()
        _throttle, _throttle_url = LoginThrottle(store=store), url
    return _throttle


async def reset_throttle() -> None:
    """Forget every counter (tests; an admin unlocking accounts)."""
    await get_throttle().store.clear()
