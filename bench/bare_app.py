"""The baseline of the API benchmark: a bare Starlette JSON endpoint, nothing else.

Served by uvicorn exactly like the real API (`uvicorn bench.bare_app:app`, one worker), so
the difference between the two is what the app itself (middleware, auth, database,
validation, serialisation) costs per request.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(_request: Request) -> JSONResponse:
    return JSONResponse(
        {"status": "ok", "items": [{"id": i, "name": f"item-{i}"} for i in range(3)]}
    )


app = Starlette(routes=[Route("/json", hello)])
