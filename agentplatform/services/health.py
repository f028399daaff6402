"""Readiness checks of the app's dependencies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast

from sqlalchemy import text

from agentplatform.core.config import get_settings
from agentplatform.core.db import get_async_engine

logger = logging.getLogger(__name__)
CHECK_TIMEOUT_S = 3.0


def app_version() -> str:
    try:
        return version("agentplatform")
    except PackageNotFoundError:
        return "0.0.0"


async def _database() -> str:
    async with get_async_engine().connect() as connection:
        await connection.execute(text("SELECT 1"))
    return "ok"


async def _redis(url: str) -> str:
    from agentplatform.core.redis_clients import make_client

    client = make_client(url, name=f"{get_settings().redis_prefix}:health")
    try:
        await cast(Awaitable[bool], client.ping())
    finally:
        await client.aclose()
    return "ok"


async def _guarded(name: str, check: Coroutine[Any, Any, str]) -> str:
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT_S)
    except Exception as error:
        logger.warning("readiness check failed", extra={"dependency": name, "cause": str(error)})
        return f"unavailable: {type(error).__name__}"


# Without these the app cannot serve; anything else (Redis) only makes it faster or shared.
REQUIRED = ("database",)


async def check_dependencies() -> dict[str, str]:
    """`{"database": "ok", "redis": "ok"}`; a failing one says why (never raises)."""
    checks = {"database": await _guarded("database", _database())}
    redis_url = get_settings().redis_url
    if redis_url:
        checks["redis"] = await _guarded("redis", _redis(redis_url))
    return checks
