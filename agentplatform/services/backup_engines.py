"""Database-specific halves of backup and restore: SQLite's backup API, pg_dump/pg_restore."""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from agentplatform.core.errors import BackupError

PG_TIMEOUT_S = 3600
_PG_TABLE_ENTRY = re.compile(r"^\d+;\s*\d+\s+\d+\s+TABLE\s+(?!DATA\s)(\S+)\s+(\S+)\s", re.MULTILINE)


def database_kind(database_url: str) -> str:
    """`sqlite` or `postgresql`."""
    return make_url(database_url).get_backend_name()


# --- SQLite ---------------------------------------------------------------------------------


def sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(database)


def sqlite_backup(database_url: str, destination: Path) -> None:
    """A consistent online copy (the app may keep writing), self-contained (no WAL)."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"The database file {source_path} does not exist: nothing to back up.")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
        target.commit()
    finally:
        target.close()
        source.close()


def sqlite_revision(path: Path) -> str | None:
    """The Alembic revision recorded in a SQLite file (None when it was never migrated)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def sqlite_check(path: Path) -> None:
    """Refuse a file that is not a sound SQLite database."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA quick_check").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path.name} is not a readable SQLite database ({error}).") from None
    if not result or result[0] != "ok":
        raise BackupError(f"{path.name} is damaged: SQLite reports {result[0] if result else '?'}.")


def sqlite_restore(database_url: str, backup: Path) -> None:
    """Replace the live database's content with the backup's in one transaction."""
    target_path = sqlite_path(database_url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=60)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client tool: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}") + glob.glob(f"/usr/local/pgsql/bin/{name}"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p)],
    )
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} was not found: install the PostgreSQL client tools "
        "(Debian/Ubuntu: apt-get install postgresql-client) or put them on PATH."
    )


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it."""
    url: URL = make_url(database_url).set(drivername="postgresql")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} did not finish within {PG_TIMEOUT_S} s.") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else f'exit {done.returncode}'}")
    return done.stdout


def pg_backup(database_url: str, destination: Path) -> None:
    """`pg_dump --format=custom` of the whole database into `destination`."""
    dsn, env = _libpq(database_url)
    command = [pg_tool("pg_dump"), "--format=custom", f"--file={destination}", f"--dbname={dsn}"]
    _run(command, env, "pg_dump")


def pg_archive_tables(backup: Path) -> set[str]:
    """`schema.table` names in a custom-format archive; refuses a file pg_restore cannot read."""
    listing = _run([pg_tool("pg_restore"), "--list", str(backup)], {**os.environ}, "pg_restore")
    return {f"{schema}.{table}" for schema, table in _PG_TABLE_ENTRY.findall(listing)}


def pg_restore(database_url: str, backup: Path) -> None:
    """Drop and recreate every object in the archive, all in one transaction."""
    dsn, env = _libpq(database_url)
    command = [
        pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={dsn}",
        str(backup),
    ]
    _run(command, env, "pg_restore")
