"""Redis for the run-queue tests: the real server, a key/channel prefix of our own per test,
every key under it deleted afterwards (parallel test runs never see each other's)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.services import REDIS_URL, ensure_redis


def closed_port_url() -> str:
    """A Redis URL nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def delete_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextmanager
def redis_namespace() -> Iterator[str]:
    """A fresh prefix (`REDIS_PREFIX`) on the test Redis; its keys are removed at exit."""
    ensure_redis()
    prefix = f"aptest-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        delete_prefix(prefix)


def kill_clients(prefix: str, name_suffix: str, *, subscribed: bool | None = None) -> int:
    """Drop the server side of our connections named `<prefix>:<name_suffix>` (a hiccup)."""
    client = redis.Redis.from_url(REDIS_URL)
    killed = 0
    try:
        for info in client.client_list():
            if info.get("name") != f"{prefix}:{name_suffix}":
                continue
            if subscribed is not None and (int(info.get("sub", 0)) > 0) != subscribed:
                continue
            killed += int(client.client_kill_filter(_id=info["id"]))
    finally:
        client.close()
    return killed
