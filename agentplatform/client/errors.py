"""Typed exceptions built from the API's error shape `{"error": {"code", "message", "details"}}`.

Every 4xx/5xx answer raises a subclass of `ApiError`; catch the narrow one you can handle
(`NotFoundError`, `PreconditionFailedError`, ...) or `ApiError` for all. Messages come from the
server (which never echoes secrets); the client adds no credentials to them.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


class ApiError(Exception):
    """An error answer of the API: HTTP status, machine `code`, human `message`, `details`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.status} {self.code}: {self.message}"
        return f"{text} (request id {self.request_id})" if self.request_id else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class ValidationError(ApiError):
    """422: the body or a parameter is invalid; `details` lists `{field, message, type}`."""

    @property
    def fields(self) -> list[str]:
        """The fields named in `details` (empty when the problem is not a field's)."""
        if isinstance(self.details, list):
            return [str(d.get("field")) for d in self.details if isinstance(d, dict)]
        return []


class AuthenticationError(ApiError):
    """401: no credentials, bad credentials, an expired session or a revoked API key."""


class PermissionDeniedError(ApiError):
    """403: this exists in your workspace, but your role (or an API key) may not do that."""


class NotFoundError(ApiError):
    """404: no such resource in the acting workspace (other workspaces never say 403)."""


class ConflictError(ApiError):
    """409: a name is taken, the resource is in use, or the operation no longer applies."""


class PreconditionFailedError(ApiError):
    """412: the `if_match` version is stale; `current_version` is the one to reload."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        request_id: str | None = None,
        current_version: int | None = None,
    ) -> None:
        self.current_version = current_version
        super().__init__(status, code, message, details, request_id)


class RateLimitedError(ApiError):
    """429: too many attempts; `retry_after` is the number of seconds to wait (if given)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(status, code, message, details, request_id)


class ServerError(ApiError):
    """5xx: the server failed; quote `request_id` when reporting it."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
}


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> ApiError:
    """The typed exception for an error answer (any body: JSON error shape or not)."""
    status = response.status_code
    code, message, details = "http_error", response.reason_phrase or f"HTTP {status}", None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        details = error.get("details")
    elif response.text:
        message = f"{message}: {response.text[:200]}"
    request_id = response.headers.get("X-Request-ID")
    if request_id is None and isinstance(details, dict):
        request_id = details.get("request_id")

    if status == 412:
        current = details.get("current_version") if isinstance(details, dict) else None
        if current is None:
            match = _ETAG.match(response.headers.get("ETag", "").strip())
            current = int(match.group(1)) if match else None
        return PreconditionFailedError(
            status, code, message, details, request_id, current_version=current
        )
    if status == 429:
        return RateLimitedError(
            status,
            code,
            message,
            details,
            request_id,
            retry_after=_number(response.headers.get("Retry-After")),
        )
    if status >= 500:
        return ServerError(status, code, message, details, request_id)
    return _BY_STATUS.get(status, ApiError)(status, code, message, details, request_id)


__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitedError",
    "ServerError",
    "ValidationError",
    "error_from_response",
]
