"""The real services the suite needs (PostgreSQL, Redis): found, or started, or a loud failure."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait(host: str, port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _listening(host, port):
            return True
        time.sleep(0.3)
    return False


def _start_postgres() -> None:
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    if versions and shutil.which("pg_ctlcluster"):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
            check=False,
            capture_output=True,
        )


def _start_redis() -> None:
    if shutil.which("redis-server"):
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
             "--save", "", "--appendonly", "no"],
            check=False,
            capture_output=True,
        )  # fmt: skip


def ensure_postgres() -> None:
    """PostgreSQL on 127.0.0.1:5432, started if it is down; raises if it cannot be had."""
    if not _listening(PG_HOST, PG_PORT):
        _start_postgres()
    if not _wait(PG_HOST, PG_PORT):
        raise RuntimeError(
            "PostgreSQL is not reachable on 127.0.0.1:5432 and could not be started; "
            "start it (pg_ctlcluster <version> main start) or set TEST_POSTGRES_URL."
        )


def ensure_redis() -> None:
    """Redis on 127.0.0.1:6379, started if it is down; raises if it cannot be had."""
    if not _listening(REDIS_HOST, REDIS_PORT):
        _start_redis()
    if not _wait(REDIS_HOST, REDIS_PORT):
        raise RuntimeError(
            "Redis is not reachable on 127.0.0.1:6379 and could not be started; "
            "start redis-server or set TEST_REDIS_URL."
        )


def create_postgres_database(label: str) -> str:
    """A new empty database on the test server; its SQLAlchemy (psycopg 3) URL."""
    import psycopg

    ensure_postgres()
    name = f"agentplatform_{label}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    """Drop a database made by `create_postgres_database`, connections and all."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_postgres_database(label: str) -> Iterator[str]:
    """A fresh database on the test server for the block; dropped at exit."""
    url = create_postgres_database(label)
    try:
        yield url
    finally:
        drop_postgres_database(url)
