"""Every error answers in one shape and never leaks a stack trace."""

from __future__ import annotations

import httpx


def _assert_error_shape(body: dict[str, object], code: str) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


async def test_unknown_api_path_is_404_in_the_error_shape(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/no-such-thing")
    assert response.status_code == 404
    _assert_error_shape(response.json(), "not_found")


async def test_wrong_method_is_405_in_the_error_shape(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/health")
    assert response.status_code == 405
    _assert_error_shape(response.json(), "method_not_allowed")


async def test_openapi_and_docs_are_served(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/api/openapi.json")).json()
    assert spec["info"]["title"] == "AgentPlatform API"
    assert "/api/health" in spec["paths"]
    docs = await api.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_unexpected_error_is_500_with_the_request_id_and_no_trace() -> None:
    import httpx

    from agentplatform.api.app import build_api

    app = build_api()

    @app.get("/api/test-explode")
    async def explode() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/api/test-explode", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    body = response.json()
    _assert_error_shape(body, "internal_error")
    assert body["error"]["details"] == {"request_id": "boom-1"}
    assert response.headers["x-request-id"] == "boom-1"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
