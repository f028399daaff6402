"""Run signals between processes over Redis pub/sub: one channel per run.

Signals published here reach this process's subscribers at once (in memory) and every
other process through Redis. Each process keeps ONE pub/sub connection, subscribed to
the channels its local subscribers want. Redis is only a wake-up path: when it fails,
publishing and subscribing carry on locally, a warning is logged, and streams and cancel
watchers fall back to their database polling until Redis answers again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from agentplatform.core.config import get_settings
from agentplatform.core.redis_clients import make_client
from agentplatform.services.run_events import InProcessNotifier, RunSignal, RunSubscription

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 1.0
PING_EVERY_S = 10.0
PUBLISH_PAUSE_S = 2.0  # after a failed publish, skip Redis for this long (runs stay fast)
RETRY_MIN_S, RETRY_MAX_S = 0.2, 5.0


def command_timeout_s() -> float:
    """The longest a pub/sub command may take: connecting, then one answer (from Settings)."""
    settings = get_settings()
    return settings.redis_connect_timeout_seconds + settings.redis_timeout_seconds


def run_channel(prefix: str, run_id: str) -> str:
    """The pub/sub channel of one run."""
    return f"{prefix}:run:{run_id}"


class RedisNotifier:
    """A `RunNotifier` over Redis pub/sub that degrades to in-process delivery."""

    def __init__(self, url: str, prefix: str = "agentplatform") -> None:
        self.url = url
        self.prefix = prefix
        self.origin = uuid.uuid4().hex  # our own messages come back from Redis: skip them
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bind()

    @property
    def pushes_cancels(self) -> bool:
        return not self._degraded

    # --- state, per event loop -------------------------------------------------------
    def _bind(self) -> None:
        """Connections belong to one event loop; a new loop (tests) starts afresh."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is self._loop and hasattr(self, "_local"):
            return
        self._loop = loop
        self._local = InProcessNotifier()
        self._client: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._channels: dict[str, int] = {}
        self._lock = asyncio.Lock()
        self._publish_paused_until = 0.0
        self._retry_at = 0.0
        self._retry_s = RETRY_MIN_S
        self._degraded = False
        self._last_ping = self._last_heard = time.monotonic()

    def _redis(self) -> Redis:
        if self._client is None:
            # Fails fast (no retry): the database path covers us.
            self._client = make_client(self.url, name=f"{self.prefix}:notifier")
        return self._client

    def _degrade(self, error: BaseException) -> None:
        if not self._degraded:
            self._degraded = True
            log.warning(
                "Redis pub/sub unavailable (%s: %s): live run events fall back to database "
                "polling until it answers",
                type(error).__name__,
                error,
            )

    def _recover(self) -> None:
        if self._degraded:
            self._degraded = False
            log.info("Redis pub/sub is back: run events are pushed again")

    # --- publishing ------------------------------------------------------------------
    def _encode(self, signal: RunSignal) -> str:
        return json.dumps({"origin": self.origin, "signal": asdict(signal)})

    async def publish(self, signal: RunSignal) -> None:
        self._bind()
        await self._local.publish(signal)
        if time.monotonic() < self._publish_paused_until:
            return
        try:
            channel = run_channel(self.prefix, signal.run_id)
            await self._redis().publish(channel, self._encode(signal))
        except Exception as error:  # any Redis trouble: local delivery already happened
            self._publish_paused_until = time.monotonic() + PUBLISH_PAUSE_S
            self._degrade(error)

    def listening(self, run_id: str, kind: str) -> bool:
        return True  # a subscriber in another process is not known here

    # --- subscribing -----------------------------------------------------------------
    @asynccontextmanager
    async def subscribe(
        self, run_id: str, kinds: Iterable[str] | None = None
    ) -> AsyncIterator[RunSubscription]:
        self._bind()
        channel = run_channel(self.prefix, run_id)
        async with self._local.subscribe(run_id, kinds) as subscription:
            await self._add_channel(channel)
            try:
                yield subscription
            finally:
                await asyncio.shield(self._remove_channel(channel))

    async def _add_channel(self, channel: str) -> None:
        count = self._channels.get(channel, 0)
        self._channels[channel] = count + 1
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_forever(), name="run-notifier-redis")
        if count:
            return
        async with self._lock:
            if self._pubsub is None:
                await self._connect()  # subscribes every wanted channel, this one included
                return
            await self._command(self._pubsub, "subscribe", channel)

    async def _remove_channel(self, channel: str) -> None:
        count = self._channels.get(channel, 0) - 1
        if count > 0:
            self._channels[channel] = count
            return
        self._channels.pop(channel, None)
        async with self._lock:
            if self._pubsub is not None:
                await self._command(self._pubsub, "unsubscribe", channel)

    async def _command(self, pubsub: PubSub, name: str, *args: Any) -> None:
        """A pub/sub command (caller holds the lock); a failure drops the connection."""
        try:
            await asyncio.wait_for(getattr(pubsub, name)(*args), command_timeout_s())
        except Exception as error:
            self._degrade(error)
            await self._drop(pubsub)

    async def _connect(self) -> None:
        """A fresh pub/sub connection subscribed to our control channel and every wanted
        run channel (caller holds the lock). On failure, wait before the next attempt."""
        if self._pubsub is not None or time.monotonic() < self._retry_at:
            return
        pubsub = self._redis().pubsub(ignore_subscribe_messages=True)
        try:
            control = f"{self.prefix}:notifier:{self.origin}"  # keeps the connection subscribed
            await asyncio.wait_for(pubsub.subscribe(control, *self._channels), command_timeout_s())
        except Exception as error:
            self._degrade(error)
            self._retry_at = time.monotonic() + self._retry_s
            self._retry_s = min(self._retry_s * 2, RETRY_MAX_S)
            await _quietly_close(pubsub)
            return
        self._pubsub = pubsub
        self._retry_s = RETRY_MIN_S
        self._last_ping = self._last_heard = time.monotonic()
        self._recover()

    async def _drop(self, pubsub: PubSub) -> None:
        if self._pubsub is pubsub:
            self._pubsub = None
            self._retry_at = time.monotonic() + self._retry_s
            self._retry_s = min(self._retry_s * 2, RETRY_MAX_S)
        await _quietly_close(pubsub)

    # --- receiving -------------------------------------------------------------------
    async def _read_forever(self) -> None:
        """Pass other processes' signals to local subscribers; reconnect after errors."""
        while True:
            pubsub = self._pubsub
            if pubsub is None:
                await asyncio.sleep(max(self._retry_at - time.monotonic(), 0.05))
                async with self._lock:
                    await self._connect()
                continue
            try:
                await self._keep_alive(pubsub)
                message = await pubsub.get_message(timeout=READ_TIMEOUT_S)
            except Exception as error:
                self._degrade(error)
                async with self._lock:
                    await self._drop(pubsub)
                continue
            if message is not None:
                self._last_heard = time.monotonic()
                if message.get("type") == "message":
                    await self._deliver(message["data"])

    async def _keep_alive(self, pubsub: PubSub) -> None:
        """Ping now and then; a connection that stopped answering is treated as lost."""
        now = time.monotonic()
        if now - self._last_heard > 3 * PING_EVERY_S:
            raise ConnectionError("Redis stopped answering on the pub/sub connection")
        if now - self._last_ping >= PING_EVERY_S:
            self._last_ping = now
            async with self._lock:
                await asyncio.wait_for(pubsub.ping(), command_timeout_s())

    async def _deliver(self, raw: bytes | str) -> None:
        try:
            envelope = json.loads(raw)
            if envelope.get("origin") == self.origin:
                return
            signal = RunSignal(**envelope["signal"])
        except (ValueError, TypeError, KeyError, AttributeError):
            log.debug("ignored a malformed run signal: %r", raw)
            return
        await self._local.publish(signal)

    async def aclose(self) -> None:
        """Stop reading and close the connections (process shutdown)."""
        if self._loop is not asyncio.get_running_loop():
            return
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._pubsub is not None:
            await _quietly_close(self._pubsub)
            self._pubsub = None
        if self._client is not None:
            await _quietly_close(self._client)
            self._client = None


async def _quietly_close(connection: PubSub | Redis) -> None:
    try:
        await asyncio.wait_for(connection.aclose(), command_timeout_s())
    except Exception:
        log.debug("closing a Redis connection failed", exc_info=True)
