"""Test set-up: a real database per session (SQLite or PostgreSQL), clean tables per test.

Choose the database with `TEST_DB=sqlite|postgresql` (default sqlite); `make test` runs both.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.services import create_postgres_database, drop_postgres_database

_TMP = Path(tempfile.mkdtemp(prefix="agentplatform-tests-"))
TEST_DB = os.environ.get("TEST_DB", "sqlite")
os.environ.update(
    {
        "ENVIRONMENT": "development",
        "DATA_DIR": str(_TMP / "data"),
        "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "LOG_FORMAT": "console",
        "SENTRY_DSN": "",
    }
)
os.environ.pop("REDIS_URL", None)

_HAS_FAKES = (Path(__file__).parent / "fakes" / "fixtures.py").exists()
pytest_plugins = [
    *(["tests.fakes.fixtures"] if _HAS_FAKES else []),
    "tests.e2e.fixtures",  # the served app and the browser, shared by every browser test
]


if TEST_DB == "postgresql":
    DATABASE_URL = create_postgres_database("test")
elif TEST_DB == "sqlite":
    DATABASE_URL = f"sqlite:///{_TMP / 'test.db'}"
else:
    raise RuntimeError(f"TEST_DB must be sqlite or postgresql, not {TEST_DB!r}")
os.environ["DATABASE_URL"] = DATABASE_URL


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in this thread
    for as long as the browser lives, and async tests cannot start while it does. Tests that
    rebuild the frontend (`rebuilds_frontend`) run after all of them: the session's served app
    serves the same `.web`."""
    items.sort(
        key=lambda item: (
            "/e2e/" in str(item.path) or item.get_closest_marker("browser") is not None,
            item.get_closest_marker("rebuilds_frontend") is not None,
        )
    )


def pytest_report_header() -> str:
    return f"database: {TEST_DB} ({DATABASE_URL.split('@')[-1]})"


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[str]:
    """Apply the real migration history once per session."""
    from agentplatform.core import migrations
    from agentplatform.core.config import get_settings

    get_settings.cache_clear()
    migrations.upgrade(DATABASE_URL)
    yield DATABASE_URL
    if TEST_DB == "postgresql":
        drop_postgres_database(DATABASE_URL)


def _truncate_all() -> None:
    from sqlmodel import SQLModel

    from agentplatform.core.db import make_sync_engine

    engine = make_sync_engine(DATABASE_URL)
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture(autouse=True)
async def clean_database(migrated_database: str) -> AsyncIterator[None]:
    """Every test starts with empty tables, an empty cache and fresh connections."""
    from agentplatform.core.cache import set_cache
    from agentplatform.core.db import dispose_engine

    _truncate_all()
    set_cache(None)
    yield
    await dispose_engine()
    set_cache(None)


@pytest.fixture(autouse=True)
async def fast_hashing_and_fresh_throttle() -> AsyncIterator[None]:
    """bcrypt at its minimum cost (same code path, 100x faster) and no throttle carry-over."""
    from agentplatform.core import security
    from agentplatform.services import login_throttle

    rounds = security.BCRYPT_ROUNDS
    security.BCRYPT_ROUNDS = 4
    await login_throttle.reset_throttle()
    yield
    security.BCRYPT_ROUNDS = rounds


@pytest.fixture
async def session() -> AsyncIterator[object]:
    from agentplatform.core.db import session_scope

    async with session_scope() as db_session:
        yield db_session


@pytest.fixture
async def api() -> AsyncIterator[object]:
    """An HTTP client on the real FastAPI app (in-process ASGI, no network)."""
    import httpx

    from agentplatform.api.app import build_api

    transport = httpx.ASGITransport(app=build_api())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
