"""Attacks through a real browser on the served app (the shared fixtures of
tests/e2e/fixtures.py, so the session serves one app), plus a hostile site on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import clean_database, fast_hashing_and_fresh_throttle  # noqa: F401
from tests.security.browser.hostile_site import HostileSite


@pytest.fixture(scope="session")
def hostile_site() -> Iterator[HostileSite]:
    site = HostileSite().start()
    yield site
    site.stop()
