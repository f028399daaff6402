"""Settings: defaults that work, and one clear line for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentplatform.core.config import load_settings
from agentplatform.core.errors import ConfigError


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("SECRET_KEY", "DATABASE_URL", "ENVIRONMENT", "PORT", "LOG_FORMAT", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_development_defaults_are_embedded(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{clean_env / 'agentplatform.db'}"
    assert settings.redis_url == ""
    assert settings.port == 3000
    assert str(settings.log_format) == "console"
    assert 15 <= settings.access_token_minutes <= 30


def test_development_secret_is_generated_once_and_kept(clean_env: Path) -> None:
    first = load_settings().secret_key
    second = load_settings().secret_key
    assert len(first) >= 32
    assert first == second
    assert (clean_env / "secret_key").read_text().strip() == first
    assert (clean_env / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_without_secret_stops_with_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "SECRET_KEY is required" in str(error.value)
    assert "\n" not in str(error.value)
    assert not (clean_env / "secret_key").exists()


def test_production_rejects_weak_secret(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(ConfigError, match="SECRET_KEY is too weak"):
        load_settings()


def test_production_defaults_to_json_logs(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 20 + "y" * 20)
    assert str(load_settings().log_format) == "json"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "abc", "PORT is invalid ('abc')"),
        ("PORT", "70000", "PORT is invalid"),
        ("DATABASE_URL", "::not a url", "DATABASE_URL is invalid"),
        ("DATABASE_URL", "mysql://db/app", "must use sqlite or postgresql"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL is invalid"),
        ("ENVIRONMENT", "staging", "ENVIRONMENT is invalid"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT is invalid"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL is invalid"),
        ("ALLOW_SIGNUP", "perhaps", "ALLOW_SIGNUP is invalid"),
    ],
)
def test_invalid_values_name_the_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_database_password_is_never_echoed(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "oracle://user:hunter2secret@db/app")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "hunter2secret" not in str(error.value)


def test_postgres_url_uses_psycopg3(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:5432/app")
    assert load_settings().database_url == "postgresql+psycopg://u:p@127.0.0.1:5432/app"


def test_dotenv_file_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text("PORT=8123\nALLOW_SIGNUP=false\n")
    settings = load_settings()
    assert settings.port == 8123
    assert settings.allow_signup is False


def test_cli_reports_config_error_in_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentplatform import cli
    from agentplatform.core.config import get_settings

    monkeypatch.setenv("ENVIRONMENT", "production")
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "SECRET_KEY is required" in err
