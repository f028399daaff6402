"""Init container: apply the database migrations once, however many pods start together.

`agentplatform serve` migrates when it starts, and two processes migrating one database at the
same moment can collide. Every app and worker pod runs this first: it waits for PostgreSQL,
takes a session-level advisory lock, runs `agentplatform migrate` and releases the lock. The
first pod migrates; the others wait for the lock and then find the schema at its head, so the
`serve` that follows changes nothing. Mounted from a ConfigMap (kustomize generates it from
this file); it runs with the image's Python and needs nothing beyond the app's dependencies.
The lock is per session: point DATABASE_URL at PostgreSQL directly, not through a pooler in
transaction mode.
"""

from __future__ import annotations

import os
import sys
import time

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from agentplatform.cli import main as agentplatform
from agentplatform.core.config import get_settings
from agentplatform.core.errors import ConfigError

# pg_advisory_lock takes a bigint: a fixed key that only this project's migrations use.
LOCK_KEY = 0x61676E74_6D696772  # "agntmigr"
WAIT_SECONDS = float(os.environ.get("DB_WAIT_SECONDS", "120"))


def _log(message: str) -> None:
    sys.stderr.write(f"migrate-with-lock: {message}\n")
    sys.stderr.flush()


def _connect_when_up(url: str) -> tuple[Engine, Connection]:
    """A connection in autocommit mode (no transaction left open while migrations run)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return engine, engine.connect()
        except OperationalError as error:
            if time.monotonic() >= deadline:
                reason = str(error.orig).strip().splitlines()[0]
                _log(f"PostgreSQL did not answer within {WAIT_SECONDS:g}s: {reason}")
                raise SystemExit(1) from None
            time.sleep(1)


def main() -> int:
    try:
        settings = get_settings()
    except ConfigError as error:
        _log(f"configuration error: {error}")
        return 2
    if settings.is_sqlite:
        _log("SQLite: one process owns the database; migrating without a lock")
        return agentplatform(["migrate"])
    engine, connection = _connect_when_up(settings.database_url)
    try:
        _log("waiting for the migration lock")
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        _log("holding the migration lock: migrating")
        status = agentplatform(["migrate"])
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        _log("done" if status == 0 else f"agentplatform migrate exited with {status}")
        return status
    finally:
        connection.close()
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
