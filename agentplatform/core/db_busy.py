"""No free database connection: wait a bounded time for one, then answer 503, never 500."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, Engine

from agentplatform.core.errors import DatabaseBusy

logger = logging.getLogger("agentplatform.db")

RETRY_AFTER_S = 2
BUSY_MESSAGE = (
    "The server is busy: every database connection it may use is taken. "
    "Send the request again in a few seconds."
)
# SQLSTATE 53300 too_many_connections; the texts cover a refusal psycopg reports while the
# connection is being made (no SQLSTATE then).
_SERVER_FULL_TEXTS = ("too many clients", "remaining connection slots are reserved")
_WARN_EVERY_S = 10.0
_last_warning = 0.0


def server_full(error: BaseException) -> bool:
    """PostgreSQL refused a connection because all of its `max_connections` slots are taken."""
    if getattr(error, "sqlstate", None) == "53300":
        return True
    text = str(error).lower()
    return any(part in text for part in _SERVER_FULL_TEXTS)


def _cause(error: BaseException) -> str | None:
    if isinstance(error, sa_exc.TimeoutError):  # QueuePool limit reached, timed out
        return "every connection of this process's pool stayed in use for DB_POOL_TIMEOUT"
    if isinstance(error, sa_exc.DBAPIError) and server_full(error.orig or error):
        return "the database server has no free connection slot (max_connections)"
    if isinstance(error, sa_exc.OperationalError) and "database is locked" in str(error.orig):
        return "the SQLite database stayed locked by another writer"
    return None


def database_busy(error: BaseException) -> DatabaseBusy | None:
    """The 503 for an error that only means "no database connection right now"; else None."""
    cause = _cause(error)
    if cause is None:
        return None
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_S:  # one line per burst, not one per request
        _last_warning = now
        logger.warning(
            "database busy: %s; requests get 503 (see docs/security.md, "
            "Database connection budget)",
            cause,
        )
    return DatabaseBusy(BUSY_MESSAGE, retry_after=RETRY_AFTER_S)


def connect_patiently(engine: Engine, *, patience_s: float) -> None:
    """New PostgreSQL connections that the server refuses for lack of slots are retried with
    back-off for up to `patience_s` (like waiting for the pool), then the refusal is raised."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        import psycopg

        async def connect(*args: Any, **kwargs: Any) -> Any:
            deadline = time.monotonic() + patience_s
            delay = 0.05
            while True:
                try:
                    return await psycopg.AsyncConnection.connect(*args, **kwargs)
                except psycopg.OperationalError as error:
                    if not server_full(error) or time.monotonic() + delay > deadline:
                        raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

        return dialect.connect(*cargs, async_creator_fn=connect, **cparams)
