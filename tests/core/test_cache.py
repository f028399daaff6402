"""The hot-read cache: in-process and on Redis, shared invalidation, and Redis outages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from agentplatform.core import cache
from agentplatform.core.cache import MemoryBackend, RedisBackend, cached, invalidate, set_cache
from tests.services import REDIS_HOST, REDIS_PORT, REDIS_URL
from tests.services.redis_support import closed_port_url, redis_namespace


class Loader:
    """Counts how often the cache fell through to the 'database'."""

    def __init__(self) -> None:
        self.calls = 0
        self.value = "v1"

    async def __call__(self) -> str:
        self.calls += 1
        return self.value


async def read(loader: Loader, key: str = "k", scope: str = "scope") -> str:
    return await cached(scope, key, ttl_s=60, load=loader, encode=str.encode, decode=bytes.decode)


class RedisProxy:
    """A TCP hop in front of the test Redis that can be taken down and brought back."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(REDIS_HOST, REDIS_PORT)
        self._writers.update({writer, up_writer})
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()


@pytest.fixture
async def proxy() -> AsyncIterator[RedisProxy]:
    hop = RedisProxy()
    await hop.up()
    yield hop
    if hop.serving:
        await hop.down()


async def test_in_process_cache_serves_repeats_and_forgets_on_invalidate() -> None:
    set_cache(MemoryBackend())
    loader = Loader()
    assert [await read(loader), await read(loader)] == ["v1", "v1"]
    assert loader.calls == 1
    loader.value = "v2"
    await invalidate("scope")
    assert await read(loader) == "v2" and loader.calls == 2
    await invalidate("another scope")  # other scopes keep their entries
    assert await read(loader) == "v2" and loader.calls == 2


async def test_in_process_cache_is_bounded_and_expires() -> None:
    backend = MemoryBackend(max_entries=3)
    set_cache(backend)
    loader = Loader()
    for key in "abcde":
        await read(loader, key)
    assert len(backend) == 3
    await backend.set("short", b"x", ttl_s=0.01)
    await asyncio.sleep(0.05)
    assert await backend.get("short") is None


async def test_without_redis_url_the_cache_is_in_process() -> None:
    set_cache(None)
    assert isinstance(cache.get_cache(), MemoryBackend)


async def test_replicas_sharing_redis_see_each_others_invalidations() -> None:
    with redis_namespace() as prefix:
        replica_a = RedisBackend(REDIS_URL, f"{prefix}:cache:")
        replica_b = RedisBackend(REDIS_URL, f"{prefix}:cache:")
        loader = Loader()
        set_cache(replica_a)
        assert await read(loader) == "v1"
        set_cache(replica_b)
        assert await read(loader) == "v1" and loader.calls == 1  # B reads A's entry
        loader.value = "v2"
        await invalidate("scope")  # a write handled by B
        set_cache(replica_a)
        assert await read(loader) == "v2" and loader.calls == 2


async def test_a_dead_redis_means_uncached_reads_and_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_cache(RedisBackend(closed_port_url(), "x:cache:"))
    loader = Loader()
    with caplog.at_level(logging.WARNING, logger="agentplatform.core.cache"):
        assert [await read(loader) for _ in range(3)] == ["v1"] * 3
        await invalidate("scope")
    assert loader.calls == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "serving uncached reads" in warnings[0]


async def test_invalidations_during_an_outage_are_replayed_when_redis_returns(
    proxy: RedisProxy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cache, "OUTAGE_RETRY_S", 0.05)
    with redis_namespace() as prefix:
        writer = RedisBackend(proxy.url, f"{prefix}:cache:")  # the replica that loses Redis
        reader = RedisBackend(REDIS_URL, f"{prefix}:cache:")  # a replica that keeps it
        loader = Loader()
        set_cache(reader)
        assert await read(loader) == "v1"
        set_cache(writer)
        assert await read(loader) == "v1" and loader.calls == 1  # connected, shared entry

        await proxy.down()
        set_cache(writer)
        loader.value = "v2"  # the write commits in the database ...
        with caplog.at_level(logging.INFO, logger="agentplatform.core.cache"):
            await invalidate("scope")  # ... but its invalidation cannot reach Redis
            assert await read(loader) == "v2"  # the writer itself reads uncached
            set_cache(reader)
            assert await read(loader) == "v1"  # stale for now, bounded by the TTL

            await proxy.up()
            await asyncio.sleep(0.1)
            set_cache(writer)
            await read(loader)  # the first answered call replays the lost invalidation
        set_cache(reader)
        assert await read(loader) == "v2"
        assert any("pending invalidation(s) replayed" in r.getMessage() for r in caplog.records)


async def test_clearing_forgets_only_our_prefix() -> None:
    with redis_namespace() as prefix:
        ours = RedisBackend(REDIS_URL, f"{prefix}:cache:")
        neighbour = RedisBackend(REDIS_URL, f"{prefix}:other-app:")
        loader = Loader()
        for backend in (ours, neighbour):
            set_cache(backend)
            await read(loader)
        await cache.clear_cache()  # clears `neighbour`, the current backend
        set_cache(ours)
        assert await read(loader) == "v1" and loader.calls == 2  # still cached here
        set_cache(neighbour)
        await read(loader)
        assert loader.calls == 3
