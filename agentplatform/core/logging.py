"""Structured logging: JSON lines in production, readable lines in development.

Request-scoped context (correlation id, user, workspace, run) lives in contextvars and is
stamped on every record, so any log line written while serving a request carries it.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from agentplatform.core.redaction import REDACTED, is_secret_key, redact_text, scrub

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
user_id: ContextVar[str | None] = ContextVar("user_id", default=None)
workspace_id: ContextVar[str | None] = ContextVar("workspace_id", default=None)
run_id: ContextVar[str | None] = ContextVar("run_id", default=None)
# The client's address as TRUSTED_PROXIES lets us see it (core/client_address.py).
client_address: ContextVar[str | None] = ContextVar("client_address", default=None)

_CONTEXT = {
    "correlation_id": correlation_id,
    "user_id": user_id,
    "workspace_id": workspace_id,
    "run_id": run_id,
    "client_address": client_address,
}
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    *_CONTEXT,
}


class ContextFilter(logging.Filter):
    """Copies the current request context onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _CONTEXT.items():
            if not hasattr(record, name):
                setattr(record, name, var.get())
        return True


class RedactingFilter(logging.Filter):
    """Masks secrets (bearer tokens, `apk_…`, `rt_…`, `password=…`) in messages and extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed call: logging reports it when formatting
        redacted = redact_text(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()
        for key, value in _extras(record).items():
            if is_secret_key(key) and value:
                setattr(record, key, REDACTED)
            elif isinstance(value, str | dict | list | tuple):
                setattr(record, key, scrub(value))
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON line: timestamp, level, logger, message and the context ids (null when unset)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT:
            entry[name] = getattr(record, name, None)
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    """`12:00:01 INFO  agentplatform.api  message  [cid=abc user=…]` for humans."""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        context = " ".join(
            f"{key}={value}"
            for key, value in (
                ("cid", getattr(record, "correlation_id", None)),
                ("user", getattr(record, "user_id", None)),
                ("ws", getattr(record, "workspace_id", None)),
                ("run", getattr(record, "run_id", None)),
                ("client", getattr(record, "client_address", None)),
            )
            if value
        )
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{time} {record.levelname:<7} {record.name}  {record.getMessage()}"
        tail = " ".join(part for part in (extras, f"[{context}]" if context else "") if part)
        if tail:
            line = f"{line}  {tail}"
        if record.exc_info:
            line = f"{line}\n{redact_text(self.formatException(record.exc_info))}"
        return line


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_agentplatform", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._agentplatform = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "sqlalchemy.engine", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
