"""A TCP hop of our own in front of the shared test Redis, to stage outages without ever
stopping that Redis: forwarding, down (connections refused), or a black hole (connections
accepted, nothing ever answered). It runs on its own thread, so processes started by a test
(an API, a worker) can use it while the test's event loop waits."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from tests.services import REDIS_HOST, REDIS_PORT, ensure_redis

FORWARD, DOWN, BLACK_HOLE = "forward", "down", "black hole"


class RedisProxy:
    """`url` reaches the real Redis while `forward()`ed; `down()` and `black_hole()` cut it."""

    def __init__(self) -> None:
        self.port = 0
        self.mode = DOWN
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=10)

    # --- control (from any thread) -------------------------------------------------------
    def start(self) -> RedisProxy:
        ensure_redis()
        self._thread.start()
        self.forward()
        return self

    def forward(self) -> None:
        self._call(self._set(FORWARD))

    def down(self) -> None:
        self._call(self._set(DOWN))

    def black_hole(self) -> None:
        self._call(self._set(BLACK_HOLE))

    def close(self) -> None:
        self._call(self._shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # --- on the proxy's loop -------------------------------------------------------------
    async def _shut(self) -> None:
        await self._set(DOWN)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _set(self, mode: str) -> None:
        self.mode = mode
        for writer in list(self._streams):  # whatever was open is cut, as by a network fault
            writer.close()
        self._streams.clear()
        if mode == DOWN and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        elif mode != DOWN and self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._streams.add(writer)
        if self.mode == BLACK_HOLE:  # accept, read, never answer
            while self.mode == BLACK_HOLE and await reader.read(65536):
                pass
            return
        up_reader, up_writer = await asyncio.open_connection(REDIS_HOST, REDIS_PORT)
        self._streams.add(up_writer)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@contextmanager
def redis_proxy() -> Iterator[RedisProxy]:
    """A forwarding proxy for the length of the block."""
    proxy = RedisProxy().start()
    try:
        yield proxy
    finally:
        proxy.close()
