"""The one place that turns errors into HTTP answers of the shape {"error": {...}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agentplatform.core import logging as log_context
from agentplatform.core.errors import AppError, PreconditionFailed, RateLimited

logger = logging.getLogger("agentplatform.api")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _describe_validation(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    details = []
    for err in exc.errors():
        field = _field_path(tuple(err.get("loc", ())))
        message = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            message = "the request body is not valid JSON"
            field = "body"
        details.append({"field": field, "message": message, "type": err.get("type")})
    first = details[0] if details else {"field": "body", "message": "is invalid"}
    summary = (
        first["message"] if first["field"] == "body" else f"{first['field']}: {first['message']}"
    )
    if len(details) > 1:
        summary += f" (and {len(details) - 1} more problem{'s' if len(details) > 2 else ''})"
    return summary, details


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, PreconditionFailed) and isinstance(exc.details, dict):
        version = exc.details.get("current_version")
        if version is not None:
            headers["ETag"] = f'"{version}"'
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, details = _describe_validation(exc)
    return JSONResponse(error_body("validation_failed", message, details), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = "No such endpoint: check the path against /api/docs."
    if exc.status_code == 405:
        message = "This method is not allowed on this path: see /api/docs."
    details = getattr(exc, "details", None)  # e.g. the limit of a 413 (api/body_limit.py)
    return JSONResponse(
        error_body(code, message, details), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette answers unhandled errors outside our middleware, where the contextvar is
    # already reset: the id the middleware kept on the request scope is the one to quote.
    request_id = getattr(request.state, "correlation_id", None) or log_context.correlation_id.get()
    token = log_context.correlation_id.set(request_id)
    try:
        logger.exception("unhandled error", exc_info=exc)
    finally:
        log_context.correlation_id.reset(token)
    headers = {"X-Request-ID": request_id} if request_id else None
    return JSONResponse(
        error_body(
            "internal_error",
            "Something went wrong on our side. Quote the request id when you report it.",
            {"request_id": request_id},
        ),
        status_code=500,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
