"""`GET /metrics`: Prometheus text exposition, outside /api, optionally behind METRICS_TOKEN."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from agentplatform.core.config import get_settings
from agentplatform.core.errors import Unauthenticated
from agentplatform.observability.metrics import exposition

router = APIRouter(tags=["observability"])


def _authorized(header: str | None, token: str) -> bool:
    scheme, _, credential = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not credential:
        return False
    return hmac.compare_digest(credential.strip().encode(), token.encode())


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Metrics in Prometheus text format"},
        401: {"description": "METRICS_TOKEN is set and the bearer token is missing or wrong"},
    },
)
async def get_metrics(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    token = get_settings().metrics_token
    if token and not _authorized(authorization, token):
        raise Unauthenticated("Send 'Authorization: Bearer <METRICS_TOKEN>' to read metrics.")
    body, content_type = exposition()
    return Response(content=body, media_type=content_type)
