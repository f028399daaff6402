"""The one typed Settings object, read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from agentplatform.core.errors import ConfigError
from agentplatform.core.paths import default_data_dir, source_checkout

MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"changeme", "secret", "change-me", "dev", "development", "password"}


class Environment(StrEnum):
    development = "development"
    production = "production"


class LogFormat(StrEnum):
    json = "json"
    console = "console"


def default_web_workers(*, redis: bool) -> int:
    """Reflex's own rule (reflex.utils.processes.get_num_workers): 2 x CPUs + 1, at most 8,
    with Redis; one process without it."""
    return min((os.cpu_count() or 1) * 2 + 1, 8) if redis else 1


class ForwardedHeader(StrEnum):
    """Which header a trusted proxy writes the client's address into."""

    x_forwarded_for = "x-forwarded-for"
    forwarded = "forwarded"


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_origins(value: str) -> list[str]:
    """Comma-separated `scheme://host[:port]` origins, normalised; `ValueError` names a bad one."""
    origins: list[str] = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        if entry == "*":
            raise ValueError(
                "'*' is not allowed: list each trusted origin (https://app.example.com), since "
                "an allowed origin may call the API with a signed-in browser's cookies"
            )
        parts = urlsplit(entry.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise ValueError(f"{entry!r} is not an origin like https://app.example.com[:port]")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"{entry!r} is not an origin like https://app.example.com[:port]")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"{entry!r} has an invalid port") from None
        host = parts.hostname.lower()
        host = f"[{host}]" if ":" in host else host
        default_port = {"http": 80, "https": 443}[parts.scheme]
        suffix = f":{port}" if port not in (None, default_port) else ""
        origin = f"{parts.scheme}://{host}{suffix}"
        if origin not in origins:
            origins.append(origin)
    return origins


class Settings(BaseSettings):
    """Every setting of the app. A bad value stops start-up with one clear line."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    environment: Environment = Environment.development
    data_dir: Path = Field(default_factory=default_data_dir)
    # Where the served frontend is built and kept (rxconfig.py, assets/, .web/): the checkout
    # itself in a checkout, DATA_DIR/app for an installed wheel; the image builds it in /app.
    app_dir: Path | None = None
    # The URL browsers reach the app at when it is not http://<host>:PORT (a proxy or a port
    # remap); Reflex bakes it into the frontend build.
    reflex_api_url: str = ""
    database_url: str = ""
    redis_url: str = ""
    redis_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$")] = (
        "agentplatform"
    )
    secret_key: str = ""
    log_level: str = "INFO"
    log_format: LogFormat | None = None
    sentry_dsn: str = ""
    port: Annotated[int, Field(ge=1, le=65535)] = 3000
    allow_signup: bool = True
    access_token_minutes: Annotated[int, Field(ge=1, le=1440)] = 20
    refresh_token_days: Annotated[int, Field(ge=1, le=365)] = 14
    run_concurrency: Annotated[int, Field(ge=1, le=10_000)] = 50
    run_lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 30
    run_heartbeat_seconds: Annotated[float, Field(gt=0, le=600)] = 5
    run_in_app_worker: bool = False
    http_tool_allowed_hosts: str = ""
    backup_dir: Path | None = None
    backup_keep: Annotated[int, Field(ge=1, le=1000)] = 7
    metrics_token: str = ""
    # --- Input limits and /metrics protection (docs/security.md) ---
    # Every HTTP request body, refused with 413 before it is read past this many bytes.
    request_max_bytes: Annotated[int, Field(ge=1024, le=1024**3)] = 1024**2
    # Production serves /metrics only with METRICS_TOKEN, unless this says it may go without.
    metrics_public: bool = False
    # --- end of input limits and /metrics protection ---

    # --- Database connection budget (docs/architecture.md "Data", docs/security.md) ---------
    # Every process that talks to PostgreSQL keeps one pool of at most DB_POOL_SIZE +
    # DB_MAX_OVERFLOW connections. `agentplatform serve|worker` refuse to start (production) or
    # warn when (APP_REPLICAS x WEB_WORKERS + RUN_WORKERS) x that + DB_RESERVED_CONNECTIONS
    # exceeds what the server allows (core/db_budget.py).
    web_workers: Annotated[
        int | None,
        Field(ge=1, le=64, validation_alias=AliasChoices("web_workers", "granian_workers")),
    ] = None
    app_replicas: Annotated[int, Field(ge=1, le=1000)] = 1
    run_workers: Annotated[int, Field(ge=0, le=1000)] = 0
    db_pool_size: Annotated[int, Field(ge=1, le=1000)] = 5
    db_max_overflow: Annotated[int, Field(ge=0, le=1000)] = 5
    db_pool_timeout: Annotated[float, Field(gt=0, le=300)] = 10
    db_reserved_connections: Annotated[int, Field(ge=0, le=10_000)] = 5
    # --- end of the database connection budget ------------------------------------------------
    # --- Redis timeouts, sign-in throttle, trusted proxies, API rate limits ----------------
    # Redis only speeds things up: every call gives up after these, and the caller falls back.
    redis_connect_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 1.0
    redis_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 0.5
    # Sign-in attempts counted before the password is checked, per account and per address.
    login_account_limit: Annotated[int, Field(ge=1, le=1000)] = 5
    login_address_limit: Annotated[int, Field(ge=1, le=100_000)] = 20
    login_window_seconds: Annotated[int, Field(ge=1, le=86_400)] = 900
    # Proxies whose X-Forwarded-For / Forwarded header names the client (CIDRs); none by default.
    trusted_proxies: str = ""
    forwarded_header: ForwardedHeader = ForwardedHeader.x_forwarded_for
    # API requests per caller: anonymous ones per client address, others per API key or user.
    rate_limit_anonymous: str = "300/minute"
    rate_limit_authenticated: str = "6000/minute"

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        for item in _comma_list(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or CIDR (e.g. 10.0.0.0/8, 192.0.2.7)"
                ) from None
        return value

    @field_validator("rate_limit_anonymous", "rate_limit_authenticated")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        from limits import parse

        if value.strip().lower() in ("", "off"):
            return ""
        try:
            parse(value)
        except ValueError:
            raise ValueError(
                "must be a rate like 120/minute, 10/second or 5000/hour (or off)"
            ) from None
        return value.strip()

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(i, strict=False) for i in _comma_list(self.trusted_proxies)
        )

    # --- end of Redis timeouts, sign-in throttle, trusted proxies, API rate limits ----------
    # --- Browser security (CSP, CORS, session cookies; see docs/security.md) ---
    cors_allowed_origins: str = ""

    @field_validator("cors_allowed_origins")
    @classmethod
    def _valid_origins(cls, value: str) -> str:
        return ",".join(parse_origins(value))

    # --- end of browser security ---

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("run_heartbeat_seconds")
    @classmethod
    def _heartbeat_within_lease(cls, value: float, info: ValidationInfo) -> float:
        lease = info.data.get("run_lease_seconds")
        if lease is not None and value >= lease:
            raise ValueError(f"must be shorter than RUN_LEASE_SECONDS ({lease:g})")
        return value

    @field_validator("web_workers")
    @classmethod
    def _several_workers_need_redis(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and value > 1 and not info.data.get("redis_url"):
            raise ValueError(
                "more than 1 needs REDIS_URL (without it each process keeps its own UI state)"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "must be a URL like sqlite:///data/app.db or "
                "postgresql+psycopg://user:pass@host:5432/db"
            ) from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("must use sqlite or postgresql (postgresql+psycopg://...)")
        if url.get_backend_name() == "postgresql" and url.drivername != "postgresql+psycopg":
            url = url.set(drivername="postgresql+psycopg")
            return url.render_as_string(hide_password=False)
        return value

    @field_validator("redis_url")
    @classmethod
    def _valid_redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'agentplatform.db'}"
        if self.backup_dir is None:
            self.backup_dir = self.data_dir / "backups"
        if self.app_dir is None:
            self.app_dir = source_checkout() or self.data_dir / "app"
        if self.log_format is None:
            production = self.environment is Environment.production
            self.log_format = LogFormat.json if production else LogFormat.console
        if self.web_workers is None:
            self.web_workers = default_web_workers(redis=bool(self.redis_url))
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def web_processes(self) -> int:
        """Backend processes of one app replica (Reflex's worker count)."""
        return self.web_workers or 1

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def frontend_dir(self) -> Path:
        return self.app_dir or source_checkout() or self.data_dir / "app"

    @property
    def backups_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def cors_origins(self) -> list[str]:
        """The origins (besides the app's own) whose pages may call the API with credentials."""
        return parse_origins(self.cors_allowed_origins)

    @property
    def http_allowed_hosts(self) -> set[str]:
        return {h.strip().lower() for h in self.http_tool_allowed_hosts.split(",") if h.strip()}


def _resolve_secret(settings: Settings) -> None:
    """Production demands a strong key; development keeps a generated one under data/."""
    key = settings.secret_key
    strong = len(key) >= MIN_SECRET_LENGTH and key.lower() not in WEAK_SECRETS
    if settings.is_production:
        if not key:
            raise ConfigError(
                "SECRET_KEY is required when ENVIRONMENT=production "
                f"(set a random string of at least {MIN_SECRET_LENGTH} characters)"
            )
        if not strong:
            raise ConfigError(
                f"SECRET_KEY is too weak: use a random string of at least {MIN_SECRET_LENGTH} "
                "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return
    if key:
        return
    path = settings.data_dir / "secret_key"
    if path.exists():
        settings.secret_key = path.read_text().strip()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    settings.secret_key = secrets.token_urlsafe(48)
    path.write_text(settings.secret_key)
    path.chmod(0o600)


SENSITIVE_FIELDS = {"database_url", "redis_url", "secret_key", "sentry_dsn", "metrics_token"}


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "settings"
    message = first["msg"].removeprefix("Value error, ")
    shown = "" if field in SENSITIVE_FIELDS else f" ({first.get('input')!r})"
    return f"{field.upper()} is invalid{shown}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings; raise `ConfigError` with one line naming the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None
    _resolve_secret(settings)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    return load_settings()
