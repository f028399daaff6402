"""The one exception tree. Services raise these; the API and the UI translate them."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every expected, user-facing error."""

    code = "error"
    status_code = 400

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The wire shape: `{"error": {"code", "message", "details"}}`."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(AppError):
    code = "validation_failed"
    status_code = 422


class Unauthenticated(AppError):
    code = "unauthenticated"
    status_code = 401


class PermissionDenied(AppError):
    code = "permission_denied"
    status_code = 403


class NotFound(AppError):
    code = "not_found"
    status_code = 404


class Conflict(AppError):
    code = "conflict"
    status_code = 409


class PreconditionFailed(AppError):
    """A stale `If-Match`/version: someone else changed the resource first."""

    code = "precondition_failed"
    status_code = 412


class RateLimited(AppError):
    code = "rate_limited"
    status_code = 429

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class DatabaseBusy(AppError):
    """Every database connection this process may use is taken (or the server has no free
    slot) for longer than DB_POOL_TIMEOUT: the request can simply be sent again."""

    code = "database_busy"
    status_code = 503

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class ProviderError(AppError):
    """An LLM provider failed; the message names provider, model and cause."""

    code = "provider_error"
    status_code = 502

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message, details=details)
        self.provider = provider
        self.model = model
        self.retryable = retryable
        self.retry_after = retry_after


class ToolError(AppError):
    """A tool refused its arguments or failed; the model sees this message."""

    code = "tool_error"
    status_code = 422


class BackupError(AppError):
    """A backup could not be made, or a backup file was refused before anything was restored."""

    code = "backup_error"
    status_code = 422


class ConfigError(Exception):
    """A setting is missing or invalid; start-up stops with this one line."""
