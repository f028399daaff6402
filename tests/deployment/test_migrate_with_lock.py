"""The pods' migration step (deployment/k8s/base/migrations/migrate_with_lock.py), for real.

Every app and worker pod runs it as an init container. On PostgreSQL it migrates only while
holding an advisory lock, so pods that start together migrate one after the other (the later
ones find nothing to do); here a held lock makes it wait, and concurrent runs all succeed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, inspect

from tests.conftest import TEST_DB
from tests.deployment.k8s_support import K8S
from tests.services import scratch_postgres_database

SCRIPT = K8S / "base" / "migrations" / "migrate_with_lock.py"
LOCK_KEY = 0x61676E74_6D696772


def _start(database_url: str, tmp: Path, name: str) -> tuple[subprocess.Popen[str], Path]:
    log = tmp / f"{name}.log"
    env = {**os.environ, "DATABASE_URL": database_url, "DB_WAIT_SECONDS": "30"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT)], env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    return process, log


def _tables(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _libpq(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.mark.postgres
@pytest.mark.skipif(TEST_DB != "postgresql", reason="PostgreSQL's advisory locks: the PG pass")
def test_a_pod_waits_for_the_lock_then_migrates(tmp_path: Path) -> None:
    with scratch_postgres_database("migrate_lock") as url:
        with psycopg.connect(_libpq(url), autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            process, log = _start(url, tmp_path, "waiting")
            deadline = time.monotonic() + 60
            while True:  # until the script's session waits on the same lock
                waiting = holder.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                ).fetchone()
                if waiting and waiting[0] == 1:
                    break
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"never waited for the lock:\n{log.read_text()}"
                time.sleep(0.1)
            assert "alembic_version" not in _tables(url)  # nothing migrated while the lock is held
            holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        assert process.wait(120) == 0, log.read_text()
        assert {"alembic_version", "agent", "run"} <= _tables(url)
        assert "holding the migration lock" in log.read_text()


@pytest.mark.postgres
@pytest.mark.skipif(TEST_DB != "postgresql", reason="PostgreSQL's advisory locks: the PG pass")
def test_pods_starting_together_all_succeed_on_a_fresh_database(tmp_path: Path) -> None:
    with scratch_postgres_database("migrate_many") as url:
        started = [_start(url, tmp_path, f"pod{i}") for i in range(3)]
        for process, log in started:
            assert process.wait(180) == 0, log.read_text()
        assert {"alembic_version", "agent", "run"} <= _tables(url)
        with psycopg.connect(_libpq(url)) as connection:
            row = connection.execute("SELECT count(*) FROM alembic_version").fetchone()
        assert row == (1,)


def test_on_sqlite_it_migrates_without_a_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pod.db'}"
    process, log = _start(url, tmp_path, "sqlite")
    assert process.wait(120) == 0, log.read_text()
    assert {"alembic_version", "agent", "run"} <= _tables(url)
    assert "without a lock" in log.read_text()


def test_a_database_that_never_answers_fails_the_pod_with_one_clear_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody:secret-pw@127.0.0.1:9/nothing"
    env = {**os.environ, "DATABASE_URL": url, "DB_WAIT_SECONDS": "1"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "PostgreSQL did not answer within 1s" in done.stderr
    assert "secret-pw" not in done.stderr + done.stdout
