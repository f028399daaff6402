"""The start-up check of the database connection budget: over budget, production refuses.

`agentplatform serve` and `agentplatform worker` compare what every process's pool can
hold, together, with what the PostgreSQL server allows, before they migrate, build or pop
anything. The arithmetic itself is checked without a server.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from agentplatform.core.config import default_web_workers, load_settings
from agentplatform.core.db_budget import ConnectionBudget, ServerLimits, budget_of, judge
from agentplatform.core.errors import ConfigError
from tests.services import REDIS_URL, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SERVER = ServerLimits(max_connections=100, superuser_reserved=3)


def test_the_formula_counts_every_process_pool_and_the_reserve() -> None:
    budget = ConnectionBudget(
        app_replicas=2, web_workers=4, run_workers=3, pool_size=5, max_overflow=5, reserved=5
    )
    assert budget.processes == 11
    assert budget.needed == 11 * 10 + 5
    assert budget.formula() == (
        "(APP_REPLICAS 2 x WEB_WORKERS 4 + RUN_WORKERS 3) x (DB_POOL_SIZE 5 + DB_MAX_OVERFLOW 5)"
        " + DB_RESERVED_CONNECTIONS 5 = 115"
    )
    verdict = judge(budget, DEFAULT_SERVER)
    assert not verdict.fits
    assert "the server allows 97 (max_connections 100 less 3 reserved)" in verdict.message
    assert "lower WEB_WORKERS, DB_POOL_SIZE or DB_MAX_OVERFLOW" in verdict.message
    assert judge(budget, ServerLimits(200, 3, 2)).fits  # PostgreSQL 16's reserved_connections


def test_defaults_fit_a_default_postgres_on_any_machine() -> None:
    """Reflex's most backend processes (8) with the default pool, plus one worker."""
    settings = load_settings(redis_url=REDIS_URL, web_workers=8, run_workers=1)
    assert budget_of(settings).needed == (8 + 1) * (5 + 5) + 5
    assert judge(budget_of(settings), DEFAULT_SERVER).fits
    assert load_settings(redis_url=REDIS_URL).web_workers == default_web_workers(redis=True)
    assert load_settings(redis_url="").web_workers == 1


def test_several_web_workers_need_redis() -> None:
    with pytest.raises(ConfigError, match=r"WEB_WORKERS is invalid .*needs REDIS_URL"):
        load_settings(redis_url="", web_workers=3)


def test_reflex_s_own_variable_is_read_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANIAN_WORKERS", "3")
    assert load_settings(redis_url=REDIS_URL).web_workers == 3
    monkeypatch.setenv("WEB_WORKERS", "2")
    assert load_settings(redis_url=REDIS_URL).web_workers == 2


@pytest.fixture
def database() -> Iterator[str]:
    with scratch_postgres_database("budget_check") as url:
        yield url


def _cli(
    command: str, database_url: str, tmp_path: Path, **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "GRANIAN_", "WEB_"))}
    env.update(
        {
            "ENVIRONMENT": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "DATA_DIR": str(tmp_path),
            **settings,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "agentplatform.cli", command],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def server_limits(database_url: str) -> ServerLimits:
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as db:
        rows = dict(db.execute("SELECT name, setting FROM pg_settings").fetchall())
    return ServerLimits(
        int(rows["max_connections"]),
        int(rows["superuser_reserved_connections"]),
        int(rows.get("reserved_connections", 0)),
    )


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_production_refuses_to_start_over_budget(
    command: str, database: str, tmp_path: Path
) -> None:
    limits = server_limits(database)
    replicas = limits.max_connections // 20 + 1  # x 2 processes x 10 connections: too many
    done = _cli(command, database, tmp_path, APP_REPLICAS=str(replicas), WEB_WORKERS="2")
    assert done.returncode == 2, done.stdout + done.stderr
    needed = replicas * 2 * 10 + 5
    reserved = limits.max_connections - limits.available
    assert done.stderr.strip().splitlines() == [
        f"agentplatform: database connections: (APP_REPLICAS {replicas} x WEB_WORKERS 2 + "
        "RUN_WORKERS 0) x (DB_POOL_SIZE 5 + DB_MAX_OVERFLOW 5) + DB_RESERVED_CONNECTIONS 5 = "
        f"{needed}, but the server allows {limits.available} (max_connections "
        f"{limits.max_connections} less {reserved} reserved): lower WEB_WORKERS, DB_POOL_SIZE "
        "or DB_MAX_OVERFLOW, or raise max_connections (see docs/security.md, Database "
        "connection budget)"
    ]
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as db:
        tables = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,), "refused before migrating anything"


def test_check_db_reports_the_budget(database: str, tmp_path: Path) -> None:
    done = _cli("check-db", database, tmp_path, ENVIRONMENT="development", LOG_LEVEL="INFO")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "database: ok" in done.stdout
    available = server_limits(database).available
    output = done.stdout + done.stderr
    assert "database connections: (APP_REPLICAS 1 x WEB_WORKERS" in output
    assert f"within the {available} the server allows" in output
