"""The migration history builds and removes the whole schema on the configured database."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlmodel import SQLModel

from agentplatform.core import migrations
from agentplatform.core.db import make_sync_engine

EXPECTED_TABLES = {
    "workspace", "user", "membership", "provider", "agent", "team", "teammember", "prompt",
    "promptversion", "promptlabel", "run", "runstep", "auditevent",
}  # fmt: skip


def _tables(url: str) -> set[str]:
    engine = make_sync_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_creates_every_model_table(migrated_database: str) -> None:
    tables = _tables(migrated_database)
    assert tables >= EXPECTED_TABLES
    assert tables == set(SQLModel.metadata.tables)


def test_downgrade_to_base_and_back(migrated_database: str) -> None:
    migrations.downgrade(migrated_database, "base")
    assert _tables(migrated_database) == set()
    migrations.upgrade(migrated_database)
    assert _tables(migrated_database) == set(SQLModel.metadata.tables)


def test_models_match_migrations(migrated_database: str) -> None:
    """Autogenerate finds nothing to add: the migration history is complete."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_sync_engine(migrated_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_unique_names_per_workspace(migrated_database: str) -> None:
    engine = make_sync_engine(migrated_database)
    inspector = inspect(engine)
    for table in ("agent", "team", "prompt", "provider"):
        uniques = [set(u["column_names"]) for u in inspector.get_unique_constraints(table)]
        assert {"workspace_id", "name"} in uniques, table
    engine.dispose()
