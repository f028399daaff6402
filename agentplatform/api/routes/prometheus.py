"""`GET /metrics`: Prometheus text exposition, outside /api.

With METRICS_TOKEN set it needs `Authorization: Bearer <METRICS_TOKEN>` (any environment). In
production without a token it is closed, unless METRICS_PUBLIC=true says only a trusted network
reaches it; in development it is open. Closed by default, and no reason to refuse start-up.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from agentplatform.core.config import Settings, get_settings
from agentplatform.core.errors import PermissionDenied, Unauthenticated
from agentplatform.observability.metrics import exposition

router = APIRouter(tags=["observability"])
log = logging.getLogger(__name__)

CLOSED = (
    "Metrics are off on this production server: set METRICS_TOKEN and scrape with "
    "'Authorization: Bearer <METRICS_TOKEN>' (or METRICS_PUBLIC=true if only your monitoring "
    "network can reach /metrics)."
)
_warned = False


def _authorized(header: str | None, token: str) -> bool:
    scheme, _, credential = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not credential:
        return False
    return hmac.compare_digest(credential.strip().encode(), token.encode())


def check_access(settings: Settings, authorization: str | None) -> None:
    """Raise unless this request may read the metrics (see the module docstring)."""
    global _warned
    if settings.metrics_token:
        if not _authorized(authorization, settings.metrics_token):
            raise Unauthenticated("Send 'Authorization: Bearer <METRICS_TOKEN>' to read metrics.")
        return
    if settings.is_production and not settings.metrics_public:
        if not _warned:
            _warned = True
            log.warning("GET /metrics refused: %s", CLOSED)
        raise PermissionDenied(CLOSED)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Metrics in Prometheus text format"},
        401: {"description": "METRICS_TOKEN is set and the bearer token is missing or wrong"},
        403: {"description": "Production without METRICS_TOKEN (and not METRICS_PUBLIC)"},
    },
)
async def get_metrics(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    check_access(get_settings(), authorization)
    body, content_type = exposition()
    return Response(content=body, media_type=content_type)
