"""A PostgreSQL server of a test's own, for server settings the shared one must keep.

The shared server on 127.0.0.1:5432 is never reconfigured or stopped (other suites use it at
the same time). A test that needs, say, a low `max_connections` starts a scratch cluster
here: `initdb` into a temporary directory, `pg_ctl start` on a free port with the settings
given, trust authentication for `postgres` on 127.0.0.1; stopped and deleted at exit.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 120  # a hang guard for a busy machine, not a timing claim


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "a scratch PostgreSQL cluster needs initdb and pg_ctl (Debian: apt-get install "
        "postgresql); none found"
    )


def _version(path: str) -> int:
    part = Path(path).parents[1].name
    return int(part) if part.isdigit() else 0


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: then run the server tools as the `postgres` user."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def scratch_postgres_cluster(**settings: str | int) -> Iterator[str]:
    """A running PostgreSQL with `settings` (e.g. `max_connections=40`); yields the psycopg
    URL of its `postgres` database."""
    tools = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="agentplatform-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    options = " ".join(
        [
            f"-p {port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={root}",
            "-c fsync=off",
            *(f"-c {name}={value}" for name, value in settings.items()),
        ]
    )

    def run(*command: str) -> None:
        subprocess.run(_as_postgres(list(command)), check=True, capture_output=True)

    try:
        run(str(tools / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        run(str(tools / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
            "-w", "-t", str(START_TIMEOUT_S), "start")  # fmt: skip
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([str(tools / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


def scratch_app_database(admin_url: str, name: str = "agentplatform") -> str:
    """A database owned by a new ordinary role (no superuser: the server's reserved slots
    are not its to use, as for an app in production); its psycopg URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE ROLE "{name}" LOGIN')
        connection.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    url = admin.set(username=name, database=name)
    return url.render_as_string(hide_password=False)
