"""Counters of sign-in attempts that expire: on Redis when configured, else in the database.

Each store increments and reads in one atomic step (a Lua script on Redis; a guarded upsert
with RETURNING on SQLite and PostgreSQL), so N concurrent attempts see N distinct counts and
no two of them can both be "the fifth". When Redis does not answer, the Redis store counts
in the database instead (one warning per outage): sign-in never fails because Redis did.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from agentplatform.core.db import write_transaction
from agentplatform.core.redis_clients import LoopLocalRedis, RedisOutage
from agentplatform.models.throttle import LoginAttempt

log = logging.getLogger(__name__)

T = TypeVar("T")

PURGE_EVERY_S = 60.0  # how often a process deletes ended windows from the table
_TABLE: Any = LoginAttempt.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Count:
    """A key's attempts in its open window (this one included) and when the window closes."""

    count: int
    remaining_s: float


class AttemptStore(Protocol):
    """Counters that expire: what a throttle backend must provide."""

    async def hit(self, keys: Sequence[str], window_s: int) -> list[Count]:
        """Count one attempt on each key (opening a `window_s` window where none is open)."""
        ...

    async def give_back(self, key: str) -> None:
        """Take one attempt off the key's count (an attempt that turned out not to count)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget the key's attempts."""
        ...

    async def clear(self) -> None:
        """Forget everything (tests, an admin unlocking accounts)."""
        ...


def _upsert(dialect: str, key: str, now_ms: int, window_ms: int) -> Any:
    """INSERT a first attempt, or count one more; a window that has ended starts again."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_TABLE).values(key=key, count=1, window_ends_ms=now_ms + window_ms)
    ended = _TABLE.c.window_ends_ms <= now_ms
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={
            "count": case((ended, 1), else_=_TABLE.c.count + 1),
            "window_ends_ms": case(
                (ended, statement.excluded.window_ends_ms), else_=_TABLE.c.window_ends_ms
            ),
        },
    ).returning(_TABLE.c.count, _TABLE.c.window_ends_ms)


class DatabaseAttemptStore:
    """Counters in the `login_attempt` table, shared by every process on the database."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._next_purge = 0.0

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def hit(self, keys: Sequence[str], window_s: int) -> list[Count]:
        now_ms = self._now_ms()
        purge = time.monotonic() >= self._next_purge
        if purge:
            self._next_purge = time.monotonic() + PURGE_EVERY_S

        def work(connection: Connection) -> list[Count]:
            counts = []
            for key in keys:  # always in the caller's order: concurrent hits cannot deadlock
                upsert = _upsert(connection.dialect.name, key, now_ms, window_s * 1000)
                count, ends_ms = connection.execute(upsert).one()
                counts.append(Count(int(count), max(ends_ms - now_ms, 0) / 1000))
            if purge:
                connection.execute(delete(_TABLE).where(_TABLE.c.window_ends_ms <= now_ms))
            return counts

        return await write_transaction(work)

    async def give_back(self, key: str) -> None:
        now_ms = self._now_ms()
        await write_transaction(
            lambda connection: connection.execute(
                update(_TABLE)
                .where(_TABLE.c.key == key, _TABLE.c.count > 0, _TABLE.c.window_ends_ms > now_ms)
                .values(count=_TABLE.c.count - 1)
            )
        )

    async def reset(self, key: str) -> None:
        await write_transaction(
            lambda connection: connection.execute(delete(_TABLE).where(_TABLE.c.key == key))
        )

    async def clear(self) -> None:
        await write_transaction(lambda connection: connection.execute(delete(_TABLE)))


# INCR every key; a key without an expiry (a new window) gets one. Returns count, ms left.
_HIT = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  out[2 * i - 1] = count
  out[2 * i] = ttl
end
return out
"""
# DECR only a key that still exists with a positive count (never creates one without expiry).
_GIVE_BACK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisAttemptStore:
    """Counters shared by every replica under `<REDIS_PREFIX>:login:`; the database's while
    Redis does not answer."""

    def __init__(self, url: str, prefix: str, *, fallback: AttemptStore) -> None:
        self.prefix = f"{prefix}:login:"
        self.fallback = fallback
        self._redis = LoopLocalRedis(url, name=f"{prefix}:login")
        self.outage = RedisOutage(
            "sign-in throttling", "attempts are counted in the database", logger=log
        )

    async def _either(
        self, on_redis: Callable[[Redis], Awaitable[T]], on_fallback: Callable[[], Awaitable[T]]
    ) -> T:
        if self.outage.available():
            try:
                result = await on_redis(self._redis.client())
            except (TimeoutError, RedisError, OSError) as error:
                self.outage.failed(error)
            else:
                self.outage.answered()
                return result
        return await on_fallback()

    async def hit(self, keys: Sequence[str], window_s: int) -> list[Count]:
        names = [self.prefix + key for key in keys]

        async def on_redis(client: Redis) -> list[Count]:
            raw = await client.eval(_HIT, len(names), *names, window_s * 1000)  # type: ignore[misc]
            return [Count(int(raw[i]), int(raw[i + 1]) / 1000) for i in range(0, len(raw), 2)]

        return await self._either(on_redis, lambda: self.fallback.hit(keys, window_s))

    async def give_back(self, key: str) -> None:
        async def on_redis(client: Redis) -> None:
            await client.eval(_GIVE_BACK, 1, self.prefix + key)  # type: ignore[misc]

        await self._either(on_redis, lambda: self.fallback.give_back(key))

    async def reset(self, key: str) -> None:
        async def on_redis(client: Redis) -> None:
            await client.delete(self.prefix + key)

        await self._either(on_redis, lambda: self.fallback.reset(key))

    async def clear(self) -> None:
        async def on_redis(client: Redis) -> None:
            async for name in client.scan_iter(match=self.prefix + "*", count=500):
                await client.delete(name)

        await self.fallback.clear()
        await self._either(on_redis, _nothing)


async def _nothing() -> None:
    return None
