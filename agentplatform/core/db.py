"""Database engines and sessions: async for the app, sync for migrations and scripts."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel, create_engine, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.config import get_settings
from agentplatform.core.db_busy import connect_patiently, database_busy
from agentplatform.core.sqlite_writer import SqliteWriter

T = TypeVar("T")

_async_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None
_sqlite_writer: SqliteWriter | None = None


def async_url(sync_url: str) -> str:
    """The async-driver form of a configured URL (aiosqlite / psycopg async)."""
    url = make_url(sync_url)
    if url.get_backend_name() == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    else:
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL + a busy timeout let many concurrent runs write steps without 'database is locked'."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        from pathlib import Path

        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def make_sync_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """A sync engine (migrations, backups, seeding); `kwargs` go to create_engine."""
    url = url or get_settings().database_url
    _ensure_sqlite_dir(url)
    engine = create_engine(url, **{"pool_pre_ping": True, **kwargs})
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def make_async_engine(url: str | None = None) -> AsyncEngine:
    """An async engine on the configured database."""
    url = url or get_settings().database_url
    _ensure_sqlite_dir(url)
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {}
    if not is_sqlite:
        # A server connection can go stale (restart, idle timeout): test it at checkout. A
        # SQLite file cannot, and there the ping would cost a thread hop per checkout. The
        # pool is this process's share of the server's connections (core/db_budget.py).
        settings = get_settings()
        kwargs.update(
            pool_pre_ping=True,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
        )
        if "application_name" not in make_url(url).query:
            # pg_stat_activity then tells which process holds which connections.
            kwargs["connect_args"] = {"application_name": f"agentplatform-{os.getpid()}"}
    engine = create_async_engine(async_url(url), **kwargs)
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    else:
        connect_patiently(engine.sync_engine, patience_s=get_settings().db_pool_timeout)
    return engine


def get_async_engine() -> AsyncEngine:
    """The process-wide async engine, created on first use."""
    global _async_engine, _sessionmaker
    if _async_engine is None:
        _async_engine = make_async_engine()
        _sessionmaker = async_sessionmaker(
            _async_engine, class_=AsyncSession, expire_on_commit=False
        )
    return _async_engine


async def write_transaction(work: Callable[[Connection], T]) -> T:
    """`work(connection)` in one short write transaction, committed if it returns: on
    SQLite on the process's writer thread (one thread round trip in all), elsewhere on the
    async engine. For the writes every run makes (claim, steps, outcome)."""
    global _sqlite_writer
    if get_async_engine().dialect.name == "sqlite":
        if _sqlite_writer is None:
            # One connection, used by one thread; nothing to ping on a local file. A batch of
            # rows is inserted as one multi-row statement (one SQLite call, where executemany
            # makes one per row, each giving the GIL up and waiting to take it back).
            engine = make_sync_engine(pool_pre_ping=False, pool_size=1, max_overflow=0)
            engine.dialect.use_insertmanyvalues_wo_returning = True
            _sqlite_writer = SqliteWriter(engine)
        return await _sqlite_writer.run(work)
    try:
        async with get_async_engine().begin() as connection:
            return await connection.run_sync(work)
    except Exception as error:
        if (busy := database_busy(error)) is not None:
            raise busy from error
        raise


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    """An async session; the caller commits, an exception rolls back. Waiting too long for
    a connection raises `DatabaseBusy` (503), not the driver's error."""
    get_async_engine()
    assert _sessionmaker is not None
    async with _sessionmaker() as session:
        try:
            yield session
        except BaseException as error:
            await session.rollback()
            if isinstance(error, Exception) and (busy := database_busy(error)) is not None:
                raise busy from error
            raise


async def lock_for_write(session: AsyncSession, table: type[SQLModel], row_id: uuid.UUID) -> bool:
    """Hold other lockers of `row_id` off until this session's transaction ends, so a check and
    the write it allows are one step: a row lock on PostgreSQL (FOR NO KEY UPDATE, which
    leaves inserts that merely reference the row alone); on SQLite, where FOR UPDATE is a
    no-op, the database's write lock taken now (BEGIN IMMEDIATE). False if there is no row."""
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        raw = await connection.get_raw_connection()
        # Python's sqlite3 opens a transaction only at the first write, which takes the lock:
        # an open transaction already holds it.
        if not raw.driver_connection.in_transaction:  # type: ignore[union-attr]
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
    key = table.id  # type: ignore[attr-defined]
    found = await session.exec(select(key).where(key == row_id).with_for_update(key_share=True))
    return found.first() is not None


async def dispose_engine() -> None:
    """Close pooled connections (shutdown, tests switching databases)."""
    global _async_engine, _sessionmaker, _sqlite_writer
    if _sqlite_writer is not None:
        _sqlite_writer.close()
    if _async_engine is not None:
        await _async_engine.dispose()
    _async_engine = None
    _sessionmaker = None
    _sqlite_writer = None
