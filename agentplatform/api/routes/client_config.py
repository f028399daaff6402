"""What the browser reads at run time, so a frontend built once follows its deployment."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from agentplatform.core.config import get_settings
from agentplatform.observability.sentry import browser_reporting

router = APIRouter(tags=["health"])


class BrowserReporting(BaseModel):
    dsn: str
    environment: str
    release: str


class ClientConfig(BaseModel):
    sentry: BrowserReporting


@router.get(
    "/client-config",
    response_model=ClientConfig,
    summary="Browser settings (error reporting); public, holds no secret",
)
async def get_client_config() -> ClientConfig:
    return ClientConfig(sentry=BrowserReporting(**browser_reporting(get_settings())))
