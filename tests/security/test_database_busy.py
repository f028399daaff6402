"""No free database connection is a 503 with Retry-After, never a 500; streams hold none.

Finding 4 of issue 15 showed "too many clients" answered as 500. Here the app (in-process)
runs against a PostgreSQL cluster of this module's own with `max_connections = 12`, as an
ordinary role, with a pool as small as each test needs: an exhausted pool, a server with no
free slot, and live-event streams sharing a one-connection pool. On SQLite, a write lock held
past the busy timeout gets the same answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import update

from agentplatform.core import migrations
from agentplatform.core.config import get_settings
from agentplatform.core.db import dispose_engine, get_async_engine, session_scope
from agentplatform.core.db_busy import BUSY_MESSAGE, RETRY_AFTER_S
from agentplatform.models import Run
from agentplatform.services import run_dispatch, run_events
from agentplatform.services.run_events import StreamEvent, stream_run_events
from tests import factories
from tests.services.pg_cluster import scratch_app_database, scratch_postgres_cluster
from tests.services.run_support import HoldingDispatcher, make_agent, owner

MAX_CONNECTIONS = 12
TEST_DB = os.environ.get("TEST_DB", "sqlite")


@pytest.fixture(scope="module")
def scratch_database() -> Iterator[str]:
    """A migrated database on a small PostgreSQL of this module's own."""
    with scratch_postgres_cluster(max_connections=MAX_CONNECTIONS) as admin_url:
        url = scratch_app_database(admin_url)
        migrations.upgrade(url)
        yield url


@contextlib.asynccontextmanager
async def app_settings(**settings: str) -> AsyncIterator[None]:
    """The in-process app with these settings (environment variables) for the block."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    get_settings.cache_clear()
    await dispose_engine()
    try:
        yield
    finally:
        await dispose_engine()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert response.json()["error"] == {
        "code": "database_busy",
        "message": BUSY_MESSAGE,
        "details": None,
    }


async def test_an_exhausted_pool_answers_503_with_retry_after(
    api: httpx.AsyncClient, scratch_database: str
) -> None:
    async with app_settings(
        DATABASE_URL=scratch_database, DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0", DB_POOL_TIMEOUT="0.5"
    ):
        user = await factories.make_user()
        async with get_async_engine().connect():  # the pool's only connection, held
            busy = await asyncio.gather(
                *(api.get("/api/runs", headers=user.headers) for _ in range(3))
            )
            created = await api.post("/api/workspaces", json={"name": "x"}, headers=user.headers)
        for response in [*busy, created]:
            assert_busy(response)
        assert (await api.get("/api/runs", headers=user.headers)).status_code == 200


async def test_a_server_without_free_slots_is_waited_for_then_answered_503(
    api: httpx.AsyncClient, scratch_database: str
) -> None:
    async with app_settings(DATABASE_URL=scratch_database, DB_POOL_TIMEOUT="1"):
        user = await factories.make_user()
    with contextlib.ExitStack() as fillers:
        dsn = scratch_database.replace("postgresql+psycopg://", "postgresql://", 1)
        while True:  # take every slot an ordinary role may have
            try:
                fillers.enter_context(psycopg.connect(dsn))
            except psycopg.OperationalError as error:
                assert "slots are reserved" in str(error) or "too many clients" in str(error)
                break
        async with app_settings(DATABASE_URL=scratch_database, DB_POOL_TIMEOUT="1"):
            assert_busy(await api.get("/api/runs", headers=user.headers))
        async with app_settings(DATABASE_URL=scratch_database, DB_POOL_TIMEOUT="60"):
            waiting = asyncio.create_task(api.get("/api/runs", headers=user.headers))
            await asyncio.sleep(1)
            assert not waiting.done(), "the request waits for a slot instead of failing"
            fillers.close()  # slots come free
            assert (await waiting).status_code == 200


async def _follow(run_id: uuid.UUID) -> list[StreamEvent]:
    return [event async for event in stream_run_events(run_id, poll_s=0.05)]


async def test_streams_hold_no_connection_while_they_wait(
    api: httpx.AsyncClient, scratch_database: str
) -> None:
    """Ten live streams and ordinary requests share a pool of one connection."""
    async with app_settings(
        DATABASE_URL=scratch_database, DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0", DB_POOL_TIMEOUT="5"
    ):
        run_dispatch.set_dispatcher(HoldingDispatcher())  # runs stay queued: streams wait
        run_events.set_notifier(None)
        try:
            user, _ = await owner()
            agent_id = await make_agent(user.workspace_id, "waiting")
            body = {"agent_id": str(agent_id), "input": "hello"}
            run_ids = []
            for _ in range(10):
                created = await api.post("/api/runs", json=body, headers=user.headers)
                assert created.status_code == 202, created.text
                run_ids.append(uuid.UUID(created.json()["id"]))
            streams = [asyncio.create_task(_follow(run_id)) for run_id in run_ids]
            for _ in range(20):  # the streams keep polling meanwhile
                for run_id in run_ids[:2]:
                    read = await api.get(f"/api/runs/{run_id}", headers=user.headers)
                    assert read.status_code == 200, read.text
            assert not any(stream.done() for stream in streams)
            async with session_scope() as session:
                await session.exec(
                    update(Run).where(Run.id.in_(run_ids)).values(status="succeeded")  # type: ignore[attr-defined]
                )
                await session.commit()
            for run_id in run_ids:
                await run_events.publish(run_id, "status")
            for stream in streams:
                events = await asyncio.wait_for(stream, 60)
                assert [e.kind for e in events] == ["status"]
                assert events[0].run is not None and events[0].run.status == "succeeded"
        finally:
            run_dispatch.set_dispatcher(None)
            run_events.set_notifier(None)


@pytest.mark.skipif(TEST_DB != "sqlite", reason="SQLite's file lock: runs in the SQLite pass")
async def test_a_sqlite_write_lock_held_too_long_answers_503(api: httpx.AsyncClient) -> None:
    user = await factories.make_user()
    path = Path(get_settings().database_url.removeprefix("sqlite:///"))
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process writing, and not letting go
        renamed = await api.patch(
            "/api/users/me", json={"full_name": "New Name"}, headers=user.headers
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_busy(renamed)
    again = await api.patch("/api/users/me", json={"full_name": "New Name"}, headers=user.headers)
    assert again.status_code == 200, again.text
