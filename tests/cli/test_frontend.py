"""The served frontend is rebuilt exactly when what it was built from changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentplatform.cli import frontend
from agentplatform.core.config import Settings
from agentplatform.core.errors import ConfigError


def _settings(app_dir: Path, **values: object) -> Settings:
    return Settings(app_dir=app_dir, data_dir=app_dir.parent / "data", **values)  # type: ignore[arg-type]


def _pretend_built(settings: Settings) -> None:
    """What a finished build leaves behind: the page and the stamp of its key."""
    index = settings.frontend_dir / frontend.STATIC_INDEX
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text("<!DOCTYPE html>")
    stamp = {"key": frontend.build_key(settings)}
    (settings.frontend_dir / frontend.STAMP).write_text(json.dumps(stamp))


def test_an_empty_directory_needs_a_build(tmp_path: Path) -> None:
    current = frontend.plan(_settings(tmp_path / "app"))
    assert current.build_needed and "no frontend" in current.reason


def test_a_stamped_build_is_served_as_it_is_until_the_port_or_url_changes(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "app", port=4100)
    _pretend_built(settings)
    assert not frontend.plan(settings).build_needed
    assert frontend.plan(_settings(tmp_path / "app", port=4101)).build_needed
    moved = _settings(tmp_path / "app", port=4100, reflex_api_url="https://agents.example.com")
    assert frontend.plan(moved).build_needed


def test_the_key_covers_the_code_and_the_assets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path / "app")
    before = frontend.build_key(settings)
    package = tmp_path / "package"
    (package / "ui").mkdir(parents=True)
    (package / "ui" / "page.py").write_text("TITLE = 'changed'\n")
    monkeypatch.setattr(frontend, "PACKAGE_DIR", package)
    assert frontend.build_key(settings) != before


def test_a_read_only_directory_that_needs_a_build_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Permissions are what the image tests exercise (as an unprivileged user); here root may
    # be running the suite, so the directory's answer is given.
    monkeypatch.setattr(frontend, "_writable", lambda _directory: False)
    with pytest.raises(ConfigError, match=r"read-only: rebuild the image for this PORT"):
        frontend.build(_settings(tmp_path / "app"))


def test_reflex_keeps_its_ui_state_under_the_data_directory(tmp_path: Path) -> None:
    env = frontend.reflex_environment(_settings(tmp_path / "app", port=4200))
    assert env["PORT"] == "4200"
    assert env["REFLEX_STATES_WORKDIR"] == str(tmp_path / "data" / "ui-states")
