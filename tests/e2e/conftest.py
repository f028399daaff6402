"""Browser tests: the app served the way `make run` serves it, driven by Debian's Chromium.

The fixtures (`served_app`, `browser`, `page`, `sentry_ingest`) live in `tests/e2e/fixtures.py`,
a plugin the root conftest loads, so other directories share the same served app.
"""

from __future__ import annotations

import pytest

from tests.e2e.fixtures import (  # noqa: F401  (re-exported for the tests' imports)
    CHROMIUM_ARGS,
    ROOT,
    SCREENSHOTS,
    ServedApp,
    _wait_healthy,
    free_port,
    screenshot,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """The served app has its own database; the in-process one is not used here."""


@pytest.fixture(autouse=True)
def fast_hashing_and_fresh_throttle() -> None:
    """The served app is another process: nothing in-process to tune (and no event loop)."""
