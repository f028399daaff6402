"""Health and readiness answer JSON; readiness is 503 when a dependency is down."""

from __future__ import annotations

import httpx
import pytest

from agentplatform.core.config import get_settings


async def test_health_is_ok(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_checks_the_database(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_ready_is_503_when_database_unreachable(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentplatform.core import db

    await db.dispose_engine()
    monkeypatch.setattr(
        get_settings(), "database_url", "postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    response = await api.get("/api/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unavailable")


async def test_ready_checks_redis_when_configured(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.services import REDIS_URL, ensure_redis

    ensure_redis()
    monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
    response = await api.get("/api/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}

    # Redis only speeds things up: without it the app serves (degraded), so it stays ready.
    monkeypatch.setattr(get_settings(), "redis_url", "redis://127.0.0.1:1/0")
    response = await api.get("/api/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"].startswith("unavailable")
