"""OpenAPI helpers: the documented error shape and `responses=` entries for routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be handled as sent",
    401: "Not signed in, or the access token / API key is invalid, expired or revoked",
    403: "Your role in this workspace does not allow this",
    404: "Not found, or not in a workspace you belong to",
    409: "Conflicts with the current state (a duplicate name, the last owner…)",
    412: "The resource changed since you read it (stale version)",
    413: "The request body is too large",
    422: "The request is malformed: invalid JSON, a wrong type, a value out of bounds",
    429: "Too many requests (or sign-in attempts): retry after the seconds in Retry-After",
    500: "Unexpected server error; the details name the request id",
    502: "An upstream LLM provider failed",
    503: "Every database connection is taken: retry after the seconds in Retry-After",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}


class ErrorDetail(BaseModel):
    """The body of every error: a stable code, a human message, optional details."""

    code: str = Field(description="Stable machine-readable code, e.g. `not_found`")
    message: str = Field(description="What went wrong and what to do about it")
    details: Any = Field(
        default=None, description="Extra data, e.g. a list of `{field, message, type}` problems"
    )


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: `{"error": {"code", "message", "details"}}`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "not_found",
                        "message": "No workspace 'acme' among yours.",
                        "details": None,
                    }
                }
            ]
        }
    )

    error: ErrorDetail


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One `responses=` entry documenting `status` with the error shape."""
    entry: dict[str, Any] = {
        "model": ErrorResponse,
        "description": description or ERROR_DESCRIPTIONS.get(status, "Error"),
    }
    if status in (429, 503):
        entry["headers"] = _RETRY_AFTER
    return entry


def errors_for(
    *statuses: int,
    descriptions: Mapping[int, str] | None = None,
    validation: bool = True,
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with `ErrorResponse`, plus 422 unless told not,
    429 (every route is rate limited: api/rate_limit.py) and 503 (no database connection free
    within DB_POOL_TIMEOUT), which any route may answer.

    The 422 entry replaces FastAPI's default `HTTPValidationError` schema, which is not
    what the API actually answers.
    """
    wanted = set(statuses) | {429, 503} | ({422} if validation else set())
    custom = descriptions or {}
    return {status: error_response(status, custom.get(status)) for status in sorted(wanted)}
