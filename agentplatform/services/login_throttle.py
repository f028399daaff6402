"""Sign-in throttling per account (email) and per client address, counted before bcrypt.

Every attempt is counted first, atomically, and only an attempt within both limits goes on
to the password check: of 40 concurrent wrong passwords for one account, exactly
`LOGIN_ACCOUNT_LIMIT` are checked and the rest answer 429 with Retry-After at once. A
success clears the account's count and gives the address its attempt back, so an office
behind one address is limited by its failures only. Counters live on Redis when
`REDIS_URL` is set, else (and while Redis does not answer) in the database.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from agentplatform.core.config import get_settings
from agentplatform.core.errors import RateLimited
from agentplatform.services.attempt_counters import (
    AttemptStore,
    DatabaseAttemptStore,
    RedisAttemptStore,
)


@dataclass(frozen=True)
class LoginThrottle:
    """The policy: how many attempts per account and per address, within which window."""

    store: AttemptStore
    account_limit: int
    address_limit: int
    window_s: int

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"account:{digest}", f"address:{address[:90]}"

    async def attempt(self, *, email: str, address: str) -> None:
        """Count one attempt; raise `RateLimited` (429) when the account or the address is
        over its limit. Call it before checking the password."""
        keys = self._keys(email, address)
        limits = (self.account_limit, self.address_limit)
        counts = await self.store.hit(keys, self.window_s)
        over = [count.count > limit for count, limit in zip(counts, limits, strict=True)]
        if not any(over):
            return
        for key, key_over in zip(keys, over, strict=True):
            if not key_over:  # refused for the other key: this attempt never reached it
                await self.store.give_back(key)
        wait = max(c.remaining_s for c, key_over in zip(counts, over, strict=True) if key_over)
        retry_after = max(1, math.ceil(wait))
        minutes = max(1, math.ceil(retry_after / 60))
        raise RateLimited(
            "Too many failed sign-in attempts: wait "
            f"{minutes} minute{'s' if minutes > 1 else ''} and try again.",
            retry_after=retry_after,
            details={"retry_after": retry_after},
        )

    async def succeeded(self, *, email: str, address: str) -> None:
        """The password was right: the account starts afresh, the address gets its attempt
        back (only failures count against an address)."""
        account, client = self._keys(email, address)
        await self.store.reset(account)
        await self.store.give_back(client)


_store: AttemptStore | None = None
_store_for: tuple[str, str] | None = None


def attempt_store() -> AttemptStore:
    """The process-wide store: Redis (database while it is away) with REDIS_URL, else the
    database."""
    global _store, _store_for
    settings = get_settings()
    wanted = (settings.redis_url, settings.redis_prefix)
    if _store is None or wanted != _store_for:
        database = DatabaseAttemptStore()
        _store = (
            RedisAttemptStore(settings.redis_url, settings.redis_prefix, fallback=database)
            if settings.redis_url
            else database
        )
        _store_for = wanted
    return _store


def get_throttle() -> LoginThrottle:
    """The throttle with the limits from Settings."""
    settings = get_settings()
    return LoginThrottle(
        store=attempt_store(),
        account_limit=settings.login_account_limit,
        address_limit=settings.login_address_limit,
        window_s=settings.login_window_seconds,
    )


async def reset_throttle() -> None:
    """Forget every counter (tests; an admin unlocking accounts)."""
    await attempt_store().clear()
