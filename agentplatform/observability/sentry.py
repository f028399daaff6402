"""Sentry error reporting: on when SENTRY_DSN is set, secrets scrubbed, ids attached as tags."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import sentry_sdk

from agentplatform.core import logging as log_context
from agentplatform.core.config import Settings
from agentplatform.core.redaction import scrub

# ASGI shapes, spelled out so that the executor can import this module without a web framework.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger(__name__)
_CONTEXT_VARS = {
    "correlation_id": log_context.correlation_id,
    "user_id": log_context.user_id,
    "workspace_id": log_context.workspace_id,
    "run_id": log_context.run_id,
}


def _release() -> str:
    try:
        return f"agentplatform@{version('agentplatform')}"
    except PackageNotFoundError:
        return "agentplatform@0.0.0"


def _context_tags() -> dict[str, str]:
    return {name: value for name, var in _CONTEXT_VARS.items() if (value := var.get())}


def before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Scrub secrets and emails from the event; tag it with request/run ids; user by id only."""
    cleaned: dict[str, Any] = scrub(event, emails=True)
    tags = dict(cleaned.get("tags") or {})
    tags.update(_context_tags())
    cleaned["tags"] = tags
    user_id = tags.get("user_id") or (cleaned.get("user") or {}).get("id")
    if user_id:
        cleaned["user"] = {"id": str(user_id)}
    else:
        cleaned.pop("user", None)
    return cleaned


def before_breadcrumb(crumb: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Breadcrumbs (log lines, HTTP calls) go through the same scrubbing."""
    cleaned: dict[str, Any] = scrub(crumb, emails=True)
    return cleaned


def browser_reporting(settings: Settings) -> dict[str, str]:
    """What the browser SDK is started with (an empty DSN leaves it off)."""
    return {
        "dsn": settings.sentry_dsn,
        "environment": settings.environment.value,
        "release": _release(),
    }


def init_sentry(settings: Settings) -> bool:
    """Start the Sentry SDK when SENTRY_DSN is set; return whether reporting is on."""
    if not settings.sentry_dsn:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment.value,
        release=_release(),
        send_default_pii=False,
        before_send=before_send,  # type: ignore[arg-type]
        before_breadcrumb=before_breadcrumb,
        in_app_include=["agentplatform"],
        include_local_variables=False,  # locals hold user input, prompts and model output
        trace_propagation_targets=[],  # never add Sentry headers to calls to LLM providers
        max_request_body_size="small",
    )
    logger.info("error reporting to Sentry is on", extra={"environment": settings.environment})
    return True


def capture_run_failure(
    run_id: uuid.UUID | str,
    error: BaseException,
    *,
    kind: str | None = None,
    target_id: uuid.UUID | str | None = None,
) -> str | None:
    """Report a run that failed unexpectedly; returns the Sentry event id (None when off)."""
    if not sentry_sdk.get_client().is_active():
        return None
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("run_id", str(run_id))
        if kind:
            scope.set_tag("run_kind", kind)
        if target_id:
            scope.set_tag("target_id", str(target_id))
        return sentry_sdk.capture_exception(error)


class SentryContextMiddleware:
    """Tags the request's Sentry scope with its correlation id while the id is still bound.

    Starlette's outermost error layer sees an unhandled error only after the correlation
    middleware has unbound the id, so the tag must be set on the way in.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and sentry_sdk.get_client().is_active():
            cid = log_context.correlation_id.get()
            if cid:
                sentry_sdk.get_isolation_scope().set_tag("correlation_id", cid)
        await self.app(scope, receive, send)
