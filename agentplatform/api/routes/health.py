"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from agentplatform.services import health

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/health", response_model=Health, summary="The process is alive")
async def get_health() -> Health:
    return Health(status="ok", version=health.app_version())


@router.get(
    "/ready",
    response_model=Readiness,
    summary="The database is reachable (Redis being away only degrades)",
    responses={503: {"model": Readiness, "description": "The database is down"}},
)
async def get_ready() -> JSONResponse:
    checks = await health.check_dependencies()
    ready = all(checks[name] == "ok" for name in health.REQUIRED if name in checks)
    degraded = ready and any(value != "ok" for value in checks.values())
    status = "degraded" if degraded else "ready" if ready else "unavailable"
    body = Readiness(status=status, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
