"""The database connection budget: every process's pool, together, must fit the server.

    (APP_REPLICAS x WEB_WORKERS + RUN_WORKERS) x (DB_POOL_SIZE + DB_MAX_OVERFLOW)
        + DB_RESERVED_CONNECTIONS
    <= max_connections - superuser_reserved_connections - reserved_connections

Each backend process (a Reflex/granian worker of an app replica, or an `agentplatform
worker`) opens at most DB_POOL_SIZE + DB_MAX_OVERFLOW connections and waits up to
DB_POOL_TIMEOUT for one beyond that (then 503), so the left side is the most the deployment
can ever hold. The right side is what PostgreSQL lets ordinary roles open.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from agentplatform.core.config import Settings

_LIMITS = text(
    "SELECT name, setting FROM pg_settings WHERE name IN "
    "('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
)


@dataclass(frozen=True)
class ConnectionBudget:
    """The most connections the configured processes can hold at once."""

    app_replicas: int
    web_workers: int
    run_workers: int
    pool_size: int
    max_overflow: int
    reserved: int

    @property
    def processes(self) -> int:
        return self.app_replicas * self.web_workers + self.run_workers

    @property
    def needed(self) -> int:
        return self.processes * (self.pool_size + self.max_overflow) + self.reserved

    def formula(self) -> str:
        """The sum written out with the configured numbers."""
        return (
            f"(APP_REPLICAS {self.app_replicas} x WEB_WORKERS {self.web_workers} + RUN_WORKERS "
            f"{self.run_workers}) x (DB_POOL_SIZE {self.pool_size} + DB_MAX_OVERFLOW "
            f"{self.max_overflow}) + DB_RESERVED_CONNECTIONS {self.reserved} = {self.needed}"
        )


def budget_of(settings: Settings) -> ConnectionBudget:
    return ConnectionBudget(
        app_replicas=settings.app_replicas,
        web_workers=settings.web_processes,
        run_workers=settings.run_workers,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        reserved=settings.db_reserved_connections,
    )


@dataclass(frozen=True)
class ServerLimits:
    """What PostgreSQL allows: its slots less those only superusers (or granted roles) get."""

    max_connections: int
    superuser_reserved: int
    role_reserved: int = 0  # reserved_connections, PostgreSQL 16 and later

    @property
    def available(self) -> int:
        return self.max_connections - self.superuser_reserved - self.role_reserved


@dataclass(frozen=True)
class BudgetVerdict:
    fits: bool
    message: str


def judge(budget: ConnectionBudget, limits: ServerLimits) -> BudgetVerdict:
    """Whether the budget fits the server, said in one line that names what to change."""
    head = f"database connections: {budget.formula()}"
    if budget.needed <= limits.available:
        return BudgetVerdict(True, f"{head}, within the {limits.available} the server allows")
    return BudgetVerdict(
        False,
        f"{head}, but the server allows {limits.available} (max_connections "
        f"{limits.max_connections} less {limits.superuser_reserved + limits.role_reserved} "
        "reserved): lower WEB_WORKERS, DB_POOL_SIZE or DB_MAX_OVERFLOW, or raise "
        "max_connections (see docs/security.md, Database connection budget)",
    )


async def read_server_limits() -> ServerLimits | None:
    """PostgreSQL's connection limits (None on SQLite, which has no connection slots), read
    over a connection of its own that is closed at once."""
    from agentplatform.core.db import make_async_engine

    engine = make_async_engine()
    try:
        if engine.dialect.name != "postgresql":
            return None
        async with engine.connect() as connection:
            rows: dict[str, str] = dict((await connection.execute(_LIMITS)).tuples().all())
    finally:
        await engine.dispose()
    return ServerLimits(
        max_connections=int(rows["max_connections"]),
        superuser_reserved=int(rows.get("superuser_reserved_connections", 0)),
        role_reserved=int(rows.get("reserved_connections", 0)),
    )


async def check_connection_budget(settings: Settings) -> BudgetVerdict | None:
    """The configured budget judged against the server; None on SQLite."""
    limits = await read_server_limits()
    return None if limits is None else judge(budget_of(settings), limits)
