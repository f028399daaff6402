"""Apply or revert Alembic migrations from code (the CLI, the entrypoint and tests use this)."""

from __future__ import annotations

from alembic.config import Config

from agentplatform.core.config import get_settings
from agentplatform.core.paths import resources_dir
from alembic import command


def alembic_config(database_url: str | None = None) -> Config:
    resources = resources_dir()
    config = Config(str(resources / "alembic.ini"))
    config.set_main_option("script_location", str(resources / "alembic"))
    config.attributes["database_url"] = database_url or get_settings().database_url
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
